// The real-files suite (`--suite real`, issue 25): fxcp, restic and borg on the `real` set
// (real-set.ts: ~30,000 real files, median under 1 KiB), in one run:
// - first snapshot from an empty store or repository, warm (the tree read just before) and cold
//   (`sync; echo 3 > /proc/sys/vm/drop_caches` just before each tool's run: root only), the
//   tools in rounds, so neither order favours one (borg drops what it reads from the page cache,
//   which made a tool run after it read cold);
// - everything on disk after v1; the bytes v2 adds to the state right after v1;
// - peak RSS and CPU (user + system, GNU time) of the first snapshot, per 1,000 files and per GiB;
// - an unchanged second snapshot; one-file restore (the median-size file of v2); restoring
//   everything of v2 (each run onto a new ext4, root only), beside `cp -a` of the tree, and
//   `tar -cf - | zstd -3 -T1` beside the first snapshot.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cellTime, fmtBytes, isoNow, NA, ratio, rssCell, timed, timedRounds, verifyRestored, type Measure, type Step } from './bench-measure.js';
import { du, log, q, scanTree, sh, workDir, type TreeInfo } from './bench-proc.js';
import { missingPeers, type SuiteEnv } from './bench-rows.js';
import { type BenchFs, canLoopMount, imageBytesFor, mountImageFs, unmountFs } from './loop-mount.js';
import { DEBIAN_PACKAGES, NPM_PACKAGES, REAL_SET_VERSION, REAL_V2, realSet } from './real-set.js';

const TOOLS = ['fxcp', 'restic', 'borg'] as const;
type Tool = (typeof TOOLS)[number];

export const REAL_METHOD = [
  `- Real-files suite (\`--suite real\`, issue 25): the \`real\` set (\`lib/bench/real-set.ts\`, version ${REAL_SET_VERSION}): ${NPM_PACKAGES.length} pinned npm packages (\`npm pack NAME@VERSION\`, unpacked) and ${DEBIAN_PACKAGES.length} pinned Debian bookworm packages (\`dpkg-deb -x\`, SHA-256 checked), fetched once into \`~/.cache/foxing-bench\`; v2 = ${REAL_V2.editShare * 100} % of the files with ${REAL_V2.insertBytes} bytes inserted in the middle, ${REAL_V2.removeShare * 100} % removed, ${REAL_V2.added} files of random bytes added (seeded). The three tools run in rounds; warm = the tree read just before, cold = \`echo 3 > /proc/sys/vm/drop_caches\` just before (each tool's run). CPU = user + system seconds of the step (GNU time), median of the runs. v2 starts from a copy of the state right after v1; "added" is its growth. Restores are of v2, checked by file count and bytes (one file: \`cmp\`); restoring everything, the tools and \`cp -a\` in rounds, each run onto an ext4 file system made for it (a loop-mounted image: ext4 skips inodes freed in the last minutes when it allocates, so in a directory emptied before each run, each run paid for the removal of the last one's files). The npm packages: ${NPM_PACKAGES.join(', ')}. The Debian packages: ${DEBIAN_PACKAGES.map((p) => p.file.split('/').pop()!.replace(/\.deb$/, '')).join(', ')}.`,
];

interface Commands {
  reset: () => Promise<void>;
  snapshot: (i: number, label: string) => string;
  restoreOne: (rel: string, out: string) => string;
  restoredOne: (rel: string, out: string) => string;
  restoreAll: (out: string) => string;
  restoredRoot: (out: string) => string;
  state: string;
  size: string;
}

export async function runRealSuite(env: SuiteEnv): Promise<{ key: string; md: string }> {
  const { ctx } = env;
  const { v1, v2 } = realSet(log);
  // The same layout as the snap suite: the harness's restic cache and BORG_BASE_DIR live there.
  const W = join(workDir(), 'run');
  rmSync(W, { recursive: true, force: true });
  mkdirSync(W, { recursive: true });
  const src = join(W, 'src');
  const R = join(W, 'restore');
  await sh(`cp -a ${q(v1)} ${q(src)}`);
  const input = scanTree(src);
  const fx = q(ctx.opts.fxcp);
  const st = (t: string): string => join(W, 'state', t);
  let borgLast = 'v1';
  const cmds: Record<Tool, Commands> = {
    fxcp: {
      state: st('fxcp'), size: join(st('fxcp'), 'store'),
      reset: async () => { rmSync(st('fxcp'), { recursive: true, force: true }); mkdirSync(st('fxcp'), { recursive: true }); },
      snapshot: () => `${fx} snap create src ${q(join(st('fxcp'), 'store'))} --json`,
      restoreOne: (rel, out) => `${fx} snap restore ${q(join(st('fxcp'), 'store'))} -o ${q(out)} --latest --file ${q(rel)}`,
      restoredOne: (rel, out) => join(out, rel),
      restoreAll: (out) => `${fx} snap restore ${q(join(st('fxcp'), 'store'))} -o ${q(out)} --latest`,
      restoredRoot: (out) => out,
    },
    restic: {
      state: st('restic'), size: join(st('restic'), 'repo'),
      reset: async () => {
        rmSync(st('restic'), { recursive: true, force: true });
        mkdirSync(st('restic'), { recursive: true });
        await sh(`restic init -q -r ${q(join(st('restic'), 'repo'))}`, W, ctx.env);
      },
      snapshot: () => `restic -q -r ${q(join(st('restic'), 'repo'))} backup --host bench src`,
      restoreOne: (rel, out) => `restic -q -r ${q(join(st('restic'), 'repo'))} restore latest --target ${q(out)} --include ${q(`/src/${rel}`)}`,
      restoredOne: (rel, out) => join(out, 'src', rel),
      restoreAll: (out) => `restic -q -r ${q(join(st('restic'), 'repo'))} restore latest --target ${q(out)}`,
      restoredRoot: (out) => join(out, 'src'),
    },
    borg: {
      state: st('borg'), size: join(st('borg'), 'repo'),
      reset: async () => {
        rmSync(st('borg'), { recursive: true, force: true });
        mkdirSync(st('borg'), { recursive: true });
        await sh(`borg init -e none ${q(join(st('borg'), 'repo'))}`, W, ctx.env);
      },
      snapshot: (i, label) => { borgLast = `${label}${i + 10}`; return `borg create --compression zstd,3 ${q(join(st('borg'), 'repo'))}::${borgLast} src`; },
      restoreOne: (rel) => `borg extract ${q(join(st('borg'), 'repo'))}::${borgLast} ${q(`src/${rel}`)}`,
      restoredOne: (rel, out) => join(out, 'src', rel),
      restoreAll: () => `borg extract ${q(join(st('borg'), 'repo'))}::${borgLast}`,
      restoredRoot: (out) => join(out, 'src'),
    },
  };
  const tools = TOOLS.filter((t) => ctx.opts.tools.has(t));
  const why = new Map<Tool, string>();
  for (const t of tools) {
    const w = t === 'fxcp' ? (existsSync(ctx.opts.fxcp) ? null : `not available (${ctx.opts.fxcp} missing)`) : missingPeers(env, t);
    if (w) { why.set(t, w); log(`real: ${t} ${w}`); }
  }
  const run = tools.filter((t) => !why.has(t));
  const m: Record<string, Partial<Record<Tool | 'ref', Measure>>> = {};
  const stored: Partial<Record<Tool, number>> = {};
  const added: Partial<Record<Tool, number>> = {};
  const isRoot = process.getuid?.() === 0;
  const readTree = async (): Promise<void> => { await sh('find src -type f -print0 | xargs -0 -r cat > /dev/null', W); };
  const dropCaches = async (): Promise<void> => { await sh('sync; echo 3 > /proc/sys/vm/drop_caches'); };
  const tarRef = 'tar -cf - src | zstd -3 -T1 -q -o /dev/null -f';
  const haveTar = missingPeers(env, 'tar', 'zstd') === null;

  // First snapshot, warm then cold: a fresh state before every run; the tools (and tar | zstd) in rounds.
  for (const [phase, prepTree] of [['warm', readTree], ['cold', dropCaches]] as const) {
    log(`real: first snapshot, ${phase} (${input.files} files, ${fmtBytes(input.bytes)})`);
    m[phase] = {};
    if (phase === 'cold' && !isRoot) { for (const t of run) m[phase]![t] = NA('not measured: drop_caches needs root'); continue; }
    const steps: Step[] = run.map((t) => ({ name: `real-${t}-first-${phase}`, cwd: W, body: (i: number) => cmds[t].snapshot(i, 'v1-'), prep: async () => { await cmds[t].reset(); await prepTree(); } }));
    if (haveTar) steps.push({ name: `real-tar-zstd-${phase}`, cwd: W, body: () => tarRef, prep: prepTree });
    const ms = await timedRounds(ctx, steps);
    run.forEach((t, k) => { m[phase]![t] = ms[k]!; });
    if (haveTar) m[phase]!.ref = ms[run.length]!;
  }
  // The state of the last warm... no: of the last run (cold, or warm when not root) is v1's.
  for (const t of run) stored[t] = await du(cmds[t].size);
  const saved = (t: Tool): string => join(W, 'saved', t);
  for (const t of run) { rmSync(saved(t), { recursive: true, force: true }); mkdirSync(join(W, 'saved'), { recursive: true }); await sh(`cp -a ${q(cmds[t].state)} ${q(saved(t))}`); }

  log('real: unchanged second snapshot');
  await readTree();
  m.second = {};
  const second = await timedRounds(ctx, run.map((t) => ({ name: `real-${t}-unchanged`, cwd: W, body: (i: number) => cmds[t].snapshot(i, 'same-') })));
  run.forEach((t, k) => { m.second![t] = second[k]!; });

  log('real: v2');
  await sh(`rsync -a --delete ${q(v2)}/ ${q(src)}/`);
  const inputV2 = scanTree(src);
  await readTree();
  m.v2 = {};
  const restoreState = (t: Tool) => async (): Promise<void> => { await sh(`rm -rf ${q(cmds[t].state)} && cp -a ${q(saved(t))} ${q(cmds[t].state)}`); };
  const v2m = await timedRounds(ctx, run.map((t) => ({ name: `real-${t}-v2`, cwd: W, body: (i: number) => cmds[t].snapshot(i, 'v2-'), prep: restoreState(t) })));
  for (const [k, t] of run.entries()) {
    m.v2![t] = v2m[k]!;
    const before = await du(saved(t));
    const after = await du(cmds[t].state);
    if (v2m[k]!.state === 'ok' && before !== undefined && after !== undefined) added[t] = after - before;
  }

  log('real: restores');
  const file = inputV2.median;
  m.one = {};
  m.all = {};
  const emptyR = async (): Promise<void> => { rmSync(R, { recursive: true, force: true }); mkdirSync(R, { recursive: true }); };
  for (const t of run) {
    if (!file || m.v2![t]!.state !== 'ok') { m.one![t] = { state: 'failed', note: 'skipped: v2 failed' }; continue; }
    const one = await timed(ctx, { name: `real-${t}-restore1`, cwd: t === 'borg' ? R : W, body: () => cmds[t].restoreOne(file.rel, R), prep: emptyR });
    m.one![t] = await verifyRestored(one, join(src, file.rel), cmds[t].restoredOne(file.rel, R), file.rel);
  }
  // Restoring everything, the tools and `cp -a` in rounds, each run into a file system made for
  // it (a new ext4 image, loop-mounted): the disk a restore after a loss writes to. Into a
  // directory of the work dir's ext4 instead, each run followed the removal of the last one's
  // ~30,000 files, and ext4 skips inodes freed in the last minutes when it allocates (its
  // find_inode_bit / recently_deleted scan of the inode tables): that run paid for the
  // removal, whichever tool it was. So paid, `cp -a` took 6.97 s against 1.7 s on a fresh file
  // system. Without loop mounts (not root), a directory of the work dir, emptied before each run.
  const freshFs = canLoopMount('ext4');
  const restoreSteps: Step[] = [];
  const restored: Array<{ who: Tool | 'ref'; root: () => string }> = [];
  const mounts = new Map<string, BenchFs>();
  // A directory of its own on that file system (beside ext4's lost+found).
  const target = (who: string): string => join(mounts.get(who)?.dir ?? W, `restore-${who}`);
  const freshTarget = (who: string) => async (): Promise<void> => {
    const old = mounts.get(who);
    if (old) unmountFs(old);
    if (freshFs === null) mounts.set(who, mountImageFs('ext4', join(W, `restore-fs-${who}`), imageBytesFor(inputV2.bytes, 2)));
    else rmSync(target(who), { recursive: true, force: true });
    mkdirSync(target(who), { recursive: true });
  };
  for (const t of run) {
    if (m.v2![t]!.state !== 'ok') { m.all![t] = { state: 'failed', note: 'skipped: v2 failed' }; continue; }
    // The cwd is read when the run starts, after its prep has made the file system.
    restoreSteps.push({ name: `real-${t}-restore-all`, get cwd() { return target(t); }, body: () => cmds[t].restoreAll(target(t)), prep: freshTarget(t) });
    restored.push({ who: t, root: () => cmds[t].restoredRoot(target(t)) });
  }
  restoreSteps.push({ name: 'real-cp-a', get cwd() { return target('ref'); }, body: () => `cp -a ${q(src)} ${q(join(target('ref'), 'src'))}`, prep: freshTarget('ref') });
  restored.push({ who: 'ref', root: () => join(target('ref'), 'src') });
  try {
    const all = await timedRounds(ctx, restoreSteps);
    for (const [k, { who, root }] of restored.entries()) {
      const got = all[k]!.state === 'ok' ? scanTree(root()) : null;
      m.all![who] = !got || (got.files === inputV2.files && got.bytes === inputV2.bytes) ? all[k]!
        : { ...all[k]!, state: 'failed', note: `restored ${got.files} files / ${got.bytes} B, v2 has ${inputV2.files} / ${inputV2.bytes}` };
    }
  } finally {
    for (const fs of mounts.values()) unmountFs(fs);
  }
  rmSync(R, { recursive: true, force: true });
  if (!ctx.opts.keep) rmSync(W, { recursive: true, force: true });
  for (const t of why.keys()) for (const row of Object.values(m)) row[t] = NA(why.get(t)!);
  return { key: `real:real@${REAL_SET_VERSION}`, md: renderReal({ input, inputV2, file, m, stored, added, tools, runs: ctx.opts.runs, root: isRoot, restoreFs: freshFs }) };
}

interface RealResult {
  input: TreeInfo; inputV2: TreeInfo; file: { rel: string; size: number } | null;
  m: Record<string, Partial<Record<Tool | 'ref', Measure>>>;
  stored: Partial<Record<Tool, number>>; added: Partial<Record<Tool, number>>;
  tools: readonly Tool[]; runs: number; root: boolean;
  /** Where the restores of everything wrote: a new ext4 per run, or (why not) a directory of the work dir. */
  restoreFs: string | null;
}

function renderReal(r: RealResult): string {
  const L = [`### Real files (set version ${REAL_SET_VERSION}): ${r.input.files.toLocaleString('en-US')} files, ${fmtBytes(r.input.bytes)} (v2: ${r.inputV2.files.toLocaleString('en-US')} files, ${fmtBytes(r.inputV2.bytes)})`, '',
    `${isoNow()}, median of ${r.runs} runs (min–max), on a machine shared with other jobs: compare the columns of one run, not runs with each other.`, ''];
  const peers = r.tools.filter((t) => t !== 'fxcp');
  L.push(`| step | ${r.tools.join(' | ')} | ${peers.map((p) => `fxcp vs ${p}`).join(' | ')} | reference |`, `|---|${r.tools.map(() => '---').join('|')}|${peers.map(() => '---').join('|')}|---|`);
  const secs = (x: Measure | undefined): number | undefined => (x?.state === 'ok' ? x.secs : undefined);
  const row = (label: string, cell: (t: Tool) => string, val: (t: Tool) => number | undefined, better: string, worse: string, ref = ''): void => {
    L.push(`| ${label} | ${r.tools.map(cell).join(' | ')} | ${peers.map((p) => ratio(val('fxcp'), val(p), better, worse)).join(' | ')} | ${ref} |`);
  };
  const timeRow = (label: string, k: string, ref = ''): void => row(label, (t) => cellTime(r.m[k]?.[t]), (t) => secs(r.m[k]?.[t]), 'faster', 'slower', ref);
  const refTime = (k: string, what: string): string => (r.m[k]?.ref ? `${what} ${cellTime(r.m[k]!.ref)}`.replace(/\|/g, '\\|') : '');
  timeRow('first snapshot, warm cache', 'warm', refTime('warm', '`tar -cf - | zstd -3 -T1`'));
  timeRow('first snapshot, cold cache', 'cold', refTime('cold', '`tar -cf - | zstd -3 -T1`'));
  const cpu = (k: string, per: number) => (t: Tool): number | undefined => { const x = r.m[k]?.[t]; return x?.state === 'ok' && x.cpuSecs !== undefined ? x.cpuSecs / per : undefined; };
  for (const k of ['warm', 'cold']) {
    const perK = cpu(k, r.input.files / 1000);
    const perG = cpu(k, r.input.bytes / 2 ** 30);
    row(`CPU, first snapshot ${k}: s per 1,000 files / per GiB`, (t) => (perK(t) === undefined ? '' : `${perK(t)!.toFixed(3)} / ${perG(t)!.toFixed(1)}`), perK, 'less', 'more');
  }
  row('peak RSS, first snapshot (warm)', (t) => rssCell(r.m.warm?.[t]), (t) => r.m.warm?.[t]?.rssKiB, 'less', 'more');
  row('stored after v1 (everything on disk)', (t) => (r.stored[t] === undefined ? '' : fmtBytes(r.stored[t]!)), (t) => r.stored[t], 'smaller', 'larger');
  timeRow('v2 snapshot', 'v2');
  row('v2 added', (t) => (r.added[t] === undefined ? '' : fmtBytes(r.added[t]!)), (t) => r.added[t], 'smaller', 'larger');
  timeRow('unchanged second snapshot', 'second');
  row('peak RSS, unchanged second snapshot', (t) => rssCell(r.m.second?.[t]), (t) => r.m.second?.[t]?.rssKiB, 'less', 'more');
  timeRow(`restore one file${r.file ? ` (${fmtBytes(r.file.size)})` : ''}`, 'one');
  timeRow(`restore everything (v2), ${r.restoreFs === null ? 'onto a new ext4' : 'into the work dir'}`, 'all', refTime('all', '`cp -a`'));
  row('peak RSS, restore everything', (t) => rssCell(r.m.all?.[t]), (t) => r.m.all?.[t]?.rssKiB, 'less', 'more');
  L.push('', `Commands as in the snap suite (\`fxcp snap create\`, \`restic backup\`, \`borg create --compression zstd,3\`); stored = \`du --block-size=1\` of the store or repository. ${r.root ? '' : 'Not run as root: no cold-cache figures. '}Restored file: \`${r.file?.rel ?? '-'}\`. ${r.restoreFs === null
    ? 'Restoring everything (and `cp -a`): each run onto an ext4 file system made for it (a loop-mounted image, `sync` included).'
    : `Restoring everything: into a directory of the work dir (no new file system per run: ${r.restoreFs}), which follows the removal of the last run's files.`}`);
  return L.join('\n');
}
