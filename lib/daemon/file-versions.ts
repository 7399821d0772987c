/**
 * Per-file versions of a versioned mirror (`enable_versioning` on a target): each file the live
 * mirror writes becomes a version, kept in a chunk store of the target's own, in
 * TARGET/.foxing/versions. A version is a snapshot of that one file (the store's root tree
 * holds just it), tagged `foxingd-version`, whose source is the file's path on the target; so
 * versions are deduplicated against each other chunk by chunk, `fxcp snap list|restore` read
 * them as any snapshot, and `foxingd versions` lists, copies, reverts, cleans up and forces
 * them.
 *
 * A file written is staged at once: hard-linked into TARGET/.foxing/versions-staging (the
 * mirror writes each file anew and renames it into place, so the link keeps exactly this
 * version however soon the next one replaces it), with its path, size and mtime beside it.
 * Staged versions are recorded within BATCH_MS, in one turn of the store (a shared lock, as
 * any writer), and removed from the staging area once recorded; what a stop or a kill -9
 * leaves staged is recorded at the next start. After each batch the policy (version-policy.ts)
 * is applied to the files of the batch, and the versions it drops are forgotten; once
 * GC_AFTER versions have been forgotten the store's gc runs under its exclusive lock and frees
 * their chunks. A full target first gives up older versions (makeRoom).
 *
 * Limits: versions are recorded for files the live mirror writes after its hydration, not for
 * those a hydration or a full rescan writes (one snapshot record per file of a whole tree
 * would be the wrong tool; the first live write of a file is its first version). A staged
 * link shares its inode with the mirror's file until the mirror replaces it, so a change made
 * in place meanwhile (someone writing into the mirror's file, a chmod) shows in the version (a
 * changed size or mtime with a warning). A name that is not UTF-8 is not versioned (snapshot
 * sources are UTF-8 paths). The versions share the target's disk: a version that cannot be
 * recorded (a full disk) is reported, stays staged and is tried again with the next batch,
 * and never stalls the mirror.
 */
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseCodec } from '../codec/codec.js';
import { NotFoundError, UsageError, type Warn } from '../errors/index.js';
import { displayPath, isUtf8Path, relPath } from '../fs/fs-path.js';
import { archive } from '../snapshot/archiver.js';
import { collectGarbage } from '../snapshot/garbage-collect.js';
import { listSnapshots, type SnapshotListing } from '../snapshot/snapshot-catalogue.js';
import { STATE_DIR } from '../signature/signature-store.js';
import { type Store, withStore } from '../store/index.js';
import { type FileVersion, isForced, VERSION_TAG, type VersionPolicy, versionsToForget } from './version-policy.js';

export const BATCH_MS = 50;
/** Versions forgotten before gc frees their chunks. */
export const GC_AFTER = 64;
/** How long gc and makeRoom wait for the exclusive lock (a `versions list` or `copy` holding a shared one). */
const LOCK_WAIT_MS = 30_000;
/** Where a target keeps the policy its daemon runs with, for `foxingd versions cleanup`. */
export const POLICY_FILE = 'versions-policy.json';
/** Where written files wait, hard-linked, to be recorded (TARGET/.foxing/versions-staging). */
const STAGING_DIR = 'versions-staging';
/** Beside each staged link: its path in the mirror, and its size and mtime when staged. */
const STAGED_NOTE = 'staged.json';

/** The versions store of the mirror `target`. */
export function versionsStoreOf(target: string): string {
  return join(target, STATE_DIR, 'versions');
}

/** The snapshots that are versions of the file `file` (its real path on a mirror), oldest first. */
export function versionListings(store: Store, file: string): SnapshotListing[] {
  const source = resolve(file);
  return listSnapshots(store).filter((s) => s.record.source === source && s.record.tags.includes(VERSION_TAG));
}

export function versionsOf(store: Store, file: string): FileVersion[] {
  return versionListings(store, file).map((s) => ({ id: s.id, time: s.record.time, bytes: s.record.stats.bytes, tags: s.record.tags }));
}

/** The version of `file` whose id starts with `prefix`; NotFoundError or UsageError (ambiguous) otherwise. */
export function pickVersion(store: Store, file: string, prefix: string): SnapshotListing {
  const want = prefix.toLowerCase();
  const hits = versionListings(store, file).filter((s) => s.id.startsWith(want));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) throw new UsageError(`version '${prefix}' of ${file} is ambiguous (${hits.length} match); give more digits`);
  throw new NotFoundError(`${file}: no version '${prefix}' (foxingd versions list ${file} shows them)`, { path: file }, 'NO_SNAPSHOT');
}

/**
 * Records one version of `file` (tags beyond VERSION_TAG make it a forced one), read from
 * `from` (default: the file itself; the daemon reads its staged hard link); its id.
 */
export async function recordVersion(store: Store, from: string, tags: string[], onWarn: Warn, signal?: AbortSignal, file = from): Promise<string> {
  const r = await archive(store, { source: from, recordSource: file, tags: [VERSION_TAG, ...tags], codec: parseCodec('zstd'), onWarn, signal, workers: 1 });
  return r.id;
}

/** Forgets what the policy drops of `file`'s versions (`forcedToo`: forced ones count too); the ids forgotten. */
export async function applyPolicy(store: Store, file: string, policy: VersionPolicy, opts: { dryRun?: boolean; forcedToo?: boolean } = {}): Promise<string[]> {
  const forget = versionsToForget(versionsOf(store, file), policy, opts.forcedToo);
  const dryRun = opts.dryRun === true;
  if (!dryRun && forget.length > 0) await store.removeSnapshots(forget);
  return forget;
}

export interface FileVersionsOptions {
  onWarn: Warn;
  log(line: string): void;
  signal?: AbortSignal;
}

export class FileVersions {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private staged = 0;
  private forgottenSinceGc = 0;
  /** The target's real path (versions are named by it, as `foxingd versions FILE` finds them); set by start(). */
  private real = '';
  private readonly staging: string;
  readonly store: string;
  readonly stats = { versions: 0, forgotten: 0, gcs: 0, failures: 0 };

  constructor(readonly target: string, readonly policy: VersionPolicy, private readonly opts: FileVersionsOptions) {
    this.store = versionsStoreOf(target);
    this.staging = join(target, STATE_DIR, STAGING_DIR);
  }

  /**
   * Once the target exists (after the hydration): learns its real path, writes the policy
   * beside the store (so `foxingd versions cleanup` applies the same one), and records what an
   * earlier run staged but did not record (a stop, a kill -9).
   */
  start(): void {
    this.real = realpathSync(this.target);
    try {
      mkdirSync(this.staging, { recursive: true });
      writeFileSync(join(this.target, STATE_DIR, POLICY_FILE), `${JSON.stringify(this.policy)}\n`);
    } catch (err) {
      this.opts.onWarn('MIRROR', `${displayPath(this.target)}: cannot prepare its versions (${(err as Error).message})`, { path: this.target });
    }
    if (readdirSync(this.staging, { withFileTypes: false }).length > 0) this.schedule();
  }

  /**
   * A file the mirror wrote (its path on the target): staged at once as a hard link, so the
   * version is this content even if the mirror replaces the file before the batch runs, and
   * survives a restart. Synchronous: it runs inside the copy's action report.
   */
  written(path: Buffer): void {
    const rel = relPath(this.target, path);
    if (rel === null || rel.length === 0 || !isUtf8Path(rel)) return;
    const dir = join(this.staging, `${String(Date.now()).padStart(14, '0')}-${process.pid}-${++this.staged}`);
    try {
      mkdirSync(join(dir, 'f'), { recursive: true });
      const link = join(dir, 'f', basename(rel.toString('utf8')));
      linkSync(path, link);
      const st = lstatSync(link, { bigint: true });
      writeFileSync(join(dir, STAGED_NOTE), JSON.stringify({ path: rel.toString('utf8'), size: String(st.size), mtimeNs: String(st.mtimeNs) }));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      this.stats.failures++;
      this.opts.onWarn('MIRROR', `${displayPath(path)}: version not kept (${(err as Error).message})`, { path: displayPath(path) });
      return;
    }
    this.schedule();
  }

  /** Records what is staged, then returns. */
  async stop(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    await this.running;
    if (this.staged > 0) await this.batch();
  }

  private schedule(): void {
    if (!this.timer && !this.running) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.timer = null;
    this.running = this.batch().finally(() => {
      this.running = null;
      if (this.staged > 0) this.schedule();
    });
  }

  /** Records each staged version, oldest first, and removes it from the staging area. */
  private async batch(): Promise<void> {
    this.staged = 0;
    const names = readdirSync(this.staging).sort();
    if (names.length === 0) return;
    let failed = 0, firstError = '';
    try {
      await withStore(this.store, { create: true, lock: 'shared', command: 'foxingd (versions)', onWarn: this.opts.onWarn, signal: this.opts.signal }, async (store) => {
        const files = new Set<string>();
        for (const name of names) {
          const dir = join(this.staging, name);
          const file = stagedFile(dir, this.real, this.opts.onWarn);
          if (file !== null) {
            try {
              await recordVersion(store, join(dir, 'f', basename(file)), [], this.opts.onWarn, this.opts.signal, file);
            } catch (err) {
              // Left staged, tried again with the next batch; the others go on.
              if (failed++ === 0) firstError = `${file}: ${(err as Error).message}`;
              continue;
            }
            this.stats.versions++;
            files.add(file);
          }
          rmSync(dir, { recursive: true, force: true });
        }
        for (const file of files) {
          const forgotten = (await applyPolicy(store, file, this.policy)).length;
          this.stats.forgotten += forgotten;
          this.forgottenSinceGc += forgotten;
        }
      });
      if (this.forgottenSinceGc >= GC_AFTER) await this.gc();
    } catch (err) {
      failed = names.length;
      firstError = (err as Error).message;
    }
    if (failed > 0) {
      this.stats.failures += failed;
      this.opts.onWarn('MIRROR', `${displayPath(this.target)}: ${failed} version${failed === 1 ? '' : 's'} not recorded in ${this.store} (${firstError}); they stay staged for the next try`, { path: this.store });
    }
  }

  private makingRoom = false;

  /**
   * The target is full (live-sync.ts calls this as it pauses): forgets the older half of the
   * versions the policy could spare (never a file's newest, nor a forced one) and deletes the
   * packs that held only them. No pack is repacked: that would need the room there is not.
   */
  async makeRoom(): Promise<void> {
    if (this.makingRoom || this.real === '') return;
    this.makingRoom = true;
    try {
      await withStore(this.store, { lock: 'exclusive', command: 'foxingd (versions, target full)', onWarn: this.opts.onWarn, signal: this.opts.signal, waitMs: LOCK_WAIT_MS }, async (store) => {
        const all = listSnapshots(store).filter((s) => s.record.tags.includes(VERSION_TAG));
        const newest = new Map(all.map((s) => [s.record.source, s.id]));  // oldest first: the last one stays
        const spare = all.filter((s) => newest.get(s.record.source) !== s.id && !isForced(s.record));
        const forget = spare.slice(0, Math.ceil(spare.length / 2)).map((s) => s.id);
        if (forget.length === 0) return;
        await store.removeSnapshots(forget);
        this.stats.forgotten += forget.length;
        const r = await collectGarbage(store, { onWarn: this.opts.onWarn, signal: this.opts.signal, repackThreshold: Infinity });
        this.opts.log(`${displayPath(this.target)} is full: forgot the ${forget.length} oldest versions the policy could spare; ${r.freedBytes} bytes freed`);
      });
    } catch (err) {
      this.opts.onWarn('MIRROR', `${displayPath(this.target)}: no room made from its versions (${(err as Error).message})`, { path: this.store });
    } finally {
      this.makingRoom = false;
    }
  }

  /** Frees the chunks of forgotten versions (the store's gc, under its exclusive lock). */
  private async gc(): Promise<void> {
    await withStore(this.store, { lock: 'exclusive', command: 'foxingd (versions gc)', onWarn: this.opts.onWarn, signal: this.opts.signal, waitMs: LOCK_WAIT_MS }, async (store) => {
      const r = await collectGarbage(store, { onWarn: this.opts.onWarn, signal: this.opts.signal });
      this.opts.log(`versions of ${displayPath(this.target)}: gc freed ${r.freedBytes} bytes of ${this.forgottenSinceGc} versions forgotten`);
    });
    this.forgottenSinceGc = 0;
    this.stats.gcs++;
  }
}

/**
 * The file a staged version is of (its real path on the target); null for one staged only in
 * part (a crash while staging). A staged file changed in place since (someone wrote into the
 * mirror's file; the mirror itself always replaces) is recorded as it now is, with a warning.
 */
function stagedFile(dir: string, real: string, onWarn: Warn): string | null {
  try {
    const note = JSON.parse(readFileSync(join(dir, STAGED_NOTE), 'utf8')) as { path: string; size: string; mtimeNs: string };
    if (note.path.startsWith('/') || note.path.split('/').includes('..')) return null;
    const file = join(real, note.path);
    const st = lstatSync(join(dir, 'f', basename(file)), { bigint: true });
    if (String(st.size) !== note.size || String(st.mtimeNs) !== note.mtimeNs) {
      onWarn('MIRROR', `${file}: changed in place after the mirror wrote it; its version is recorded as it now is`, { path: file });
    }
    return file;
  } catch {
    return null;
  }
}
