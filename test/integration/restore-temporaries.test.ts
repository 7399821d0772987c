/**
 * Issue 18 D10: a restore blocked by a directory in the way exits 1 naming the entry and leaves
 * no temporary in the target (the temporary was left when the final rename failed). And what a
 * kill -9 of an earlier restore left in the target is removed by the next restore into it.
 * Through the real CLI, on the main thread and with the worker pool. A new directory is
 * restored under a temporary name and renamed into place when complete: a kill -9 in the
 * middle leaves no torn file under a real name, and the next restore removes what it left.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEMP_PREFIX } from '../../lib/fs/temp-name.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpAsync, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('restore-temps-');
const src = join(t.path, 'src'), store = join(t.path, 'store');

/** Every path below dir, sorted ('a', 'a/b', ...). */
function listing(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push(r);
    if (e.isDirectory()) out.push(...listing(dir, r));
  }
  return out.sort();
}

test.before(() => {
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'blocked.txt'), 'small\n');
  writeFileSync(join(src, 'big.bin'), seededBytes(400_000, 1)); // a worker's file when the pool is on
  writeFileSync(join(src, 'h1'), seededBytes(3000, 2));
  linkSync(join(src, 'h1'), join(src, 'sub', 'h2')); // linked under a temporary on restore
  writeFileSync(join(src, 'ok.txt'), 'fine\n');
  const r = fxcp(['snap', 'create', src, store]);
  assert.is(r.code, 0, r.stderr);
});
test.after(() => t.cleanup());

for (const [how, env] of [['on the main thread', {}], ['with the worker pool', { FOXING_RESTORE_POOL_BYTES: '0' }]] as const) {
  test(`directories in the way ${how}: exit 1, each entry named, no temporary left`, () => {
    const out = join(t.path, `blocked-${Object.keys(env).length}`);
    const blocked = ['blocked.txt', 'big.bin', 'sub/h2'];
    for (const b of blocked) mkdirSync(join(out, b, 'inside'), { recursive: true });
    const r = fxcp(['snap', 'restore', store, '-o', out, '--latest'], { env });
    assert.is(r.code, 1, r.stderr);
    // Exactly the snapshot's other entries and the directories in the way: nothing else.
    const expected = ['big.bin', 'big.bin/inside', 'blocked.txt', 'blocked.txt/inside', 'h1', 'ok.txt', 'sub', 'sub/h2', 'sub/h2/inside'];
    assert.equal(listing(out), expected);
    for (const b of blocked) assert.match(r.stderr, `${b}: cannot replace ${join(out, b)}: a directory is in the way`);
    assert.is(readFileSync(join(out, 'ok.txt'), 'utf8'), 'fine\n');
  });
}

test('a re-run removes the temporaries a kill -9 left, and keeps those of a live process', () => {
  const out = join(t.path, 'rerun');
  mkdirSync(join(out, 'sub'), { recursive: true });
  // What an earlier restore (a process that is gone) left in the target and in a directory.
  const gone = spawnSync('true').pid;
  const stale = [`${TEMP_PREFIX}${gone}-0123abcd`, `sub/${TEMP_PREFIX}${gone}-89abcdef`];
  for (const s of stale) writeFileSync(join(out, s), 'half a file');
  // A live process's (this test's: it never makes one there, but it is running).
  const live = `${TEMP_PREFIX}${process.pid}-00000000`;
  writeFileSync(join(out, live), '');
  const r = fxcp(['snap', 'restore', store, '-o', out, '--latest']);
  assert.is(r.code, 0, r.stderr);
  for (const s of stale) assert.not.ok(existsSync(join(out, s)), `${s} removed`);
  assert.ok(existsSync(join(out, live)), 'a live process may still be writing it');
  assert.equal(listing(out).filter((p) => p !== live), listing(src));
  assert.equal(compareTrees(join(src, 'sub'), join(out, 'sub')), []);
});

test('kill -9 in the middle of a restore into an empty target: nothing torn under a real name; the next restore removes the rest', async () => {
  const many = join(t.path, 'many'), manyStore = join(t.path, 'many-store');
  for (let i = 0; i < 3000; i++) {
    const d = join(many, `top${i % 3}`, `d${i % 40}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.bin`), seededBytes(i % 100 === 0 ? 300_000 : 12_000, 500 + i));
  }
  assert.is(fxcp(['snap', 'create', many, manyStore]).code, 0);
  const out = join(t.path, 'killed');
  mkdirSync(out);
  const child = fxcpAsync(['snap', 'restore', manyStore, '-o', out, '--latest'], { FOXING_RESTORE_POOL_BYTES: '0' });
  child.stdout!.resume();
  child.stderr!.resume();
  // Killed once files are being written inside a temporary directory.
  let killed = false;
  for (let i = 0; i < 4000 && !killed && child.exitCode === null; i++) {
    const temps = readdirSync(out).filter((n) => n.startsWith(TEMP_PREFIX));
    if (temps.some((n) => listing(join(out, n)).length > 50)) killed = child.kill('SIGKILL');
    else await sleep(2);
  }
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve)));
  assert.ok(killed, 'killed while a directory was being restored');
  // Under real names only complete files (a temporary directory is not a real name).
  const real = listing(out).filter((p) => !p.split('/').some((c) => c.startsWith(TEMP_PREFIX)));
  assert.ok(listing(out).length > real.length, 'a temporary directory was left');
  for (const p of real) {
    if (!p.endsWith('.bin')) continue;
    assert.ok(readFileSync(join(out, p)).equals(readFileSync(join(many, p))), `${p} is complete`);
  }
  const r = fxcp(['snap', 'restore', manyStore, '-o', out, '--latest']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(listing(out), listing(many));
  assert.equal(compareTrees(many, out), []);
});

test.run();
