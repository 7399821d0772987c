// The head of docs/BENCHMARKS.md: the machine and tool versions of the last run, and the method
// (each suite adds its own paragraphs).
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import type { Ctx } from './bench-measure.js';
import { capture, errorLine, readText } from './bench-proc.js';
import type { Options } from './bench-options.js';
import type { PeerInfo, PeerName } from './peers.js';
import { ARCHIVE_METHOD } from './archive-bench.js';
import { LIFECYCLE_METHOD } from './lifecycle-bench.js';
import { STARTUP_METHOD } from './startup-bench.js';
import { COPY_METHOD } from './copy-bench.js';
import { INCREMENTAL_METHOD } from './incremental-bench.js';
import { DAEMON_METHOD } from './daemon-bench.js';
import { SSH_METHOD } from './ssh-bench.js';
import { S3_METHOD } from './s3-bench.js';
import { REAL_METHOD } from './real-bench.js';
import { SCALE_METHOD } from './scale-bench.js';

const MiB = 1024 * 1024;

export async function machineHeader(ctx: Ctx<Options>, peers: Map<PeerName, PeerInfo>): Promise<string> {
  const os = /PRETTY_NAME="?([^"\n]+)/.exec(readText('/etc/os-release'))?.[1] ?? 'unknown';
  const fs = (await capture('stat', ['-f', '-c', '%T', ctx.opts.work])).trim();
  const fxv = errorLine(await capture(ctx.opts.fxcp, ['--version'])) || `not runnable (${ctx.opts.fxcp})`;
  const ver = (p: PeerName): string => peers.get(p)?.path ? peers.get(p)!.version : `not available (${peers.get(p)?.reason ?? ''})`;
  const L = [
    '## Machine and tools (last run)', '',
    `- date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 1024 / MiB).toFixed(1)} GiB RAM, ${os}, kernel ${release()}`,
    `- scratch: ${ctx.opts.work} (${fs || '?'})`,
    `- node ${process.version}; fxcp: ${fxv}`,
    `- restic: ${ver('restic')}`,
    `- borg: ${ver('borg')}`,
    `- rsync: ${ver('rsync')}; ${ver('tar')}; zstd: ${ver('zstd').replace(/^\*+\s*|\s*\*+$/g, '')}; ${ver('cp')}`,
    `- GNU time (peak RSS): ${peers.get('time')?.path ? 'yes' : 'not available: no RSS figures'}`,
    '', '## Method', '',
    '- One `npm run bench` run measures every tool on the same data, one after another, so **ratios are measured in one run; absolute times are this machine\'s** and move ±10–20 % between runs.',
    '- Data sets from `lib/bench/gen-dataset.ts` (deterministic; small, large, mixed, sparse, series v1→v2). Each set is copied to a fixed path `src` that every tool backs up.',
    '- Each timed step is a bash script ending with `sync`, timed wall-clock from the harness; the median of `--runs` runs is shown with min–max, after `--warmup` untimed runs of the same step (default 1: the first run of a tool after data generation or after another tool’s heavy writes also pays for the disk settling). The backups run in rounds (run 1 of every tool, then run 2 of every tool, …), so a drift of the machine’s speed during the run moves every tool alike instead of moving the ratios. Untimed preparation before each run: initial backups start from a freshly initialised repository (`restic init`, `borg init -e none`, empty fxcp store); "nothing changed" repeats the same backup with no preparation; the series v2 backup starts from a copy of the state right after the v1 backup (repository and caches), with `src` already updated by `rsync -a --delete v2/ src/`.',
    '- Warm cache: the source tree is read once before each tool. The restic cache (`RESTIC_CACHE_DIR`) and `BORG_BASE_DIR` live outside the measured repository.',
    '- Commands: `fxcp snap create SRC STORE --json`; `restic backup --host bench src` (compression auto); `borg create --compression zstd,3 REPO::NAME src`; `tar -cf - src | zstd -3 -T1`; reference rows `cp -a`, `rsync -a` (nothing changed) and `rsync -a --delete` (v1→v2).',
    '- Restore one file: the median-size non-empty file of the tree: `fxcp snap restore STORE -o DIR --latest --file REL`, `restic restore latest --include /src/REL`, `borg extract REPO::LAST src/REL`, `zstd -dc | tar -x src/REL` (must scan the whole stream); the result is compared with `cmp`. The reference column times `node -e 0` through the same harness: the floor under any Node program, fxcp included. Below each table, the nothing-changed backups of fxcp, restic and borg are also timed spawned directly from the harness (no bash, no `sync`, no GNU time; 11 rounds after 3 untimed ones), which is what the 3x target is judged on: the script around each command adds 20–40 ms to every tool alike, a tenth of fxcp\'s time. fxcp\'s restore of that file is also timed spawned directly from the harness (no bash, no `sync`, no GNU time: what a user\'s shell pays), each of 21 runs followed by a run of `node -e 0`; the one-file targets are judged on that figure.',
    '- Restore everything: the latest snapshot into an empty directory (`fxcp snap restore STORE -o DIR --latest`, `restic restore latest --target DIR`, `borg extract REPO::LAST`, `zstd -dc | tar -x`; reference `cp -a` of the source), checked by file count and bytes against the source.',
    '- Stored size: `du --block-size=1` of the store / repository / archive / copy right after the initial backup; the series row "v2 added" is the growth from the v2 backup. Peak RSS: GNU time `%M` of the step (largest process). Ratio columns: peer ÷ fxcp, so "3.4x faster" means fxcp took 3.4 times less time.',
    ...STARTUP_METHOD,
    ...ARCHIVE_METHOD,
    ...LIFECYCLE_METHOD,
    ...COPY_METHOD,
    ...INCREMENTAL_METHOD,
    ...DAEMON_METHOD,
    ...REAL_METHOD,
    ...SCALE_METHOD,
    ...SSH_METHOD,
    ...S3_METHOD,
    '- A tool that is not installed shows "not available"; a command that fails shows "failed:" and the first line of its error output. Nothing is estimated.',
    '',
  ];
  return L.join('\n');
}
