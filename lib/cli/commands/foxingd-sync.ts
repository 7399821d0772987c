/**
 * `foxingd sync -a SRC DEST [--watch]`: DEST made a mirror of SRC (lib/daemon/mirror.ts), and
 * with --watch kept one, live (lib/daemon/live-sync.ts), until SIGINT or SIGTERM.
 *
 * The log goes to stderr, one line per event worth a person's attention (the start, rescans,
 * pauses; each operation with -v); stdout gets `watching SRC -> DEST` once the mirror is live,
 * the line a supervisor or a test waits for, and the totals at the end (one JSON document
 * with --json).
 */
import { lstatSync } from 'node:fs';
import { UsageError } from '../../errors/index.js';
import { compileExcludes } from '../../filter/exclude-rules.js';
import { compileFilterArgs } from '../../filter/filter-args.js';
import { displayPath, relPath, relPathString, toBuffer } from '../../fs/fs-path.js';
import { PATH_FACTS } from '../../copy/local-path-facts.js';
import { Mirror } from '../../daemon/mirror.js';
import { LiveSync } from '../../daemon/live-sync.js';
import { SnapshotCutter } from '../../daemon/snapshot-cutter.js';
import { isSchemeStore } from '../../store/index.js';
import { native, nativeLoadError } from '../../native/load.js';
import { defaultPoolSize } from '../../util/worker-pool.js';
import type { CommandContext } from '../command-context.js';
import { useLowHeapGrowth } from '../heap-policy.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: FoxingdArgs<'sync'>, { out, signal, run: runOpts }: CommandContext): Promise<number> {
  const src = toBuffer(argv.src), dest = toBuffer(argv.dest);
  if (!lstatSync(src, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${argv.src}: not a directory`, { path: argv.src });
  const realSrc = PATH_FACTS.real(src), realDest = PATH_FACTS.real(dest);
  if (relPath(realSrc, realDest) !== null || relPath(realDest, realSrc) !== null) {
    throw new UsageError(`${argv.dest}: refused: the mirror and the source must not lie inside one another`, { path: argv.dest });
  }
  const concurrency = argv.concurrency === undefined ? 4 : Number(argv.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency takes a whole number of 1 or more, not '${argv.concurrency}'`);
  const log = (line: string) => out.note(line);
  const rules = argv.exclude.length === 0 ? null : compileFilterArgs(argv.exclude.map((value) => ({ option: 'exclude' as const, value })), { readFile: () => { throw new UsageError('--exclude reads no files'); } });
  const queueMax = argv.queueMax === undefined ? undefined : Number(argv.queueMax);
  if (queueMax !== undefined && (!Number.isInteger(queueMax) || queueMax < 100)) throw new UsageError(`--queue-max takes a whole number of 100 or more, not '${argv.queueMax}'`);
  if ((argv.store !== undefined || argv.snapshotInterval !== undefined || argv.queueMax !== undefined) && !argv.watch) throw new UsageError('--store, --snapshot-interval and --queue-max are for --watch');
  const interval = argv.snapshotInterval === undefined ? 60 : Number(argv.snapshotInterval);
  if (!(interval > 0)) throw new UsageError(`--snapshot-interval takes a number of seconds above 0, not '${argv.snapshotInterval}'`);
  // A store named by a scheme (s3://BUCKET/PREFIX) is not on this file system: nothing to nest.
  if (argv.store !== undefined && !isSchemeStore(argv.store)) {
    const store = PATH_FACTS.real(toBuffer(argv.store));
    if (relPath(realSrc, store) !== null || relPath(realDest, store) !== null) {
      throw new UsageError(`${argv.store}: refused: the store must lie outside SRC and DEST`, { path: argv.store });
    }
  }
  const started = performance.now();
  if (!argv.watch) {
    const r = await new Mirror(realSrc, realDest, { onWarn: out.warn, workers: runOpts.workers, signal, rules }).hydrate();
    out.result({ written: r.written, deleted: r.deleted, unchanged: r.unchanged, bytesWritten: r.bytesWritten, problems: r.problems });
    out.line(`${displayPath(realSrc)} -> ${displayPath(realDest)}: ${r.written} written (${formatBytes(r.bytesWritten)}), ${r.deleted} deleted, ${r.unchanged} unchanged`);
    return r.problems.length > 0 ? EXIT.PARTIAL : EXIT.OK;
  }
  if (!native) throw new UsageError(`--watch needs the native addon (inotify with move cookies and overflow reports, fanotify), which is not loaded: ${nativeLoadError}`);
  useLowHeapGrowth();
  const cutter = argv.store === undefined ? undefined : new SnapshotCutter(realSrc, argv.store, {
    // No abort signal: the first SIGTERM lets the running cut end and cuts a last one of what
    // changed (a second signal ends the process at once).
    intervalMs: interval * 1000, onWarn: out.warn, log, workers: runOpts.workers, exclude: argv.exclude.length ? compileExcludes(argv.exclude) : undefined,
    onDurable: argv.verbose ? (p, ms) => log(`stored ${relPathString(realSrc, p)} ${ms.toFixed(1)} ms after its close`) : undefined,
    onCut: (r, ms, dirs, cpuMs) => log(`snapshot ${r.id.slice(0, 12)} of ${r.record.stats.files} files cut in ${ms.toFixed(0)} ms (${typeof dirs === 'number' ? `after ${dirs} changes` : `every directory listed: ${dirs.all}`}; ${formatBytes(r.record.stats.readBytes)} read; ${cpuMs.toFixed(0)} ms of CPU)`),
  });
  const sync = new LiveSync(realSrc, realDest, {
    onWarn: out.warn, log, concurrency, workers: defaultPoolSize(runOpts.workers), signal, cutter, events: argv.events, queueMax, rules,
    // Tests shorten the minute between looks at directories refused a watch (LiveSync REWATCH_MS).
    rewatchMs: Number(process.env.FOXING_TEST_REWATCH_MS) || undefined,
    onDone: argv.verbose ? (op, o) => log(`${op.kind} ${op.kind === 'rescan' ? '' : relPathString(realSrc, op.path)}: ${o.written} written, ${o.deleted} deleted${o.renamed ? ', renamed' : ''}`) : undefined,
  });
  const { watches, events, hydration: h } = await sync.start();
  const hydration = h!;  // a mirror always hydrates
  log(`hydrated in ${((performance.now() - started) / 1000).toFixed(2)} s: ${hydration.written} written, ${hydration.deleted} deleted, ${hydration.unchanged} unchanged; watching with ${events}, ${watches} watch${watches === 1 ? '' : 'es'}`);
  out.line(`watching ${displayPath(realSrc)} -> ${displayPath(realDest)}`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await sync.stop();
  out.result({ ...sync.stats, snapshots: cutter?.stats });
  log(`stopped: ${sync.stats.operations} operations, ${sync.stats.written} written, ${sync.stats.deleted} deleted, ${sync.stats.renamed} renamed, ${sync.stats.rescans} rescans, ${sync.stats.failures} failed` +
    (cutter ? `; ${cutter.stats.cuts} snapshots, ${cutter.stats.failures} failed` : ''));
  return sync.stats.failures + (cutter?.stats.failures ?? 0) > 0 ? EXIT.PARTIAL : EXIT.OK;
}
