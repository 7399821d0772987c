/**
 * A stat-only walk that counts files and bytes, for progress ETAs. It runs beside the real
 * work and can be stopped; it never fails (unreadable parts are simply not counted).
 */
import { promises as fsp } from 'node:fs';
import { joinPath, listDir, toBuffer } from '../fs/index.js';
import type { ExcludeTest } from '../filter/exclude-rules.js';

export async function scanTotals(root: string, totals: { files: number; bytes: number; done: boolean },
  exclude?: ExcludeTest, signal?: AbortSignal): Promise<void> {
  const walk = async (dir: Buffer, rel: string): Promise<void> => {
    if (signal?.aborted) return;
    const names = await listDir(dir).catch(() => [] as Buffer[]);
    for (const name of names) {
      const p = joinPath(dir, name);
      const r = rel ? `${rel}/${name.toString('utf8')}` : name.toString('utf8');
      const st = await fsp.lstat(p).catch(() => null);
      if (!st || exclude?.(r, st.isDirectory())) continue;
      if (st.isDirectory()) await walk(p, r);
      else if (st.isFile()) { totals.files++; totals.bytes += st.size; }
    }
  };
  const st = await fsp.stat(root).catch(() => null);
  if (st?.isDirectory()) await walk(toBuffer(root), '');
  else if (st?.isFile()) { totals.files = 1; totals.bytes = st.size; }
  totals.done = true;
}
