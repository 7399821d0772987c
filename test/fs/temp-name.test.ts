/**
 * Temporary entries beside a user's files (issue 18 D4, D10): a short name of their own
 * whatever the final name's length, never an existing entry, and gone after every failure: a
 * failed rename, an exit of the process; what a kill -9 leaves is removed by the next sweep,
 * unless its process is alive.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errnoOf, joinPath } from '../../lib/fs/index.js';
import { makeTempDir, removeStaleTemps, TEMP_PREFIX, tempDirDone, TempEntry } from '../../lib/fs/temp-name.js';

let dir = '';
let d = Buffer.alloc(0);
const MODULE = new URL('../../lib/fs/temp-name.js', import.meta.url).href;
const temps = () => readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX));

test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-temp-name-')); d = Buffer.from(dir); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

test('a temporary for a 255-byte name is short, in the same directory, and replaces the file there', async () => {
  // 255 bytes: two that are not UTF-8, 126 two-byte characters, one more.
  const final = joinPath(d, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('é'.repeat(126)), Buffer.from('x')]));
  writeFileSync(final, 'old');
  const { temp, value: fd } = await TempEntry.create(d, (p) => openSync(p, 'wx', 0o600));
  closeSync(fd);
  assert.ok(temp.path.subarray(0, d.length + 1).equals(Buffer.concat([d, Buffer.from('/')])), 'in the directory');
  const name = temp.path.subarray(d.length + 1).toString('latin1');
  assert.match(name, /^\.fxtmp-\d+-[0-9a-f]{8}$/);
  assert.ok(name.length <= 23, name);
  writeFileSync(temp.path, 'new');
  temp.commit(final);
  assert.is(readFileSync(final, 'utf8'), 'new');
  temp.discard(); // after a commit: nothing to remove, the final file stays
  assert.is(readFileSync(final, 'utf8'), 'new');
  assert.equal(temps(), []);
});

test('a taken name is given up for a new one; the entry that held it is left alone', async () => {
  let calls = 0;
  let taken: Buffer = Buffer.alloc(0);
  const { temp, value: fd } = await TempEntry.create(d, (p) => {
    if (calls++ === 0) { taken = p; writeFileSync(p, 'someone else'); }
    return openSync(p, 'wx', 0o600);
  });
  closeSync(fd);
  assert.is(calls, 2);
  assert.not.ok(temp.path.equals(taken));
  assert.is(readFileSync(taken, 'utf8'), 'someone else');
  temp.discard();
  rmSync(taken);
  assert.equal(temps(), []);
});

test('a failed rename (a directory in the way) removes the temporary and names the final path', async () => {
  const final = join(dir, 'in-the-way');
  mkdirSync(join(final, 'child'), { recursive: true });
  const { temp, value: fd } = await TempEntry.create(d, (p) => openSync(p, 'wx', 0o600));
  closeSync(fd);
  try {
    temp.commit(final);
    assert.unreachable();
  } catch (e) {
    assert.is(errnoOf(e), 'EISDIR');
    assert.match((e as Error).message, /^cannot replace .*in-the-way: a directory is in the way \(EISDIR\)$/);
  }
  assert.equal(temps(), []);
  assert.ok(existsSync(join(final, 'child')), 'the directory is untouched');
});

/** Runs a child that makes a temporary in `dir`, prints its path, then does `then`. */
function child(then: string): { proc: ReturnType<typeof spawn>; path: Promise<string> } {
  const code = `const { closeSync, openSync } = await import('node:fs');
    const { TempEntry } = await import(${JSON.stringify(MODULE)});
    const { temp } = await TempEntry.create(${JSON.stringify(dir)}, (p) => closeSync(openSync(p, 'wx')));
    process.stdout.write(temp.path.toString() + '\\n');
    ${then}`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const path = new Promise<string>((resolve) => {
    let out = '';
    proc.stdout!.on('data', (b) => { out += b; if (out.includes('\n')) resolve(out.trim()); });
  });
  return { proc, path };
}

const exited = (p: ReturnType<typeof spawn>) => new Promise<void>((resolve) => p.on('exit', () => resolve()));

test('process.exit (a second Ctrl-C) removes the temporaries that still exist', async () => {
  const { proc, path } = child('process.exit(130);');
  const p = await path;
  await exited(proc);
  assert.is(proc.exitCode, 130);
  assert.not.ok(existsSync(p), `${p} removed`);
});

test('kill -9 leaves one; the sweep removes it, and keeps those of live processes and this one', async () => {
  const { proc, path } = child('setInterval(() => {}, 1000);');
  const left = await path;
  proc.kill('SIGKILL');
  await exited(proc);
  assert.ok(existsSync(left), 'a kill -9 leaves the temporary');
  // A live process's temporary (a sleeping child's pid), and one of this process in use.
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  const live = join(dir, `${TEMP_PREFIX}${sleeper.pid}-0123abcd`);
  writeFileSync(live, '');
  const { temp: mine, value: fd } = await TempEntry.create(d, (p) => openSync(p, 'wx'));
  closeSync(fd);
  // Ours in name only: an earlier process with this pid (pids are reused) left it.
  const reused = join(dir, `${TEMP_PREFIX}${process.pid}-0badf00d`);
  writeFileSync(reused, '');
  // Not a temporary's name: never removed.
  writeFileSync(join(dir, `${TEMP_PREFIX}user-file`), '');
  // A restore's new directory left by a kill -9, with what was written inside (a symlink out
  // of it not followed), and one this process is writing.
  const gone = spawnSync('true').pid;
  const staleDir = join(dir, `${TEMP_PREFIX}${gone}-0123abcd`);
  mkdirSync(join(staleDir, 'sub'), { recursive: true });
  writeFileSync(join(staleDir, 'sub', 'half'), 'half a file');
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), '');
  symlinkSync(outside, join(staleDir, 'link'));
  const myDir = makeTempDir(d);
  try {
    assert.is(removeStaleTemps(d), 3);
    assert.not.ok(existsSync(left));
    assert.not.ok(existsSync(reused));
    assert.not.ok(existsSync(staleDir), 'a stale temporary directory goes with its contents');
    assert.ok(existsSync(join(outside, 'keep')), 'a symlink inside is not followed');
    assert.ok(existsSync(live), 'a live process may still be writing it');
    assert.ok(existsSync(mine.path), 'this process is writing it');
    assert.ok(existsSync(myDir), 'this process is writing in it');
    assert.ok(existsSync(join(dir, `${TEMP_PREFIX}user-file`)));
  } finally {
    sleeper.kill('SIGKILL');
    mine.discard();
    tempDirDone(myDir);
    rmSync(outside, { recursive: true });
    for (const n of temps()) rmSync(join(dir, n), { recursive: true });
  }
});

test.run();
