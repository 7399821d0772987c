/**
 * Per-file versions of a versioned mirror (`enable_versioning` on a target): each file the
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
 * any writer) and one walk of their contents (version-batch.ts), and removed from the staging
 * area once recorded; what a stop or a kill -9
 * leaves staged is recorded at the next start. After each batch the policy (version-policy.ts)
 * is applied to the files of the batch, and the versions it drops are forgotten; once
 * GC_AFTER versions have been forgotten the store's gc runs under its exclusive lock and frees
 * their chunks. A full target first gives up older versions (makeRoom).
 *
 * What a full comparison writes (the hydration at each start, a rescan after lost events or
 * an outage) is versioned too: a file changed while the daemon was down or the target away is
 * a version like a live write, so the next live write does not take it out of history. One
 * exception bounds the cost: a full comparison of a target that has never been versioned (no
 * POLICY_FILE: the first hydration, or a target whose .foxing was lost) records only the files
 * it replaces, not those it copies anew (a first hydration of an empty target would otherwise
 * be one snapshot record per file of the whole tree, and `versions list` reads every record);
 * such a file's first version is its next write.
 *
 * Limits: a staged
 * link shares its inode with the mirror's file until the mirror replaces it, so a change made
 * in place meanwhile (someone writing into the mirror's file, a chmod) shows in the version (a
 * changed size or mtime with a warning). A name that is not UTF-8 is not versioned (snapshot
 * sources are UTF-8 paths). The versions share the target's disk: a version that cannot be
 * recorded (a full disk) is reported, stays staged and is tried again with the next batch;
 * on a full target the older staged versions of a file give way when no recorded version can
 * (makeRoom), so they never stall the mirror.
 */
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseCodec } from '../codec/codec.js';
import { NotFoundError, UsageError, type Warn } from '../errors/index.js';
import { displayPath, isUtf8Path, relPath } from '../fs/fs-path.js';
import { archive } from '../snapshot/archiver.js';
import { collectGarbage } from '../snapshot/garbage-collect.js';
import { listSnapshots, type SnapshotListing } from '../snapshot/snapshot-catalogue.js';
import { STATE_DIR } from '../signature/signature-store.js';
import { allowConcurrentStoreUses, inStoreTurn, type Store, withStore } from '../store/index.js';
import { recordVersions, type StagedVersion, type VersionOutcome } from './version-batch.js';
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
/** Where a batch's versions are linked to be stored in one walk (version-batch.ts): TARGET/.foxing/versions-batch. */
const SCRATCH_DIR = 'versions-batch';
/** Staged versions recorded in one pass at most. */
const MAX_BATCH = 4096;

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

/**
 * Forgets what the policy drops of the versions of each of `files` (`forcedToo`: forced ones
 * count too); the ids forgotten. One read of the catalogue, however many files.
 */
export async function applyPolicy(store: Store, files: string | ReadonlySet<string>, policy: VersionPolicy, opts: { dryRun?: boolean; forcedToo?: boolean } = {}): Promise<string[]> {
  const wanted = typeof files === 'string' ? new Set([resolve(files)]) : files;
  const byFile = new Map<string, FileVersion[]>();
  for (const s of listSnapshots(store)) {
    if (!wanted.has(s.record.source) || !s.record.tags.includes(VERSION_TAG)) continue;
    const list = byFile.get(s.record.source) ?? [];
    list.push({ id: s.id, time: s.record.time, bytes: s.record.stats.bytes, tags: s.record.tags });
    byFile.set(s.record.source, list);
  }
  const forget = [...byFile.values()].flatMap((versions) => versionsToForget(versions, policy, opts.forcedToo));
  if (opts.dryRun !== true && forget.length > 0) await store.removeSnapshots(forget);
  return forget;
}

export interface FileVersionsOptions {
  onWarn: Warn;
  log(line: string): void;
  signal?: AbortSignal;
  /** How long staged versions wait for their batch; default BATCH_MS (tests hold a batch back). */
  batchMs?: number;
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
  /** During a full comparison of a target never versioned: new copies are no versions (beginFull). */
  private baseline = false;
  /** Files that full comparison copied anew and did not version (for its log line). */
  private notVersioned = 0;
  readonly stats = { versions: 0, forgotten: 0, gcs: 0, failures: 0 };

  constructor(readonly target: string, readonly policy: VersionPolicy, private readonly opts: FileVersionsOptions) {
    // Recording versions, making room and gc run beside each other on the versions store.
    allowConcurrentStoreUses();
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
    this.endBaseline();
    this.prepare();
    if (existsSync(this.staging) && readdirSync(this.staging).length > 0) this.schedule();
  }

  /** The staging area made, and the policy written beside the store: from now on the target is versioned. */
  private prepare(): void {
    try {
      mkdirSync(this.staging, { recursive: true });
      writeFileSync(join(this.target, STATE_DIR, POLICY_FILE), `${JSON.stringify(this.policy)}\n`);
    } catch (err) {
      this.opts.onWarn('MIRROR', `${displayPath(this.target)}: cannot prepare its versions (${(err as Error).message})`, { path: this.target });
    }
  }

  /**
   * A full comparison of the target begins (the hydration, a full rescan: live-sync.ts). On a
   * target never versioned (no POLICY_FILE yet, or its .foxing lost with it) the files it copies
   * anew are not versions, only those it replaces; see the head of this file.
   */
  beginFull(): void {
    this.baseline = !existsSync(join(this.target, STATE_DIR, POLICY_FILE));
  }

  /** The full comparison ended: the target is versioned from now on (a lost POLICY_FILE written again). */
  endFull(): void {
    if (this.endBaseline()) this.prepare();
  }

  /** Whether the full comparison that ended was of a target not yet versioned (logged). */
  private endBaseline(): boolean {
    if (!this.baseline) return false;
    this.baseline = false;
    if (this.notVersioned > 0) this.opts.log(`${displayPath(this.target)}: ${this.notVersioned} files copied anew onto a target not yet versioned are no versions (each one's first version is its next write)`);
    this.notVersioned = 0;
    return true;
  }

  /**
   * A file the mirror wrote (its path on the target): staged at once as a hard link, so the
   * version is this content even if the mirror replaces the file before the batch runs, and
   * survives a restart. Synchronous: it runs inside the copy's action report. `fresh`: no file
   * stood under its name before; `full`: a full comparison wrote it (beginFull).
   */
  written(path: Buffer, fresh = false, full = false): void {
    if (fresh && full && this.baseline) { this.notVersioned++; return; }
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
    // Stopped before start() (during the hydration): what is staged is recorded at the next start.
    if (this.staged > 0 && this.real !== '') await this.batch();
  }

  private schedule(): void {
    // Before start() (the hydration staging what it writes) the target's real path is not
    // known yet: start() schedules what was staged.
    if (this.real === '') return;
    if (!this.timer && !this.running) this.timer = setTimeout(() => this.flush(), this.opts.batchMs ?? BATCH_MS);
  }

  private flush(): void {
    this.timer = null;
    this.running = this.batch().finally(() => {
      this.running = null;
      if (this.staged > 0) this.schedule();
    });
  }

  /**
   * Records the staged versions, oldest first, at most MAX_BATCH of them in one pass
   * (version-batch.ts), and removes each recorded one from the staging area.
   */
  private async batch(): Promise<void> {
    this.staged = 0;
    const names = readdirSync(this.staging).sort();
    if (names.length === 0) return;
    // The rest waits for the next batch, which follows at once.
    if (names.length > MAX_BATCH) { names.length = MAX_BATCH; this.staged = 1; }
    let failed = 0, firstError = '';
    try {
      await withStore(this.store, { create: true, lock: 'shared', command: 'foxingd (versions)', onWarn: this.opts.onWarn, signal: this.opts.signal }, async (store) => {
        const staged: StagedVersion[] = [], dirs: string[] = [];
        for (const name of names) {
          const dir = join(this.staging, name);
          const file = stagedFile(dir, this.real, this.opts.onWarn);
          if (file === null) {
            rmSync(dir, { recursive: true, force: true });
            continue;
          }
          staged.push({ file, link: join(dir, 'f', basename(file)), time: Number.parseInt(name, 10) });
          dirs.push(dir);
        }
        const files = new Set<string>();
        const outcomes = await this.record(store, staged);
        outcomes.forEach((o, k) => {
          // Left staged, tried again with the next batch; the others go on.
          if ('error' in o) {
            if (failed++ === 0) firstError = o.error;
            return;
          }
          this.stats.versions++;
          files.add(o.file);
          rmSync(dirs[k], { recursive: true, force: true });
        });
        const forgotten = (await applyPolicy(store, files, this.policy)).length;
        this.stats.forgotten += forgotten;
        this.forgottenSinceGc += forgotten;
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

  /**
   * Records `staged` in one pass; if that fails as a whole (a full target: one batch needs room
   * for all of its content at once), one version at a time, so that what fits is recorded and
   * the policy can then make room by forgetting older ones.
   */
  private async record(store: Store, staged: StagedVersion[]): Promise<VersionOutcome[]> {
    const scratch = join(this.target, STATE_DIR, SCRATCH_DIR);
    try {
      return await recordVersions(store, staged, scratch, this.opts.onWarn, this.opts.signal);
    } catch (err) {
      if (staged.length === 1) return [{ file: staged[0].file, error: (err as Error).message }];
    }
    const out: VersionOutcome[] = [];
    let full: string | null = null;
    for (const one of staged) {
      // Once one version finds no room, the later ones wait for the next batch (the target is
      // full: trying each would take a walk of the store apiece, and a stop would wait for all).
      if (full !== null) { out.push({ file: one.file, error: full }); continue; }
      try {
        out.push(...await recordVersions(store, [one], scratch, this.opts.onWarn, this.opts.signal));
      } catch (err) {
        out.push({ file: one.file, error: (err as Error).message });
        if ((err as { code?: string }).code === 'NO_SPACE') full = (err as Error).message;
      }
    }
    return out;
  }

  private makingRoom = false;

  /**
   * The target is full (live-sync.ts calls this as it pauses): forgets the older half of the
   * versions the policy could spare (never a file's newest, nor a forced one) and deletes the
   * packs that held only them. No pack is repacked: that would need the room there is not.
   * With no recorded version to spare, the older staged ones give way (dropOlderStaged).
   */
  async makeRoom(): Promise<void> {
    if (this.makingRoom || this.real === '') return;
    this.makingRoom = true;
    let forgot = 0;
    try {
      await withStore(this.store, { lock: 'exclusive', command: 'foxingd (versions, target full)', onWarn: this.opts.onWarn, signal: this.opts.signal, waitMs: LOCK_WAIT_MS }, async (store) => {
        const all = listSnapshots(store).filter((s) => s.record.tags.includes(VERSION_TAG));
        const newest = new Map(all.map((s) => [s.record.source, s.id]));  // oldest first: the last one stays
        const spare = all.filter((s) => newest.get(s.record.source) !== s.id && !isForced(s.record));
        const forget = spare.slice(0, Math.ceil(spare.length / 2)).map((s) => s.id);
        if (forget.length === 0) return;
        await store.removeSnapshots(forget);
        this.stats.forgotten += forget.length;
        forgot = forget.length;
        const r = await collectGarbage(store, { onWarn: this.opts.onWarn, signal: this.opts.signal, repackThreshold: Infinity });
        this.opts.log(`${displayPath(this.target)} is full: forgot the ${forget.length} oldest versions the policy could spare; ${r.freedBytes} bytes freed`);
      });
    } catch (err) {
      // No store yet (nothing recorded) is no failure: the staged versions below give way.
      if (!(err instanceof NotFoundError)) this.opts.onWarn('MIRROR', `${displayPath(this.target)}: no room made from its versions (${(err as Error).message})`, { path: this.store });
    }
    try {
      if (forgot === 0) await inStoreTurn(resolve(this.store), async () => this.dropOlderStaged());
    } finally {
      this.makingRoom = false;
    }
  }

  /**
   * A full target with no recorded version to spare: each staged version that is not its
   * file's newest is given up. Each holds a whole old copy of its file on the target, none can
   * be recorded without room, and while they stay the mirror cannot converge (a burst of
   * writes that filled the target before its first batch was recorded). A file's newest staged
   * version stays: it is most often the mirror's current file itself (the same inode, no room
   * of its own), and it is recorded once there is room. Runs in the store's turn, so no batch
   * is reading the links meanwhile.
   */
  private dropOlderStaged(): void {
    const names = readdirSync(this.staging).sort();  // oldest first (named by time)
    const fileOf = names.map((name) => stagedFile(join(this.staging, name), this.real, () => {}));
    const newest = new Map<string, number>();
    fileOf.forEach((file, k) => { if (file !== null) newest.set(file, k); });
    let dropped = 0;
    fileOf.forEach((file, k) => {
      if (file !== null && newest.get(file) === k) return;
      rmSync(join(this.staging, names[k]), { recursive: true, force: true });
      if (file !== null) dropped++;
    });
    if (dropped === 0) return;
    this.stats.forgotten += dropped;
    this.opts.log(`${displayPath(this.target)} is full: gave up ${dropped} older staged version${dropped === 1 ? '' : 's'} not yet recorded (no recorded version could be spared)`);
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
