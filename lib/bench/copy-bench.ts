// Copy suite (issue 21, `--suite copy`): `fxcp -a SRC/ DST/` beside `cp -a SRC/. DST/` and
// `rsync -a SRC/ DST/` on the work dir's own file system (ext4 here) and on loop-mounted XFS
// (reflink=1) and btrfs images, for the small, large, mixed and sparse sets (and `real`, once
// gen-dataset has it). For each file system and set, untimed: the set is copied onto that file
// system as SRC (so a copy can reflink from it) and read once. Timed, the three tools interleaved
// run by run (timedRounds): a cold copy into an emptied destination, then the same command again
// into the copy it made. Each copy is compared with SRC once (copy-verify.ts) after the cold runs;
// a copy that differs fails its row, so a fast wrong copy never scores. Rendered by copy-report.ts.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isoNow, NA, timedRounds, type Measure, type Step } from './bench-measure.js';
import { du, log, q, readText, scanTree, sh, workDir } from './bench-proc.js';
import type { SuiteEnv } from './bench-rows.js';
import { compareCopies } from './copy-verify.js';
import {
  COPY_TOOL_LABEL, COPY_TOOLS, parseCopiedBy, renderCopyFs, type CopyFsResult, type CopySetResult, type CopyTool, type ToolResult,
} from './copy-report.js';
import { isSetName, type SetName } from './gen-dataset.js';
import { canLoopMount, fsTypeOf, imageBytesFor, mountImageFs, unmountFs, usedBytes, type BenchFs, type FsKind } from './loop-mount.js';

/** The sets the suite copies, in this order; `real` joins when gen-dataset makes one. */
export const COPY_SETS: readonly string[] = ['small', 'large', 'mixed', 'sparse', 'real'];

export const COPY_METHOD = [
  '- Copy suite (`--suite copy`; sets small, large, mixed, sparse; `--fs ext4,xfs,btrfs`): on the work dir\'s own file system and on XFS (`mkfs.xfs -m reflink=1`) and btrfs images made in the work dir, loop-mounted with direct I/O (root only; otherwise the file system is reported as skipped), sized to hold the set five times over. The set is first copied onto that file system (`cp -a --reflink=auto`) and read once, so the source is in the page cache (warm, as in the other suites); what the copies write is flushed by the `sync` that ends each timed step. Timed, interleaved run by run: `fxcp -a --stats SRC/ DST/` (`--stats` for the strategy count, a dozen lines of output), `cp -a SRC/. DST/`, `rsync -a SRC/ DST/`, each into an empty destination (removed and made again before each run, untimed); then each again into its own copy, nothing changed (`cp` copies everything again; it has no quick check), without warm-up runs (the check before them has read every copy). The cold rounds also time `env -u NODE_EXTRA_CA_CERTS node -e 0` (Node\'s start, the floor of any fxcp run), shown beside what 1.1x `cp -a` leaves. After the cold runs each copy is compared with the source (names, type, mode, owner, size, mtime in ns, every byte); a copy that differs fails its row. Used: `du --block-size=1` of each copy; on the loop mounts also the space the last cold run took (statfs before and after, so reflinked extents count once).',
];

const TOOL_CMD: Record<CopyTool, (fxcp: string, src: string, dst: string) => string> = {
  fxcp: (fx, s, d) => `${q(fx)} -a --stats ${q(s)}/ ${q(d)}/`,
  cp: (_fx, s, d) => `cp -a ${q(s)}/. ${q(d)}/`,
  rsync: (_fx, s, d) => `rsync -a ${q(s)}/ ${q(d)}/`,
};

/** The copy suite's sets among those asked for (gen-dataset's names only). */
export function copySets(asked: readonly string[]): SetName[] {
  return COPY_SETS.filter((s) => asked.includes(s) && isSetName(s)) as SetName[];
}

/**
 * Measures every set on one file system: the work dir's own (`ext4` when it is one; an ext4 image
 * otherwise) or a loop-mounted image. Returns the block (key `copy:FS@FACTOR`).
 */
export async function runCopyFs(env: SuiteEnv, kind: FsKind, sets: SetName[], tools: readonly CopyTool[]): Promise<{ key: string; md: string }> {
  const { opts } = env.ctx;
  const key = `copy:${kind}@${opts.factor}`;
  const base: CopyFsResult = { fs: kind, label: kind, cow: kind !== 'ext4', date: isoNow(), factor: opts.factor, runs: opts.runs, warmup: opts.warmup ?? 0, sets: [], skipped: null, notes: [] };
  const own = fsTypeOf(workDir());
  const useOwn = kind === 'ext4' && own === 'ext4';
  const why = useOwn ? null : canLoopMount(kind);
  if (why) {
    log(`copy ${kind}: skipped (${why})`);
    return { key, md: renderCopyFs({ ...base, label: `${kind} (loop)`, skipped: why }, tools) };
  }
  // Data first: the image's size follows the largest set asked for.
  const data = new Map(sets.map((s) => [s, join(env.dataFor(s), s)]));
  const biggest = Math.max(...[...data.values()].map((d) => scanTree(d).bytes));
  let fs: BenchFs;
  try {
    fs = useOwn
      ? { kind, label: 'ext4 (the work dir\'s)', dir: join(workDir(), 'copy-ext4'), loop: null }
      : mountImageFs(kind, join(workDir(), 'fs'), imageBytesFor(biggest, 5));
  } catch (e) {
    log(`copy ${kind}: cannot mount an image: ${(e as Error).message}`);
    return { key, md: renderCopyFs({ ...base, label: `${kind} (loop)`, skipped: `could not make the image: ${(e as Error).message}` }, tools) };
  }
  log(`copy ${kind}: ${fs.label} at ${fs.dir}${fs.loop ? ` (${fs.loop.device})` : ''}`);
  const r: CopyFsResult = { ...base, label: fs.label };
  try {
    for (const s of sets) r.sets.push(await copySet(env, fs, s, data.get(s)!, tools));
  } finally {
    if (fs.loop) unmountFs(fs);
    else rmSync(fs.dir, { recursive: true, force: true });
  }
  if (kind === 'ext4' && !useOwn) r.notes.push(`The work dir is on ${own || 'an unknown file system'}, not ext4: an ext4 image was loop-mounted instead`);
  return { key, md: renderCopyFs(r, tools) };
}

async function copySet(env: SuiteEnv, fs: BenchFs, set: SetName, origin: string, tools: readonly CopyTool[]): Promise<CopySetResult> {
  const { ctx } = env;
  const { opts } = ctx;
  const W = join(fs.dir, 'copy');
  rmSync(W, { recursive: true, force: true });
  mkdirSync(W, { recursive: true });
  const src = join(W, 'src');
  await sh(`cp -a --reflink=auto ${q(origin)} ${q(src)}\nsync`);
  const input = scanTree(src);
  const res: CopySetResult = { set, files: input.files, bytes: input.bytes, srcUsed: await du(src), tools: {} };
  const dst = (t: CopyTool): string => join(W, `dst-${t}`);
  const name = (t: CopyTool, step: string): string => `copy-${fs.kind}-${set}-${t}-${step}`;
  const statsFile = (step: string): string => join(ctx.cmdDir, `${name('fxcp', step)}.out`);
  const missing = (t: CopyTool): string | null => {
    if (t === 'fxcp') return null;
    const p = env.peers.get(t);
    return p?.path ? null : `not available (${p?.reason ?? t})`;
  };
  const runnable = tools.filter((t) => !missing(t));
  for (const t of tools) { const m = missing(t); if (m) res.tools[t] = { cold: NA(m), rerun: NA(m) }; }
  log(`copy ${fs.kind} ${set}: ${input.files} files, ${(input.bytes / 1048576).toFixed(1)} MiB`);
  await sh(`find ${q(src)} -type f -print0 | xargs -0 -r cat > /dev/null`);

  // What the last cold run of each tool took from the file system (loop mounts only: the work
  // dir's file system is shared with other writers). Each prep of that round reads statfs before
  // it empties its destination (the end of the previous tool's run) and after (its own start).
  const last = opts.runs - 1;
  const newSpace = new Map<CopyTool, number>();
  const chain: { pending: { t: CopyTool; before: number } | null } = { pending: null };
  const settled = async (): Promise<number> => {
    await sh(fs.kind === 'btrfs' ? `sync\nbtrfs filesystem sync ${q(fs.dir)} > /dev/null` : 'sync');
    return usedBytes(fs.dir);
  };
  const coldStep = (t: CopyTool): Step => ({
    name: name(t, 'cold'), cwd: W, body: () => TOOL_CMD[t](opts.fxcp, src, dst(t)),
    stdoutFile: t === 'fxcp' ? statsFile('cold') : undefined,
    prep: async (i) => {
      const measure = fs.loop !== null && i === last;
      if (measure && chain.pending) newSpace.set(chain.pending.t, (await settled()) - chain.pending.before);
      rmSync(dst(t), { recursive: true, force: true });
      mkdirSync(dst(t));
      if (measure) chain.pending = { t, before: await settled() };
    },
  });
  // Node's start, in the same rounds: the floor of any fxcp run (copy-report.ts targetLines).
  const nodeStep: Step = { name: `copy-${fs.kind}-${set}-node-cold`, cwd: W, body: () => 'env -u NODE_EXTRA_CA_CERTS node -e 0' };
  const withNode = runnable.includes('fxcp');
  const cold = await timedRounds(ctx, [...runnable.map(coldStep), ...(withNode ? [nodeStep] : [])]);
  if (withNode) res.nodeStart = cold[runnable.length];
  if (chain.pending) newSpace.set(chain.pending.t, (await settled()) - chain.pending.before);
  const ok = runnable.filter((_, k) => cold[k]!.state === 'ok');
  const verdicts = compareCopies(src, ok.map(dst));
  for (const [k, t] of runnable.entries()) {
    let m: Measure = cold[k]!;
    const v = ok.includes(t) ? verdicts[ok.indexOf(t)] : null;
    if (v) { m = { ...m, state: 'failed', note: `wrong copy: ${v}` }; log(`  ${COPY_TOOL_LABEL[t]}: ${m.note}`); }
    res.tools[t] = { cold: m, rerun: { state: 'failed', note: 'skipped: cold copy failed' }, used: m.state === 'ok' ? await du(dst(t)) : undefined, newSpace: newSpace.get(t) };
  }
  res.copiedBy = res.tools.fxcp?.cold.state === 'ok' ? parseCopiedBy(readText(statsFile('cold'))) : undefined;

  const again = runnable.filter((t) => res.tools[t]!.cold.state === 'ok');
  // No warm-up rounds here: the check above has just read every copy and its metadata, and at
  // factor 1 a warm-up of cp's re-run (a full copy again) costs as much as a timed one.
  const rerun = await timedRounds({ ...ctx, opts: { ...opts, warmup: 0 } }, again.map((t) => ({
    name: name(t, 'rerun'), cwd: W, body: () => TOOL_CMD[t](opts.fxcp, src, dst(t)), stdoutFile: t === 'fxcp' ? statsFile('rerun') : undefined,
  })));
  for (const [k, t] of again.entries()) (res.tools[t] as ToolResult).rerun = rerun[k]!;
  rmSync(W, { recursive: true, force: true });
  return res;
}

/** The file systems to measure, from `--fs` (default all three). */
export function parseFsList(v: string): FsKind[] {
  const out = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of out) if (!['ext4', 'xfs', 'btrfs'].includes(x)) throw new Error(`unknown file system ${x}; choose from ext4,xfs,btrfs`);
  return out as FsKind[];
}

/** The copy suite's tools among run-bench's --tools (fxcp; ref = cp and rsync). */
export function copyTools(tools: ReadonlySet<string>): CopyTool[] {
  return COPY_TOOLS.filter((t) => (t === 'fxcp' ? tools.has('fxcp') : tools.has('ref')));
}
