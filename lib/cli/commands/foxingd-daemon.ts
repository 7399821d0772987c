/**
 * `foxingd daemon --config FILE`: what the configuration asks (lib/daemon/daemon-config.ts),
 * until SIGINT or SIGTERM. Each source's mirrors are live syncs of their own (each watching
 * the source: with fanotify one more mark, with inotify one more watch per directory); the
 * source's store, if any, is fed by the first of them, or by a watch of its own when the
 * source has no mirror. The log and the `watching` lines are those of `foxingd sync --watch`.
 *
 * Around them: metrics and the status socket (lib/daemon/daemon-control.ts); READY=1 to
 * systemd once every mirror is live; SIGHUP reloads: the file is read and checked again and,
 * only if it is sound, every watch is stopped and the new configuration started (each mirror
 * then hydrates again: a comparison, copying only what changed); a file with problems is
 * logged and the running configuration kept.
 */
import { realpathSync } from 'node:fs';
import { toBuffer, displayPath, relPathString } from '../../fs/fs-path.js';
import { compileExcludes } from '../../filter/exclude-rules.js';
import { compileFilterArgs } from '../../filter/filter-args.js';
import { UsageError } from '../../errors/index.js';
import type { DaemonConfig } from '../../daemon/daemon-config.js';
import { DaemonControl, defaultStatusSocket, sdNotify } from '../../daemon/daemon-control.js';
import { daemonRegistry, statusDocument, type Watched } from '../../daemon/daemon-metrics.js';
import { LiveSync } from '../../daemon/live-sync.js';
import { FileVersions } from '../../daemon/file-versions.js';
import { SharedWatch } from '../../daemon/shared-watch.js';
import { SnapshotCutter } from '../../daemon/snapshot-cutter.js';
import { native, nativeLoadError } from '../../native/load.js';
import { defaultPoolSize } from '../../util/worker-pool.js';
import type { CommandContext } from '../command-context.js';
import { useLowHeapGrowth } from '../heap-policy.js';
import { EXIT } from '../exit-codes.js';
import { loadDaemonConfig } from '../foxingd-config-file.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes, type Output } from '../output.js';
import { writeOut } from '../std-write.js';
import { renderTui } from '../../daemon/daemon-tui.js';

export async function run(argv: FoxingdArgs<'daemon'>, { out, signal, run: runOpts }: CommandContext): Promise<number> {
  let config = loadDaemonConfig(argv.config, out);
  if (!native) throw new UsageError(`foxingd daemon needs the native addon (inotify, fanotify), which is not loaded: ${nativeLoadError}`);
  if (argv.tui && !process.stdout.isTTY) throw new UsageError('--tui draws on a terminal, and standard output is not one');
  useLowHeapGrowth();
  const started = Date.now();
  const watched: Watched[] = [];
  const screen = argv.tui ? new TuiScreen(() => statusDocument(watched, started) as Parameters<typeof renderTui>[0]) : null;
  const log = screen ? (line: string) => screen.log(line) : (line: string) => out.note(line);
  const shown = screen ? { line: (text: string) => screen.log(text), note: log, warn: (code: string, message: string) => screen.log(`${code}: ${message}`) } : null;
  let failures = 0;
  const stopAll = async () => {
    for (const w of watched) await w.sync.stop();
    failures += watched.reduce((n, w) => n + w.sync.stats.failures + (w.cutter?.stats.failures ?? 0), 0);
    watched.length = 0;
  };
  const control = await DaemonControl.start({
    metrics: config.metrics, socketPath: config.statusSocket ?? defaultStatusSocket(),
    registry: daemonRegistry(() => watched), status: () => statusDocument(watched, started),
  });
  // Starts and reloads run one after another on this chain (a SIGHUP during the first start
  // waits for it); a failure is logged and the chain goes on.
  let reloading: Promise<void> = Promise.resolve();
  const onHup = () => {
    reloading = reloading.then(async () => {
      let next: DaemonConfig;
      try {
        next = loadDaemonConfig(argv.config, out);
      } catch (err) {
        log(`SIGHUP: ${(err as Error).message}; the running configuration is kept`);
        return;
      }
      sdNotify('RELOADING=1');
      log('SIGHUP: reloading');
      await stopAll();
      config = next;
      await startAll(config, argv.verbose, shown ?? out, signal, runOpts.workers, watched);
      sdNotify('READY=1');
    }).catch((err: unknown) => log(`SIGHUP: the reload failed: ${(err as Error).message}`));
  };
  process.on('SIGHUP', onHup);
  try {
    const first = startAll(config, argv.verbose, shown ?? out, signal, runOpts.workers, watched);
    reloading = first.catch(() => {});
    await first;
    screen?.start();
    sdNotify('READY=1');
    log(`ready: status on ${config.statusSocket ?? defaultStatusSocket()}${config.metrics ? `, metrics on http://${config.metrics}/metrics` : ''}`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    sdNotify('STOPPING=1');
    await reloading;
  } finally {
    process.off('SIGHUP', onHup);
    screen?.stop();
    const last = statusDocument(watched, started);
    await stopAll();
    await control.close();
    out.result(last);
  }
  log(`stopped: ${failures} failure${failures === 1 ? '' : 's'}`);
  return failures > 0 ? EXIT.PARTIAL : EXIT.OK;
}

/** Where startAll's lines go: the command's Output, or the live view's list of recent lines. */
type Lines = Pick<Output, 'line' | 'note' | 'warn'>;

/** The --tui view: redrawn twice a second from the status document, with the newest lines. */
class TuiScreen {
  private readonly recent: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly status: () => Parameters<typeof renderTui>[0]) {}

  log(line: string): void {
    this.recent.push(`${new Date().toISOString().slice(11, 19)} ${line}`);
    if (this.recent.length > 200) this.recent.splice(0, this.recent.length - 200);
  }

  start(): void {
    writeOut('\x1b[?1049h\x1b[?25l');  // the terminal's alternate screen, no cursor
    this.draw();
    this.timer = setInterval(() => this.draw(), 500);
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    writeOut('\x1b[?25h\x1b[?1049l');
  }

  private draw(): void {
    writeOut(`\x1b[H${renderTui(this.status(), this.recent, process.stdout.columns || 100, process.stdout.rows || 30)}\x1b[J`);
  }
}

/**
 * Starts every watch `config` asks for, one after another (each hydrates first), each added to
 * `watched` as it starts, so that a stop in the middle stops those already running.
 */
async function startAll(config: DaemonConfig, verbose: boolean, out: Lines, signal: AbortSignal, workers: number | undefined, watched: Watched[]): Promise<void> {
  const log = (line: string) => out.note(line);
  for (const s of config.sources) {
    // The real path: a source given through a symlink is watched as the directory it names.
    const src = toBuffer(realpathSync(s.path));
    const rules = s.exclude.length === 0 ? null : compileFilterArgs(s.exclude.map((value) => ({ option: 'exclude' as const, value })), { readFile: () => { throw new UsageError('exclude reads no files'); } });
    const cutter = s.store === null ? undefined : new SnapshotCutter(src, s.store, {
      // No abort signal: the first SIGTERM lets the running cut end and cuts a last one of
      // what changed (a second signal ends the process at once).
      intervalMs: s.snapshotIntervalS * 1000, onWarn: out.warn, log, workers,
      exclude: s.exclude.length ? compileExcludes(s.exclude) : undefined,
      onDurable: verbose ? (p, ms) => log(`stored ${relPathString(src, p)} ${ms.toFixed(1)} ms after its close`) : undefined,
      onCut: (r, ms, dirs, cpuMs) => log(`${s.path}: snapshot ${r.id.slice(0, 12)} of ${r.record.stats.files} files cut in ${ms.toFixed(0)} ms (${typeof dirs === 'number' ? `after ${dirs} changes` : `every directory listed: ${dirs.all}`}; ${formatBytes(r.record.stats.readBytes)} read; ${cpuMs.toFixed(0)} ms of CPU)`),
    });
    const dests = s.targets.length === 0 ? [null] : s.targets.map((t) => toBuffer(t.path));
    // One watch of the source for all its mirrors (shared-watch.ts).
    const watch = new SharedWatch(src, config.events);
    for (const [k, dest] of dests.entries()) {
      const policy = dest && s.targets[k].versions;
      const versions = policy ? new FileVersions(s.targets[k].path, policy, { onWarn: out.warn, log }) : undefined;
      const sync = new LiveSync(src, dest, {
        versions,
        onWarn: out.warn, log, concurrency: 4, workers: defaultPoolSize(config.workerCount ?? workers), signal,
        cutter: k === 0 ? cutter : undefined, watch, queueMax: config.queueMax, rules,
        rewatchMs: Number(process.env.FOXING_TEST_REWATCH_MS) || undefined,  // as in foxingd-sync.ts
        onDone: verbose ? (op, o) => log(`${op.kind} ${op.kind === 'rescan' ? '' : relPathString(src, op.path)}: ${o.written} written, ${o.deleted} deleted${o.renamed ? ', renamed' : ''}`) : undefined,
      });
      watched.push({ sync, cutter: k === 0 ? cutter : undefined, versions });
      const { events, hydration } = await sync.start();
      if (hydration) log(`${s.path} -> ${displayPath(dest!)}: hydrated: ${hydration.written} written, ${hydration.deleted} deleted, ${hydration.unchanged} unchanged; watching with ${events}`);
      out.line(`watching ${s.path}${dest ? ` -> ${displayPath(dest)}` : ''}${k === 0 && s.store ? ` (snapshots into ${s.store} every ${s.snapshotIntervalS} s)` : ''}`);
    }
  }
}
