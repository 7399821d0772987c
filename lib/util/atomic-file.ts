/**
 * Durable file creation: write to a temporary name, fsync, rename into place, fsync the
 * directory. A crash at any point leaves either the old state or the complete new file under
 * its real name, never a torn file; leftovers are only ever temporary names.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomTag } from './random-tag.js';

/**
 * For the store's own files only (config, quarantine records: short names this code chooses);
 * the name grows with `forName`, so a file a user names goes through lib/fs/temp-name.ts.
 */
export function tempName(dir: string, forName: string): string {
  return join(dir, `.${basename(forName)}.tmp-${process.pid}-${randomTag()}`);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** Writes `data` to `path` atomically and durably. `tmpDir` must be on the same filesystem. */
export async function writeFileAtomic(path: string, data: Uint8Array, tmpDir = dirname(path)): Promise<void> {
  const tmp = tempName(tmpDir, path);
  const fh = await fsp.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await fsp.rename(tmp, path);
  await fsyncDir(dirname(path));
}
