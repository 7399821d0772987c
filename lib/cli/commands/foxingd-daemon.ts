/**
 * `foxingd daemon --config FILE`: what the configuration asks (lib/daemon/daemon-config.ts),
 * until SIGINT or SIGTERM. Each source's mirrors are live syncs of their own (each watching
 * the source: with fanotify that is one more mark, with inotify one more watch per directory);
 * the source's store, if any, is fed by the first of them, or by a watch of its own when the
 * source has no mirror. The log and the `watching` lines are those of `foxingd sync --watch`.
 *
 * Limits: no reload on SIGHUP yet (restart it: the next start hydrates each mirror and lists
 * the whole source for its first snapshot); no status socket, metrics or sd_notify yet.
 */
import { toBuffer, displayPath, relPathString } from '../../fs/fs-path.js';
import { compileExcludes } from '../../filter/exclude-rules.js';
import { compileFilterArgs } from '../../filter/filter-args.js';
import { UsageError } from '../../errors/index.js';
import { LiveSync } from '../../daemon/live-sync.js';
import { SnapshotCutter } from '../../daemon/snapshot-cutter.js';
import { native, nativeLoadError } from '../../native/load.js';
import { defaultPoolSize } from '../../util/worker-pool.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { loadDaemonConfig } from '../foxingd-config-file.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: FoxingdArgs<'daemon'>, { out, signal, run: runOpts }: CommandContext): Promise<number> {
  const config = loadDaemonConfig(argv.config, out);
  if (!native) throw new UsageError(`foxingd daemon needs the native addon (inotify, fanotify), which is not loaded: ${nativeLoadError}`);
  const log = (line: string) => out.note(line);
  const syncs: LiveSync[] = [];
  const cutters: SnapshotCutter[] = [];
  try {
    for (const s of config.sources) {
      const src = toBuffer(s.path);
      const rules = s.exclude.length === 0 ? null : compileFilterArgs(s.exclude.map((value) => ({ option: 'exclude' as const, value })), { readFile: () => { throw new UsageError('exclude reads no files'); } });
      const cutter = s.store === null ? undefined : new SnapshotCutter(src, s.store, {
        intervalMs: s.snapshotIntervalS * 1000, onWarn: out.warn, log, signal, workers: runOpts.workers,
        exclude: s.exclude.length ? compileExcludes(s.exclude) : undefined,
        onCut: (r, ms, dirs) => log(`${s.path}: snapshot ${r.id.slice(0, 12)} of ${r.record.stats.files} files cut in ${ms.toFixed(0)} ms (${dirs === 'all' ? 'every directory listed' : `after ${dirs} changes`}; ${formatBytes(r.record.stats.readBytes)} read)`),
      });
      if (cutter) cutters.push(cutter);
      const dests = s.targets.length === 0 ? [null] : s.targets.map((t) => toBuffer(t.path));
      for (const [k, dest] of dests.entries()) {
        const sync = new LiveSync(src, dest, {
          onWarn: out.warn, log, concurrency: 4, workers: defaultPoolSize(config.workerCount ?? runOpts.workers), signal,
          cutter: k === 0 ? cutter : undefined, events: config.events, queueMax: config.queueMax, rules,
          onDone: argv.verbose ? (op, o) => log(`${op.kind} ${op.kind === 'rescan' ? '' : relPathString(src, op.path)}: ${o.written} written, ${o.deleted} deleted${o.renamed ? ', renamed' : ''}`) : undefined,
        });
        syncs.push(sync);
        const { events, hydration } = await sync.start();
        if (hydration) log(`${s.path} -> ${displayPath(dest!)}: hydrated: ${hydration.written} written, ${hydration.deleted} deleted, ${hydration.unchanged} unchanged; watching with ${events}`);
        out.line(`watching ${s.path}${dest ? ` -> ${displayPath(dest)}` : ''}${k === 0 && s.store ? ` (snapshots into ${s.store} every ${s.snapshotIntervalS} s)` : ''}`);
      }
    }
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    for (const s of syncs) await s.stop();
  }
  const failures = syncs.reduce((n, s) => n + s.stats.failures, 0) + cutters.reduce((n, c) => n + c.stats.failures, 0);
  out.result({ mirrors: syncs.map((s) => ({ source: displayPath(s.src), target: s.dest && displayPath(s.dest), ...s.stats })), snapshots: cutters.map((c) => ({ store: c.store, ...c.stats })) });
  log(`stopped: ${syncs.length} watch${syncs.length === 1 ? '' : 'es'}, ${failures} failure${failures === 1 ? '' : 's'}`);
  return failures > 0 ? EXIT.PARTIAL : EXIT.OK;
}
