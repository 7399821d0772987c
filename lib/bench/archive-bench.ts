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
import { fmtBytes, isoNow, NA, timed, verifyRestored, type Ctx, type Measure } from './bench-measure.js';
import { log, q, scanTree, sh, workDir, type TreeInfo } from './bench-proc.js';
import { missingPeers, renderRows, sizeOf, verdict, type Row, type SuiteEnv, type SuiteOptions } from './bench-rows.js';

export const ARCHIVE_SETS = ['mixed', 'series'] as const;
export type ArchiveSet = (typeof ARCHIVE_SETS)[number];

/** Method bullets for docs/BENCHMARKS.md (rendered into the generated header). */
export const ARCHIVE_METHOD = [
  '- Archive suite (`--suite archive`; sets mixed and series): the store or repository is made untimed first (`fxcp snap create`, `borg create --compression zstd,3`). Timed: `fxcp snap export STORE -o a.fxar` (default codec), `fxcp snap export STORE --latest --format tar -o a.tar.zst`, `tar -cf - src | zstd -3 -T1` (same `-T1` as the snap suite\'s tar row: one compression thread), `borg export-tar REPO::a a.tar` and `a.tar.zst` (borg picks `zstd` by suffix); import: `fxcp snap import a.fxar NEW`, `zstd -dc a.tar.zst | tar -x` (unpack, the nearest tar equivalent), `borg import-tar -C zstd,3`; pipes: `fxcp snap export S | fxcp snap import - S2` and `borg export-tar REPO::a - | borg import-tar REPO2::a -`. Each run starts from an empty target. MB/s = raw tree bytes ÷ median wall (for series: raw bytes of v1 + v2).',
  '- Archive restore of one file: the median-size file, `fxcp snap restore a.fxar -o DIR --latest --file REL`, `zstd -dc a.tar.zst | tar -x src/REL`, `borg extract REPO::a src/REL`, checked with `cmp`. The archive size is printed beside it: only factor 1 gives the ~2 GiB tree of the target.',
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
  const off = (name: string): string | null => (t.has(name) ? null : NA('—').note!);
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
    return `setup: ${(e as Error).message}`;
  }
}

const failed = (note: string): Measure => ({ state: 'failed', note });
const skip = (why: string): Measure => (why === '—' ? NA('—') : why.startsWith('not available') ? NA(why) : failed(why));

async function mixed(env: SuiteEnv, p: Paths): Promise<string> {
  const { ctx } = env;
  const node = q(process.execPath);
  const fx = `${node} ${q(ctx.opts.fxcp)}`;
  const e = ctx.env;
  await sh(`cp -a --reflink=auto ${q(join(env.dataFor('mixed'), 'mixed'))} ${q(p.src)}`);
  const input = scanTree(p.src);
  const file = input.median;
  const raw = input.bytes;
  const side = sides(env);
  log(`archive mixed: setup (${input.files} files, ${(raw / 1048576).toFixed(1)} MiB)`);
  const fxSetup = side.fxcp ?? await setup('fxcp store', `${fx} snap create src ${q(p.store)} --json > /dev/null`, p.W, e);
  const borgSetup = side.borg ?? await setup('borg repo', `borg init -e none ${q(p.repo)}\nborg create --compression zstd,3 ${q(p.repo)}::a src`, p.W, e);
  await sh(`find src -type f -print0 | xargs -0 -r cat > /dev/null`, p.W);

  const rows: Row[] = [];
  const fxar = join(p.out, 'a.fxar');
  const tarZst = join(p.out, 'a.tar.zst');
  const borgZst = join(p.out, 'borg.tar.zst');
  const reset = (...paths: string[]) => async (): Promise<void> => { for (const x of paths) rmSync(x, { recursive: true, force: true }); };
  const borgFresh = async (): Promise<void> => { rmSync(p.repo2, { recursive: true, force: true }); await sh(`borg init -e none ${q(p.repo2)}`, p.W, e); };
  const run = async (r: Omit<Row, 'm'>, name: string, blocked: string | null, body: string, prep?: () => Promise<void>, cwd = p.W): Promise<Measure> => {
    const m = blocked ? skip(blocked) : await timed(ctx, { name: `archive-mixed-${name}`, cwd, body: () => body, prep });
    rows.push({ ...r, m });
    return m;
  };
  const after = (m: Measure, what: string): string | null => (m.state === 'ok' ? null : m.state === 'na' ? m.note! : `skipped: ${what} failed`);

  // export
  const exFx = await run({ step: 'export', tool: 'fxcp', command: 'fxcp snap export STORE -o a.fxar', bytes: raw }, 'fxcp-export', fxSetup,
    `${fx} snap export ${q(p.store)} -o ${q(fxar)}`, reset(fxar));
  rows[rows.length - 1]!.out = await sizeOf(fxar);
  await run({ step: 'export', tool: 'fxcp', command: 'fxcp snap export STORE --latest --format tar -o a.tar.zst', bytes: raw }, 'fxcp-export-tar', fxSetup,
    `${fx} snap export ${q(p.store)} --latest --format tar -o ${q(join(p.out, 'fx.tar.zst'))}`, reset(join(p.out, 'fx.tar.zst')));
  rows[rows.length - 1]!.out = await sizeOf(join(p.out, 'fx.tar.zst'));
  const exTar = await run({ step: 'export', tool: 'tar+zstd -3', command: 'tar -cf - src | zstd -3 -T1', bytes: raw }, 'tar-export', side.tar,
    `tar -cf - src | zstd -3 -T1 -q -o ${q(tarZst)}`, reset(tarZst));
  rows[rows.length - 1]!.out = await sizeOf(tarZst);
  await run({ step: 'export', tool: 'borg', command: 'borg export-tar REPO::a a.tar', bytes: raw }, 'borg-export-tar', borgSetup,
    `borg export-tar ${q(p.repo)}::a ${q(join(p.out, 'borg.tar'))}`, reset(join(p.out, 'borg.tar')));
  rows[rows.length - 1]!.out = await sizeOf(join(p.out, 'borg.tar'));
  rmSync(join(p.out, 'borg.tar'), { force: true });
  const exBorg = await run({ step: 'export', tool: 'borg', command: 'borg export-tar REPO::a a.tar.zst', bytes: raw }, 'borg-export-tzst', borgSetup,
    `borg export-tar ${q(p.repo)}::a ${q(borgZst)}`, reset(borgZst));
  rows[rows.length - 1]!.out = await sizeOf(borgZst);

  // import (each run into an empty target)
  await run({ step: 'import', tool: 'fxcp', command: 'fxcp snap import a.fxar NEW', bytes: raw }, 'fxcp-import', after(exFx, 'export'),
    `${fx} snap import ${q(fxar)} ${q(p.store2)}`, reset(p.store2));
  rows[rows.length - 1]!.out = await sizeOf(p.store2);
  await run({ step: 'import', tool: 'tar+zstd -3', command: 'zstd -dc a.tar.zst | tar -x (unpack)', bytes: raw }, 'tar-unpack', after(exTar, 'export'),
    `mkdir -p unpack\nzstd -dc -q ${q(tarZst)} | tar -xf - -C unpack`, reset(join(p.W, 'unpack')));
  rmSync(join(p.W, 'unpack'), { recursive: true, force: true });
  await run({ step: 'import', tool: 'borg', command: 'borg import-tar -C zstd,3 REPO2::a a.tar.zst', bytes: raw }, 'borg-import-tar', after(exBorg, 'export'),
    `borg import-tar -C zstd,3 ${q(p.repo2)}::a ${q(borgZst)}`, borgFresh);
  rows[rows.length - 1]!.out = await sizeOf(p.repo2);

  // pipe: export | import
  await run({ step: 'export \\| import', tool: 'fxcp', command: 'fxcp snap export S | fxcp snap import - S2', bytes: raw }, 'fxcp-pipe', fxSetup,
    `${fx} snap export ${q(p.store)} | ${fx} snap import - ${q(p.store2)}`, reset(p.store2));
  await run({ step: 'export \\| import', tool: 'borg', command: 'borg export-tar REPO::a - | borg import-tar REPO2::a -', bytes: raw }, 'borg-pipe', borgSetup,
    `borg export-tar ${q(p.repo)}::a - | borg import-tar -C zstd,3 ${q(p.repo2)}::a -`, borgFresh);

  // one file from the archive
  let restoreMs: number | undefined;
  if (file) {
    const fresh = reset(p.R);
    const mk = async (): Promise<void> => { await fresh(); mkdirSync(p.R, { recursive: true }); };
    const step = `restore 1 file (${fmtBytes(file.size)})`;
    const m1 = await run({ step, tool: 'fxcp', command: 'fxcp snap restore a.fxar -o DIR --latest --file REL' }, 'fxcp-restore1', after(exFx, 'export'),
      `${fx} snap restore ${q(fxar)} -o ${q(p.R)} --latest --file ${q(file.rel)}`, mk);
    rows[rows.length - 1]!.m = await verifyRestored(m1, join(p.src, file.rel), join(p.R, file.rel), file.rel);
    if (rows[rows.length - 1]!.m.state === 'ok') restoreMs = rows[rows.length - 1]!.m.secs! * 1000;
    const m2 = await run({ step, tool: 'tar+zstd -3', command: 'zstd -dc a.tar.zst | tar -x src/REL' }, 'tar-restore1', after(exTar, 'export'),
      `zstd -dc -q ${q(tarZst)} | tar -xf - -C ${q(p.R)} ${q(`src/${file.rel}`)}`, mk);
    rows[rows.length - 1]!.m = await verifyRestored(m2, join(p.src, file.rel), join(p.R, 'src', file.rel), `src/${file.rel}`);
    const m3 = await run({ step, tool: 'borg', command: 'borg extract REPO::a src/REL' }, 'borg-restore1', borgSetup,
      `borg extract ${q(p.repo)}::a ${q(`src/${file.rel}`)}`, mk, p.R);
    rows[rows.length - 1]!.m = await verifyRestored(m3, join(p.src, file.rel), join(p.R, 'src', file.rel), `src/${file.rel}`);
  }

  const secs = (m: Measure): number | undefined => (m.state === 'ok' ? m.secs : undefined);
  const fxS = secs(exFx);
  const tarS = secs(exTar);
  const archiveSize = rows[0]!.out;
  const L = header('mixed', ctx, input);
  L.push(...renderRows(rows, { mbLabel: 'MB/s (raw ÷ wall)', outLabel: 'output' }), '');
  if (file) L.push(`Restored file: \`${file.rel}\` (${file.size} B), checked with cmp.`, '');
  L.push('Targets (issue 3):', '');
  const both = fxS !== undefined && tarS !== undefined;
  L.push(`- export at least as fast as \`tar | zstd -3\`: ${both ? `${(raw / fxS / 1e6).toFixed(0)} vs ${(raw / tarS / 1e6).toFixed(0)} MB/s: ` : ''}${verdict(both ? fxS <= tarS : undefined)}`);
  const sizeNote = archiveSize !== undefined ? `a ${fmtBytes(archiveSize)} archive of a ${fmtBytes(raw)} tree` : 'the archive';
  const honest = ctx.opts.factor >= 1 ? '' : ` (factor ${ctx.opts.factor}: the target is for a ~2 GiB tree, factor 1)`;
  L.push(`- single-file restore from ${sizeNote} under 100 ms${honest}: ${restoreMs !== undefined ? `${restoreMs.toFixed(0)} ms: ` : ''}${verdict(restoreMs !== undefined ? restoreMs < 100 : undefined)}`);
  L.push('');
  return L.join('\n');
}

async function series(env: SuiteEnv, p: Paths): Promise<string> {
  const { ctx } = env;
  const node = q(process.execPath);
  const fx = `${node} ${q(ctx.opts.fxcp)}`;
  const e = ctx.env;
  const dataDir = env.dataFor('series');
  const v1 = join(dataDir, 'series', 'v1');
  const v2 = join(dataDir, 'series', 'v2');
  const i1 = scanTree(v1);
  const i2 = scanTree(v2);
  const raw = i1.bytes + i2.bytes;
  const side = sides(env);
  log(`archive series: setup v1 + v2 (${((raw) / 1048576).toFixed(1)} MiB raw)`);
  await sh(`cp -a --reflink=auto ${q(v1)} ${q(p.src)}`);
  const fxSetup = side.fxcp ?? await setup('fxcp store', `${fx} snap create src ${q(p.store)} --json > /dev/null\nrsync -a --delete ${q(v2)}/ src/\n${fx} snap create src ${q(p.store)} --json > /dev/null\nrsync -a --delete ${q(v1)}/ src/`, p.W, e);
  const borgSetup = side.borg ?? await setup('borg repo', `borg init -e none ${q(p.repo)}\nborg create --compression zstd,3 ${q(p.repo)}::v1 src\nrsync -a --delete ${q(v2)}/ src/\nborg create --compression zstd,3 ${q(p.repo)}::v2 src\nrsync -a --delete ${q(v1)}/ src/`, p.W, e);

  const rows: Row[] = [];
  const fxar = join(p.out, 's.fxar');
  const reset = (...paths: string[]) => async (): Promise<void> => { for (const x of paths) rmSync(x, { recursive: true, force: true }); };
  const run = async (r: Omit<Row, 'm'>, name: string, blocked: string | null, body: string, prep?: () => Promise<void>): Promise<Measure> => {
    const m = blocked ? skip(blocked) : await timed(ctx, { name: `archive-series-${name}`, cwd: p.W, body: () => body, prep });
    rows.push({ ...r, m });
    return m;
  };
  const pct = (n: number | undefined): string | undefined => (n === undefined ? undefined : `${((n / raw) * 100).toFixed(1)} % of raw v1+v2`);

  const exFx = await run({ step: 'export v1+v2', tool: 'fxcp', command: 'fxcp snap export STORE --all -o s.fxar', bytes: raw }, 'fxcp-export', fxSetup,
    `${fx} snap export ${q(p.store)} --all -o ${q(fxar)}`, reset(fxar));
  const fxarSize = await sizeOf(fxar);
  Object.assign(rows[rows.length - 1]!, { out: fxarSize, extra: pct(fxarSize) });
  const tv1 = join(p.out, 'v1.tar.zst');
  const tv2 = join(p.out, 'v2.tar.zst');
  await run({ step: 'export v1+v2', tool: 'tar+zstd -3', command: 'tar -cf - v1 | zstd -3 -T1; the same for v2', bytes: raw }, 'tar-export', side.tar,
    `tar -C ${q(join(dataDir, 'series'))} -cf - v1 | zstd -3 -T1 -q -o ${q(tv1)}\ntar -C ${q(join(dataDir, 'series'))} -cf - v2 | zstd -3 -T1 -q -o ${q(tv2)}`, reset(tv1, tv2));
  const tarSize = sum(await sizeOf(tv1), await sizeOf(tv2));
  Object.assign(rows[rows.length - 1]!, { out: tarSize, extra: pct(tarSize) });
  const bv1 = join(p.out, 'b1.tar.zst');
  const bv2 = join(p.out, 'b2.tar.zst');
  await run({ step: 'export v1+v2', tool: 'borg', command: 'borg export-tar REPO::v1 v1.tar.zst; the same for v2', bytes: raw }, 'borg-export', borgSetup,
    `borg export-tar ${q(p.repo)}::v1 ${q(bv1)}\nborg export-tar ${q(p.repo)}::v2 ${q(bv2)}`, reset(bv1, bv2));
  const borgTar = sum(await sizeOf(bv1), await sizeOf(bv2));
  Object.assign(rows[rows.length - 1]!, { out: borgTar, extra: pct(borgTar) });
  for (const [tool, what, path, blocked] of [['fxcp', 'du STORE (v1 + v2)', p.store, fxSetup], ['borg', 'du REPO (v1 + v2)', p.repo, borgSetup]] as const) {
    const size = blocked ? undefined : await sizeOf(path);
    rows.push({ step: 'stored v1+v2', tool, command: what, m: blocked ? skip(blocked) : NA('—'), out: size, extra: pct(size) });
  }
  await run({ step: 'import', tool: 'fxcp', command: 'fxcp snap import s.fxar NEW', bytes: raw }, 'fxcp-import', exFx.state === 'ok' ? null : exFx.state === 'na' ? exFx.note! : 'skipped: export failed',
    `${fx} snap import ${q(fxar)} ${q(p.store2)}`, reset(p.store2));
  rows[rows.length - 1]!.out = await sizeOf(p.store2);
  await run({ step: 'export \\| import', tool: 'fxcp', command: 'fxcp snap export S --all | fxcp snap import - S2', bytes: raw }, 'fxcp-pipe', fxSetup,
    `${fx} snap export ${q(p.store)} --all | ${fx} snap import - ${q(p.store2)}`, reset(p.store2));
  rows[rows.length - 1]!.out = await sizeOf(p.store2);

  const L = header('series', ctx, i1, i2);
  L.push(...renderRows(rows, { mbLabel: 'MB/s (raw v1+v2 ÷ wall)', outLabel: 'output', extraLabel: 'size' }), '');
  L.push('Targets (issue 3):', '');
  const ratioOk = fxarSize !== undefined && exFx.state === 'ok' ? fxarSize / raw < 0.55 : undefined;
  L.push(`- \`export --all\` of v1 + v2 under 55 % of their raw bytes (${fmtBytes(raw)}): ${ratioOk !== undefined ? `${pct(fxarSize)}: ` : ''}${verdict(ratioOk)}`);
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

const sum = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a + b);
