/** Shared steps of the tar tests: a real store with a real snapshot, export to a file, system tar. */
import { spawnSync } from 'node:child_process';
import { createReadStream, promises as fsp } from 'node:fs';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import type { SnapshotRecord } from '../../lib/snapshot/snapshot-record.js';
import { exportTar, type ExportTarOptions, type ExportTarResult } from '../../lib/tar/tar-export.js';
import { importTar, type ImportTarOptions, type ImportTarResult } from '../../lib/tar/tar-import.js';
import { fxcpJson } from '../helpers/run-cli.js';

/** `fxcp snap create SRC STORE` with the real CLI; returns the snapshot's record. */
export async function snapshotOf(src: string, store: string): Promise<{ id: string; record: SnapshotRecord }> {
  const created = fxcpJson(['snap', 'create', src, store]);
  const s = await Store.open(directoryLocation(store));
  try {
    const found = listSnapshots(s).find((x) => x.id === created.snapshot.id);
    if (!found) throw new Error('snapshot not listed');
    return { id: found.id, record: found.record };
  } finally {
    await s.close();
  }
}

export async function exportToFile(storePath: string, record: SnapshotRecord, file: string, opts: ExportTarOptions = {}): Promise<ExportTarResult> {
  const store = await Store.open(directoryLocation(storePath));
  const fh = await fsp.open(file, 'w');
  try {
    return await exportTar(store, record, { write: async (c) => { await fh.write(c); } }, opts);
  } finally {
    await fh.close();
    await store.close();
  }
}

export async function importFile(file: string, storePath: string, opts: Partial<ImportTarOptions> = {}): Promise<ImportTarResult> {
  const store = await Store.open(directoryLocation(storePath), { create: true });
  try {
    return await importTar(createReadStream(file, { highWaterMark: 256 << 10 }), store, { source: file, ...opts });
  } finally {
    await store.close();
  }
}

export function sh(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 30 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr?.toString() ?? String(r.error) };
}
