// Lifecycle suite (issue 4): prune of a store with N snapshots (default 1,000) beside
// `restic forget --prune` and `borg prune` + `borg compact`, and `check --read-data` MB/s beside
// `restic check --read-data` and `borg check --verify-data`, in the same run.
//
// Prune setup (untimed, long at N = 1000): series v1 at --prune-factor is the tree; before snapshot i
// one 48 KiB file of 16 rotating slots is rewritten with fresh random bytes and 4 KiB in one v1 file
// are overwritten (both seeded by i, mtime 1720000000 + i), so every snapshot holds a little unique
// data that prune must free. Each tool takes snapshot i of the same tree (the three run at once:
// they share nothing but the read-only tree). restic and borg get distinct fake times one hour apart
// (`--time`, `--timestamp`): borg's --keep-last is really --keep-secondly and would merge snapshots
// made within one second. fxcp has no time option; its keep-last counts snapshots.
// Timed: the prune only, `--keep-last 10`, each run from a copy of the state before prune.
import { closeSync, mkdirSync, openSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fmtBytes, isoNow, timed, type Ctx } from './bench-measure.js';
import { listFiles, log, q, scanTree, sh, shOut, shortError, workDir } from './bench-proc.js';
import { blockedMeasure, missingPeers, renderRows, sizeOf, type Row, type SuiteEnv, type SuiteOptions } from './bench-rows.js';
import { content, Rng } from './bench-content.js';

export interface LifecycleOptions extends SuiteOptions {
  /** Snapshots made before the timed prune (--prune-snapshots). */
  pruneSnapshots: number;
  /** Scale of the series v1 tree the prune snapshots are made of (--prune-factor). */
  pruneFactor: number;
}

export const KEEP_LAST = 10;

export const LIFECYCLE_METHOD = [
  `- Lifecycle suite (\`--suite lifecycle\`), prune: series v1 at \`--prune-factor\` (default 0.05) is snapshotted \`--prune-snapshots\` times (default 1,000) by each tool, untimed; before each snapshot a 48 KiB file (16 rotating slots) gets new random bytes and 4 KiB of one v1 file are overwritten (seeded), so every snapshot leaves unique data behind. restic and borg get fake times one hour apart (\`--time\`, \`--timestamp\`; borg's \`--keep-last\` is per second). Timed: \`fxcp snap prune STORE --keep-last ${KEEP_LAST}\`, \`restic forget --keep-last ${KEEP_LAST} --prune\`, \`borg prune --keep-last ${KEEP_LAST}\` + \`borg compact\`; every run starts from a copy of the state before prune (repository and caches). Stored before/after = \`du --block-size=1\`; the snapshots left are counted after the last run.`,
  '- Lifecycle suite, check: the mixed set (at `--factor`) backed up once by each tool, untimed; timed: `fxcp store check STORE --read-data`, `restic check --read-data`, `borg check --verify-data`; MB/s = raw tree bytes ÷ wall, beside the repository size.',
];

type LTool = 'fxcp' | 'restic' | 'borg';
const LTOOLS: LTool[] = ['fxcp', 'restic', 'borg'];

interface State { dir: string; repo: string; env: NodeJS.ProcessEnv }

function toolStates(W: string, base: NodeJS.ProcessEnv): Record<LTool, State> {
  const st = (t: LTool): string => join(W, 'state', t);
  return {
    fxcp: { dir: st('fxcp'), repo: join(st('fxcp'), 'store'), env: { ...base, XDG_CACHE_HOME: join(st('fxcp'), 'xdg-cache') } },
    restic: { dir: st('restic'), repo: join(st('restic'), 'repo'), env: { ...base, RESTIC_CACHE_DIR: join(st('restic'), 'cache') } },
    borg: { dir: st('borg'), repo: join(st('borg'), 'repo'), env: { ...base, BORG_BASE_DIR: join(st('borg'), 'base') } },
  };
}

function blockedTools(env: SuiteEnv): Record<LTool, string | null> {
  const t = env.ctx.opts.tools;
  return {
    fxcp: t.has('fxcp') ? null : '—',
    restic: t.has('restic') ? missingPeers(env, 'restic') : '—',
    borg: t.has('borg') ? missingPeers(env, 'borg') : '—',
  };
}
const fxCmd = (ctx: Ctx<SuiteOptions>): string => q(ctx.opts.fxcp);

/** Fake snapshot time i hours after 2024-01-01 UTC, as restic (`2024-01-01 05:00:00`) and borg (`2024-01-01T05:00:00`) take it. */
function fakeTime(i: number): { restic: string; borg: string } {
  const iso = new Date(Date.UTC(2024, 0, 1) + i * 3600_000).toISOString().slice(0, 19);
  return { restic: iso.replace('T', ' '), borg: iso };
}

/** The deterministic change made to the tree before snapshot i (see the header). */
function mutate(src: string, i: number, victims: string[]): void {
  const r = new Rng(0x5eed0000 + i);
  const t = 1_720_000_000 + i;
  mkdirSync(join(src, 'bench-var'), { recursive: true });
  const slot = join(src, 'bench-var', `slot-${String(i % 16).padStart(2, '0')}.bin`);
  writeFileSync(slot, content(r, 'rand', 48 * 1024));
  utimesSync(slot, t, t);
  if (victims.length) {
    const v = victims[r.below(victims.length)]!;
    const fd = openSync(v, 'r+');
    try { writeSync(fd, content(r, 'rand', 4096), 0, 4096, 0); } finally { closeSync(fd); }
    utimesSync(v, t, t);
  }
}

async function countSnapshots(t: LTool, s: State, fx: string): Promise<number | undefined> {
  try {
    if (t === 'fxcp') return (JSON.parse(await shOut(`${fx} snap list ${q(s.repo)} --json`, s.dir, s.env)) as { snapshots: unknown[] }).snapshots.length;
    if (t === 'restic') return (JSON.parse(await shOut(`restic -q -r ${q(s.repo)} snapshots --json`, s.dir, s.env)) as unknown[]).length;
    return (await shOut(`borg list --short ${q(s.repo)}`, s.dir, s.env)).split('\n').filter(Boolean).length;
  } catch (e) { log(`  counting ${t} snapshots failed: ${(e as Error).message}`); return undefined; }
}

export async function runPruneBench(env: SuiteEnv): Promise<{ key: string; md: string }> {
  const ctx = env.ctx as Ctx<LifecycleOptions>;
  const { pruneSnapshots: N, pruneFactor: pf } = ctx.opts;
  const W = join(workDir(), 'lifecycle-prune');
  rmSync(W, { recursive: true, force: true });
  const src = join(W, 'src');
  mkdirSync(W, { recursive: true });
  await sh(`cp -a --reflink=auto ${q(join(env.dataFor('series', pf), 'series', 'v1'))} ${q(src)}`);
  const input = scanTree(src);
  const victims = collectVictims(src);
  const fx = fxCmd(ctx);
  const S = toolStates(W, ctx.env);
  const blocked = blockedTools(env);
  const setupErr: Partial<Record<LTool, string>> = {};
  const active = (): LTool[] => LTOOLS.filter((t) => !blocked[t] && !setupErr[t]);
  try {
    for (const t of active()) {
      mkdirSync(S[t].dir, { recursive: true });
      try {
        if (t === 'restic') await sh(`restic init -q -r ${q(S[t].repo)}`, W, S[t].env);
        if (t === 'borg') await sh(`borg init -e none ${q(S[t].repo)}`, W, S[t].env);
      } catch (e) { setupErr[t] = `setup: ${shortError(e)}`; }
    }
    log(`lifecycle prune: making ${N} snapshots of ${input.files}+ files (${fmtBytes(input.bytes)}) with ${active().join(', ') || 'no tool'}`);
    const t0 = Date.now();
    for (let i = 0; i < N && active().length; i++) {
      mutate(src, i, victims);
      const ft = fakeTime(i);
      const name = `s${String(i).padStart(5, '0')}`;
      const cmd: Record<LTool, string> = {
        fxcp: `${fx} snap create src ${q(S.fxcp.repo)} --json > /dev/null`,
        restic: `restic -q -r ${q(S.restic.repo)} backup --host bench --time ${q(ft.restic)} src`,
        borg: `borg create --compression zstd,3 --timestamp ${ft.borg} ${q(S.borg.repo)}::${name} src`,
      };
      await Promise.all(active().map(async (t) => {
        try { await sh(cmd[t], W, S[t].env); } catch (e) { setupErr[t] = `setup, snapshot ${i + 1}: ${shortError(e)}`; log(`  ${t}: ${setupErr[t]}`); }
      }));
      if ((i + 1) % 50 === 0 || i + 1 === N) {
        const spent = (Date.now() - t0) / 1000;
        log(`  ${i + 1}/${N} snapshots (${spent.toFixed(0)} s; about ${((spent / (i + 1)) * (N - i - 1) / 60).toFixed(0)} min left)`);
      }
    }
    const saved = (t: LTool): string => join(W, 'saved', t);
    const before: Partial<Record<LTool, number>> = {};
    for (const t of active()) {
      mkdirSync(join(W, 'saved'), { recursive: true });
      await sh(`cp -a ${q(S[t].dir)} ${q(saved(t))}`);
      before[t] = await sizeOf(S[t].repo);
    }

    const rows: Row[] = [];
    const prune: Record<LTool, string> = {
      fxcp: `${fx} snap prune ${q(S.fxcp.repo)} --keep-last ${KEEP_LAST}`,
      restic: `restic -q -r ${q(S.restic.repo)} forget --keep-last ${KEEP_LAST} --prune`,
      borg: `borg prune --keep-last ${KEEP_LAST} ${q(S.borg.repo)}\nborg compact ${q(S.borg.repo)}`,
    };
    const shown: Record<LTool, string> = {
      fxcp: `fxcp snap prune STORE --keep-last ${KEEP_LAST}`,
      restic: `restic forget --keep-last ${KEEP_LAST} --prune`,
      borg: `borg prune --keep-last ${KEEP_LAST} REPO && borg compact REPO`,
    };
    for (const t of LTOOLS) {
      const why = blocked[t] ?? setupErr[t] ?? null;
      if (why) { rows.push({ step: 'prune', tool: t, command: shown[t], m: blockedMeasure(why) }); continue; }
      const m = await timed({ ...ctx, env: S[t].env }, {
        name: `lifecycle-prune-${t}`, cwd: W, body: () => prune[t],
        prep: async () => { await sh(`rm -rf ${q(S[t].dir)}\ncp -a ${q(saved(t))} ${q(S[t].dir)}`); },
      });
      const after = m.state === 'ok' ? await sizeOf(S[t].repo) : undefined;
      const left = m.state === 'ok' ? await countSnapshots(t, S[t], fx) : undefined;
      const b = before[t];
      rows.push({
        step: 'prune', tool: t, command: shown[t], m, out: after,
        extra: [b !== undefined ? `${fmtBytes(b)} before` : '', left !== undefined ? `${left} of ${N} snapshots left` : ''].filter(Boolean).join('; '),
      });
    }
    const L = [`### lifecycle: prune ${N} snapshots (series v1 at factor ${pf})`, '',
      `${isoNow()}, median of ${ctx.opts.runs} run${ctx.opts.runs > 1 ? 's' : ''} (min–max). Tree: ${input.files} files, ${fmtBytes(input.bytes)} + 16 rotating 48 KiB files; ${N} snapshots, one change set each.`, ''];
    L.push(...renderRows(rows, { outLabel: 'stored after', extraLabel: 'before / left' }), '');
    const secs = (t: LTool): number | undefined => { const m = rows.find((r) => r.tool === t)?.m; return m?.state === 'ok' ? m.secs : undefined; };
    const f = secs('fxcp');
    const peersOk = [secs('restic'), secs('borg')];
    const target = f === undefined || peersOk.some((x) => x === undefined) ? 'not measured' : peersOk.every((x) => f < x!) ? 'met' : '**not met**';
    L.push('Target (issue 4): prune faster than both restic and borg: ' + target + '.', '');
    return { key: `lifecycle:prune${N}@${pf}`, md: L.join('\n') };
  } finally {
    if (!ctx.opts.keep) rmSync(W, { recursive: true, force: true });
  }
}

/** v1 files of at least 4 KiB, sorted by path (the files whose first 4 KiB a mutation may overwrite). */
function collectVictims(src: string): string[] {
  return listFiles(src).filter((f) => f.size >= 4096).map((f) => join(src, f.rel)).sort();
}

export async function runCheckBench(env: SuiteEnv): Promise<{ key: string; md: string }> {
  const ctx = env.ctx;
  const W = join(workDir(), 'lifecycle-check');
  rmSync(W, { recursive: true, force: true });
  mkdirSync(W, { recursive: true });
  const src = join(W, 'src');
  try {
    await sh(`cp -a --reflink=auto ${q(join(env.dataFor('mixed'), 'mixed'))} ${q(src)}`);
    const input = scanTree(src);
    const fx = fxCmd(ctx);
    const S = toolStates(W, ctx.env);
    const blocked = blockedTools(env);
    const setup: Record<LTool, string> = {
      fxcp: `${fx} snap create src ${q(S.fxcp.repo)} --json > /dev/null`,
      restic: `restic init -q -r ${q(S.restic.repo)}\nrestic -q -r ${q(S.restic.repo)} backup --host bench src`,
      borg: `borg init -e none ${q(S.borg.repo)}\nborg create --compression zstd,3 ${q(S.borg.repo)}::a src`,
    };
    const check: Record<LTool, [string, string]> = {
      fxcp: [`${fx} store check ${q(S.fxcp.repo)} --read-data`, 'fxcp store check STORE --read-data'],
      restic: [`restic -q -r ${q(S.restic.repo)} check --read-data`, 'restic check --read-data'],
      borg: [`borg check --verify-data ${q(S.borg.repo)}`, 'borg check --verify-data REPO'],
    };
    log(`lifecycle check: setup (${input.files} files, ${fmtBytes(input.bytes)})`);
    const rows: Row[] = [];
    for (const t of LTOOLS) {
      let why = blocked[t];
      if (!why) {
        mkdirSync(S[t].dir, { recursive: true });
        try { await sh(setup[t], W, S[t].env); } catch (e) { why = `setup: ${shortError(e)}`; }
      }
      if (why) { rows.push({ step: 'check, read all data', tool: t, command: check[t][1], m: blockedMeasure(why) }); continue; }
      const m = await timed({ ...ctx, env: S[t].env }, { name: `lifecycle-check-${t}`, cwd: W, body: () => check[t][0] });
      rows.push({ step: 'check, read all data', tool: t, command: check[t][1], m, bytes: input.bytes, out: await sizeOf(S[t].repo) });
    }
    const runs = ctx.opts.runs;
    const L = [`### lifecycle: check --read-data (mixed, factor ${ctx.opts.factor})`, '',
      `${isoNow()}, median of ${runs} run${runs > 1 ? 's' : ''} (min–max). Input: ${input.files} files, ${fmtBytes(input.bytes)}, one snapshot.`, ''];
    L.push(...renderRows(rows, { mbLabel: 'MB/s (raw ÷ wall)', outLabel: 'repository' }), '');
    return { key: `lifecycle:check@${ctx.opts.factor}`, md: L.join('\n') };
  } finally {
    if (!ctx.opts.keep) rmSync(W, { recursive: true, force: true });
  }
}
