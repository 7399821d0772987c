/**
 * Import of a Foxing archive into a store: each of its snapshots becomes one snapshot of ours,
 * in the archive's order and with its time (from the snapshot's name). File data is not copied
 * chunk for chunk: the reference's chunker has our parameters but not our cut points, so each
 * file's bytes are streamed, chunk by verified chunk, through the store's own write path
 * (StreamChunker: our chunker, hash and codec, deduplicated against the store), which is what
 * lets an imported file share chunks with what the store already holds.
 *
 * Per snapshot: files in tree order (foxing-paths.ts sorts them), a stack of open directories
 * whose trees are saved bottom-up as each is left (TreeSaver), then the chunks flushed and indexed,
 * then the record committed (commitSnapshot): a snapshot is listed only once all it needs is
 * durable. A snapshot already in the store (same time, source and root tree: an archive imported
 * again) is not recorded twice.
 *
 * Refused paths (foxing-paths.ts) and damaged files (a chunk or the whole-file hash does not
 * verify) are left out of their snapshot, each named by a warning, and make the import partial.
 *
 * Memory: the manifest and the chunk index (foxing-reader.ts), one chunk of input, the
 * chunker's window, and one open directory's entries per level; never a whole file.
 */
import { hostname } from 'node:os';
import { DEFAULT_ZSTD_LEVEL, type CodecSpec } from '../../codec/codec.js';
import { FormatError, IntegrityError, throwIfAborted, type Warn } from '../../errors/index.js';
import type { SpaceGuard } from '../../fs/space-guard.js';
import { type Store, storeWriters } from '../../store/index.js';
import { listSnapshots } from '../../snapshot/snapshot-catalogue.js';
import { commitSnapshot } from '../../snapshot/snapshot-commit.js';
import type { SnapshotStats } from '../../snapshot/snapshot-record.js';
import type { TreeEntry } from '../../snapshot/tree-entry.js';
import { TreeSaver } from '../../snapshot/tree-store.js';
import { currentUser } from '../../util/current-user.js';
import { fileMeta, impliedDir, isUnder, newestMtimeNs } from './foxing-entries.js';
import { groupSnapshots } from './foxing-paths.js';
import type { FoxingReader } from './foxing-reader.js';

export interface FoxingImportOptions {
  /** What each snapshot records as its source (the archive's path, or '-'). */
  source: string;
  signal?: AbortSignal;
  onWarn: Warn;
  spaceGuard?: SpaceGuard;
  progress?: { files: number; bytes: number };
}

export interface FoxingImportedSnapshot { name: string; time: string; id: string; added: boolean; files: number; bytes: number; newBytes: number }

export interface FoxingImportResult {
  snapshots: FoxingImportedSnapshot[];
  files: number;
  /** File bytes read from the archive. */
  bytes: number;
  /** Raw bytes of chunks the import added to the store. */
  newBytes: number;
  storedBytes: number;
  /** bytes − newBytes: what was already in the store (or earlier in this import). */
  dedupBytes: number;
  /** Files left out (refused paths, damaged data), each warned about. */
  skipped: number;
}

const CODEC: CodecSpec = { name: 'zstd', level: DEFAULT_ZSTD_LEVEL };
const PLACEHOLDER = Buffer.alloc(32);

export async function importFoxing(reader: FoxingReader, store: Store, opts: FoxingImportOptions): Promise<FoxingImportResult> {
  const { snapshots, problems } = groupSnapshots(reader.manifest);
  const result: FoxingImportResult = { snapshots: [], files: 0, bytes: 0, newBytes: 0, storedBytes: 0, dedupBytes: 0, skipped: 0 };
  for (const p of problems) {
    result.skipped++;
    opts.onWarn('FOXING_PATH', `${reader.path}: '${p.path}' ${p.why}`, { path: p.path });
  }
  const writers = await storeWriters();
  // Trees through a writer of their own, so that the data writer's figures are file data alone.
  const writer = new writers.ChunkWriter(store, undefined, opts.spaceGuard ?? null);
  const treeWriter = new writers.ChunkWriter(store, undefined, opts.spaceGuard ?? null);
  try {
    await store.reconcilePacks(opts.onWarn);
    await store.cleanTmp();
    const chunker = new writers.StreamChunker(store, writer, CODEC);
    const trees = new TreeSaver(treeWriter, store);
    for (const snap of snapshots) {
      const started = Date.now();
      const epoch = store.lossEpoch();
      const before = { ...writer.stats };
      const stats: SnapshotStats = { files: 0, dirs: 0, symlinks: 0, others: 0, bytes: 0, readBytes: 0, reusedFiles: 0, newChunks: 0, newBytes: 0, storedBytes: 0, errors: 0, durationMs: 0 };
      const dirTime = newestMtimeNs(snap);
      const stack: Array<{ parts: string[]; entry: TreeEntry; children: TreeEntry[] }> = [{ parts: [], entry: impliedDir(snap.name, dirTime), children: [] }];
      const close = async () => {
        const d = stack.pop()!;
        d.entry.subtree = await trees.save(d.children);
        stats.dirs++;
        stack[stack.length - 1]?.children.push(d.entry);
        return d.entry;
      };
      let ino = 0;
      for (const e of snap.entries) {
        throwIfAborted(opts.signal);
        const dir = e.parts.slice(0, -1);
        while (!isUnder(stack[stack.length - 1].parts, dir, true)) await close();
        while (stack[stack.length - 1].parts.length < dir.length) {
          const parts = dir.slice(0, stack[stack.length - 1].parts.length + 1);
          stack.push({ parts, entry: { ...impliedDir(parts[parts.length - 1], dirTime), subtree: PLACEHOLDER }, children: [] });
        }
        const entry: TreeEntry = { ...fileMeta(e.file, e.parts[e.parts.length - 1], ++ino) };
        try {
          for await (const piece of reader.fileData(e.file)) await chunker.add(piece);
          entry.chunks = (await chunker.finish()).chunks;
        } catch (err) {
          await chunker.finish(); // what was cut is unreferenced: the next gc frees it
          // The archive's damage costs the file; anything else (the store, a signal) stops the import.
          if (!(err instanceof FormatError) && !(err instanceof IntegrityError)) throw err;
          stats.errors++;
          result.skipped++;
          opts.onWarn('FOXING_DAMAGED_FILE', `${(err as Error).message}; left out of snapshot ${snap.name}`, { path: e.file.path, snapshot: snap.name });
          continue;
        }
        stack[stack.length - 1].children.push(entry);
        stats.files++;
        stats.bytes += e.file.size;
        stats.readBytes += e.file.size;
        if (opts.progress) { opts.progress.files++; opts.progress.bytes += e.file.size; }
      }
      while (stack.length > 1) await close();
      const root = await close();
      const tree = await trees.save([root]);
      await writer.flush();
      await treeWriter.flush();
      stats.newChunks = writer.stats.newChunks - before.newChunks;
      stats.newBytes = writer.stats.newRawBytes - before.newRawBytes;
      stats.storedBytes = writer.stats.newStoredBytes - before.newStoredBytes;
      stats.durationMs = Date.now() - started;
      const treeHex = tree.toString('hex');
      const present = listSnapshots(store).find((s) => s.record.time === snap.time && s.record.tree === treeHex && s.record.source === opts.source);
      let id = present?.id;
      if (!present) {
        id = (await commitSnapshot(store, {
          version: 1, time: snap.time, source: opts.source, host: hostname(), user: currentUser(), tags: ['foxing'],
          tree: treeHex, parent: null, codec: `${CODEC.name}:${CODEC.level}`, stats,
        }, epoch, opts.signal)).id;
      }
      result.snapshots.push({ name: snap.name, time: snap.time, id: id!, added: !present, files: stats.files, bytes: stats.bytes, newBytes: stats.newBytes });
      result.files += stats.files;
      result.bytes += stats.bytes;
      result.newBytes += stats.newBytes;
      result.storedBytes += stats.storedBytes;
    }
    result.dedupBytes = result.bytes - result.newBytes;
    return result;
  } catch (err) {
    await writer.abort().catch(() => {});
    await treeWriter.abort().catch(() => {});
    throw err;
  }
}
