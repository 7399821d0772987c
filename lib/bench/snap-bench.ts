// The snap suite: per data set, fxcp's snapshot store beside restic, borg, tar|zstd and the cp -a /
// rsync -a reference rows: initial backup, nothing changed (or series v2), restore one file and
// restore everything, each tool in rounds on the same `src` (snap-report.ts renders the table).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import {
  fmtBytes, NA, restoreOneStep, timed, timedDirect, timedDirectRounds, timedRounds, verifyRestored, type Ctx, type DirectTimes, type Measure,
} from './bench-measure.js';
import { du, log, q, readText, scanTree, sh, workDir, type TreeInfo } from './bench-proc.js';
import type { SetName } from './gen-dataset.js';
import type { PeerInfo, PeerName } from './peers.js';
import { TOOLS, type Options, type Tool } from './bench-options.js';

const MiB = 1024 * 1024;
/** Runs of each backup in the directly spawned nothing-changed rounds. */
export const DIRECT_RUNS = 11;

export type Workload = 'initial' | 'second' | 'restore' | 'restoreAll';
export interface SetResult {
  set: SetName;
  factor: number;
  runs: number;
  warmup: number;
  date: string;
  series: boolean;
  input: TreeInfo;
  inputV2?: TreeInfo;
  restoreFile: { rel: string; size: number } | null;
  /** fxcp's restore of that file spawned directly, beside `node -e 0` (timedDirect). */
  direct?: DirectTimes;
  /** The nothing-changed backups of fxcp, restic and borg spawned directly (timedDirectRounds). */
  directSecond?: Partial<Record<Tool, Measure>>;
  m: Record<Workload, Partial<Record<Tool, Measure>>>;
  stored: Partial<Record<Tool, number>>;
  added: Partial<Record<Tool, number>>;
  notes: string[];
}

interface ToolDef {
  available: () => string | null; // null = ok, else reason
  stateDir: string;
  /** What du measures (repository, archive, copy). */
  sizePath: string;
  reset: () => Promise<void>; // fresh empty state (untimed)
  initial: () => string;
  second: (i: number, series: boolean) => string;
  restore: (rel: string, out: string) => string;
  restoredPath: (rel: string, out: string) => string;
  /** The whole latest snapshot into `out` (run with `out` as the working directory). */
  restoreAll: (out: string) => string;
  /** Where restoreAll puts the source tree's root. */
  restoredRoot: (out: string) => string;
}

export async function runSet(ctx: Ctx<Options>, set: SetName, dataDir: string, peers: Map<PeerName, PeerInfo>): Promise<SetResult> {
  const { opts } = ctx;
  const W = join(workDir(), 'run');
  rmSync(W, { recursive: true, force: true });
  mkdirSync(W, { recursive: true });
  const src = join(W, 'src');
  const series = set === 'series';
  const origin = series ? join(dataDir, 'series', 'v1') : join(dataDir, set);
  await sh(`cp -a --reflink=auto ${q(origin)} ${q(src)}`);
  const R = join(W, 'restore');
  const state = (t: Tool): string => join(W, 'state', t);
  const saved = (t: Tool): string => join(W, 'saved', t);
  const fx = q(opts.fxcp);
  const have = (p: PeerName): boolean => !!peers.get(p)?.path;
  const why = (...ps: PeerName[]): string | null => {
    const miss = ps.filter((p) => !have(p));
    return miss.length ? `not available (${miss.map((p) => peers.get(p)?.reason ?? p).join('; ')})` : null;
  };
  let borgSecond = 'v1';

  const defs: Record<Tool, ToolDef> = {
    fxcp: {
      available: () => (existsSync(opts.fxcp) ? null : `not available (${opts.fxcp} missing)`),
      stateDir: state('fxcp'), sizePath: join(state('fxcp'), 'store'),
      reset: async () => { rmSync(state('fxcp'), { recursive: true, force: true }); mkdirSync(state('fxcp'), { recursive: true }); },
      initial: () => `${fx} snap create ${q(src)} ${q(join(state('fxcp'), 'store'))} --json`,
      second: () => `${fx} snap create ${q(src)} ${q(join(state('fxcp'), 'store'))} --json`,
      restore: (rel, out) => `${fx} snap restore ${q(join(state('fxcp'), 'store'))} -o ${q(out)} --latest --file ${q(rel)}`,
      restoredPath: (rel, out) => join(out, rel),
      restoreAll: (out) => `${fx} snap restore ${q(join(state('fxcp'), 'store'))} -o ${q(out)} --latest`,
      restoredRoot: (out) => out,
    },
    restic: {
      available: () => why('restic'),
      stateDir: state('restic'), sizePath: join(state('restic'), 'repo'),
      reset: async () => {
        rmSync(state('restic'), { recursive: true, force: true });
        mkdirSync(state('restic'), { recursive: true });
        await sh(`restic init -q -r ${q(join(state('restic'), 'repo'))}`, W, ctx.env);
      },
      initial: () => `restic -q -r ${q(join(state('restic'), 'repo'))} backup --host bench src`,
      second: () => `restic -q -r ${q(join(state('restic'), 'repo'))} backup --host bench src`,
      restore: (rel, out) => `restic -q -r ${q(join(state('restic'), 'repo'))} restore latest --target ${q(out)} --include ${q(`/src/${rel}`)}`,
      restoredPath: (rel, out) => join(out, 'src', rel),
      restoreAll: (out) => `restic -q -r ${q(join(state('restic'), 'repo'))} restore latest --target ${q(out)}`,
      restoredRoot: (out) => join(out, 'src'),
    },
    borg: {
      available: () => why('borg'),
      stateDir: state('borg'), sizePath: join(state('borg'), 'repo'),
      reset: async () => {
        rmSync(state('borg'), { recursive: true, force: true });
        mkdirSync(state('borg'), { recursive: true });
        await sh(`borg init -e none ${q(join(state('borg'), 'repo'))}`, W, ctx.env);
      },
      initial: () => `borg create --compression zstd,3 ${q(join(state('borg'), 'repo'))}::v1 src`,
      second: (i, ser) => { borgSecond = ser ? 'v2' : `nochange${i + 1}`; return `borg create --compression zstd,3 ${q(join(state('borg'), 'repo'))}::${borgSecond} src`; },
      restore: (rel) => `borg extract ${q(join(state('borg'), 'repo'))}::${borgSecond} ${q(`src/${rel}`)}`,
      restoredPath: (rel, out) => join(out, 'src', rel),
      restoreAll: () => `borg extract ${q(join(state('borg'), 'repo'))}::${borgSecond}`,
      restoredRoot: (out) => join(out, 'src'),
    },
    tar: {
      available: () => why('tar', 'zstd'),
      stateDir: state('tar'), sizePath: join(state('tar'), 'a.tar.zst'),
      reset: async () => { rmSync(state('tar'), { recursive: true, force: true }); mkdirSync(state('tar'), { recursive: true }); },
      initial: () => `tar -C ${q(W)} -cf - src | zstd -3 -T1 -q -o ${q(join(state('tar'), 'a.tar.zst'))}`,
      second: () => `rm -f ${q(join(state('tar'), 'a.tar.zst'))}\ntar -C ${q(W)} -cf - src | zstd -3 -T1 -q -o ${q(join(state('tar'), 'a.tar.zst'))}`,
      restore: (rel, out) => `zstd -dc -q ${q(join(state('tar'), 'a.tar.zst'))} | tar -xf - -C ${q(out)} ${q(`src/${rel}`)}`,
      restoredPath: (rel, out) => join(out, 'src', rel),
      restoreAll: (out) => `zstd -dc -q ${q(join(state('tar'), 'a.tar.zst'))} | tar -xf - -C ${q(out)}`,
      restoredRoot: (out) => join(out, 'src'),
    },
    ref: {
      available: () => why('cp', 'rsync'),
      stateDir: state('ref'), sizePath: join(state('ref'), 'dst'),
      reset: async () => { rmSync(state('ref'), { recursive: true, force: true }); mkdirSync(state('ref'), { recursive: true }); },
      initial: () => `cp -a src ${q(join(state('ref'), 'dst'))}`,
      second: (_i, ser) => `rsync -a${ser ? ' --delete' : ''} src/ ${q(join(state('ref'), 'dst'))}/`,
      // Not a restore: Node starting and exiting, through the same harness. fxcp's restore of one
      // file cannot take less; the difference is what fxcp itself costs.
      restore: () => 'env -u NODE_EXTRA_CA_CERTS node -e 0',
      restoredPath: () => '',
      restoreAll: (out) => `cp -a ${q(src)} ${q(join(out, 'src'))}`,
      restoredRoot: (out) => join(out, 'src'),
    },
  };

  const tools = TOOLS.filter((t) => opts.tools.has(t));
  const res: SetResult = {
    set, factor: opts.factor, runs: opts.runs, warmup: opts.warmup, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), series,
    input: scanTree(src), restoreFile: null, m: { initial: {}, second: {}, restore: {}, restoreAll: {} }, stored: {}, added: {}, notes: [],
  };
  const warm = async (): Promise<void> => { await sh(`find src -type f -print0 | xargs -0 -r cat > /dev/null`, W); };
  const unavailable = new Map<Tool, string>();
  for (const t of tools) { const r = defs[t].available(); if (r) unavailable.set(t, r); }

  // Phase 1: initial (fresh state before every run), the tools' runs in rounds.
  log(`${set}: initial (${res.input.files} files, ${(res.input.bytes / MiB).toFixed(1)} MiB)`);
  for (const [t, why] of unavailable) res.m.initial[t] = NA(why);
  const runnable = tools.filter((t) => !unavailable.has(t));
  const stdoutOf = (t: Tool, phase: string): string | undefined => (t === 'fxcp' ? join(ctx.cmdDir, `${set}-fxcp-${phase}.json`) : undefined);
  await warm();
  const initial = await timedRounds(ctx, runnable.map((t) => ({
    name: `${set}-${t}-initial`, cwd: W, body: () => defs[t].initial(), prep: () => defs[t].reset(), stdoutFile: stdoutOf(t, 'initial'),
  })));
  for (const [k, t] of runnable.entries()) {
    const d = defs[t];
    res.m.initial[t] = initial[k]!;
    if (initial[k]!.state !== 'ok') continue;
    res.stored[t] = await du(d.sizePath);
    if (t === 'fxcp') { const s = fxcpStats(stdoutOf(t, 'initial')!); if (s) res.notes.push(`fxcp initial reported: ${s}`); }
    if (series) { rmSync(saved(t), { recursive: true, force: true }); mkdirSync(dirname(saved(t)), { recursive: true }); await sh(`cp -a ${q(d.stateDir)} ${q(saved(t))}`); }
  }

  // Phase 2: nochange (repeat, no prep) or series v2 (state reset to after-initial before every run).
  if (series) {
    await sh(`rsync -a --delete ${q(join(dataDir, 'series', 'v2'))}/ ${q(src)}/`);
    res.inputV2 = scanTree(src);
    log(`${set}: v2 (${res.inputV2.files} files, ${(res.inputV2.bytes / MiB).toFixed(1)} MiB)`);
  } else log(`${set}: nochange`);
  for (const [t, why] of unavailable) res.m.second[t] = NA(why);
  const again = tools.filter((t) => !unavailable.has(t) && res.m.initial[t]!.state === 'ok');
  for (const t of tools) if (!unavailable.has(t) && !again.includes(t)) res.m.second[t] = { state: 'failed', note: 'skipped: initial failed' };
  await warm();
  const prepSecond = (t: Tool): (() => Promise<void>) | undefined => (series
    ? async (): Promise<void> => { await sh(`rm -rf ${q(defs[t].stateDir)} && cp -a ${q(saved(t))} ${q(defs[t].stateDir)}`); }
    : t === 'tar' ? async (): Promise<void> => { rmSync(defs[t].sizePath, { force: true }); } : undefined);
  const second = await timedRounds(ctx, again.map((t) => ({
    name: `${set}-${t}-${series ? 'v2' : 'nochange'}`, cwd: W, body: (i: number) => defs[t].second(i, series), prep: prepSecond(t), stdoutFile: stdoutOf(t, 'second'),
  })));
  for (const [k, t] of again.entries()) {
    const d = defs[t];
    res.m.second[t] = second[k]!;
    if (second[k]!.state === 'ok' && series && t !== 'ref') {
      const before = await du(join(saved(t), relative(d.stateDir, d.sizePath)));
      const after = await du(d.sizePath);
      if (before !== undefined && after !== undefined) res.added[t] = t === 'tar' ? after : after - before;
      if (t === 'fxcp') { const s = fxcpStats(stdoutOf(t, 'second')!); if (s) res.notes.push(`fxcp v2 reported: ${s}`); }
    }
  }
  // Nothing changed: a few hundred ms for fxcp, where the script around each command (bash,
  // GNU time, a final `sync`) adds 20–40 ms to every tool alike. The three backups are also
  // spawned directly, in rounds, for the target's ratios.
  const direct = (['fxcp', 'restic', 'borg'] as Tool[]).filter((t) => again.includes(t) && res.m.second[t]!.state === 'ok');
  if (!series && direct.length === 3) {
    const args: Record<string, (i: number) => string[]> = {
      fxcp: () => ['snap', 'create', src, join(state('fxcp'), 'store'), '--json'],
      restic: () => ['-q', '-r', join(state('restic'), 'repo'), 'backup', '--host', 'bench', 'src'],
      borg: (i) => ['create', '--compression', 'zstd,3', `${join(state('borg'), 'repo')}::nochange-direct${i + 4}`, 'src'],
    };
    const ms = await timedDirectRounds(ctx, direct.map((t) => ({ name: `${set}-${t}-nochange-direct`, cwd: W, cmd: t === 'fxcp' ? opts.fxcp : t, args: args[t]! })), DIRECT_RUNS);
    res.directSecond = Object.fromEntries(direct.map((t, k) => [t, ms[k]!]));
  }

  // Phase 3: restore the median-size file of the current tree, verified with cmp.
  const file = scanTree(src).median;
  res.restoreFile = file;
  log(`${set}: restore one file${file ? ` (${file.rel}, ${file.size} B)` : ''}`);
  for (const t of tools) {
    const d = defs[t];
    if (unavailable.has(t)) { res.m.restore[t] = NA(unavailable.get(t)!); continue; }
    if (!file) { res.m.restore[t] = NA('no non-empty file'); continue; }
    const last = res.m.second[t]!.state === 'ok' ? 'second' : res.m.initial[t]!.state === 'ok' ? 'initial' : null;
    if (!last) { res.m.restore[t] = { state: 'failed', note: 'skipped: backup failed' }; continue; }
    if (last === 'initial' && series) { res.m.restore[t] = { state: 'failed', note: 'skipped: v2 backup failed' }; continue; }
    const cwd = t === 'borg' ? R : W;
    const m = await timed(ctx, {
      name: `${set}-${t}-restore1`, cwd, body: () => d.restore(file.rel, R),
      prep: async () => { rmSync(R, { recursive: true, force: true }); mkdirSync(R, { recursive: true }); },
    });
    const got = d.restoredPath(file.rel, R);
    res.m.restore[t] = t === 'ref' ? m : await verifyRestored(m, join(src, file.rel), got, relative(R, got));
  }
  if (file && res.m.restore.fxcp?.state === 'ok') {
    res.direct = await timedDirect(ctx, restoreOneStep(`${set}-fxcp-restore1-direct`, opts.fxcp, join(state('fxcp'), 'store'), R, file.rel, W));
    res.direct.ours = await verifyRestored(res.direct.ours, join(src, file.rel), join(R, file.rel), file.rel);
  }

  // Phase 4: restore the whole latest snapshot (cp -a of the source as the reference), checked
  // by its file count and bytes against the source (untimed).
  log(`${set}: restore everything`);
  const want = scanTree(src);
  for (const t of tools) {
    const d = defs[t];
    if (unavailable.has(t)) { res.m.restoreAll[t] = NA(unavailable.get(t)!); continue; }
    const backedUp = res.m.second[t]?.state === 'ok' || (!series && res.m.initial[t]?.state === 'ok');
    if (t !== 'ref' && !backedUp) { res.m.restoreAll[t] = { state: 'failed', note: 'skipped: backup failed' }; continue; }
    const m = await timed(ctx, {
      name: `${set}-${t}-restore-all`, cwd: R, body: () => d.restoreAll(R),
      prep: async () => { rmSync(R, { recursive: true, force: true }); mkdirSync(R, { recursive: true }); },
    });
    const got = m.state === 'ok' ? scanTree(d.restoredRoot(R)) : null;
    res.m.restoreAll[t] = !got || (got.files === want.files && got.bytes === want.bytes) ? m
      : { ...m, state: 'failed', note: `restored ${got.files} files / ${got.bytes} B, source has ${want.files} / ${want.bytes}` };
  }
  rmSync(R, { recursive: true, force: true });
  if (!opts.keep) rmSync(W, { recursive: true, force: true });
  return res;
}

function fxcpStats(file: string): string | null {
  const txt = readText(file).trim();
  if (!txt) return null;
  try {
    const j = JSON.parse(txt) as { snapshot?: { id?: string }; stats?: Record<string, unknown> };
    const s = j.stats ?? {};
    const parts = ['files', 'bytes', 'newBytes', 'storedBytes'].filter((k) => typeof s[k] === 'number')
      .map((k) => `${k} ${k === 'files' ? s[k] : fmtBytes(s[k] as number)}`);
    return parts.length ? parts.join(', ') : null;
  } catch { return 'stdout was not one JSON document'; }
}
