// Start-up suite (issue 20's budget): the small commands whose time is mostly Node and fxcp
// starting, spawned directly as a user's shell runs them, in rounds with `node -e 0`:
//   fxcp --version; fxcp snap list STORE (3 snapshots of a 100-file tree); one file restored from
//   that store and from an FXAR archive of it.
// With --baseline-fxcp, another build's fxcp (a worktree of the commit before a change) runs the
// same rows in the same rounds, on a store and archive it made itself from the same tree, so the
// table shows before, after and the difference. Not a timed test: nothing fails on a figure.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  fmtBytes, isoNow, restoreOneStep, timedDirect, verifyRestored, type DirectStep, type DirectTimes, type Measure,
} from './bench-measure.js';
import { capture, errorLine, log, q, scanTree, sh, shortError, workDir } from './bench-proc.js';
import type { SuiteEnv } from './bench-rows.js';
import { renderStartup, type StartupRow } from './startup-report.js';

/** The tree: the small set (10,000 files of 4 KiB at factor 1) at this factor: 100 files. */
const SET = 'small';
const FACTOR = 0.01;
/** Timed rounds per row by default and at least (after timedDirectRounds' 3 untimed ones, which also write the code cache). */
export const STARTUP_RUNS = 21;

/** Method bullet for docs/BENCHMARKS.md (rendered into the generated header). */
export const STARTUP_METHOD = [
  `- Start-up suite (\`--suite startup\`, or \`--sets startup\`; part of the default run): the \`${SET}\` set at factor ${FACTOR} snapshotted three times (the tree, a file added, that file changed) and exported to an FXAR archive, untimed. Timed, spawned directly (no shell, no \`sync\`), ${STARTUP_RUNS} rounds (\`--startup-runs\`) after 3 untimed ones, each round also running \`env -u NODE_EXTRA_CA_CERTS node -e 0\`: \`fxcp --version\`, \`fxcp snap list STORE\`, \`fxcp snap restore STORE -o DIR --latest --file REL\` and the same from the archive (the median-size file, checked with \`cmp\`). With \`--baseline-fxcp PATH\` the other build runs the same rows in the same rounds (odd rounds in reverse order) on a store and archive it made itself; "after − before" and "over \`node -e 0\`" are medians of round-by-round differences.`,
];

interface Build {
  fxcp: string;
  tree: string;
  store: string;
  archive: string;
  restoreDir: string;
  /** Why this build's rows do not run (its setup failed), or null. */
  broken: string | null;
}

export async function runStartupSuite(env: SuiteEnv, baselineFxcp: string | null, runs = STARTUP_RUNS): Promise<{ key: string; md: string }> {
  const { ctx } = env;
  const W = join(workDir(), 'startup');
  rmSync(W, { recursive: true, force: true });
  mkdirSync(W, { recursive: true });
  try {
    const origin = join(env.dataFor(SET, FACTOR), SET);
    const ours = await prepare(ctx.opts.fxcp, join(W, 'ours'), origin, ctx.env);
    const base = baselineFxcp === null ? null : await prepare(baselineFxcp, join(W, 'base'), origin, ctx.env);
    const info = scanTree(ours.tree);
    const file = info.median;
    if (!file) throw new Error(`the ${SET} set at factor ${FACTOR} has no non-empty file`);
    const archiveBytes = ours.broken ? undefined : statSync(ours.archive).size;

    const rows: StartupRow[] = [];
    const row = async (name: string, command: string, step: (b: Build, name: string) => DirectStep, targetMs?: number, verify = false): Promise<void> => {
      log(`startup: ${command}`);
      const t = await pair(env, runs, ours, base, (b, who) => step(b, `startup-${name}-${who}`));
      if (verify) {
        const check = (m: Measure, b: Build): Promise<Measure> => verifyRestored(m, join(b.tree, file.rel), join(b.restoreDir, file.rel), file.rel);
        t.ours = await check(t.ours, ours);
        if (t.base && base) t.base = await check(t.base, base);
      }
      rows.push({ command, t, targetMs });
    };
    const cwd = W;
    await row('version', 'fxcp --version', (b, name) => ({ name, cwd, cmd: b.fxcp, args: ['--version'] }));
    await row('list', 'fxcp snap list STORE', (b, name) => ({ name, cwd, cmd: b.fxcp, args: ['snap', 'list', b.store] }));
    await row('restore1-store', 'fxcp snap restore STORE -o DIR --latest --file REL', (b, name) => restoreOneStep(name, b.fxcp, b.store, b.restoreDir, file.rel, cwd), 150, true);
    await row('restore1-archive', 'fxcp snap restore a.fxar -o DIR --latest --file REL', (b, name) => restoreOneStep(name, b.fxcp, b.archive, b.restoreDir, file.rel, cwd), 100, true);

    const setup = `Store: the \`${SET}\` set at factor ${FACTOR} (${info.files} files, ${fmtBytes(info.bytes)}), 3 snapshots; ` +
      `archive: \`fxcp snap export STORE -o a.fxar\` of it${archiveBytes !== undefined ? ` (${fmtBytes(archiveBytes)})` : ''}. ` +
      `Restored file: \`${file.rel}\` (${file.size} B), checked with cmp after the last run.` +
      (base ? ' Each build reads a store and an archive it made itself from the same tree.' : '');
    const md = renderStartup({
      date: isoNow(), setup, ours: await describeBuild(ctx.opts.fxcp),
      baseline: baselineFxcp === null ? null : { path: baselineFxcp, what: await describeBuild(baselineFxcp) }, rows,
    });
    return { key: `startup:${SET}@${FACTOR}`, md };
  } finally {
    if (!ctx.opts.keep) rmSync(W, { recursive: true, force: true });
  }
}

/** One row: ours (and the baseline's) in rounds with node; a build whose setup failed shows why. */
async function pair(env: SuiteEnv, runs: number, ours: Build, base: Build | null, step: (b: Build, who: string) => DirectStep): Promise<DirectTimes> {
  const failed = (b: Build): Measure => ({ state: 'failed', note: b.broken! });
  const runnable = [ours, base].filter((b): b is Build => b !== null && !b.broken);
  if (!runnable.length) {
    return { ours: failed(ours), node: { state: 'na', note: '—' }, runs, ...(base ? { base: failed(base) } : {}) };
  }
  const [first, second] = runnable.map((b) => step(b, b === ours ? 'ours' : 'base'));
  const t = await timedDirect(env.ctx, first!, runs, second);
  if (ours.broken) return { ours: failed(ours), node: t.node, runs: t.runs, base: t.ours };
  if (base?.broken) return { ...t, base: failed(base) };
  return t;
}

/**
 * A build's store and archive, untimed: the tree copied, snapshotted, a file added, snapshotted,
 * that file changed, snapshotted, and the store exported. The same steps for either build.
 */
async function prepare(fxcp: string, dir: string, origin: string, env: NodeJS.ProcessEnv): Promise<Build> {
  const b: Build = {
    fxcp, tree: join(dir, 'tree'), store: join(dir, 'store'), archive: join(dir, 'a.fxar'), restoreDir: join(dir, 'restore'), broken: null,
  };
  const fx = q(fxcp);
  const snap = `${fx} snap create ${q(b.tree)} ${q(b.store)} --json > /dev/null`;
  const added = q(join(b.tree, 'added.txt'));
  try {
    mkdirSync(dir, { recursive: true });
    // One step at a time, so a failure names the command that failed.
    for (const step of [
      `cp -a ${q(origin)} ${q(b.tree)}`, snap,
      `printf 'added\\n' > ${added}`, snap,
      `printf 'changed\\n' >> ${added}`, snap,
      `${fx} snap export ${q(b.store)} -o ${q(b.archive)}`,
    ]) await sh(step, dir, env);
  } catch (e) {
    log(`  startup setup with ${fxcp} failed: ${(e as Error).message}`);
    b.broken = `setup: ${shortError(e)}`;
  }
  return b;
}

/** "0.1.0, commit 27666f1 (with uncommitted changes)" for the checkout holding bin/fxcp. */
async function describeBuild(fxcp: string): Promise<string> {
  const root = dirname(dirname(fxcp));
  const version = errorLine(await capture(fxcp, ['--version'])) || 'version unknown';
  const commit = (await capture('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])).trim();
  const dirty = (await capture('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'])).trim();
  return `${version}${commit ? `, commit ${commit}${dirty ? ' with uncommitted changes' : ''}` : ''}`;
}
