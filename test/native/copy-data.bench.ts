// Measures lib/fs/copy-data.ts for docs/copy-strategies.md (not a test: run by hand, as root):
//   FOXING_NO_NATIVE=1 node bin/build.js && node build/test/native/copy-data.bench.js [--quick]
// For each pair of file systems (ext4 here, tmpfs, loop-mounted XFS and btrfs, ext4 -> tmpfs) and
// file size (4 KiB, 64 KiB, 1 MiB, 100 MiB) it copies N fresh files (page cache warm) by:
//   sync    copyFileDataSync, one file after another;
//   pool    copyFileData with every call on libuv's thread pool (syncMax 0), one file at a time;
//   pool×8  the same with 8 files in flight;
//   node    fs.copyFileSync (libuv: copy_file_range or sendfile, whole file, no hole map).
// Each figure is the median of 5 rounds (modes interleaved) of the wall time per file, for the whole per-file step
// (open source, create the temporary 'wx', two fstats, copy, ftruncate, two closes), after a
// `sync` (untimed) so that one round's writeback does not land in the next; `copy` is
// the copy call alone in `sync`, so the difference is the per-file overhead around it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileData, copyFileDataSync, resetCopyProbes, type CopyDataOptions, type CopyDataResult } from '../../lib/fs/copy-data.js';
import { mountTestFs, type TestFs } from '../helpers/loop-fs.js';

const quick = process.argv.includes('--quick');
const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES: Array<[label: string, size: number, count: number]> = [
  ['4 KiB', 4 * KiB, quick ? 300 : 2000], ['64 KiB', 64 * KiB, quick ? 200 : 1000], ['1 MiB', MiB, quick ? 30 : 200], ['100 MiB', 100 * MiB, 2],
];

type Mode = 'sync' | 'pool' | 'pool×8' | 'node';
const MODES: Mode[] = ['sync', 'pool', 'pool×8', 'node'];
const ROUNDS = 5;

function open(src: string, dst: string) {
  const s = fs.openSync(src, 'r');
  const d = fs.openSync(dst, 'wx', 0o600);
  const ss = fs.fstatSync(s, { bigint: true });
  const ds = fs.fstatSync(d, { bigint: true });
  return { s, d, source: { fd: s, size: Number(ss.size), dev: ss.dev, blocks: Number(ss.blocks) }, target: { fd: d, dev: ds.dev } };
}

function close(o: ReturnType<typeof open>): void {
  fs.ftruncateSync(o.d, o.source.size);
  fs.closeSync(o.s);
  fs.closeSync(o.d);
}

/** Copies every file of `srcs` into dstDir; returns µs per file (and the copy calls' own µs per file for 'sync'). */
async function round(mode: Mode, srcs: string[], dstDir: string): Promise<{ perFile: number; copyOnly: number; strategy: string }> {
  fs.rmSync(dstDir, { recursive: true, force: true });
  fs.mkdirSync(dstDir);
  // Untimed: the previous round's dirty pages go to disk now, not in the middle of this round.
  spawnSync('sync');
  const opts: CopyDataOptions = { syncMax: 0 };
  let copyNs = 0n;
  let strategy = '';
  const t0 = process.hrtime.bigint();
  if (mode === 'sync') {
    for (const [i, src] of srcs.entries()) {
      const o = open(src, path.join(dstDir, String(i)));
      const c0 = process.hrtime.bigint();
      strategy = copyFileDataSync(o.source, o.target).strategy;
      copyNs += process.hrtime.bigint() - c0;
      close(o);
    }
  } else if (mode === 'node') {
    for (const [i, src] of srcs.entries()) fs.copyFileSync(src, path.join(dstDir, String(i)), fs.constants.COPYFILE_EXCL);
    strategy = 'fs.copyFileSync';
  } else {
    const width = mode === 'pool' ? 1 : 8;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < srcs.length) {
        const i = next++;
        const o = open(srcs[i], path.join(dstDir, String(i)));
        const r: CopyDataResult = await copyFileData(o.source, o.target, opts);
        strategy = r.strategy;
        close(o);
      }
    };
    await Promise.all(Array.from({ length: width }, worker));
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { perFile: ns / 1000 / srcs.length, copyOnly: Number(copyNs) / 1000 / srcs.length, strategy };
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function fmt(us: number): string {
  return us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(us < 10 ? 1 : 0)} µs`;
}

async function main(): Promise<void> {
  const mounts: TestFs[] = [];
  const mount = (kind: 'xfs' | 'btrfs' | 'tmpfs', mb: number): string | null => {
    const m = mountTestFs(kind, mb);
    if ('skip' in m) { console.log(`${kind}: skipped (${m.skip})`); return null; }
    mounts.push(m);
    return m.mountPoint;
  };
  const ext4 = fs.mkdtempSync('/tmp/foxing-copy-bench-');
  // Interrupted: unmount and remove what was made before going.
  const cleanup = (): void => { fs.rmSync(ext4, { recursive: true, force: true }); for (const m of mounts) m.cleanup(); };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });
  const tmpfs = mount('tmpfs', 1024);
  const xfs = mount('xfs', 1024);
  const btrfs = mount('btrfs', 1024);
  const pairs: Array<[string, string | null, string | null]> = [
    ['ext4', ext4, ext4], ['tmpfs', tmpfs, tmpfs], ['xfs', xfs, xfs], ['btrfs', btrfs, btrfs], ['ext4 -> tmpfs', ext4, tmpfs],
  ];
  console.log(`| file systems | size | strategy | ${MODES.join(' | ')} | copy call (sync) |`);
  console.log(`|---|---|---|${MODES.map(() => '---:').join('|')}|---:|`);
  try {
    for (const [label, from, to] of pairs) {
      if (!from || !to) continue;
      for (const [sizeLabel, size, count] of SIZES) {
        const srcDir = path.join(from, 'src');
        fs.rmSync(srcDir, { recursive: true, force: true });
        fs.mkdirSync(srcDir);
        const srcs: string[] = [];
        const block = randomBytes(Math.min(size, 4 * MiB));
        for (let i = 0; i < count; i++) {
          const f = path.join(srcDir, String(i));
          const fd = fs.openSync(f, 'w');
          for (let at = 0; at < size; at += block.length) fs.writeSync(fd, block, 0, Math.min(block.length, size - at), at);
          fs.closeSync(fd);
          srcs.push(f);
        }
        resetCopyProbes();
        // Modes interleaved, in a rotating order, so that a slow minute of the shared machine
        // lands on every mode alike; the median of ROUNDS rounds per mode.
        const times = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
        let strategy = '';
        const copyOnly: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          for (let k = 0; k < MODES.length; k++) {
            const mode = MODES[(k + r) % MODES.length];
            const x = await round(mode, srcs, path.join(to, 'dst'));
            times.get(mode)!.push(x.perFile);
            if (mode === 'sync') { strategy = x.strategy; copyOnly.push(x.copyOnly); }
          }
        }
        const cells = MODES.map((m) => fmt(median(times.get(m)!)));
        console.log(`| ${label} | ${sizeLabel} | ${strategy} | ${cells.join(' | ')} | ${fmt(median(copyOnly))} |`);
        fs.rmSync(path.join(to, 'dst'), { recursive: true, force: true });
        fs.rmSync(srcDir, { recursive: true, force: true });
      }
    }
  } finally {
    cleanup();
  }
}

await main();
