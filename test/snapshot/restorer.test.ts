/**
 * The restorer's walk starts restores in many directories at once (it waits for a free slot,
 * never for a directory to finish). On a real store made by the real CLI: a tree of
 * one-file directories, hard-link groups of large files (restored by workers when the pool is
 * on; this restore is small enough to run on the main thread alone by default) whose members
 * lie in different directories, and deep directories with old mtimes come back exactly, with
 * every group still one inode and every directory's mtime the snapshot's; an interrupted
 * restore leaves only complete files. With the pool, small files and symlinks go to the workers
 * in batches (restore-batch.ts): they come back the same, and an entry of a batch that cannot be
 * restored is reported alone while the rest of its batch is restored.
 */
import { chmodSync, closeSync, linkSync, lutimesSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, fxcpAsync, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('restorer-');
const src = join(t.path, 'src'), store = join(t.path, 'store');
const OLD = new Date('2001-02-03T04:05:06Z');

test.before(() => {
  for (let i = 0; i < 40; i++) {
    const d = join(src, `d${i % 4}`, `sub${i}`, 'deep');
    mkdirSync(d, { recursive: true });
    // Every third file is large enough for a worker; the rest are restored on the main thread.
    writeFileSync(join(d, `f${i}.bin`), seededBytes(i % 3 === 0 ? 400_000 + i : 1000 + i, i));
    if (i % 5 === 1) chmodSync(join(d, `f${i}.bin`), 0o640);
    // Symlinks with old times of their own, one dangling.
    symlinkSync(i % 2 ? `f${i}.bin` : '../nowhere', join(d, `link${i}`));
    lutimesSync(join(d, `link${i}`), OLD, OLD);
  }
  for (let g = 0; g < 3; g++) {
    const first = join(src, `d${g}`, `group${g}.bin`);
    writeFileSync(first, seededBytes(600_000, 100 + g));
    linkSync(first, join(src, `d${g}`, `group${g}-same-dir.bin`));
    for (let k = 0; k < 4; k++) {
      const d = join(src, `d${(g + k + 1) % 4}`, `sub${k}`);
      mkdirSync(d, { recursive: true });
      linkSync(first, join(d, `group${g}-link${k}.bin`));
    }
  }
  // Directory mtimes last (creating entries moves them), deepest first: old ones, which a
  // restore must bring back.
  const age = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) age(join(dir, e.name));
    if (dir !== src) utimesSync(dir, OLD, OLD);
  };
  age(src);
  const r = fxcp(['snap', 'create', src, store]);
  assert.is(r.code, 0, r.stderr);
});
test.after(() => t.cleanup());

for (const [how, env] of [['on the main thread alone', {}], ['with the worker pool', { FOXING_RESTORE_POOL_BYTES: '0' }]] as const) {
  test(`a full restore ${how}: every file, hard-link group and directory mtime as in the source`, () => {
    const out = join(t.path, `full-${Object.keys(env).length}`);
    const r = fxcp(['snap', 'restore', store, '-o', out, '--latest'], { env });
    assert.is(r.code, 0, r.stderr);
    assert.equal(compareTrees(src, out, { rootMeta: false }), []);
    for (let g = 0; g < 3; g++) assert.is(statSync(join(out, `d${g}`, `group${g}.bin`)).nlink, 6, `group ${g} is one inode`);
    assert.is(statSync(join(out, 'd1', 'sub1', 'deep')).mtime.getTime(), OLD.getTime());
  });
}

test('a selective restore of links in other directories keeps them one group, and parents their mtimes', () => {
  const out = join(t.path, 'some');
  const r = fxcp(['snap', 'restore', store, '-o', out, '--latest', '--file', 'd1/sub0/*', '--file', 'd2/sub1/*', '--file', 'd0/group0*'],
    { env: { FOXING_RESTORE_POOL_BYTES: '0' } });
  assert.is(r.code, 0, r.stderr);
  const ino = statSync(join(out, 'd0', 'group0.bin')).ino;
  assert.is(statSync(join(out, 'd1', 'sub0', 'group0-link0.bin')).ino, ino);
  assert.is(statSync(join(out, 'd2', 'sub1', 'group0-link1.bin')).ino, ino);
  assert.is(statSync(join(out, 'd0', 'group0-same-dir.bin')).ino, ino);
  for (const d of ['d1', 'd1/sub0', 'd2/sub1']) assert.is(statSync(join(out, d)).mtime.getTime(), OLD.getTime(), d);
});

test('with the pool, an entry of a batch that cannot be restored is reported alone; the rest of its batch is restored', () => {
  const out = join(t.path, 'in-the-way');
  // A non-empty directory where a small file goes: its rename fails, in a worker's batch.
  mkdirSync(join(out, 'd1', 'sub1', 'deep', 'f1.bin', 'x'), { recursive: true });
  const r = fxcp(['snap', 'restore', store, '-o', out, '--latest'], { env: { FOXING_RESTORE_POOL_BYTES: '0' } });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /d1\/sub1\/deep\/f1\.bin: cannot replace .*a directory is in the way/);
  // Everything else as in the source: its neighbour in the same batch (the symlink link1), the
  // directory's times (applied after the batch), every other file and link.
  const diffs = compareTrees(src, out, { rootMeta: false }).filter((d) => !d.startsWith('d1/sub1/deep/f1.bin'));
  assert.equal(diffs, []);
  assert.equal(readdirSync(join(out, 'd1', 'sub1', 'deep')).sort(), ['f1.bin', 'link1']);
  assert.is(statSync(join(out, 'd1', 'sub1', 'deep', 'f1.bin', 'x')).isDirectory(), true);
});

test('Ctrl-C during a restore: exit 130, no temporary file left, every file that is there complete', async () => {
  const big = join(t.path, 'big');
  for (let i = 0; i < 1500; i++) {
    const d = join(big, `d${i % 50}`, `e${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.bin`), seededBytes(i % 10 === 0 ? 300_000 : 20_000, 1000 + i));
  }
  const bigStore = join(t.path, 'big-store');
  const made = fxcp(['snap', 'create', big, bigStore]);
  assert.is(made.code, 0, made.stderr);
  const out = join(t.path, 'interrupted');
  const child = fxcpAsync(['snap', 'restore', bigStore, '-o', out, '--latest']);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  child.stdout!.resume();
  // Interrupt once the first files are written (the restore is then well under way): in d0,
  // which is made under a temporary name and renamed into place once complete.
  const poll = setInterval(() => {
    try {
      const written = readdirSync(out).some((top) => readdirSync(join(out, top)).some((e) => readdirSync(join(out, top, e)).length > 0));
      if (written) { clearInterval(poll); child.kill('SIGINT'); }
    } catch { /* not there yet, or renamed meanwhile */ }
  }, 5);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => { clearInterval(poll); resolve(c); }));
  assert.is(code, 130, `exit ${code}: ${stderr}`);
  let files = 0;
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      assert.not.ok(e.name.startsWith('.fxtmp-'), `temporary file left: ${r}`);
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else {
        files++;
        assert.ok(readFileSync(join(dir, e.name)).equals(readFileSync(join(big, r))), `${r} is complete`);
      }
    }
  };
  walk(out, '');
  assert.ok(files > 0 && files < 1500, `${files} files restored before the interruption`);
});

test('a large sparse file is restored by workers in parts: every byte and every hole in place', () => {
  // 3 data runs of 30 MiB between holes: 90 MiB of data, so three 32 MiB parts whose edges fall
  // inside runs, and runs that start inside a part.
  const dir = join(t.path, 'sparse-src');
  mkdirSync(dir);
  const file = join(dir, 'disk.img');
  const fd = openSync(file, 'w');
  const mib = seededBytes(1 << 20, 7);
  for (let run = 0; run < 3; run++) {
    for (let m = 0; m < 30; m++) {
      mib.writeUInt32LE(run * 1000 + m, 0); // every MiB different: no dedup inside the file
      writeSync(fd, mib, 0, mib.length, (run * 50 + 10 + m) * (1 << 20));
    }
  }
  closeSync(fd);
  truncateSync(file, 160 << 20);
  const sparseStore = join(t.path, 'sparse-store');
  const made = fxcp(['snap', 'create', dir, sparseStore]);
  assert.is(made.code, 0, made.stderr);
  const out = join(t.path, 'sparse-out');
  const r = fxcp(['snap', 'restore', sparseStore, '-o', out, '--latest']);
  assert.is(r.code, 0, r.stderr);
  const back = join(out, 'disk.img');
  assert.is(statSync(back).size, 160 << 20);
  assert.ok(readFileSync(back).equals(readFileSync(file)), 'same bytes');
  assert.ok(statSync(back).blocks * 512 < 100 << 20, `holes kept: ${statSync(back).blocks * 512} bytes allocated`);
});

test.run();
