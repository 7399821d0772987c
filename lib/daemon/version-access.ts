/**
 * What `foxingd versions` needs beyond the daemon's side (file-versions.ts): the versions store
 * a file's mirror keeps, the file named as its versions are, and a version written back out.
 * The store is found from the file itself, walking up from its directory to the first
 * TARGET/.foxing/versions that is a store, so the commands need neither the daemon nor its
 * configuration (the daemon may be stopped; the mirror may have been moved as a whole, which
 * they then report as "no versions").
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { IntegrityError, NotFoundError, type Warn } from '../errors/index.js';
import { renameNoReplace } from '../fs/rename-noreplace.js';
import { restore } from '../snapshot/restorer.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import { STATE_DIR } from '../signature/signature-store.js';
import type { Store } from '../store/index.js';
import { POLICY_FILE, versionsStoreOf } from './file-versions.js';
import { DEFAULT_POLICY, type VersionPolicy } from './version-policy.js';

export interface VersionedFile {
  /** The file as its versions name it: the real path of its directory, and its name. */
  file: string;
  /** The mirror holding it, and its versions store. */
  target: string;
  store: string;
}

/** The mirror and versions store of `path` (which may no longer exist); NotFoundError when none holds it. */
export function findVersioned(path: string): VersionedFile {
  const abs = resolve(path);
  let dir: string;
  try {
    dir = realpathSync(dirname(abs));
  } catch {
    throw new NotFoundError(`${path}: no such directory ${dirname(abs)}`, { path });
  }
  const file = join(dir, basename(abs));
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(versionsStoreOf(at), 'config'))) return { file, target: at, store: versionsStoreOf(at) };
    if (at === dirname(at)) break;
  }
  throw new NotFoundError(`${path}: no versions: not inside a mirror with enable_versioning (no .foxing/versions above it)`, { path });
}

/** The policy the daemon last ran the mirror with; the defaults when it recorded none. */
export function recordedPolicy(target: string): VersionPolicy {
  try {
    const p = JSON.parse(readFileSync(join(target, STATE_DIR, POLICY_FILE), 'utf8')) as Partial<VersionPolicy>;
    if (Number.isInteger(p.maxVersions) && p.maxVersions! >= 1 && typeof p.maxBytes === 'number' && p.maxBytes > 0) return { maxVersions: p.maxVersions!, maxBytes: p.maxBytes };
  } catch { /* none recorded, or not readable: the defaults */ }
  return DEFAULT_POLICY;
}

/**
 * Writes the version `record` to `out`: restored whole into a temporary directory beside `out`
 * (chunks verified by the restore), then renamed into place, so `out` is the version entirely
 * or is not touched. `replace` false refuses an existing `out` (EEXIST).
 */
export async function writeVersion(store: Store, record: SnapshotRecord, out: string, replace: boolean, onWarn: Warn, signal?: AbortSignal): Promise<number> {
  const tmp = mkdtempSync(join(dirname(resolve(out)), '.foxingd-version-'));
  try {
    const r = await restore(store, record, { target: tmp, onWarn, signal, workers: 1 });
    if (r.problems.length > 0) throw new IntegrityError(`${out}: the version could not be restored whole: ${r.problems[0].message}`, { path: out });
    const got = join(tmp, basename(record.source));
    if (replace) renameSync(got, out);
    else renameNoReplace(Buffer.from(got), Buffer.from(resolve(out)));
    return r.bytes;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
