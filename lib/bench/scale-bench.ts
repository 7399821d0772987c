// The scale suite (`--suite scale`, on request, issue 25): fxcp, restic and borg on 1M and 3M
// small text files (scale-set.ts), each from an empty store or repository, one run per step
// (a step at 3M takes minutes):
// - first snapshot: wall, CPU (user + system) and µs of CPU per file, peak RSS;
// - an unchanged second snapshot; restoring one file;
// - a third snapshot after the 1 % change (a changed file in every directory): wall, RSS, and
//   what it added on disk against the bytes changed;
// - fxcp only: `snap prune --keep-last 1` and `store check`, with their peak RSS.
// The targets (issue 25): first snapshot faster than both at 3M; CPU per file flat from 1M to
// 3M (within 10 %); peak RSS under 512 MiB at 3M for the first and 1 %-changed snapshots,
// prune and check; the 1 %-changed snapshot storing at most 1.5x the changed bytes.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cellTime, fmtBytes, isoNow, NA, ratio, rssCell, timed, verifyRestored, type Measure } from './bench-measure.js';
import { du, log, q, sh, shOut, workDir } from './bench-proc.js';
import { missingPeers, type SuiteEnv } from './bench-rows.js';
import { applyScaleChange, SCALE_DIRS, SCALE_SET_VERSION, scaleFileRel, scaleTree } from './scale-set.js';

const TOOLS = ['fxcp', 'restic', 'borg'] as const;
type Tool = (typeof TOOLS)[number];
const RSS_BOUND_MIB = 512;

export const SCALE_METHOD = [
  `- Scale suite (\`--suite scale\`, on request; issue 25): N small text files of 100 to 4,000 bytes (seeded slices of a text-like corpus, each headed by its number) in ${SCALE_DIRS.toLocaleString('en-US')} directories (\`lib/bench/scale-set.ts\`, version ${SCALE_SET_VERSION}); the 3M tree is the 1M tree with more files in the same directories. Per size and tool, from an empty store or repository, one run per step: first snapshot, unchanged second snapshot, one-file restore, then a third snapshot after the 1 % change (files 0 to N/100 - 1 get a line inserted in the middle: a changed file in every directory); fxcp also \`snap prune --keep-last 1\` and \`store check\`. CPU = user + system (GNU time); "added" = growth of \`du --block-size=1\` of the store or repository.`,
];

interface SizeResult {
  n: number;
  bytes: number;
  changedBytes: number;
  m: Record<string, Partial<Record<Tool, Measure>>>;
  added: Partial<Record<Tool, number>>;
  stored: Partial<Record<Tool, number>>;
}

/** One size of the suite (run-bench runs each size as a suite of its own, so each is written as it ends). */
export async function runScaleSuite(env: SuiteEnv, n: number): Promise<{ key: string; md: string }> {
  const { ctx } = env;
  const W = join(workDir(), 'scale');
  const tree = join(W, 'tree');
  mkdirSync(tree, { recursive: true });
  const fx = q(ctx.opts.fxcp);
  const st = (t: Tool): string => join(W, 'state', t);
  const repo = (t: Tool): string => join(st(t), t === 'fxcp' ? 'store' : 'repo');
  const tools = TOOLS.filter((t) => ctx.opts.tools.has(t));
  const why = new Map<Tool, string>();
  for (const t of tools) {
    const w = t === 'fxcp' ? (existsSync(ctx.opts.fxcp) ? null : `not available (${ctx.opts.fxcp} missing)`) : missingPeers(env, t);
    if (w) { why.set(t, w); log(`scale: ${t} ${w}`); }
  }
  const run = tools.filter((t) => !why.has(t));
  let borgN = 0;
  const snapshot = (t: Tool): string => {
    if (t === 'fxcp') return `${fx} snap create tree ${q(repo(t))} --json`;
    if (t === 'restic') return `restic -q -r ${q(repo(t))} backup --host bench tree`;
    return `borg create --compression zstd,3 ${q(repo(t))}::s${++borgN} tree`;
  };
  const reset = async (t: Tool): Promise<void> => {
    rmSync(st(t), { recursive: true, force: true });
    mkdirSync(st(t), { recursive: true });
    if (t === 'restic') await sh(`restic init -q -r ${q(repo(t))}`, W, ctx.env);
    if (t === 'borg') await sh(`borg init -e none ${q(repo(t))}`, W, ctx.env);
  };
  const restoreOne = (t: Tool, rel: string, out: string): string => {
    if (t === 'fxcp') return `${fx} snap restore ${q(repo(t))} -o ${q(out)} --latest --file ${q(rel)}`;
    if (t === 'restic') return `restic -q -r ${q(repo(t))} restore latest --target ${q(out)} --include ${q(`/tree/${rel}`)}`;
    return `borg extract ${q(repo(t))}::s${borgN} ${q(`tree/${rel}`)}`;
  };
  const restoredAt = (t: Tool, rel: string, out: string): string => (t === 'fxcp' ? join(out, rel) : join(out, 'tree', rel));

  const saveRuns = ctx.opts.runs, saveWarmup = ctx.opts.warmup;
  ctx.opts.runs = 1;
  ctx.opts.warmup = 0;
  let r: SizeResult;
  try {
    {
      scaleTree(tree, n, log);
      const rawBytes = Number((await shOut(`find tree -type f -name '*.txt' -printf '%s\\n' | awk '{s+=$1} END {print s}'`, W)).trim());
      await sh("find tree -type f -print0 | xargs -0 -r cat > /dev/null", W);
      r = { n, bytes: rawBytes, changedBytes: 0, m: { first: {}, second: {}, one: {}, changed: {}, prune: {}, check: {} }, added: {}, stored: {} };
      const label = `${(n / 1e6).toLocaleString('en-US')}M`;
      for (const t of run) {
        log(`scale ${label}: ${t}`);
        r.m.first![t] = await timed(ctx, { name: `scale-${t}-first`, cwd: W, body: () => snapshot(t), prep: () => reset(t) });
        if (r.m.first![t]!.state !== 'ok') continue;
        r.stored[t] = await du(repo(t));
        r.m.second![t] = await timed(ctx, { name: `scale-${t}-unchanged`, cwd: W, body: () => snapshot(t) });
        const rel = scaleFileRel(Math.floor(n / 2) + 7);
        const R = join(W, 'restore');
        const prepR = async (): Promise<void> => { rmSync(R, { recursive: true, force: true }); mkdirSync(R, { recursive: true }); };
        const one = await timed(ctx, { name: `scale-${t}-restore1`, cwd: t === 'borg' ? R : W, body: () => restoreOne(t, rel, R), prep: prepR });
        r.m.one![t] = await verifyRestored(one, join(tree, rel), restoredAt(t, rel, R), rel);
        rmSync(R, { recursive: true, force: true });
      }
      r.changedBytes = applyScaleChange(tree, n);
      for (const t of run) {
        if (r.m.first![t]?.state !== 'ok') continue;
        const before = await du(repo(t));
        r.m.changed![t] = await timed(ctx, { name: `scale-${t}-changed`, cwd: W, body: () => snapshot(t) });
        const after = await du(repo(t));
        if (r.m.changed![t]!.state === 'ok' && before !== undefined && after !== undefined) r.added[t] = after - before;
      }
      if (r.m.first!.fxcp?.state === 'ok') {
        r.m.prune!.fxcp = await timed(ctx, { name: 'scale-fxcp-prune', cwd: W, body: () => `${fx} snap prune ${q(repo('fxcp'))} --keep-last 1` });
        r.m.check!.fxcp = await timed(ctx, { name: 'scale-fxcp-check', cwd: W, body: () => `${fx} store check ${q(repo('fxcp'))}` });
      }
      for (const t of why.keys()) for (const row of Object.values(r.m)) row[t] = NA(why.get(t)!);
    }
  } finally {
    ctx.opts.runs = saveRuns;
    ctx.opts.warmup = saveWarmup;
    for (const t of TOOLS) rmSync(st(t), { recursive: true, force: true });
    if (!ctx.opts.keep) rmSync(W, { recursive: true, force: true });
  }
  return { key: `scale:small-text@${n}`, md: renderScale(r, tools) };
}

function renderScale(r: SizeResult, tools: readonly Tool[]): string {
  const size = r.n.toLocaleString('en-US');
  const L = [`### Scale: ${size} small text files, ${fmtBytes(r.bytes)} (set version ${SCALE_SET_VERSION})`, '', `${isoNow()}, one run per step, on a machine shared with other jobs: compare the columns of one table, not runs with each other.`, ''];
  const peers = tools.filter((t) => t !== 'fxcp');
  const cpuPerFile = (t: Tool): number | undefined => {
    const x = r.m.first?.[t];
    return x?.state === 'ok' && x.cpuSecs !== undefined ? (x.cpuSecs / r.n) * 1e6 : undefined;
  };
  // Without peers (--tools fxcp) the ratio columns are left out, not drawn empty.
  const cols = [...tools, ...peers.map((p) => `fxcp vs ${p}`)];
  L.push(`| step | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
  const secs = (x: Measure | undefined): number | undefined => (x?.state === 'ok' ? x.secs : undefined);
  const row = (label: string, cell: (t: Tool) => string, val: (t: Tool) => number | undefined, better: string, worse: string): void => {
    L.push(`| ${[label, ...tools.map(cell), ...peers.map((p) => ratio(val('fxcp'), val(p), better, worse))].join(' | ')} |`);
  };
  const timeRow = (label: string, k: string): void => row(label, (t) => cellTime(r.m[k]?.[t]), (t) => secs(r.m[k]?.[t]), 'faster', 'slower');
  const rssRow = (label: string, k: string): void => row(label, (t) => rssCell(r.m[k]?.[t]), (t) => r.m[k]?.[t]?.rssKiB, 'less', 'more');
  timeRow('first snapshot', 'first');
  // With its system part: at 3M files the kernel's share grows with the tree (dentries, inodes,
  // page cache) for every tool, the tools' own (user) share need not.
  const sysPerFile = (t: Tool): number | undefined => {
    const x = r.m.first?.[t];
    return x?.state === 'ok' && x.sysSecs !== undefined ? (x.sysSecs / r.n) * 1e6 : undefined;
  };
  const cpuCell = (t: Tool): string => {
    const all = cpuPerFile(t), sys = sysPerFile(t);
    if (all === undefined) return '';
    return sys === undefined ? all.toFixed(0) : `${all.toFixed(0)} (${(all - sys).toFixed(0)} user + ${sys.toFixed(0)} sys)`;
  };
  row('CPU of the first snapshot, µs per file', cpuCell, cpuPerFile, 'less', 'more');
  rssRow('peak RSS, first snapshot', 'first');
  row('stored after the first snapshot', (t) => (r.stored[t] === undefined ? '' : fmtBytes(r.stored[t]!)), (t) => r.stored[t], 'smaller', 'larger');
  timeRow('unchanged second snapshot', 'second');
  rssRow('peak RSS, unchanged second snapshot', 'second');
  timeRow('restore one file', 'one');
  rssRow('peak RSS, restore one file', 'one');
  timeRow(`snapshot after the 1 % change (${fmtBytes(r.changedBytes)} changed)`, 'changed');
  rssRow('peak RSS, 1 %-changed snapshot', 'changed');
  row('added by the 1 %-changed snapshot', (t) => (r.added[t] === undefined ? '' : `${fmtBytes(r.added[t]!)} (${(r.added[t]! / r.changedBytes).toFixed(2)}x changed)`), (t) => r.added[t], 'smaller', 'larger');
  L.push('', `fxcp alone: \`snap prune --keep-last 1\` ${cellTime(r.m.prune?.fxcp)}, ${rssCell(r.m.prune?.fxcp)} peak; \`store check\` ${cellTime(r.m.check?.fxcp)}, ${rssCell(r.m.check?.fxcp)} peak.`, '');
  // Issue 25's targets (set at 3M; shown at every size). CPU per file flat from 1M to 3M: compare the µs rows of the two tables.
  const mib = (x: Measure | undefined): number | undefined => (x?.state === 'ok' && x.rssKiB ? x.rssKiB / 1024 : undefined);
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');
  L.push('| target (issue 25, at 3M) | figure | |', '|---|---|---|');
  const f = (t: Tool) => secs(r.m.first?.[t]);
  const others = peers.map(f).filter((x): x is number => x !== undefined);
  L.push(peers.length === 0
    ? `| first snapshot faster than restic and borg | fxcp ${cellTime(r.m.first?.fxcp)}; the peers were not run (--tools) | not measured |`
    : `| first snapshot faster than ${peers.join(' and ')} | fxcp ${cellTime(r.m.first?.fxcp)}; ${peers.map((p) => `${p} ${cellTime(r.m.first?.[p])}`).join('; ')} | ${verdict(f('fxcp') === undefined || others.length === 0 ? undefined : f('fxcp')! < Math.min(...others))} |`);
  for (const [k, what] of [['first', 'first snapshot'], ['changed', '1 %-changed snapshot'], ['prune', 'prune'], ['check', 'check']] as const) {
    const x = mib(r.m[k]?.fxcp);
    L.push(`| peak RSS of the ${what} under ${RSS_BOUND_MIB} MiB | ${x === undefined ? '?' : `${x.toFixed(0)} MiB`} | ${verdict(x === undefined ? undefined : x < RSS_BOUND_MIB)} |`);
  }
  const add = r.added.fxcp;
  L.push(`| the 1 %-changed snapshot stores at most 1.5x the changed bytes | ${add === undefined ? '?' : `${fmtBytes(add)} for ${fmtBytes(r.changedBytes)} (${(add / r.changedBytes).toFixed(2)}x)`} | ${verdict(add === undefined ? undefined : add <= 1.5 * r.changedBytes)} |`);
  return L.join('\n');
}
