// The daemon suite (`--suite daemon`, issue 23): latency of `foxingd sync --watch` from a
// source file's close() (or rename()) to the complete file under its name in the mirror, on
// the work dir's file system, both trees on it. The arrival is seen by an inotify watch on the
// mirror directory (IN_CREATE for a file linked in from O_TMPFILE, IN_MOVED_TO for a temporary
// renamed into place): the name appears only once the file is complete, so no polling and no
// polling interval in the figures (the reference polled at 10 ms). Trials run one after
// another, 5 ms apart. Also: a burst of 10,000 files (all must arrive), the daemon's CPU over
// 5 s of idleness, and its peak RSS.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeInotify } from '../daemon/inotify-events.js';
import { native } from '../native/load.js';
import { isoNow } from './bench-measure.js';
import { helperStarted, log, workDir } from './bench-proc.js';
import type { SuiteEnv } from './bench-rows.js';

export const DAEMON_METHOD = [
  '- Daemon suite (`--suite daemon`, issue 23): `foxingd sync -a --watch SRC DEST` on the work dir\'s file system. Latency is from the source file\'s `close()` (for a rename, `rename()`) to the complete file under its name in DEST, seen by an inotify watch on DEST (the name appears only when the file is complete: linked from `O_TMPFILE` or renamed from a temporary); trials one after another, 5 ms apart; p50, p99 and the largest. The burst writes 10,000 files of 1 KiB into 100 new directories as fast as one process can and times until the last one is in DEST (all must arrive). Idle CPU: the daemon\'s user+system time over 5 s without changes. Peak RSS: VmHWM at the end. Each row is run with fanotify (as root) and with inotify (`--events`). The continuous-snapshot cut: 100,000 files in 1,000 directories, 100 files rewritten in 100 directories before each of 10 cuts; the daemon\'s own figure from its log. The daemon-scale suite (`--suite daemon-scale`, on request) does the same on 1,000,000 files with `foxingd daemon` and no mirror, and reports the daemon\'s peak RSS (VmHWM).',
];

const TRIALS = 200;
const IN_CREATE = 0x100, IN_MOVED_TO = 0x80;

interface Row { name: string; lat: number[]; target: string }

/** Resolves the time each awaited name appears in the watched directory. */
class Arrivals {
  private readonly fd: number;
  private readonly poll: { stop(): void };
  private readonly buf = Buffer.alloc(1 << 20);
  private readonly waiting = new Map<string, (t: number) => void>();

  constructor(dir: string) {
    this.fd = native!.inotifyInit();
    native!.inotifyAddWatch(this.fd, dir, IN_CREATE | IN_MOVED_TO);
    this.poll = new native!.FdPoll(this.fd, () => {
      let n: number;
      while ((n = native!.readAvailable(this.fd, this.buf)) > 0) {
        const t = performance.now();
        for (const e of decodeInotify(this.buf.subarray(0, n))) {
          const name = e.name?.toString('latin1');
          const w = name === undefined ? undefined : this.waiting.get(name);
          if (w) { this.waiting.delete(name!); w(t); }
        }
      }
    });
  }

  of(name: string): Promise<number> {
    return new Promise((resolve) => this.waiting.set(name, resolve));
  }

  close(): void { this.poll.stop(); closeSync(this.fd); }
}

function writeClosed(path: string, data: Buffer): number {
  const fd = openSync(path, 'w');
  writeSync(fd, data);
  const t = performance.now();
  closeSync(fd);
  return t;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;  // utime + stime, in clock ticks of 1/100 s
}

async function startDaemon(foxingd: string, extra: string[], src: string, dst: string): Promise<ChildProcess> {
  const d = spawn(foxingd, ['sync', '-a', '--watch', ...extra, src, dst], { stdio: ['ignore', 'pipe', 'pipe'] });
  helperStarted(d);
  let err = '';
  d.stderr!.on('data', (x) => { err += x; });
  await new Promise<void>((resolve, reject) => {
    d.stdout!.on('data', (x) => { if (String(x).includes('watching')) resolve(); });
    d.once('exit', (c) => reject(new Error(`foxingd exited ${c}: ${err}`)));
  });
  return d;
}

const CUT_FILES = 100_000, SCALE_FILES = 1_000_000, FILES_PER_DIR = 100, CUT_ROUNDS = 10;

/**
 * The cut of a continuous snapshot: a source of `files` files, FILES_PER_DIR a directory, 100
 * files rewritten in 100 directories before each cut; the daemon's own figure (its log line:
 * store opened, changed entries looked at, trees written, record committed). With `mirror`,
 * `foxingd sync --watch --store` (a mirror too); without, `foxingd daemon` with the source and
 * its store alone (the scale suite: a million-file mirror would time the copy engine).
 */
async function cutTimes(foxingd: string, W: string, files = CUT_FILES, mirror = true): Promise<string> {
  const src = join(W, 'cut-src'), dst = join(W, 'cut-dst'), store = join(W, 'cut-store');
  const dirs = files / FILES_PER_DIR;
  for (let d = 0; d < dirs; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) writeClosed(join(src, `d${d}`, `f${f}`), Buffer.from(`${d}/${f}\n`));
  }
  const cfg = join(W, 'cut.toml');
  writeFileSync(cfg, `metrics = ""\nstatus_socket = "${join(W, 'cut.sock')}"\n[[sources]]\npath = "${src}"\nstore = "${store}"\nsnapshot_interval = "1s"\n`);
  const d = spawn(foxingd, mirror ? ['sync', '-a', '--watch', '-v', '--store', store, '--snapshot-interval', '1', src, dst] : ['daemon', '-v', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  helperStarted(d);
  let rss = '';
  const durable: number[] = [];
  let collect = false;
  let err = '';
  const cuts: number[] = [];
  let first = '';
  const next = (): Promise<number> => new Promise((resolve) => { waiter = resolve; });
  let waiter: ((ms: number) => void) | null = null;
  // Whole lines only: a line split across two reads would otherwise be missed (and the
  // round waiting for it would wait for ever).
  let partial = '';
  const fullListings: string[] = [];
  d.stderr!.on('data', (x) => {
    err += x;
    const lines = (partial + String(x)).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const stored = /stored single-\d+ ([\d.]+) ms after its close/.exec(line);
      if (stored && collect) durable.push(Number(stored[1]));
      const m = /cut in (\d+) ms \((every directory listed: ([^;]*)|after)/.exec(line);
      if (!m) continue;
      if (m[2] === 'after') { waiter?.(Number(m[1])); continue; }
      if (first === '') first = `${m[1]} ms`;
      else { fullListings.push(`${m[1]} ms (${m[3]})`); waiter?.(Number(m[1])); }
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      d.stdout!.on('data', (x) => { if (String(x).includes('watching')) resolve(); });
      d.once('exit', (c) => reject(new Error(`foxingd exited ${c}: ${err}`)));
    });
    for (let round = 0; round < CUT_ROUNDS; round++) {
      const cut = next();
      for (let k = 0; k < 100; k++) writeClosed(join(src, `d${(round * 97 + k * 10) % dirs}`, `f${k}`), Buffer.from(`round ${round}\n`));
      cuts.push(await cut);
    }
    collect = true;
    for (let i = 0; i < 50; i++) { writeClosed(join(src, `single-${i}`), Buffer.alloc(65536, i)); await pause(100); }
    await pause(500);
    const status = readFileSync(`/proc/${d.pid}/status`, 'utf8');
    const mib = (key: string) => `${(Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)![1]) / 1024).toFixed(0)} MiB`;
    rss = `${mib('VmHWM')} (now, after the cuts: ${mib('VmRSS')})`;
  } finally {
    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
  }
  return `a source of ${files.toLocaleString('en-US')} files in ${dirs.toLocaleString('en-US')} directories${mirror ? '' : ' (no mirror: the source and its store alone)'}, 100 files rewritten in 100 directories before each cut, ${CUT_ROUNDS} cuts: ` +
    `p50 ${pct(cuts, 50)} ms, largest ${Math.max(...cuts)} ms (the cut's own time: store opened, the changed entries lstat'ed and read, trees and record written; target for 1,000,000 files: under 200 ms). The first cut, every directory listed: ${first}.${fullListings.length ? ` Cuts that listed every directory again (counted above): ${fullListings.join(', ')}.` : ''} Peak RSS of the daemon: ${rss}. ` +
    (durable.length ? `A closed 64 KiB file durable in the store (packs sealed), from its close event, ${durable.length} files 100 ms apart: p50 ${pct(durable, 50).toFixed(1)} ms, largest ${Math.max(...durable).toFixed(1)} ms (target: p50 under 100 ms).` : 'No durability figure (no "stored" line seen).');
}

export async function runDaemonSuite(env: SuiteEnv): Promise<{ key: string; md: string }> {
  if (!native) throw new Error('the daemon suite needs the native addon');
  const foxingd = join(dirname(env.ctx.opts.fxcp), 'foxingd.js');
  const W = join(workDir(), 'daemon');
  rmSync(W, { recursive: true, force: true });
  const rows: Row[] = [];
  let extras = '';
  try {
    for (const events of ['fanotify', 'inotify'] as const) {
      const r = await latencies(foxingd, W, events, events === 'fanotify');
      if (r === null) { extras += ` fanotify: not available here (not root?), not measured.`; continue; }
      rows.push(...r.rows);
      if (r.extras) extras = r.extras + extras;
    }
  } finally {
    rmSync(W, { recursive: true, force: true });
  }
  const cuts = await cutTimes(foxingd, W);
  rmSync(W, { recursive: true, force: true });
  log(`daemon: ${rows.map((r) => `${r.name} p50 ${pct(r.lat, 50).toFixed(2)} ms`).join('; ')}`);
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const lines = [
    '### Daemon latency (foxingd sync --watch, the work dir\'s file system to itself)', '',
    `${isoNow()}, ${TRIALS} trials per row, one after another. The reference reports 15–21 ms medians for single files (polled at 10 ms) and about 190 ms for the batch.`, '',
    '| case | p50 | p99 | largest | target |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${ms(pct(r.lat, 50))} | ${ms(pct(r.lat, 99))} | ${ms(Math.max(...r.lat))} | ${r.target} |`),
    '',
    extras.trim(),
    '',
    `Continuous snapshots (\`--store\`): ${cuts}`,
  ];
  return { key: 'daemon:latency@1', md: lines.join('\n') };
}

/**
 * The daemon at scale (`--suite daemon-scale`, on request: it writes a million files): the
 * continuous-snapshot cut and the daemon's peak RSS on a 1,000,000-file source.
 */
export async function runDaemonScaleSuite(env: SuiteEnv): Promise<{ key: string; md: string }> {
  if (!native) throw new Error('the daemon-scale suite needs the native addon');
  const foxingd = join(dirname(env.ctx.opts.fxcp), 'foxingd.js');
  const W = join(workDir(), 'daemon-scale');
  rmSync(W, { recursive: true, force: true });
  try {
    const cuts = await cutTimes(foxingd, W, SCALE_FILES, false);
    log(`daemon-scale: ${cuts}`);
    return { key: 'daemon:scale@1', md: ['### Daemon at scale (foxingd daemon, a source and its store)', '', `${isoNow()}. Continuous snapshots: ${cuts}`].join('\n') };
  } finally {
    rmSync(W, { recursive: true, force: true });
  }
}

/** The latency rows with one event source; with `more`, the burst, idle CPU and RSS too. Null: the source cannot be had. */
async function latencies(foxingd: string, W: string, events: 'fanotify' | 'inotify', more: boolean): Promise<{ rows: Row[]; extras: string } | null> {
  const src = join(W, `src-${events}`), dst = join(W, `dst-${events}`);
  mkdirSync(src, { recursive: true });
  let d: ChildProcess;
  try {
    d = await startDaemon(foxingd, ['--events', events], src, dst);
  } catch (err) {
    if (events === 'fanotify') return null;
    throw err;
  }
  const arrivals = new Arrivals(dst);
  const rows: Row[] = [];
  let extras = '';
  const label = (s: string) => `${s} (${events})`;
  try {
    for (const [name, size] of [['a single 4 KiB create', 4096], ['a single 64 KiB create', 65536]] as const) {
      const data = Buffer.alloc(size, 0x5a), lat: number[] = [];
      for (let i = 0; i < TRIALS; i++) {
        const file = `c${size}-${i}`, arrived = arrivals.of(file);
        const t0 = writeClosed(join(src, file), data);
        lat.push((await arrived) - t0);
        await pause(5);
      }
      rows.push({ name: label(name), lat, target: 'p50 under 5 ms, p99 under 50 ms' });
    }
    const renames: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const from = join(src, `c4096-${i}`), file = `r-${i}`, arrived = arrivals.of(file);
      renameSync(from, join(src, file));
      const t0 = performance.now();
      renames.push((await arrived) - t0);
      await pause(5);
    }
    rows.push({ name: label('a rename'), lat: renames, target: 'p50 under 5 ms, p99 under 50 ms' });
    const batches: number[] = [], small = Buffer.alloc(4096, 0x33);
    for (let i = 0; i < TRIALS; i++) {
      const names = Array.from({ length: 10 }, (_, k) => `b${i}-${k}`);
      const all = Promise.all(names.map((n) => arrivals.of(n)));
      let t0 = 0;
      names.forEach((n, k) => { const t = writeClosed(join(src, n), small); if (k === 0) t0 = t; });
      batches.push(Math.max(...await all) - t0);
      await pause(5);
    }
    rows.push({ name: label('a batch of 10 x 4 KiB'), lat: batches, target: 'p50 under 30 ms, p99 under 50 ms' });
    if (more) {
      const cpu0 = cpuSeconds(d.pid!);
      await pause(5000);
      const idle = `${((cpuSeconds(d.pid!) - cpu0) / 5 * 100).toFixed(2)} % of a core`;
      const t0 = performance.now(), kib = Buffer.alloc(1024, 0x44);
      for (let k = 0; k < 100; k++) {
        mkdirSync(join(src, `burst${k}`));
        for (let i = 0; i < 100; i++) writeClosed(join(src, `burst${k}`, `f${i}`), kib);
      }
      const until = performance.now() + 120_000;
      let arrived = 0;
      while (performance.now() < until) {
        arrived = 0;
        for (let k = 0; k < 100; k++) { try { arrived += readdirSync(join(dst, `burst${k}`)).length; } catch { /* not yet */ } }
        if (arrived === 10_000) break;
        await pause(20);
      }
      const burst = arrived === 10_000 ? `all 10,000 arrived ${((performance.now() - t0) / 1000).toFixed(2)} s after the first write (polled every 20 ms)` : `only ${arrived} of 10,000 arrived in 120 s`;
      const rss = `${(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1]) / 1024).toFixed(0)} MiB`;
      extras = `With ${events}: burst: ${burst}. Idle CPU of the daemon: ${idle}. Peak RSS of the daemon: ${rss} (a source of 10,000 files and 100 directories).`;
    }
  } finally {
    arrivals.close();
    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
  }
  return { rows, extras };
}
