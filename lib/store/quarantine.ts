/**
 * Quarantine: where repair moves blobs it cannot use, instead of deleting them (repair never
 * destroys bytes; a person may still want to look at them).
 *   STORE/quarantine/packs/<pack id>.pack
 *   STORE/quarantine/snapshots/<snapshot id>.snap
 * The move is a rename within the store's file system, then an fsync of both directories.
 * Nothing reads quarantine/; deleting it by hand is safe once nobody wants its contents.
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import { fsyncDir } from '../util/atomic-file.js';
import type { BlobKind } from './blob-storage.js';
import type { Store } from './chunk-store.js';
import { PACK_SUFFIX, QUARANTINE_DIR, SNAPSHOT_SUFFIX } from './store-layout.js';

export async function quarantineBlob(store: Store, kind: BlobKind, name: string): Promise<string> {
  if (!store.storage.localPath) throw new ToolkitError('UNSUPPORTED', `${store.root}: this storage backend cannot quarantine blobs`, { path: store.root });
  const from = store.storage.localPath(kind, name);
  const dir = join(store.root, QUARANTINE_DIR, kind === 'pack' ? 'packs' : 'snapshots');
  await fsp.mkdir(dir, { recursive: true });
  const to = join(dir, name + (kind === 'pack' ? PACK_SUFFIX : SNAPSHOT_SUFFIX));
  await fsp.rename(from, to);
  await fsyncDir(dir);
  await fsyncDir(dirname(from));
  // Closes any cached read handle; the file is already gone from its blob name.
  await store.storage.remove(kind, name);
  return to;
}
