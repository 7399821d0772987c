/**
 * `fxcp [OPTIONS] SRC... DEST`, the default command: the copy engine (lib/copy) with rsync's
 * path rules, filters and output (-v, -i, --json records, --stats, --progress).
 */
import { lstatSync, readFileSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ToolkitError, UsageError } from '../../errors/index.js';
import { compileFilterArgs, type FilterOption } from '../../filter/filter-args.js';
import { FilterScope, parentDirsOf } from '../../filter/filter-scope.js';
import { freeSpace } from '../../fs/free-space.js';
import { joinPath, splitPath, toBuffer } from '../../fs/fs-path.js';
import { copyTree } from '../../copy/copy-engine.js';
import { type CopyPlan, planCopy, type Transfer } from '../../copy/copy-paths.js';
import { PATH_FACTS } from '../../copy/local-path-facts.js';
import { sourceBytes } from '../../copy/source-size.js';
import type { CopyAction, CopyOptions, CopyResult } from '../../copy/copy-types.js';
import type { DirFilter } from '../../copy/dir-filter.js';
import { scanTotals } from '../../snapshot/scan-totals.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import { type ArgsFor, FXCP_COMMANDS } from '../command-table.js';
import { closest } from '../../util/did-you-mean.js';
import { formatBytes, formatCount, type Output } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { Throttle } from '../../copy/throttle.js';
import { psiPressure } from '../../util/pressure.js';

type Args = ArgsFor<'copy'>;

// --cleanup, --compare, `fxcp - DEST` and --snapshot are loaded only when asked for: with them
// a plain copy started with the store, S3 (node:crypto) and the codecs (node:zlib) loaded,
// ~30 ms of CPU before the first file (docs/BENCHMARKS.md, Notes, "Copy start-up").
export async function run(argv: Args, { out, signal, run: runOpts }: CommandContext): Promise<number> {
  if (argv.cleanup !== undefined) return (await import('./cleanup.js')).runCleanup(argv.cleanup, out);
  const maxDelete = argv.maxDelete === undefined ? null : parseCount(argv.maxDelete);
  misspeltCommand(argv.src[0]);
  if (argv.compare) return (await import('./compare.js')).runCompare(argv.src, argv.dest, out, argv.stats);
  if (argv.src.length === 1 && argv.src[0] === '-') return (await import('./stream.js')).runStream(argv, out, signal);
  for (const o of ['size', 'checkpointInterval', 'checkpointKeep'] as const) {
    if (argv[o] !== undefined) throw new UsageError(`--${o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for a copy of the standard input (fxcp - DEST)`);
  }
  const plan = planCopy(argv.src.map(toBuffer), toBuffer(argv.dest), PATH_FACTS);
  const started = process.hrtime.bigint();
  const counters = { files: 0, bytes: 0 };
  let bar: ProgressBar | null = null;
  if (argv.progress) {
    bar = new ProgressBar(counters, out.json, 'copy').start();
    // The stat walk knows no filter rules (rsync's, with merge files read on the way): with
    // them its total would count what the copy leaves out, and the bar would end short of
    // 100 %. Those copies show the plain counter (bytes, files, rate) instead.
    if (argv.filterArgs.length === 0) bar.totalsFrom((stop) => sourceTotals(plan, stop));
  }
  const opts: CopyOptions = {
    archive: argv.archive, recursive: argv.recursive || argv.archive, hardLinks: argv.hardLinks || argv.archive, checksum: argv.checksum, inplace: argv.inplace,
    // --delete-excluded implies --delete, as in rsync (its excluded entries are extraneous too).
    delete: argv.delete || argv.deleteExcluded, deleteExcluded: argv.deleteExcluded, maxDelete, dryRun: argv.dryRun, generateSigs: argv.generateSigs, delta: argv.delta, verify: argv.verify,
    throttle: argv.throttle === undefined ? undefined : throttleFor(argv.throttle, out),
    filter: filtersFor(argv), onWarn: out.warn, signal, progress: counters, workers: runOpts.workers,
    onAction: actionPrinter(argv, out),
  };
  if (argv.snapshot && (plan.transfers.length !== 1 || !plan.transfers[0].isDir || !statSync(argv.dest, { throwIfNoEntry: false })?.isDirectory() && !plan.makeRoot)) {
    throw new UsageError(`--snapshot keeps the history of a directory DEST; ${argv.dest} would not be one`, { path: argv.dest });
  }
  const history = argv.snapshot && !argv.dryRun ? await import('../../copy/dest-history.js') : null;
  const historyOpts = { onWarn: out.warn, signal, workers: runOpts.workers };
  try {
    const check = argv.dryRun ? null : spaceCheck(plan, opts);
    // A new DEST, or one whose old state is recorded first, has its check at once; a re-run's
    // waits for its first change, and one that changes nothing never sizes its sources.
    if (check && (plan.makeRoot || history)) await check();
    else if (check) opts.beforeChange = check;
    // What the copy will overwrite or delete, recorded first (dest-history.ts).
    if (history && !plan.makeRoot) await history.snapshotDest(argv.dest, 'before', historyOpts);
    const r = await copyTree(plan, opts);
    if (history) r.snapshot = await history.snapshotDest(argv.dest, 'after', historyOpts);
    bar?.stop();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    out.record({ summary: { ...r, seconds } });
    if (argv.stats) printStats(out, r, seconds);
    const done = r.written + r.linked + r.created + r.attrsOnly + r.unchanged + r.deleted;
    if (r.problems.length > 0 && done === 0) return EXIT.FAILURE;
    return r.problems.length > 0 || (r.deleteStopped !== null && maxDelete !== null) ? EXIT.PARTIAL : EXIT.OK;
  } finally {
    bar?.stop();
  }
}

/**
 * A first word that is no path but close to a command's (`fxcp snpa list st`): the user meant
 * the command, not a copy; say so instead of "no such file".
 */
function misspeltCommand(first: string): void {
  if (lstatSync(first, { throwIfNoEntry: false })) return;
  const near = closest(first, [...new Set(FXCP_COMMANDS.filter((c) => c.path.length > 0).map((c) => c.path[0]))]);
  if (near) throw new UsageError(`${first}: no such file or directory; did you mean the command 'fxcp ${near}'?`, { path: first });
}

function parseCount(s: string): number {
  if (!/^\d+$/.test(s)) throw new UsageError(`--max-delete takes a whole number, not '${s}'`);
  return Number(s);
}

/** What the plan needs to know of the file system: lstat for sources, stat (a DEST symlink to a directory is a directory). */

/**
 * The filter rules of the command line (lib/filter), in its order, and each transfer's top
 * scope: for `SRC/` the transfer root is SRC and its own merge files are read; for `SRC` the
 * root is SRC's parent and the engine asks for SRC by name (rsync's anchoring). -F's ': /NAME'
 * rules also read NAME in the directories above SRC, as rsync does.
 */
function filtersFor(argv: Args): ((t: Transfer) => DirFilter) | undefined {
  if (argv.filterArgs.length === 0) return undefined;
  const rules = compileFilterArgs(argv.filterArgs.map((a) => ({ option: a.option === 'rsync-filter' ? 'F' : a.option as FilterOption, value: a.value })),
    { readFile: (p) => readFileSync(p), deleteExcluded: argv.deleteExcluded });
  const reader = (dir: Buffer) => (name: Buffer): Buffer | null => {
    try {
      return readFileSync(joinPath(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  };
  return (t) => {
    // Resolved through its parent: a source that is a symlink is copied as one, never followed.
    const [dir, name] = splitPath(t.source);
    const source = t.contents ? realpathSync(t.source, { encoding: 'buffer' }) : joinPath(realpathSync(dir, { encoding: 'buffer' }), name);
    const root = t.contents ? source : splitPath(source)[0];
    const parentDirs = parentDirsOf(source.toString('latin1'), root.toString('latin1'))
      .map(({ dir, pathToRoot }) => ({ pathToRoot: Buffer.from(pathToRoot, 'latin1'), readMerge: reader(Buffer.from(dir, 'latin1')) }));
    return FilterScope.root(rules, { readMerge: t.contents ? reader(source) : null, parentDirs, absRoot: root });
  };
}

function actionPrinter(argv: Args, out: Output): ((a: CopyAction) => void) | undefined {
  if (out.json) return (a) => { if (a.kind !== 'unchanged') out.record({ action: a.kind, ...a, kind: undefined }); };
  const arrow = (a: CopyAction) => (a.linkTo ? ` => ${a.linkTo}` : a.target ? ` -> ${a.target}` : '');
  if (argv.itemizeChanges) {
    return (a) => {
      if (a.kind === 'unchanged') return;
      const shown = a.type === 'dir' && a.kind !== 'delete' ? `${a.path || '.'}/` : a.path;
      out.line(`${a.itemize} ${shown}${arrow(a)}`);
    };
  }
  if (argv.verbose) {
    return (a) => {
      if (a.kind === 'unchanged' || a.kind === 'attrs') return;
      if (a.kind === 'delete') out.line(`deleting ${a.path}`);
      else out.line(a.type === 'dir' ? `${a.path || '.'}/` : `${a.path}${arrow(a)}`);
    };
  }
  return undefined;
}

function printStats(out: Output, r: CopyResult, seconds: number): void {
  const n = formatCount;
  out.line('');
  out.line(`Number of files: ${n(r.files + r.dirs + r.symlinks + r.specials)} (reg: ${n(r.files)}, dir: ${n(r.dirs)}, link: ${n(r.symlinks)}, special: ${n(r.specials)})`);
  out.line(`Number of created files: ${n(r.created)}`);
  out.line(`Number of deleted files: ${n(r.deleted)}`);
  out.line(`Number of regular files transferred: ${n(r.written)}`);
  out.line(`Number of hard links made: ${n(r.linked)}`);
  out.line(`Number of entries with attributes alone updated: ${n(r.attrsOnly)}; unchanged: ${n(r.unchanged)}`);
  out.line(`Total file size: ${n(r.bytes)} bytes`);
  out.line(`Total bytes written: ${n(r.bytesWritten)} bytes (${formatBytes(r.bytesWritten)})`);
  if (r.bytesReused > 0) out.line(`Bytes reused from old files (delta): ${n(r.bytesReused)} bytes (${formatBytes(r.bytesReused)})`);
  const how = Object.entries(r.strategies).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  if (how) out.line(`Copied by: ${how}`);
  if (r.throttledSeconds > 0) out.line(`Throttled: ${r.throttledSeconds.toFixed(2)} s (paused for the machine's I/O or memory pressure)`);
  out.line(`Time: ${seconds.toFixed(2)} s, ${formatBytes(Math.round(r.bytesWritten / Math.max(seconds, 0.001)))}/s`);
}

/** The sources' files and bytes, for the progress bar's total (a stat-only walk beside the copy). */
async function sourceTotals(plan: CopyPlan, stop: AbortSignal): Promise<{ files: number; bytes: number } | null> {
  const all = { files: 0, bytes: 0 };
  for (const t of plan.transfers) {
    if (!t.isDir) {
      const st = lstatSync(t.source, { throwIfNoEntry: false });
      if (st?.isFile()) { all.files++; all.bytes += st.size; }
      continue;
    }
    const part = await scanTotals(t.source.toString('utf8'), { signal: stop });
    if (!part) return null;
    all.files += part.files;
    all.bytes += part.bytes;
  }
  return all;
}

/**
 * Pre-flight: the copy must fit on the destination's file system, or nothing is written. Cheap
 * first, here: what the sources' file systems hold in all (statfs) bounds what can be copied;
 * null when that fits. Else the check to run before the first change (the caller decides
 * when): the sources are sized (a stat walk, about 40 % of an unchanged 100,000-file re-run's
 * CPU when it ran before every copy), and then, if still more, the copy is planned without
 * writing (a dry run) and what it would write is counted, against the free space as it is then.
 */
function spaceCheck(plan: CopyPlan, opts: CopyOptions): (() => Promise<void>) | null {
  let at = plan.root.toString('utf8');
  while (!statSync(at, { throwIfNoEntry: false }) && dirname(at) !== at) at = dirname(at);
  const free = freeSpace(at).available;
  const devices = new Map<number, number>();
  for (const t of plan.transfers) {
    // A source that is a symlink is copied as one: its directory's file system, never its target's.
    const at = t.isDir ? t.source : splitPath(t.source)[0];
    const st = statfsSync(at, { bigint: true });
    devices.set(statSync(at).dev, Number((st.blocks - st.bfree) * st.bsize));
  }
  if ([...devices.values()].reduce((a, b) => a + b, 0) <= free) return null;
  return async () => {
    const free = freeSpace(at).available;
    if (await sourceBytes(plan, opts.signal) <= free) return;
    let need = 0;
    await copyTree(plan, { ...opts, dryRun: true, delete: false, beforeChange: undefined, onAction: (a) => { if (a.kind === 'write') need += a.size ?? 0; }, progress: undefined, onWarn: () => {} });
    if (need > free) {
      throw new ToolkitError('NO_SPACE', `${plan.root.toString('utf8')}: not enough free space for the copy: needs ${need} bytes, the file system has ${free} bytes free; nothing was copied`,
        { path: plan.root.toString('utf8'), needed: need, available: free });
    }
  };
}

/** --throttle PCT: a Throttle on the machine's PSI; without PSI, a warning and none. */
function throttleFor(value: string, out: Output): Throttle | undefined {
  const pct = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(pct > 0 && pct < 100)) throw new UsageError(`--throttle ${value}: give a pressure in percent, above 0 and below 100`);
  const source = psiPressure();
  if (!source) {
    out.warn('NO_PSI', '--throttle has no effect here: /proc/pressure cannot be read (Linux 4.20+ with PSI on)');
    return undefined;
  }
  return new Throttle(pct, source);
}
