/**
 * Recording a batch of staged versions (file-versions.ts) in one pass over the store.
 *
 * Each version is still a snapshot record of its own (one file, tagged `foxingd-version`, its
 * source the file's path on the mirror), so `foxingd versions` and `fxcp snap` read them as
 * before. What is shared is the work of storing them: the batch's staged links are hard-linked
 * into one scratch directory under numbers (two versions of one file in a batch do not
 * collide), that directory is archived once without a record of its own (one walk, one chunk
 * worker, one seal of its packs, one look at the catalogue), and each file's entry is then
 * given a one-entry root tree under its own name and a record.
 *
 * Why: one archive per version cost ~300 ms here (a worker started, the catalogue read for a
 * parent, packs sealed and fsynced), so a burst of 10,000 mirrored writes took most of an
 * hour to record while their staged links held the target's space. Now a batch costs one
 * archive plus a record per version.
 *
 * Limits: a record's time is when its version was staged (when the mirror wrote it). The new
 * chunks and bytes of the batch are counted in the stats of its first record, the others
 * count none (the sum over the batch is right; a single version's share is not known). The
 * batch's own root tree and directory tree are stored but referenced by no record: gc frees
 * them. A version whose staged link cannot be read is left out, with its error, and the others
 * are recorded.
 */
import { linkSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { parseCodec } from '../codec/codec.js';
import type { Warn } from '../errors/index.js';
import { archive } from '../snapshot/archiver.js';
import { listSnapshots } from '../snapshot/snapshot-catalogue.js';
import { commitSnapshot } from '../snapshot/snapshot-commit.js';
import { encodeSnapshot, type SnapshotRecord, type SnapshotStats } from '../snapshot/snapshot-record.js';
import type { TreeEntry } from '../snapshot/tree-entry.js';
import { loadTree, TreeSaver } from '../snapshot/tree-store.js';
import { type Store, storeWriters } from '../store/index.js';
import { currentUser } from '../util/current-user.js';
import { VERSION_TAG } from './version-policy.js';

/** Records written at once: their fsyncs and index commits overlap (the index batches what is in flight). */
const COMMITS_AT_ONCE = 32;

export interface StagedVersion {
  /** The file the version is of: its real path on the mirror. */
  file: string;
  /** Its staged hard link, which holds the content. */
  link: string;
  /** When it was staged (ms since the epoch): the record's time. */
  time: number;
}

/** Per staged version, in order: its record's id, or why it was not recorded. */
export type VersionOutcome = { file: string; id: string } | { file: string; error: string };

/** Records each of `staged` (oldest first) as a version in `store`, storing them in one walk of `scratch` (a directory this removes and makes again). */
export async function recordVersions(store: Store, staged: readonly StagedVersion[], scratch: string, onWarn: Warn, signal?: AbortSignal): Promise<VersionOutcome[]> {
  const errors = new Map<number, string>();
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    staged.forEach((v, k) => {
      try {
        linkSync(v.link, join(scratch, String(k)));
      } catch (err) {
        errors.set(k, `${v.file}: its staged version cannot be linked (${(err as Error).message})`);
      }
    });
    // Messages about the scratch directory's entries name the files they stand for.
    const named = (msg: string): string => msg.split(`${scratch}/`).map((part, i) => {
      if (i === 0) return part;
      const m = /^\d+/.exec(part);
      return m && staged[Number(m[0])] ? staged[Number(m[0])].file + part.slice(m[0].length) : `${scratch}/${part}`;
    }).join('');
    const batch = await archive(store, {
      source: scratch, record: false, codec: parseCodec('zstd'), workers: 1, signal,
      onWarn: (code, msg, detail) => onWarn(code, named(msg), detail),
    });
    for (const p of batch.problems) if (/^\d+$/.test(p.path)) errors.set(Number(p.path), named(p.message));
    const [top] = await loadTree(store, Buffer.from(batch.record.tree, 'hex'));
    const entries = new Map<number, TreeEntry>();
    for (const e of top?.subtree ? await loadTree(store, top.subtree) : []) entries.set(Number(e.name.toString('latin1')), e);

    // A one-entry root tree per version, under the file's own name, sealed before any record names it.
    const { ChunkWriter } = await storeWriters();
    const writer = new ChunkWriter(store);
    const trees = new Map<number, string>();
    try {
      const saver = new TreeSaver(writer, store);
      for (const [k, e] of entries) {
        if (!errors.has(k)) trees.set(k, (await saver.save([{ ...e, name: Buffer.from(basename(staged[k].file)) }])).toString('hex'));
      }
      await writer.flush();
    } catch (err) {
      await writer.abort().catch(() => {});
      throw err;
    }

    // The records, each chained to its file's previous version (ids are known before they are
    // written), then written COMMITS_AT_ONCE at a time: their fsyncs and index commits overlap.
    const newest = new Map<string, string>();
    for (const s of listSnapshots(store)) if (s.record.tags.includes(VERSION_TAG)) newest.set(s.record.source, s.id);
    const host = hostname(), user = currentUser(), epoch = batch.record.lossEpoch!;
    let shareOfNew: Pick<SnapshotStats, 'newChunks' | 'newBytes' | 'storedBytes'> | null = batch.record.stats;
    const out: VersionOutcome[] = [];
    const records: Array<{ k: number; record: SnapshotRecord }> = [];
    for (const [k, v] of staged.entries()) {
      const e = entries.get(k), tree = trees.get(k);
      if (!e || tree === undefined) {
        out[k] = { file: v.file, error: errors.get(k) ?? `${v.file}: not found in its batch` };
        continue;
      }
      const size = e.type === 'file' ? e.size : 0;
      const record: SnapshotRecord = {
        version: 1, time: new Date(v.time).toISOString(), source: v.file, host, user, tags: [VERSION_TAG], tree,
        parent: newest.get(v.file) ?? null, codec: 'zstd',
        stats: {
          files: e.type === 'file' ? 1 : 0, dirs: 0, symlinks: e.type === 'symlink' ? 1 : 0, others: 0, bytes: size, readBytes: size,
          reusedFiles: 0, newChunks: shareOfNew?.newChunks ?? 0, newBytes: shareOfNew?.newBytes ?? 0, storedBytes: shareOfNew?.storedBytes ?? 0,
          errors: 0, durationMs: batch.record.stats.durationMs,
        },
      };
      shareOfNew = null;
      newest.set(v.file, encodeSnapshot({ ...record, lossEpoch: epoch }).id);
      records.push({ k, record });
    }
    for (let at = 0; at < records.length; at += COMMITS_AT_ONCE) {
      const some = records.slice(at, at + COMMITS_AT_ONCE);
      const done = await Promise.allSettled(some.map(({ record }) => commitSnapshot(store, record, epoch, signal)));
      done.forEach((d, i) => {
        const { k, record } = some[i];
        out[k] = d.status === 'fulfilled' ? { file: record.source, id: d.value.id } : { file: record.source, error: `${record.source}: ${(d.reason as Error).message}` };
      });
    }
    return out;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
