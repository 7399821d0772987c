/**
 * The server's end of a blob session (formats/wire.md §7): a client that names a store as
 * `ssh://host/path` runs the Store code itself (index cache, locks, packs written through
 * temporaries, exactly as for s3://) and asks this side only for the store directory's blobs:
 * list, stat, ranged reads, writes into tmp/ renamed into place, removals, the config (created,
 * or its version raised), and a lock held for the session. The store is never opened as a Store here: no index is read or
 * written on the server, which only keeps files.
 *
 * What the server enforces itself, whatever the client sends: the path rules (checked at
 * TOpenBlobs, serve-path.ts), blob names of the store's own shape (blob-messages.ts), and with
 * --append-only: no removal, no commit over an existing blob, no exclusive lock (the lock of
 * prune, gc and repair, which delete). A compromised client can add, never destroy.
 *
 * Requests are handled one at a time, in order. Errors are answered with RError and the session
 * goes on (nothing unverified is held here: a blob is visible only once committed); a protocol
 * violation ends it. When the session ends however it ends, open writers are dropped and the
 * lock is released.
 */
import { existsSync, fsyncSync, linkSync, mkdirSync, openSync, closeSync, promises as fsp, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ToolkitError, TransportError, UsageError, type Warn } from '../errors/index.js';
import { type BlobKind, type BlobWriter, CONFIG_FILE, DIRS, FsStorage, STORE_VERSION, StoreLock, upgradeConfigFile } from '../store/index.js';
import type { Frame } from './frame-codec.js';
import type { FrameChannel } from './frame-channel.js';
import { countField, decodeBlobRead, decodeBlobWrite, endsBlobSession, handleField, kindField, nameField } from './blob-messages.js';
import { FRAME, frameName, MAX_LIST_NAMES, MAX_OPEN_BLOBS } from './wire-layout.js';
import { booleanField, decodeJson, encodeJson, stringField } from './wire-messages.js';

export interface BlobServeOptions {
  appendOnly: boolean;
  /** false: packs through the page cache (FOXING_DIRECT_PACKS=0). */
  directPacks?: boolean;
  onWarn?: Warn;
  signal?: AbortSignal;
}

export class BlobSession {
  private readonly storage: FsStorage;
  private readonly writers = new Map<number, BlobWriter>();
  private lock: StoreLock | null = null;
  /** This session wrote the config: only then may TRemoveIfUnused take it back. */
  private createdConfig = false;
  current = 0;

  constructor(private readonly channel: FrameChannel, private readonly root: string, private readonly opts: BlobServeOptions) {
    this.storage = new FsStorage(root, { directPacks: opts.directPacks });
  }

  /** ROpenBlobs: the config's text, and for a directory without one, what else it holds. */
  opened(): Uint8Array {
    let config: string | null = null;
    try { config = readFileSync(join(this.root, CONFIG_FILE), 'utf8'); } catch { /* none */ }
    const layout = new Set<string>(Object.values(DIRS));
    let holds: string | null = null;
    if (config === null) {
      try {
        holds = readdirSync(this.root).find((e) => !layout.has(e)) ?? null;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') holds = '(it is a file)';
      }
    }
    return encodeJson({ path: this.root, config, holds });
  }

  /** Handles requests until TBye (true) or the end of the input (false). */
  async run(next: () => Promise<Frame | null>): Promise<boolean> {
    try {
      for (let f = await next(); f; f = await next()) {
        this.current = f.requestId;
        try {
          if (await this.handle(f)) return true;
        } catch (err) {
          if (!(err instanceof ToolkitError) || endsBlobSession(err.code)) throw err;
          const json = { code: err.code, message: err.message };
          await this.channel.send(FRAME.RError, f.requestId, encodeJson(json));
        }
      }
      return false;
    } finally {
      for (const w of this.writers.values()) await w.abort().catch(() => {});
      this.writers.clear();
      this.lock?.release();
      await this.storage.close();
    }
  }

  private async handle(f: Frame): Promise<boolean> {
    const ok = (body: Record<string, unknown> = {}) => this.channel.send(FRAME.ROk, f.requestId, encodeJson(body));
    const name = frameName(f.type);
    switch (f.type) {
      case FRAME.TBlobList: {
        const o = decodeJson(f.body, name);
        const after = stringField(o, 'after', name);
        const page = this.list(kindField(o, name), after);
        await this.channel.send(FRAME.RBlobList, f.requestId, encodeJson(page));
        return false;
      }
      case FRAME.TBlobStat: {
        const o = decodeJson(f.body, name);
        const path = this.storage.localPath(kindField(o, name), nameField(o, 'name', name));
        const st = statSync(path, { throwIfNoEntry: false });
        await this.channel.send(FRAME.RBlobStat, f.requestId, encodeJson({ size: st?.isFile() ? st.size : null }));
        return false;
      }
      case FRAME.TBlobRead: {
        const r = decodeBlobRead(decodeJson(f.body, name));
        const size = await this.storage.size(r.kind, r.name);
        // A read past the end returns what there is: the client names the truncation.
        const length = Math.max(0, Math.min(r.length, size - r.offset));
        const data = length === 0 ? new Uint8Array(0) : await this.storage.readRange(r.kind, r.name, r.offset, length);
        await this.channel.send(FRAME.RBlobData, f.requestId, data);
        return false;
      }
      case FRAME.TBlobCreate: {
        const o = decodeJson(f.body, name);
        const handle = handleField(o, name);
        if (this.writers.has(handle)) throw this.protocol(`${name}: handle ${handle} is already open`);
        if (this.writers.size >= MAX_OPEN_BLOBS) throw this.protocol(`${name}: more than ${MAX_OPEN_BLOBS} blobs open at once`);
        const kind = kindField(o, name);
        this.writers.set(handle, await this.storage.create(kind, { direct: booleanField(o, 'direct', name) }));
        await ok();
        return false;
      }
      case FRAME.TBlobWrite: {
        const { handle, data } = decodeBlobWrite(f.body);
        await this.writer(handle, name).write(data);
        await ok();
        return false;
      }
      case FRAME.TBlobCommit: {
        const o = decodeJson(f.body, name);
        const handle = handleField(o, name);
        const w = this.writer(handle, name);
        const kind = kindField(o, name), blob = nameField(o, 'name', name);
        this.writers.delete(handle);
        if (this.opts.appendOnly && existsSync(this.storage.localPath(kind, blob))) {
          await w.abort();
          throw this.appendOnly(`${this.storage.describe(kind, blob)} exists: an append-only server never writes a blob again`);
        }
        try { await w.commit(blob); } catch (err) { await w.abort(); throw err; }
        await ok();
        return false;
      }
      case FRAME.TBlobAbort: {
        const handle = handleField(decodeJson(f.body, name), name);
        await this.writers.get(handle)?.abort();
        this.writers.delete(handle);
        await ok();
        return false;
      }
      case FRAME.TBlobRemove: {
        const o = decodeJson(f.body, name);
        const kind = kindField(o, name), blob = nameField(o, 'name', name);
        if (this.opts.appendOnly) throw this.appendOnly(`${this.storage.describe(kind, blob)}: an append-only server removes nothing; forget, prune and gc run on the server itself`);
        await this.storage.remove(kind, blob);
        await ok();
        return false;
      }
      case FRAME.TConfigCreate: {
        const text = stringField(decodeJson(f.body, name), 'text', name);
        const created = this.createConfig(text);
        this.createdConfig ||= created;
        await ok({ created });
        return false;
      }
      case FRAME.TConfigUpgrade: {
        const to = countField(decodeJson(f.body, name), 'version', STORE_VERSION, name);
        // The exclusive lock keeps every writer out while the version changes (an append-only
        // session never holds one); the server reads and rewrites its own config.
        if (!this.lock?.info.exclusive) throw new UsageError(`${this.root}: the store's version is raised only under the session's exclusive lock`, { path: this.root });
        await ok({ ...(await upgradeConfigFile(this.root, to)) });
        return false;
      }
      case FRAME.TLock: {
        const o = decodeJson(f.body, name);
        const exclusive = booleanField(o, 'exclusive', name);
        if (this.lock) throw this.protocol(`${name}: the session holds a lock already`);
        if (exclusive && this.opts.appendOnly) throw this.appendOnly(`${this.root}: an append-only server gives no exclusive lock (prune, gc and repair delete): run them on the server itself`);
        this.lock = await StoreLock.acquire(this.root, {
          exclusive, command: `${stringField(o, 'command', name).slice(0, 200)} (over ssh)`, waitMs: countField(o, 'waitMs', 24 * 3600_000, name),
          signal: this.opts.signal, onWarn: this.opts.onWarn,
        });
        await ok();
        return false;
      }
      case FRAME.TUnlock:
        this.lock?.release();
        this.lock = null;
        await ok();
        return false;
      case FRAME.TCleanTemporaries:
        await ok({ removed: await this.cleanTemporaries() });
        return false;
      case FRAME.TRemoveIfUnused:
        await ok({ removed: this.removeIfUnused() });
        return false;
      case FRAME.TBye:
        await this.channel.send(FRAME.RBye, f.requestId);
        return true;
      default:
        throw this.protocol(`${this.channel.peer}: sent ${name}, which is not a blob request`);
    }
  }

  private writer(handle: number, what: string): BlobWriter {
    const w = this.writers.get(handle);
    if (!w) throw this.protocol(`${what}: handle ${handle} is not open`);
    return w;
  }

  /** Up to MAX_LIST_NAMES names after `after`, in byte order, one directory read at a time. */
  private list(kind: BlobKind, after: string): { names: string[]; last: boolean } {
    const names: string[] = [];
    const read = (dir: string) => { try { return readdirSync(dir).sort(); } catch { return []; } };
    const take = (dir: string, suffix: string): boolean => {
      for (const e of read(dir)) {
        if (!e.endsWith(suffix)) continue;
        const n = e.slice(0, -suffix.length);
        if (n <= after || !/^[0-9a-f]{8,64}$/.test(n)) continue;
        if (names.length === MAX_LIST_NAMES) return false;
        names.push(n);
      }
      return true;
    };
    if (kind === 'snapshot') return { names, last: take(join(this.root, DIRS.snapshots), '.snap') };
    for (const fan of read(join(this.root, DIRS.packs))) {
      if (!/^[0-9a-f]{2}$/.test(fan) || fan < after.slice(0, 2)) continue;
      if (!take(join(this.root, DIRS.packs, fan), '.pack')) return { names, last: false };
    }
    return { names, last: true };
  }

  /** Writes the config if there is none (a new store, with its layout): false when one exists. */
  private createConfig(text: string): boolean {
    const path = join(this.root, CONFIG_FILE);
    if (existsSync(path)) return false;
    for (const d of [DIRS.packs, DIRS.snapshots, DIRS.tmp, DIRS.locks]) mkdirSync(join(this.root, d), { recursive: true });
    // Written whole under a temporary name, then linked: link() never replaces, so of two
    // creators one wins, and nobody ever reads a half-written config.
    const tmp = join(this.root, DIRS.tmp, `config-${process.pid}-${Date.now().toString(36)}`);
    const fd = openSync(tmp, 'wx');
    try { writeSync(fd, text); fsyncSync(fd); } finally { closeSync(fd); }
    try {
      linkSync(tmp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      unlinkSync(tmp);
    }
  }

  /** Temporaries in tmp/ whose writer (the pid in their name) is dead: what a killed server left. */
  private async cleanTemporaries(): Promise<number> {
    let removed = 0;
    let names: string[];
    try { names = readdirSync(join(this.root, DIRS.tmp)); } catch { return 0; }
    for (const f of names) {
      const pid = Number(/^[a-z]+-(\d+)-/.exec(f)?.[1]);
      if (!pid || pid === process.pid) continue;
      try { process.kill(pid, 0); continue; } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue; }
      await fsp.rm(join(this.root, DIRS.tmp, f), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /** Takes back the config this session wrote, when nothing was stored after it. */
  private removeIfUnused(): boolean {
    if (!this.createdConfig) return false;
    for (const d of [DIRS.packs, DIRS.snapshots]) {
      try { if (readdirSync(join(this.root, d)).length > 0) return false; } catch { /* absent: empty */ }
    }
    unlinkSync(join(this.root, CONFIG_FILE));
    for (const d of [DIRS.packs, DIRS.snapshots, DIRS.tmp, DIRS.locks]) { try { rmdirSync(join(this.root, d)); } catch { /* not empty: kept */ } }
    return true;
  }

  private protocol(message: string): TransportError {
    return new TransportError(message, {}, 'PROTOCOL');
  }

  private appendOnly(message: string): ToolkitError {
    return new ToolkitError('APPEND_ONLY', message, { path: this.root });
  }
}
