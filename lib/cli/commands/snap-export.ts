/**
 * `fxcp snap export STORE [-o FILE]`: snapshots of a store as one FXAR v2 archive, or one
 * snapshot as a tar (`--format tar`, or a -o name ending in .tar, .tar.zst, .tgz, ...), to a file
 * (written under a temporary name, renamed when complete) or to stdout for a pipe.
 */
import { parseCodec } from '../../codec/codec.js';
import { UsageError } from '../../errors/index.js';
import { availableFor, requireFreeSpace } from '../../fs/free-space.js';
import { guardedFileSink, openFileSink, streamSink } from '../../fxar/archive-io.js';
import { type ByteSink, writeCommitted } from '../../util/byte-sink.js';
import { exportArchive, exportSize, exportSizeBound } from '../../fxar/export-archive.js';
import { chooseSnapshot, chooseSnapshots, listSnapshots, shortId, type SnapshotListing } from '../../snapshot/snapshot-catalogue.js';
import type { Store } from '../../store/index.js';
import { exportTar, tarCodecForPath, type TarCompression } from '../../tar/tar-export.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { exportProgressTotals, tarProgress } from '../progress-totals.js';

export async function run(argv: ArgsFor<'snap export'>, ctx: CommandContext): Promise<number> {
  const { out, signal } = ctx;
  const toStdout = argv.output === undefined || argv.output === '-';
  const format = argv.format ?? (!toStdout && tarCodecForPath(argv.output) !== undefined ? 'tar' : 'fxar');
  if (toStdout && process.stdout.isTTY) throw new UsageError('refusing to write an archive to a terminal; give -o FILE or pipe stdout');
  if (toStdout && out.json) throw new UsageError('--json needs -o FILE (stdout carries the archive)');
  if (format === 'tar') return runTar(argv, toStdout, ctx);
  const codec = argv.compress === undefined ? undefined : parseCodec(argv.compress);
  const counters = { files: 0, bytes: 0 };
  const bar = argv.progress ? new ProgressBar(counters, out.json, 'export').start() : null;
  try {
    return await ctx.openStore({ lock: 'shared', access: 'read' }, async (store) => {
      const all = listSnapshots(store);
      const chosen = chooseSnapshots(all, argv, store.root, 'to export');
      const what = toStdout ? '<stdout>' : argv.output!;
      const toArchive = (sink: ByteSink) => exportArchive(store, chosen, sink, { codec, signal, progress: counters, onWarn: out.warn });
      let totals;
      let abortedUploads: number | undefined;
      if (toStdout) {
        if (bar) bar.setTotals(exportProgressTotals(await exportSize(store, chosen)));
        totals = await toArchive(streamSink(process.stdout, what));
      } else if (what.startsWith('s3://')) {
        if (bar) bar.setTotals(exportProgressTotals(await exportSize(store, chosen)));
        const { openS3ObjectSink } = await import('../../store/index.js');
        // --s3-endpoint (every command with a STORE takes it: command-table.ts) serves the archive's bucket too.
        const sink = await openS3ObjectSink(what, {
          s3Endpoint: (argv as { s3Endpoint?: string }).s3Endpoint,
          onAborted: (n, where) => {
            abortedUploads = n;
            out.note(`${where}: aborted ${n} unfinished multipart upload${n === 1 ? '' : 's'} of this key (an earlier export killed, or still running)`);
          },
        });
        totals = await writeCommitted(sink, toArchive);
      } else {
        // The walk for the exact figure only for a progress bar, or when the bound that needs
        // none does not fit.
        const bound = exportSizeBound(store, chosen);
        if (bar || bound > availableFor(what)) {
          const size = await exportSize(store, chosen);
          bar?.setTotals(exportProgressTotals(size));
          requireFreeSpace(what, size.bytes, 'the archive');
        }
        totals = await writeCommitted(guardedFileSink(await openFileSink(what), what, 'the archive'), toArchive);
      }
      bar?.stop();
      out.result({ archive: what, ...totals, snapshots: chosen.map((s) => s.id), ...(abortedUploads === undefined ? {} : { abortedUploads }) });
      const msg = `exported ${chosen.length} snapshot${chosen.length === 1 ? '' : 's'} (${chosen.map((s) => shortId(s.id)).join(', ')}) to ${what}: ` +
        `${totals.chunks} chunks, ${formatBytes(totals.bytes)}`;
      // With the archive on stdout, the summary goes to stderr.
      if (toStdout) out.note(msg); else out.line(msg);
      return EXIT.OK;
    });
  } finally {
    bar?.stop();
  }
}

/**
 * `--format tar`: one snapshot (--snapshot ID, or the newest) as a tar for tools that know no
 * FXAR; compressed as a whole by --compress or by the -o suffix. The free-space check runs for
 * an uncompressed tar only: a compressed one's size is not known before it is written (a full
 * disk then fails the write, and the temporary file is removed, never renamed into place).
 */
async function runTar(argv: ArgsFor<'snap export'>, toStdout: boolean, { out, signal, run: runOpts, openStore }: CommandContext): Promise<number> {
  if (argv.snapshot.length > 1 || argv.all) throw new UsageError('a tar holds one snapshot: give one --snapshot ID, or --latest (the default)');
  const what = toStdout ? '<stdout>' : argv.output!;
  let compress: TarCompression = toStdout ? 'none' : tarCodecForPath(what) ?? 'none';
  let level: number | undefined;
  if (argv.compress !== undefined) {
    const spec = parseCodec(argv.compress);
    compress = spec.name;
    // The whole-stream default level (tar-compress.ts) unless one is given as zstd:N.
    if (String(argv.compress).includes(':')) level = spec.level;
  }
  return openStore({ lock: 'shared', access: 'read' }, async (store) => {
    const snap = chooseSnapshot(listSnapshots(store), argv.snapshot.length === 1 ? { snapshot: argv.snapshot[0] } : { latest: true }, store.root);
    const bar = tarProgress(argv.progress, out.json, snap.record.stats);
    const write = async (sink: ByteSink) => exportTar(store, snap.record, sink, { compress, level, signal, onWarn: out.warn, workers: runOpts.workers, onProgress: bar?.onTar })
      .finally(() => bar?.stop());
    let totals;
    if (toStdout) {
      totals = await write(streamSink(process.stdout, what));
    } else {
      if (compress === 'none') requireFreeSpace(what, tarSizeBound(snap.record.stats), 'the tar');
      else requireFreeSpace(what, await compressedTarFloor(store, snap), 'the tar (a floor of its compressed size)');
      totals = await writeCommitted(guardedFileSink(await openFileSink(what), what, 'the tar'), write);
    }
    out.result({ archive: what, format: 'tar', compress, snapshot: snap.id, ...totals });
    const msg = `exported snapshot ${shortId(snap.id)} as ${compress === 'none' ? 'tar' : `${compress}-compressed tar`} to ${what}: ` +
      `${totals.entries} entries, ${formatBytes(totals.tarBytes)}`;
    if (toStdout) out.note(msg); else out.line(msg);
    return EXIT.OK;
  });
}

/**
 * What a compressed tar needs at least, as far as can be told before writing it: a quarter of
 * the snapshot's deduplicated stored bytes (its chunks as the store compressed them, each once;
 * the same tree walk as the FXAR pre-flight). No exact floor exists (zeros compress ten
 * thousand to one), but whole-stream compression of 4 MiB frames gains on the store's
 * per-chunk compression far less than 4x (under 2x measured on text): so this refuses only
 * exports that cannot fit, and the running guard catches the rest. Limit: near-copies spaced
 * between a chunk and 4 MiB apart can beat 4x; stdout is the way around (docs/tar.md). A snapshot stored without compression gives no such figure
 * (its chunks are raw whatever they hold): 0, the running guard alone.
 */
async function compressedTarFloor(store: Store, snap: SnapshotListing): Promise<number> {
  if (/^none\b/.test(snap.record.codec)) return 0;
  return Math.floor((await exportSize(store, [snap])).bytes / WHOLE_STREAM_GAIN_MAX);
}

const WHOLE_STREAM_GAIN_MAX = 4;

/** An upper bound of an uncompressed tar's size: data rounded up to blocks, plus headers. */
function tarSizeBound(stats: { bytes: number; files: number; dirs: number; symlinks: number; others: number }): number {
  const entries = stats.files + stats.dirs + stats.symlinks + stats.others + 1;
  return stats.bytes + entries * 3 * 512 + 10240;
}
