// Archive suite (issue 3): `fxcp snap export` / `snap import` / restore-from-archive beside
// `tar | zstd -3` and `borg export-tar` / `borg import-tar` in the same run.
//
//   mixed:  export MB/s (raw tree bytes ÷ wall), import MB/s, export | import through a pipe, and one
//           file restored from the archive (at factor 1 the archive is ~1.5 GiB of a 2 GiB tree).
//   series: v1 and v2 in one store, `export --all` → archive bytes ÷ raw bytes of v1 + v2 (target < 55 %),
//           beside two tar.zst archives (v1, v2) and the borg repository holding both.
// The stores and repositories exported from are made untimed beforehand (`snap create`, `borg create`).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { directFigures, fmtBytes, isoNow, NA, restoreOneStep, timedDirect, verifyRestored, type Ctx, type DirectTimes, type Measure } from './bench-measure.js';
import { log, q, scanTree, sh, shortError, workDir, type TreeInfo } from './bench-proc.js';
import {
  blockedBy, blockedMeasure, missingPeers, renderRows, runRow, sizeOf, verdict, type Row, type SuiteEnv, type SuiteOptions,
} from './bench-rows.js';

export const ARCHIVE_SETS = ['mixed', 'series'] as const;
export type ArchiveSet = (typeof ARCHIVE_SETS)[number];

/** Method bullets for docs/BENCHMARKS.md (rendered into the generated header). */
export const ARCHIVE_METHOD = [
  '- Archive suite (`--suite archive`; sets mixed and series): the store or repository is made untimed first (`fxcp snap create`, `borg create --compression zstd,3`). Timed: `fxcp snap export STORE -o a.fxar` (default codec), `fxcp snap export STORE --latest --format tar -o a.tar.zst`, `tar -cf - src | zstd -3 -T1` (same `-T1` as the snap suite\'s tar row: one compression thread), `borg export-tar REPO::a a.tar` and `a.tar.zst` (borg picks `zstd` by suffix); import: `fxcp snap import a.fxar NEW` and `fxcp snap import a.tar.zst NEW` (the tar+zstd row\'s archive), `zstd -dc a.tar.zst | tar -x` (unpack, the nearest tar equivalent), `borg import-tar -C zstd,3` (of borg\'s own .tar.zst); pipes: `fxcp snap export S | fxcp snap import - S2` and `borg export-tar REPO::a - | borg import-tar REPO2::a -`. Each run starts from an empty target. MB/s = raw tree bytes ÷ median wall (for series: raw bytes of v1 + v2).',
  '- Archive restore of one file: the median-size file, `fxcp snap restore a.fxar -o DIR --latest --file REL`, `zstd -dc a.tar.zst | tar -x src/REL`, `borg extract REPO::a src/REL`, checked with `cmp`; `node -e 0` through the same harness is the floor under any Node program. The archive size is printed beside it: only factor 1 gives the ~2 GiB tree of the target.',
  '- Series archive: v1 and v2 snapshotted into one store, `fxcp snap export STORE --all -o s.fxar`; its size ÷ (raw v1 + raw v2) is the "under 55 %" target, beside `tar | zstd -3 -T1` of v1 and of v2 (two archives) and borg (two `export-tar` .tar.zst and the repository holding both).',
];

interface Paths { W: string; src: string; store: string; store2: string; repo: string; repo2: string; out: string; R: string }

export async function runArchiveSuite(env: SuiteEnv, set: ArchiveSet): Promise<{ key: string; md: string }> {
  const { opts } = env.ctx;
  const W = join(workDir(), `archive-${set}`);
  rmSync(W, { recursive: true, force: true });
  const p: Paths = {
    W, src: join(W, 'src'), store: join(W, 'fx', 'store'), store2: join(W, 'fx', 'store2'),
    repo: join(W, 'borg', 'repo'), repo2: join(W, 'borg', 'repo2'), out: join(W, 'out'), R: join(W, 'restore'),
  };
  for (const d of [p.out, join(W, 'fx'), join(W, 'borg')]) mkdirSync(d, { recursive: true });
  // borg's cache and security dirs live with this suite's state, outside the measured repositories.
  const ctx: Ctx<SuiteOptions> = { ...env.ctx, env: { ...env.ctx.env, BORG_BASE_DIR: join(W, 'borg', 'base'), XDG_CACHE_HOME: join(W, 'fx', 'xdg-cache') } };
  const senv = { ...env, ctx };
  try {
    const md = set === 'mixed' ? await mixed(senv, p) : await series(senv, p);
    return { key: `archive:${set}@${opts.factor}`, md };
  } finally {
    if (!opts.keep) rmSync(W, { recursive: true, force: true });
  }
}

/** Which sides run, and why a side does not. */
function sides(env: SuiteEnv): { fxcp: string | null; tar: string | null; borg: string | null } {
  const t = env.ctx.opts.tools;
  const off = (name: string): string | null => (t.has(name) ? null : '—');
  return {
    fxcp: off('fxcp'),
    tar: off('tar') ?? missingPeers(env, 'tar', 'zstd'),
    borg: off('borg') ?? missingPeers(env, 'borg'),
  };
}

/** Untimed setup; returns null or the reason the side's rows fail. */
async function setup(what: string, script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  try { await sh(script, cwd, env); return null; } catch (e) {
    log(`  setup ${what} failed: ${(e as Error).message}`);
    return `setup: ${shortError(e)}`;
  }
}

const removing = (...paths: string[]) => async (): Promise<void> => { for (const x of paths) rmSync(x, { recursive: true, force: true }); };
const secsOf = (m: Measure): number | undefined => (m.state === 'ok' ? m.secs : undefined);

async function mixed(env: SuiteEnv, p: Paths): Promise<string> {
  const { ctx } = env;
  const fx = q(ctx.opts.fxcp);
  const e = ctx.env;
  await sh(`cp -a --reflink=auto ${q(join(env.dataFor('mixed'), 'mixed'))} ${q(p.src)}`);
  const input = scanTree(p.src);
  const file = input.median;
  const raw = input.bytes;
  const side = sides(env);
  log(`archive mixed: setup (${input.files} files, ${fmtBytes(raw)})`);
  const fxSetup = side.fxcp ?? await setup('fxcp store', `${fx} snap create src ${q(p.store)} --json > /dev/null`, p.W, e);
  const borgSetup = side.borg ?? await setup('borg repo', `borg init -e none ${q(p.repo)}\nborg create --compression zstd,3 ${q(p.repo)}::a src`, p.W, e);
  await sh(`find src -type f -print0 | xargs -0 -r cat > /dev/null`, p.W);

  const rows: Row[] = [];
  const o = (name: string): string => join(p.out, name);
  const borgFresh = async (): Promise<void> => { rmSync(p.repo2, { recursive: true, force: true }); await sh(`borg init -e none ${q(p.repo2)}`, p.W, e); };
  const row = (step: string, tool: string, command: string, bytes?: number): Omit<Row, 'm'> => ({ step, tool, command, bytes });
  const base = { cwd: p.W };

  // export
  const exFx = await runRow(ctx, rows, { ...base, row: row('export', 'fxcp', 'fxcp snap export STORE -o a.fxar', raw), name: 'archive-mixed-fxcp-export',
    blocked: fxSetup, body: `${fx} snap export ${q(p.store)} -o ${q(o('a.fxar'))}`, prep: removing(o('a.fxar')), outPaths: [o('a.fxar')] });
  await runRow(ctx, rows, { ...base, row: row('export', 'fxcp', 'fxcp snap export STORE --latest --format tar -o a.tar.zst', raw), name: 'archive-mixed-fxcp-export-tar',
    blocked: fxSetup, body: `${fx} snap export ${q(p.store)} --latest --format tar -o ${q(o('fx.tar.zst'))}`, prep: removing(o('fx.tar.zst')), outPaths: [o('fx.tar.zst')] });
  rmSync(o('fx.tar.zst'), { force: true });
  const exTar = await runRow(ctx, rows, { ...base, row: row('export', 'tar+zstd -3', 'tar -cf - src | zstd -3 -T1', raw), name: 'archive-mixed-tar-export',
    blocked: side.tar, body: `tar -cf - src | zstd -3 -T1 -q -o ${q(o('a.tar.zst'))}`, prep: removing(o('a.tar.zst')), outPaths: [o('a.tar.zst')] });
  await runRow(ctx, rows, { ...base, row: row('export', 'borg', 'borg export-tar REPO::a a.tar', raw), name: 'archive-mixed-borg-export-tar',
    blocked: borgSetup, body: `borg export-tar ${q(p.repo)}::a ${q(o('borg.tar'))}`, prep: removing(o('borg.tar')), outPaths: [o('borg.tar')] });
  rmSync(o('borg.tar'), { force: true });
  const exBorg = await runRow(ctx, rows, { ...base, row: row('export', 'borg', 'borg export-tar REPO::a a.tar.zst', raw), name: 'archive-mixed-borg-export-tzst',
    blocked: borgSetup, body: `borg export-tar ${q(p.repo)}::a ${q(o('borg.tar.zst'))}`, prep: removing(o('borg.tar.zst')), outPaths: [o('borg.tar.zst')] });

  // import, each run into an empty target
  await runRow(ctx, rows, { ...base, row: row('import', 'fxcp', 'fxcp snap import a.fxar NEW', raw), name: 'archive-mixed-fxcp-import',
    blocked: blockedBy(exFx.m, 'export'), body: `${fx} snap import ${q(o('a.fxar'))} ${q(p.store2)}`, prep: removing(p.store2), outPaths: [p.store2] });
  await runRow(ctx, rows, { ...base, row: row('import', 'fxcp', 'fxcp snap import a.tar.zst NEW', raw), name: 'archive-mixed-fxcp-import-tar',
    blocked: fxSetup ?? blockedBy(exTar.m, 'tar export'), body: `${fx} snap import ${q(o('a.tar.zst'))} ${q(p.store2)}`, prep: removing(p.store2), outPaths: [p.store2] });
  await runRow(ctx, rows, { ...base, row: row('import', 'tar+zstd -3', 'zstd -dc a.tar.zst | tar -x (unpack)', raw), name: 'archive-mixed-tar-unpack',
    blocked: blockedBy(exTar.m, 'export'), body: `mkdir -p unpack\nzstd -dc -q ${q(o('a.tar.zst'))} | tar -xf - -C unpack`, prep: removing(join(p.W, 'unpack')) });
  rmSync(join(p.W, 'unpack'), { recursive: true, force: true });
  await runRow(ctx, rows, { ...base, row: row('import', 'borg', 'borg import-tar -C zstd,3 REPO2::a a.tar.zst', raw), name: 'archive-mixed-borg-import-tar',
    blocked: blockedBy(exBorg.m, 'export'), body: `borg import-tar -C zstd,3 ${q(p.repo2)}::a ${q(o('borg.tar.zst'))}`, prep: borgFresh, outPaths: [p.repo2] });

  // export | import through a pipe
  await runRow(ctx, rows, { ...base, row: row('export \\| import', 'fxcp', 'fxcp snap export S | fxcp snap import - S2', raw), name: 'archive-mixed-fxcp-pipe',
    blocked: fxSetup, body: `${fx} snap export ${q(p.store)} | ${fx} snap import - ${q(p.store2)}`, prep: removing(p.store2), outPaths: [p.store2] });
  await runRow(ctx, rows, { ...base, row: row('export \\| import', 'borg', 'borg export-tar REPO::a - | borg import-tar REPO2::a -', raw), name: 'archive-mixed-borg-pipe',
    blocked: borgSetup, body: `borg export-tar ${q(p.repo)}::a - | borg import-tar -C zstd,3 ${q(p.repo2)}::a -`, prep: borgFresh, outPaths: [p.repo2] });

  // one file out of the archive
  let restoreMs: number | undefined;
  let direct: DirectTimes | undefined;
  if (file) {
    const fresh = async (): Promise<void> => { rmSync(p.R, { recursive: true, force: true }); mkdirSync(p.R, { recursive: true }); };
    const step = `restore 1 file (${fmtBytes(file.size)})`;
    const want = join(p.src, file.rel);
    const inTar = { want, got: join(p.R, 'src', file.rel), shown: `src/${file.rel}` };
    const r1 = await runRow(ctx, rows, { ...base, row: row(step, 'fxcp', 'fxcp snap restore a.fxar -o DIR --latest --file REL'), name: 'archive-mixed-fxcp-restore1',
      blocked: blockedBy(exFx.m, 'export'), body: `${fx} snap restore ${q(o('a.fxar'))} -o ${q(p.R)} --latest --file ${q(file.rel)}`, prep: fresh,
      verify: { want, got: join(p.R, file.rel), shown: file.rel } });
    const s1 = secsOf(r1.m);
    if (s1 !== undefined) {
      restoreMs = s1 * 1000;
      direct = await timedDirect(ctx, restoreOneStep('archive-mixed-fxcp-restore1-direct', ctx.opts.fxcp, o('a.fxar'), p.R, file.rel, p.W));
      direct.ours = await verifyRestored(direct.ours, want, join(p.R, file.rel), file.rel);
    }
    await runRow(ctx, rows, { ...base, row: row(step, 'tar+zstd -3', 'zstd -dc a.tar.zst | tar -x src/REL'), name: 'archive-mixed-tar-restore1',
      blocked: blockedBy(exTar.m, 'export'), body: `zstd -dc -q ${q(o('a.tar.zst'))} | tar -xf - -C ${q(p.R)} ${q(`src/${file.rel}`)}`, prep: fresh, verify: inTar });
    await runRow(ctx, rows, { cwd: p.R, row: row(step, 'borg', 'borg extract REPO::a src/REL'), name: 'archive-mixed-borg-restore1',
      blocked: borgSetup, body: `borg extract ${q(p.repo)}::a ${q(`src/${file.rel}`)}`, prep: fresh, verify: inTar });
    // The floor under fxcp's row, through the same harness: Node starting and exiting.
    await runRow(ctx, rows, { ...base, row: row(step, 'node -e 0', 'Node starting alone (not a restore)'), name: 'archive-mixed-node-start',
      blocked: null, body: 'env -u NODE_EXTRA_CA_CERTS node -e 0', prep: fresh });
  }

  const fxS = secsOf(exFx.m);
  const tarS = secsOf(exTar.m);
  const L = header('mixed', ctx, input);
  L.push(...renderRows(rows, { mbLabel: 'MB/s (raw ÷ wall)', outLabel: 'output' }), '');
  if (file) L.push(`Restored file: \`${file.rel}\` (${file.size} B), checked with cmp.`, '');
  L.push('Targets (issue 3):', '');
  const both = fxS !== undefined && tarS !== undefined;
  L.push(`- export at least as fast as \`tar | zstd -3\`: ${both ? `${(raw / fxS / 1e6).toFixed(0)} vs ${(raw / tarS / 1e6).toFixed(0)} MB/s: ` : ''}${verdict(both ? fxS <= tarS : undefined)}`);
  const sizeNote = exFx.out !== undefined ? `a ${fmtBytes(exFx.out)} archive of a ${fmtBytes(raw)} tree` : 'the archive';
  const honest = ctx.opts.factor >= 1 ? '' : ` (factor ${ctx.opts.factor}: the target is for a ~2 GiB tree, factor 1)`;
  L.push(`- single-file restore from ${sizeNote} under 100 ms${honest}, whole process: ` + (direct
    ? directFigures(direct, 100) + (restoreMs !== undefined ? ` (the table's row, in bash with \`sync\`: ${restoreMs.toFixed(0)} ms)` : '')
    : `${restoreMs !== undefined ? `${restoreMs.toFixed(0)} ms: ` : ''}${verdict(restoreMs !== undefined ? restoreMs < 100 : undefined)}`));
  L.push('');
  return L.join('\n');
}

async function series(env: SuiteEnv, p: Paths): Promise<string> {
  const { ctx } = env;
  const fx = q(ctx.opts.fxcp);
  const e = ctx.env;
  const dataDir = env.dataFor('series');
  const [v1, v2] = [join(dataDir, 'series', 'v1'), join(dataDir, 'series', 'v2')];
  const i1 = scanTree(v1);
  const i2 = scanTree(v2);
  const raw = i1.bytes + i2.bytes;
  const side = sides(env);
  log(`archive series: setup v1 + v2 (${fmtBytes(raw)} raw)`);
  // Both tools snapshot the same path `src`, holding v1 and then v2 (and v1 again for the next tool).
  await sh(`cp -a --reflink=auto ${q(v1)} ${q(p.src)}`);
  const twice = (v1cmd: string, v2cmd: string): string => `${v1cmd}\nrsync -a --delete ${q(v2)}/ src/\n${v2cmd}\nrsync -a --delete ${q(v1)}/ src/`;
  const fxSetup = side.fxcp ?? await setup('fxcp store', twice(`${fx} snap create src ${q(p.store)} --json > /dev/null`, `${fx} snap create src ${q(p.store)} --json > /dev/null`), p.W, e);
  const borgSetup = side.borg ?? await setup('borg repo', `borg init -e none ${q(p.repo)}\n${twice(`borg create --compression zstd,3 ${q(p.repo)}::v1 src`, `borg create --compression zstd,3 ${q(p.repo)}::v2 src`)}`, p.W, e);

  const rows: Row[] = [];
  const o = (name: string): string => join(p.out, name);
  const pct = (n: number | undefined): string | undefined => (n === undefined ? undefined : `${((n / raw) * 100).toFixed(1)} % of raw v1+v2`);
  const withPct = (r: Row): Row => { r.extra = pct(r.out); return r; };
  const row = (step: string, tool: string, command: string): Omit<Row, 'm'> => ({ step, tool, command, bytes: raw });
  const base = { cwd: p.W };
  const seriesDir = q(join(dataDir, 'series'));

  const exFx = withPct(await runRow(ctx, rows, { ...base, row: row('export v1+v2', 'fxcp', 'fxcp snap export STORE --all -o s.fxar'), name: 'archive-series-fxcp-export',
    blocked: fxSetup, body: `${fx} snap export ${q(p.store)} --all -o ${q(o('s.fxar'))}`, prep: removing(o('s.fxar')), outPaths: [o('s.fxar')] }));
  withPct(await runRow(ctx, rows, { ...base, row: row('export v1+v2', 'tar+zstd -3', 'tar -cf - v1 | zstd -3 -T1; the same for v2'), name: 'archive-series-tar-export',
    blocked: side.tar, body: ['v1', 'v2'].map((v) => `tar -C ${seriesDir} -cf - ${v} | zstd -3 -T1 -q -o ${q(o(`${v}.tar.zst`))}`).join('\n'),
    prep: removing(o('v1.tar.zst'), o('v2.tar.zst')), outPaths: [o('v1.tar.zst'), o('v2.tar.zst')] }));
  withPct(await runRow(ctx, rows, { ...base, row: row('export v1+v2', 'borg', 'borg export-tar REPO::v1 v1.tar.zst; the same for v2'), name: 'archive-series-borg-export',
    blocked: borgSetup, body: ['v1', 'v2'].map((v) => `borg export-tar ${q(p.repo)}::${v} ${q(o(`b${v}.tar.zst`))}`).join('\n'),
    prep: removing(o('bv1.tar.zst'), o('bv2.tar.zst')), outPaths: [o('bv1.tar.zst'), o('bv2.tar.zst')] }));
  for (const [tool, what, path, blocked] of [['fxcp', 'du STORE (v1 + v2)', p.store, fxSetup], ['borg', 'du REPO (v1 + v2)', p.repo, borgSetup]] as const) {
    const size = blocked ? undefined : await sizeOf(path);
    rows.push({ step: 'stored v1+v2', tool, command: what, m: blocked ? blockedMeasure(blocked) : NA('—'), out: size, extra: pct(size) });
  }
  await runRow(ctx, rows, { ...base, row: row('import', 'fxcp', 'fxcp snap import s.fxar NEW'), name: 'archive-series-fxcp-import',
    blocked: blockedBy(exFx.m, 'export'), body: `${fx} snap import ${q(o('s.fxar'))} ${q(p.store2)}`, prep: removing(p.store2), outPaths: [p.store2] });
  await runRow(ctx, rows, { ...base, row: row('export \\| import', 'fxcp', 'fxcp snap export S --all | fxcp snap import - S2'), name: 'archive-series-fxcp-pipe',
    blocked: fxSetup, body: `${fx} snap export ${q(p.store)} --all | ${fx} snap import - ${q(p.store2)}`, prep: removing(p.store2), outPaths: [p.store2] });

  const L = header('series', ctx, i1, i2);
  L.push(...renderRows(rows, { mbLabel: 'MB/s (raw v1+v2 ÷ wall)', outLabel: 'output', extraLabel: 'size' }), '');
  L.push('Targets (issue 3):', '');
  const ratioOk = exFx.out !== undefined ? exFx.out / raw < 0.55 : undefined;
  L.push(`- \`export --all\` of v1 + v2 under 55 % of their raw bytes (${fmtBytes(raw)}): ${ratioOk !== undefined ? `${pct(exFx.out)}: ` : ''}${verdict(ratioOk)}`);
  L.push('');
  return L.join('\n');
}

function header(set: ArchiveSet, ctx: Ctx<SuiteOptions>, a: TreeInfo, b?: TreeInfo): string[] {
  const runs = ctx.opts.runs;
  const input = b
    ? `v1: ${a.files} files, ${fmtBytes(a.bytes)}; v2: ${b.files} files, ${fmtBytes(b.bytes)}`
    : `${a.files} files, ${fmtBytes(a.bytes)}`;
  return [`### archive: ${set} (factor ${ctx.opts.factor})`, '', `${isoNow()}, median of ${runs} run${runs > 1 ? 's' : ''} (min–max). Input: ${input}.`, ''];
}

