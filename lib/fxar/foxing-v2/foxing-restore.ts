/**
 * Restores one snapshot of a Foxing archive (or the files `--file` patterns select) into a
 * target directory, through the restore writer (lib/fs/materialize.ts) and its safety rules:
 * no path outside the target, an existing symlink where a directory goes is replaced and never
 * followed, every file written into a temporary and renamed onto its name only when complete.
 * Paths the archive holds that could escape were already refused by foxing-paths.ts (each
 * reported); the writer checks every path again.
 *
 * Each file's chunks are verified against their ids as they are written, and the whole file
 * against its BLAKE3 before the rename: a damaged file is reported (RESTORE_ERROR, exit 1) and
 * leaves nothing under its name. Files are written one at a time on this thread, each chunk
 * read, decoded, verified and written before the next is read: memory is one chunk.
 *
 * Layout: the snapshot's `tree/` becomes the target (DIR/docs/readme.txt), not flattened as the
 * reference's restore did. Directory metadata is implied (foxing-entries.ts), applied after the
 * directory's files, as the restorer does.
 */
import { mkdirSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Warn } from '../../errors/index.js';
import { throwIfAborted } from '../../errors/index.js';
import { runningAsRoot, toBuffer } from '../../fs/index.js';
import { type ContentSource, type EntryMeta, Materializer } from '../../fs/materialize.js';
import { removeStaleTemps } from '../../fs/temp-name.js';
import { compileSelector } from '../../snapshot/path-selector.js';
import { fileMeta, impliedDir, newestMtimeNs } from './foxing-entries.js';
import type { FoxingEntry, FoxingSnapshot } from './foxing-paths.js';
import type { FoxingReader } from './foxing-reader.js';

export interface FoxingRestoreOptions {
  target: string;
  /** `--file` patterns (lib/snapshot/path-selector.ts); none: everything. */
  files?: readonly string[];
  onWarn: Warn;
  signal?: AbortSignal;
  progress?: { files: number; bytes: number };
}

export interface FoxingRestoreResult { files: number; dirs: number; bytes: number; problems: Array<{ path: string; message: string }> }

/** The entries of `snap` the patterns select (a pattern naming a directory selects what is below it). */
export function selectEntries(snap: FoxingSnapshot, patterns: readonly string[] = []): FoxingEntry[] {
  const sel = compileSelector(patterns);
  return snap.entries.filter((e) => e.parts.some((_, i) => sel.selects(e.parts.slice(0, i + 1).join('/'))));
}

export async function restoreFoxing(reader: FoxingReader, snap: FoxingSnapshot, opts: FoxingRestoreOptions): Promise<FoxingRestoreResult> {
  const target = toBuffer(resolve(opts.target));
  const out = new Materializer({ root: target, owner: runningAsRoot(), onWarn: opts.onWarn });
  const result: FoxingRestoreResult = { files: 0, dirs: 0, bytes: 0, problems: [] };
  const problem = (rel: string, err: unknown) => {
    const message = `${rel}: ${(err as Error).message}`;
    result.problems.push({ path: rel, message });
    opts.onWarn('RESTORE_ERROR', message, { path: rel });
  };
  // A target that was there may hold temporaries of an earlier restore killed with -9.
  if (mkdirSync(target, { recursive: true }) === undefined) removeStaleTemps(target);
  const dirTime = newestMtimeNs(snap);
  /** The directories of the current path (below the target), to apply their metadata once left. */
  const open: Array<{ parts: string[]; path: Buffer; ok: boolean }> = [];
  const leave = async () => {
    const d = open.pop()!;
    if (!d.ok) return;
    try {
      await out.applyMeta(d.path, impliedDir(d.parts[d.parts.length - 1], dirTime));
    } catch (err) {
      problem(d.parts.join('/'), err);
    }
  };
  let ino = 0;
  for (const e of selectEntries(snap, opts.files)) {
    throwIfAborted(opts.signal);
    const dirParts = e.parts.slice(0, -1);
    while (open.length > 0 && !isPrefixOf(open[open.length - 1].parts, dirParts)) await leave();
    let blocked = open.some((d) => !d.ok);
    while (!blocked && open.length < dirParts.length) {
      const parts = dirParts.slice(0, open.length + 1);
      const path = Buffer.concat([target, Buffer.from('/' + parts.join('/'), 'utf8')]);
      try {
        if (!out.makeDir(path)) removeStaleTemps(path);
        open.push({ parts, path, ok: true });
        result.dirs++;
      } catch (err) {
        problem(parts.join('/'), err);
        open.push({ parts, path, ok: false });
        blocked = true;
      }
    }
    if (blocked) { problem(e.rel, new Error('its directory could not be made')); continue; }
    const path = Buffer.concat([target, Buffer.from('/' + e.rel, 'utf8')]);
    const meta = fileMeta(e.file, e.parts[e.parts.length - 1], ++ino);
    const content: ContentSource<EntryMeta> = {
      fill: async (fd) => {
        let at = 0;
        for await (const piece of reader.fileData(e.file)) {
          for (let o = 0; o < piece.byteLength;) o += writeSync(fd, piece, o, piece.byteLength - o, at + o);
          at += piece.byteLength;
        }
      },
    };
    try {
      await out.file(path, meta, content);
      await out.applyMeta(path, meta);
      result.files++;
      result.bytes += e.file.size;
      if (opts.progress) { opts.progress.files++; opts.progress.bytes += e.file.size; }
    } catch (err) {
      problem(e.rel, err);
    }
  }
  while (open.length > 0) await leave();
  return result;
}

function isPrefixOf(dir: readonly string[], parts: readonly string[]): boolean {
  return dir.length <= parts.length && dir.every((p, i) => p === parts[i]);
}
