/**
 * copy-engine.ts's opts.beforeChange (the CLI's space pre-flight rides on it): called once,
 * before the first change to DEST, and never by a run that changes nothing; when it fails the
 * copy ends with its error and DEST is exactly as it was (every entry's inode, ctime, mtime,
 * mode and content), whatever the first change would have been. Real trees, the real engine,
 * with the addon's pairing and, in a child, the JavaScript fallback (FOXING_NO_NATIVE=1).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lutimesSync, mkdirSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyTree } from '../../lib/copy/copy-engine.js';
import { planCopy } from '../../lib/copy/copy-paths.js';
import type { CopyOptions } from '../../lib/copy/copy-types.js';
import { PATH_FACTS } from '../../lib/copy/local-path-facts.js';
import { Throttle } from '../../lib/copy/throttle.js';
import { native } from '../../lib/native/load.js';
import { compareCopy, listTree, writeTree } from '../helpers/copy-tree.js';
import { tempDir } from '../helpers/run-cli.js';

const t = tempDir('fx-engine-');
let n = 0;

function options(extra: Partial<CopyOptions> = {}): CopyOptions {
  return {
    archive: true, recursive: true, hardLinks: true, checksum: false, inplace: false, delete: true, deleteExcluded: false, maxDelete: null,
    dryRun: false, generateSigs: true, onWarn: () => {}, ...extra,
  };
}

/**
 * Every time under `dir` with a fraction of a second rounded down to the second: without the
 * addon, times are set to the microsecond only, and a re-run would find every file changed.
 */
function wholeSeconds(dir: string): void {
  for (const [rel, e] of listTree(dir)) {
    if (e.mtimeNs % 1_000_000_000n === 0n) continue;
    const s = Number(e.mtimeNs / 1_000_000_000n);
    (e.type === 'symlink' ? lutimesSync : utimesSync)(join(dir, rel), s, s);
  }
}

/** A source tree (times in whole seconds), and where its copy goes. */
function pair(): { src: string; dst: string } {
  const src = join(t.path, `src${++n}`), dst = join(t.path, `dst${n}`);
  writeTree(src, { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/deeper/c.bin': Buffer.alloc(5000, 7), 'empty/': '' });
  symlinkSync('a.txt', join(src, 'link'));
  wholeSeconds(src);
  return { src, dst };
}

async function copy(src: string, dst: string, extra: Partial<CopyOptions> = {}) {
  return copyTree(planCopy([Buffer.from(`${src}/`)], Buffer.from(dst), PATH_FACTS), options(extra));
}

/** Every entry of `dir` (its own too; not its state, .foxing), a line each: inode, ctime and all listTree records. */
function state(dir: string): string[] {
  return [...listTree(dir)].filter(([rel]) => !rel.startsWith('.foxing')).map(([rel, e]) => `${rel} ${JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

/** beforeChange that records DEST as it stands when called, and fails when `fail` is given. */
function gate(dst: string, fail?: Error) {
  const seen: { calls: number; dest: string[] | null } = { calls: 0, dest: null };
  return {
    seen,
    beforeChange: async () => {
      seen.calls++;
      seen.dest = state(dst);
      if (fail) throw fail;
    },
  };
}

test('an unchanged re-run never calls beforeChange (twice: the second with directory records)', async () => {
  const { src, dst } = pair();
  await copy(src, dst);
  for (let i = 0; i < 2; i++) {
    const g = gate(dst);
    const acts: string[] = [];
    const r = await copy(src, dst, { beforeChange: g.beforeChange, onAction: (a) => { if (a.kind !== 'unchanged') acts.push(`${a.itemize} ${a.path}`); } });
    assert.equal(acts, []);
    assert.is(g.seen.calls, 0);
    assert.is(r.written + r.created + r.attrsOnly + r.deleted, 0);
  }
});

/** Changes to the source, each of which makes the next copy change DEST first in another way. */
const CHANGES: [string, (src: string) => void][] = [
  ['a file rewritten', (src) => { writeFileSync(join(src, 'sub/b.txt'), 'bravo, longer\n'); }],
  ['a new file', (src) => { writeFileSync(join(src, 'sub/deeper/new.txt'), 'new\n'); }],
  ['a file removed (--delete)', (src) => { unlinkSync(join(src, 'sub/deeper/c.bin')); }],
  ['a new directory', (src) => { mkdirSync(join(src, 'sub/made')); }],
  ['a file where DEST has a directory', (src) => { rmSync(join(src, 'empty'), { recursive: true }); writeFileSync(join(src, 'empty'), 'now a file\n'); }],
  ['a symlink retargeted', (src) => { unlinkSync(join(src, 'link')); symlinkSync('sub/b.txt', join(src, 'link')); }],
  ['a mode changed', (src) => { chmodSync(join(src, 'sub/b.txt'), 0o600); }],
  ['a directory time changed', (src) => { utimesSync(join(src, 'sub/deeper'), 1_600_000_000, 1_600_000_000); }],
];

for (const [what, change] of CHANGES) {
  test(`${what}: beforeChange runs once, before DEST changes; failing, it leaves DEST as it was`, async () => {
    const { src, dst } = pair();
    await copy(src, dst);
    change(src);
    wholeSeconds(src);
    const before = state(dst);
    const failing = gate(dst, Object.assign(new Error('no room'), { code: 'NO_SPACE' }));
    try {
      await copy(src, dst, { beforeChange: failing.beforeChange });
      assert.unreachable('the copy must fail with beforeChange');
    } catch (err) {
      assert.is((err as Error).message, 'no room');
    }
    assert.is(failing.seen.calls, 1);
    assert.equal(state(dst), before, 'DEST untouched');
    const passing = gate(dst);
    await copy(src, dst, { beforeChange: passing.beforeChange });
    assert.is(passing.seen.calls, 1);
    assert.equal(passing.seen.dest, before, 'nothing changed before the call');
    assert.equal(compareCopy(src, dst, { rootMeta: false }).filter((d) => !d.startsWith('.foxing')), []);
  });
}

test('the JavaScript fallback (FOXING_NO_NATIVE=1) keeps the same rule', () => {
  if (!native) return; // this process is the fallback already: the tests above ran it
  const r = spawnSync(process.execPath, [process.argv[1]], { env: { ...process.env, FOXING_NO_NATIVE: '1' }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Passed:\s+\d+/);
});

test.after(() => t.cleanup());
test('--throttle: a synthetic pressure above the threshold paces the copy, which finishes whole; the time paused is reported', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 60; i++) files[`d${i % 4}/f${i}`] = `file ${i}`;
  for (const pressure of [10, 90]) {
    const src = join(t.path, `thr-src-${pressure}`), dst = join(t.path, `thr-dst-${pressure}`);
    writeTree(src, files);
    wholeSeconds(src);
    // A clock that moves 5 ms per look and sleeps at once: no wall time in the test.
    let now = 0, slept = 0, reads = 0;
    const clock = { now: () => (now += 5), sleep: async (ms: number) => { slept += ms; } };
    const throttle = new Throttle(20, () => { reads++; return pressure; }, clock);
    const r = await copyTree(planCopy([Buffer.from(`${src}/`)], Buffer.from(dst), PATH_FACTS), options({ throttle, generateSigs: false }));
    assert.equal(r.problems, []);
    assert.equal(compareCopy(src, dst, { rootMeta: false }), []);
    assert.ok(reads > 0, 'the pressure was read');
    assert.is(r.throttledSeconds, slept / 1000);
    if (pressure === 10) assert.is(slept, 0, 'below the threshold: no pause');
    else assert.ok(slept > 0, `paused ${slept} ms at ${pressure} %`);
  }
});

test.run();
