// The bench harness's options: which suites, sets and tools run, where, and how often
// (`npm run bench -- --help` prints USAGE). Pure: parseBenchArgs reads argv and throws on bad input.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SETS, isSetName, type SetName } from './gen-dataset.js';
import { STARTUP_RUNS } from './startup-bench.js';
import { parseFsList } from './copy-bench.js';
import { FS_KINDS, type FsKind } from './loop-mount.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const TOOLS = ['fxcp', 'restic', 'borg', 'tar', 'ref'] as const;
export type Tool = (typeof TOOLS)[number];
export const TOOL_LABEL: Record<Tool, string> = { fxcp: 'fxcp', restic: 'restic', borg: 'borg zstd,3', tar: 'tar+zstd -3', ref: 'cp -a / rsync -a' };
// snap: backup / nothing changed / restore one file per set (the original suite); archive: export,
// import, restore from an archive (archive-bench.ts); lifecycle: prune and check (lifecycle-bench.ts);
// startup: small commands spawned directly beside `node -e 0` (startup-bench.ts); copy: fxcp -a
// beside cp -a and rsync -a per file system (copy-bench.ts); incremental: repeated copies into an
// existing destination beside rsync (incremental-bench.ts); daemon: foxingd sync --watch latency
// (daemon-bench.ts); real: fxcp, restic and borg on real files (real-bench.ts, issue 25); ssh:
// snap push over a loopback sshd (ssh-bench.ts); s3: a store on a local Ceph (s3-bench.ts);
// daemon-scale, on request: the daemon on a million files (daemon-bench.ts); scale, on request:
// fxcp, restic and borg on 1M and 3M small text files (scale-bench.ts, issue 25).
export const SUITES = ['snap', 'startup', 'archive', 'lifecycle', 'copy', 'incremental', 'daemon', 'real', 'ssh', 's3', 'daemon-scale', 'scale'] as const;
/** Suites run only when named: each takes tens of minutes. */
const ON_REQUEST: readonly Suite[] = ['daemon-scale', 'scale'];
export type Suite = (typeof SUITES)[number];

export interface Options {
  factor: number;
  sets: SetName[];
  runs: number;
  warmup: number;
  out: string | null;
  work: string;
  tools: Set<Tool>;
  keep: boolean;
  memoryTest: number | null;
  fxcp: string;
  timeoutSec: number;
  install: boolean;
  suites: Set<Suite>;
  pruneSnapshots: number;
  pruneFactor: number;
  /** Another build's fxcp, run in the same rounds as ours by the startup suite. */
  baselineFxcp: string | null;
  /** Timed rounds per startup row (at least 21). */
  startupRuns: number;
  /** Copy suite: the file systems to copy on. */
  fs: FsKind[];
  /** Redraw the charts from the figures in --out, measuring nothing. */
  chartsOnly: boolean;
  /** Scale suite: the tree sizes, smallest first. */
  scaleFiles: number[];
}

const USAGE = `usage: npm run bench -- [options]      (node build/lib/bench/run-bench.js [options])

  --factor F         data-set scale (default 0.1; 1 = full size: mixed is 2 GiB)
  --sets a,b         data sets: ${ALL_SETS.join(',')} (default all); 'startup' here runs the
                     startup suite (alone: --sets startup)
  --runs N           timed runs per step, median reported (default 3)
  --warmup N         untimed runs of each step before the timed ones (default 1)
  --tools a,b        tools: fxcp,restic,borg,tar,ref (ref = cp -a / rsync -a rows; default all)
  --suite a,b        suites: snap (backup/restore per set), archive (export/import/restore from an
                     archive: sets mixed and series), lifecycle (prune, check --read-data), startup
                     (--version, snap list, one-file restores spawned directly beside node -e 0),
                     copy (fxcp -a beside cp -a and rsync -a: sets small, large, mixed, sparse),
                     incremental (repeated copies beside rsync: unchanged trees of 10k and 100k
                     files, one file changed, 8 KiB inserted into 64 MiB, series v2 over v1),
                     daemon (foxingd sync --watch: close-to-mirror latency, a burst, idle CPU),
                     real (fxcp, restic, borg on ~30,000 real files: pinned npm and Debian
                     packages fetched once into ~/.cache/foxing-bench; warm and cold first snapshot),
                     ssh (series v1 then v2 over a loopback sshd: snap push beside rsync -a over
                     ssh, borg create to ssh://, and export | ssh import; set series),
                     s3 (a store in a local Ceph radosgw beside raw S3 rates and restic),
                     daemon-scale (on request: the snapshot cut and RSS on a 1,000,000-file source);
                     scale (on request: fxcp, restic, borg on 1M and 3M small text files);
                     'all' = all but daemon-scale and scale (default snap,startup; snap alone when --sets names no startup)
  --fs a,b           copy suite: file systems ext4 (the work dir's own), xfs, btrfs (loop-mounted
                     images in the work dir; root only, else reported as skipped); default all
  --baseline-fxcp PATH  startup suite: also run another build's fxcp (e.g. a worktree of the commit
                     before a change), alternating with ours run by run: before / after / difference
  --startup-runs N   startup suite: timed rounds per row (default and minimum ${STARTUP_RUNS})
  --prune-snapshots N  lifecycle: snapshots made before the timed prune (default 1000)
  --prune-factor F   lifecycle: scale of the series v1 tree those snapshots are made of (default 0.05)
  --out FILE         markdown to rewrite (default docs/BENCHMARKS.md; '-' = none); each block that
                     compares fxcp with peers also gets its chart, bench-KEY.svg beside FILE
  --charts-only      measure nothing: redraw every block's chart from the tables already in --out
  --work DIR         scratch dir for data, repositories, restores (default /tmp/fxbench; never inside the repo)
  --keep             keep the work dir (and reuse generated data sets next time)
  --timeout S        kill a timed run after S seconds and mark it failed (default 1800)
  --fxcp PATH        the fxcp command (default bin/fxcp of this checkout)
  --no-install       do not apt-get install missing peers
  --scale-files N,M  scale suite: tree sizes (default 1000000,3000000)
  --memory-test [N]  instead of the tables: snapshot N small text files (default 1000000; the scale
                     suite's tree) and report peak RSS
`;

export function parseBenchArgs(argv: string[]): Options {
  const o: Options = {
    factor: 0.1, sets: [...ALL_SETS], runs: 3, warmup: 1, out: join(REPO_ROOT, 'docs', 'BENCHMARKS.md'), work: '/tmp/fxbench',
    tools: new Set(TOOLS), keep: false, memoryTest: null, fxcp: join(REPO_ROOT, 'bin', 'fxcp'), timeoutSec: 1800, install: true,
    suites: new Set(['snap', 'startup']), pruneSnapshots: 1000, pruneFactor: 0.05, baselineFxcp: null, startupRuns: STARTUP_RUNS,
    fs: [...FS_KINDS], chartsOnly: false, scaleFiles: [1_000_000, 3_000_000],
  };
  let setsGiven = false;
  let suitesGiven = false;
  let startupInSets = false;
  const need = (i: number, name: string): string => {
    const v = argv[i];
    if (v === undefined) throw new Error(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => inline ?? need(++i, flag);
    switch (flag) {
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0);
      // falls through (process.exit never returns)
      case '--factor': o.factor = Number(val()); if (!(o.factor > 0)) throw new Error('--factor must be > 0'); break;
      case '--sets': {
        const s = val().split(',').map((x) => x.trim()).filter(Boolean);
        startupInSets = s.includes('startup');
        const sets = s.filter((x) => x !== 'startup');
        for (const x of sets) if (!isSetName(x)) throw new Error(`unknown set ${x}; choose from ${ALL_SETS.join(',')},startup`);
        o.sets = sets as SetName[];
        setsGiven = true;
        break;
      }
      case '--runs': o.runs = Math.max(1, Math.floor(Number(val()))); if (!Number.isFinite(o.runs)) throw new Error('--runs must be a number'); break;
      case '--warmup': o.warmup = Math.max(0, Math.floor(Number(val()))); if (!Number.isFinite(o.warmup)) throw new Error('--warmup must be a number'); break;
      case '--tools': {
        const s = val().split(',').map((x) => x.trim()).filter(Boolean).map((x) => (x === 'cp' || x === 'rsync' ? 'ref' : x));
        for (const x of s) if (!(TOOLS as readonly string[]).includes(x)) throw new Error(`unknown tool ${x}; choose from ${TOOLS.join(',')}`);
        o.tools = new Set(s as Tool[]);
        break;
      }
      case '--suite': case '--suites': {
        const s = val().split(',').map((x) => x.trim()).filter(Boolean);
        suitesGiven = true;
        if (s.includes('all')) { o.suites = new Set(SUITES.filter((x) => !ON_REQUEST.includes(x))); break; }
        for (const x of s) if (!(SUITES as readonly string[]).includes(x)) throw new Error(`unknown suite ${x}; choose from ${SUITES.join(',')},all`);
        o.suites = new Set(s as Suite[]);
        break;
      }
      case '--prune-snapshots': o.pruneSnapshots = Math.floor(Number(val())); if (!(o.pruneSnapshots >= 11)) throw new Error('--prune-snapshots must be a number ≥ 11 (prune keeps the last 10)'); break;
      case '--prune-factor': o.pruneFactor = Number(val()); if (!(o.pruneFactor > 0)) throw new Error('--prune-factor must be > 0'); break;
      case '--out': { const v = val(); o.out = v === '-' || v === 'none' ? null : resolve(v); break; }
      case '--work': o.work = resolve(val()); break;
      case '--keep': o.keep = true; break;
      case '--timeout': o.timeoutSec = Number(val()); break;
      case '--fxcp': o.fxcp = resolve(val()); break;
      case '--startup-runs': o.startupRuns = Math.floor(Number(val())); if (!(o.startupRuns >= STARTUP_RUNS)) throw new Error(`--startup-runs must be a number ≥ ${STARTUP_RUNS}`); break;
      case '--baseline-fxcp': o.baselineFxcp = resolve(val()); if (!existsSync(o.baselineFxcp)) throw new Error(`--baseline-fxcp ${o.baselineFxcp}: no such file`); break;
      case '--no-install': o.install = false; break;
      case '--charts-only': o.chartsOnly = true; break;
      case '--fs': o.fs = parseFsList(val()); break;
      case '--scale-files': {
        o.scaleFiles = val().split(',').map((x) => Number(x.trim()));
        if (!o.scaleFiles.length || o.scaleFiles.some((x) => !Number.isInteger(x) || x < 10_000)) throw new Error('--scale-files takes whole numbers of at least 10000, comma-separated');
        break;
      }
      case '--memory-test': {
        const next = inline ?? argv[i + 1];
        if (next !== undefined && /^\d+$/.test(next)) { o.memoryTest = Number(next); if (inline === undefined) i++; } else o.memoryTest = 1_000_000;
        break;
      }
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  // The default run includes the startup suite; --sets without 'startup' narrows it to those sets.
  if (startupInSets) o.suites.add('startup');
  else if (setsGiven && !suitesGiven) o.suites.delete('startup');
  const rel = relative(REPO_ROOT, o.work);
  if (!rel.startsWith('..') && !rel.startsWith('/')) throw new Error(`--work ${o.work} is inside the repository; use a directory outside it (default /tmp/fxbench)`);
  if (o.work === '/' || o.work === '/tmp') throw new Error(`--work ${o.work}: pick a dedicated directory, it is removed afterwards`);
  return o;
}
