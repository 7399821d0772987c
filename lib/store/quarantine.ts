/**
 * Quarantine: where repair moves blobs it cannot use, instead of deleting them (repair never
 * destroys bytes; a person may still want to look at them).
 *   STORE/quarantine/packs/<pack id>.pack
 *   STORE/quarantine/snapshots/<snapshot id>.snap
 * A record is moved (rename, then an fsync of both directories). A damaged pack is first
 * copied (durably) and removed from packs/ only after its salvaged chunks are indexed in new
 * packs: the salvage may rebuild a pack byte for byte under the same name (when only its
 * trailer checksum was damaged), and a crash midway must lose nothing.
 * A store in a bucket keeps its quarantine in the bucket (PREFIX/quarantine/..., the storage's
 * QuarantineArea), not in this host's cache, so that every host sharing the store sees it; a
 * record is then copied there and deleted from snapshots/ (an object cannot be renamed).
 * Nothing reads quarantine/ but gc: a quarantined snapshot record (one that did not verify and
 * had no good copy in the index) may still name data nobody else keeps, and gc cannot tell
 * which, so it deletes nothing while such records are there, until a person lets it forget
 * them (`fxcp store gc --forget-quarantined`; formats/store.md §16).
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import { fsyncDir, writeFileAtomic } from '../util/atomic-file.js';
import type { BlobKind } from './blob-storage.js';
import type { Store } from './chunk-store.js';
import { PACK_SUFFIX, QUARANTINE_DIR, SNAPSHOT_SUFFIX } from './store-layout.js';

/** The directory quarantined blobs of `kind` go to. */
export function quarantineDir(store: Store, kind: BlobKind): string {
  const area = store.storage.quarantine;
  if (area) return area.describe(kind);
  return join(store.localDir, QUARANTINE_DIR, kind === 'pack' ? 'packs' : 'snapshots');
}

export async function quarantineBlob(store: Store, kind: BlobKind, name: string): Promise<string> {
  const area = store.storage.quarantine;
  if (area) {
    // Copied, then deleted: a crash between the two leaves both, and the next repair copies again.
    const to = await area.put(kind, name, await store.storage.get(kind, name));
    await store.storage.remove(kind, name);
    return to;
  }
  if (!store.storage.localPath) throw new ToolkitError('UNSUPPORTED', `${store.root}: this storage backend cannot quarantine blobs`, { path: store.root });
  const from = store.storage.localPath(kind, name);
  const dir = quarantineDir(store, kind);
  await fsp.mkdir(dir, { recursive: true });
  const to = join(dir, name + (kind === 'pack' ? PACK_SUFFIX : SNAPSHOT_SUFFIX));
  await fsp.rename(from, to);
  await fsyncDir(dir);
  await fsyncDir(dirname(from));
  // Closes any cached read handle; the file is already gone from its blob name.
  await store.storage.remove(kind, name);
  return to;
}

/** Writes `bytes` (a blob's content as read) into quarantine durably; returns the path. */
export async function quarantineCopy(store: Store, kind: BlobKind, name: string, bytes: Uint8Array): Promise<string> {
  if (store.storage.quarantine) return store.storage.quarantine.put(kind, name, bytes);
  const dir = quarantineDir(store, kind);
  await fsp.mkdir(dir, { recursive: true });
  const to = join(dir, name + (kind === 'pack' ? PACK_SUFFIX : SNAPSHOT_SUFFIX));
  await writeFileAtomic(to, bytes);
  return to;
}

/** The ids of the snapshot records in quarantine (none when the directory does not exist). */
export async function quarantinedSnapshots(store: Store): Promise<string[]> {
  if (store.storage.quarantine) return store.storage.quarantine.list('snapshot');
  const dir = quarantineDir(store, 'snapshot');
  const names = await fsp.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names.filter((n) => n.endsWith(SNAPSHOT_SUFFIX)).map((n) => n.slice(0, -SNAPSHOT_SUFFIX.length)).sort();
}

/** Deletes quarantined snapshot records: a person decided that nothing they name is wanted. */
export async function forgetQuarantinedSnapshots(store: Store, ids: readonly string[]): Promise<void> {
  const area = store.storage.quarantine;
  if (area) {
    for (const id of ids) await area.remove('snapshot', id);
    return;
  }
  const dir = quarantineDir(store, 'snapshot');
  for (const id of ids) await fsp.rm(join(dir, id + SNAPSHOT_SUFFIX), { force: true });
  if (ids.length > 0) await fsyncDir(dir);
}
