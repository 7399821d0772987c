/**
 * `fxcp snap export STORE [-o FILE]`: snapshots of a store as one FXAR v2 archive, to a file
 * (written under a temporary name, renamed when complete) or to stdout for a pipe.
 */
import { parseCodec } from '../../codec/codec.js';
import { FormatError, NotFoundError, UsageError } from '../../errors/index.js';
import { requireFreeSpace } from '../../fs/free-space.js';
import { openFileSink, streamSink } from '../../fxar/archive-io.js';
import { exportArchive, exportSize } from '../../fxar/export-archive.js';
import { chooseSnapshot, listSnapshots, shortId, type SnapshotListing } from '../../snapshot/snapshot-catalogue.js';
import { withStore } from '../../store/open-store.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../main.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';

export async function run(argv: Record<string, any>, { out, signal }: CommandContext): Promise<number> {
  if (argv.format !== 'fxar') {
    if (argv.format === 'tar') throw new FormatError('tar export is not available in this build; use --format fxar', {}, 'TAR_UNAVAILABLE');
    throw new UsageError(`unknown format '${argv.format}': use fxar or tar`);
  }
  const toStdout = argv.output === undefined || argv.output === '-';
  if (toStdout && process.stdout.isTTY) throw new UsageError('refusing to write an archive to a terminal; give -o FILE or pipe stdout');
  if (toStdout && out.json) throw new UsageError('--json needs -o FILE (stdout carries the archive)');
  const codec = argv.compress === undefined ? undefined : parseCodec(argv.compress);
  const counters = { files: 0, bytes: 0 };
  const bar = argv.progress ? new ProgressBar(counters, out.json, 'export').start() : null;
  try {
    return await withStore(argv.store, { lock: 'shared', command: 'fxcp snap export', onWarn: out.warn }, async (store) => {
      const all = listSnapshots(store);
      let chosen: SnapshotListing[];
      if (argv.snapshot.length > 0) {
        const seen = new Set<string>();
        chosen = argv.snapshot.map((s: string) => chooseSnapshot(all, { snapshot: s }, store.root)).filter((s: SnapshotListing) => !seen.has(s.id) && !!seen.add(s.id));
        chosen.sort((a, b) => all.indexOf(a) - all.indexOf(b));
      } else if (argv.latest) {
        chosen = [chooseSnapshot(all, { latest: true }, store.root)];
      } else {
        if (all.length === 0) throw new NotFoundError(`${store.root}: store has no snapshots to export`, { path: store.root }, 'NO_SNAPSHOT');
        chosen = all;
      }
      const what = toStdout ? '<stdout>' : argv.output;
      let totals;
      if (toStdout) {
        totals = await exportArchive(store, chosen, streamSink(process.stdout, what), { codec, signal, progress: counters, onWarn: out.warn });
      } else {
        const size = await exportSize(store, chosen);
        await requireFreeSpace(argv.output, size.bytes, 'the archive');
        const sink = await openFileSink(argv.output);
        try {
          totals = await exportArchive(store, chosen, sink, { codec, signal, progress: counters, onWarn: out.warn });
          await sink.commit();
        } catch (err) {
          await sink.discard();
          throw err;
        }
      }
      bar?.stop();
      out.result({ archive: what, ...totals, snapshots: chosen.map((s) => s.id) });
      const msg = `exported ${chosen.length} snapshot${chosen.length === 1 ? '' : 's'} (${chosen.map((s) => shortId(s.id)).join(', ')}) to ${what}: ` +
        `${totals.chunks} chunks, ${formatBytes(totals.bytes)}`;
      // With the archive on stdout, the summary goes to stderr.
      if (toStdout) process.stderr.write(`fxcp: ${msg}\n`); else out.line(msg);
      return EXIT.OK;
    });
  } finally {
    bar?.stop();
  }
}
