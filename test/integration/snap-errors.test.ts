/**
 * Bad input gets one clear line naming the path and the problem, a documented exit code, and
 * nothing is lost: no torn file under a real name, no wrong bytes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTrees } from '../helpers/tree-compare.js';
import { FXCP, fxcp, fxcpJson, isRoot, tempDir } from '../helpers/run-cli.js';

function packs(store: string): string[] {
  const out: string[] = [];
  for (const fan of readdirSync(join(store, 'packs'))) for (const f of readdirSync(join(store, 'packs', fan))) out.push(join(store, 'packs', fan, f));
  return out.sort((a, b) => statSync(b).size - statSync(a).size);
}

function seededBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) { x = (x * 1664525 + 1013904223) >>> 0; b[i] = x >>> 24; }
  return b;
}

function sample(t: string): { src: string; store: string } {
  const src = join(t, 'src'), store = join(t, 'store');
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd/one.bin'), seededBytes(400_000, 1));
  writeFileSync(join(src, 'd/two.bin'), seededBytes(300_000, 2));
  writeFileSync(join(src, 'three.txt'), 'three\n');
  fxcpJson(['snap', 'create', src, store]);
  return { src, store };
}

test('a missing source fails with exit 2, names the path, and creates no store', () => {
  const t = tempDir();
  try {
    const r = fxcp(['snap', 'create', join(t.path, 'nope'), join(t.path, 'store')]);
    assert.is(r.code, 2);
    assert.match(r.stderr, /nope: no such file or directory/);
    assert.is(r.stderr.trim().split('\n').length, 1);
    assert.not.ok(existsSync(join(t.path, 'store')));
  } finally { t.cleanup(); }
});

test('a store whose creation was killed before its config was written is created on the next run', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(src); writeFileSync(join(src, 'a.txt'), 'hello');
    // What a kill between the layout's mkdirs and the config's rename leaves behind.
    for (const d of ['packs', 'snapshots', 'index', 'locks', 'tmp']) mkdirSync(join(store, d), { recursive: true });
    writeFileSync(join(store, 'index/data.mdb'), '');
    writeFileSync(join(store, '.config.tmp-1-abc'), '{"half":');
    const r = fxcp(['snap', 'create', src, store]);
    assert.is(r.code, 0, r.stderr);
    assert.is(fxcp(['store', 'check', store]).code, 0);
    // But a layout directory holding a pack is someone's data: refused, untouched.
    const other = join(t.path, 'other');
    mkdirSync(join(other, 'packs/ab'), { recursive: true });
    writeFileSync(join(other, 'packs/ab/x.pack'), 'data');
    const o = fxcp(['snap', 'create', src, other]);
    assert.is(o.code, 2);
    assert.match(o.stderr, /not a foxing store/);
    assert.ok(existsSync(join(other, 'packs/ab/x.pack')));
  } finally { t.cleanup(); }
});

test('a directory that is not a store, and a store of a newer version, are refused', () => {
  const t = tempDir();
  try {
    mkdirSync(join(t.path, 'notastore'));
    writeFileSync(join(t.path, 'notastore/file'), 'x');
    const r = fxcp(['snap', 'list', join(t.path, 'notastore')]);
    assert.is(r.code, 2);
    assert.match(r.stderr, /notastore: not a foxing store/);
    const c = fxcp(['snap', 'create', join(t.path, 'notastore'), join(t.path, 'notastore')]);
    assert.is(c.code, 2);
    const { store } = sample(t.path);
    const cfg = JSON.parse(readFileSync(join(store, 'config'), 'utf8'));
    cfg.version = 99;
    writeFileSync(join(store, 'config'), JSON.stringify(cfg));
    const v = fxcp(['snap', 'list', store]);
    assert.is(v.code, 2);
    assert.match(v.stderr, /version 99 is newer/);
    const j = fxcp(['snap', 'list', store, '--json']);
    assert.is(JSON.parse(j.stderr).code, 'NEWER_VERSION');
  } finally { t.cleanup(); }
});

// Both restore paths: this small restore runs on the main thread; FOXING_RESTORE_POOL_BYTES=0
// sends its two large files to the worker pool.
for (const [how, env] of [['', {}], [' (worker pool)', { FOXING_RESTORE_POOL_BYTES: '0' }]] as const) {
  test(`a flipped byte in a pack is detected on restore${how}: named, never written as data`, () => {
    const t = tempDir();
    try {
      const { src, store } = sample(t.path);
      const pack = packs(store)[0];
      const fd = openSync(pack, 'r+');
      const at = Math.floor(statSync(pack).size / 2);
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, at);
      b[0] ^= 0x40;
      writeSync(fd, b, 0, 1, at);
      closeSync(fd);
      const out = join(t.path, 'out');
      const r = fxcp(['snap', 'restore', store, '-o', out], { env });
      assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}`);
      assert.match(r.stderr, /\.pack: chunk [0-9a-f]+ at offset \d+ is damaged/);
      // Whatever was restored is correct; the damaged file is absent, not torn.
      for (const f of ['d/one.bin', 'd/two.bin', 'three.txt']) {
        if (existsSync(join(out, f))) assert.equal(compareTrees(join(src, f), join(out, f)), [], f);
      }
      assert.ok(readdirSync(join(out, 'd')).every((n) => !n.startsWith('.fxtmp-')), 'no temporary files left');
    } finally { t.cleanup(); }
  });
}

test('a truncated pack gives a clear error naming it', () => {
  const t = tempDir();
  try {
    const { store } = sample(t.path);
    const pack = packs(store)[0];
    truncateSync(pack, statSync(pack).size - 100);
    rmSync(join(store, 'index'), { recursive: true });
    const r = fxcp(['store', 'rebuild-index', store]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /\.pack: pack trailer missing or damaged/);
    const out = join(t.path, 'out');
    const x = fxcp(['snap', 'restore', store, '-o', out]);
    assert.ok(x.code === 1 || x.code === 2, `exit ${x.code}`);
    assert.match(x.stderr, /missing from the store|truncated|damaged/);
  } finally { t.cleanup(); }
});

test('the index is a cache: deleted, it is rebuilt and everything restores', () => {
  const t = tempDir();
  try {
    const { src, store } = sample(t.path);
    writeFileSync(join(src, 'four.txt'), 'four');
    fxcpJson(['snap', 'create', src, store]);
    const before = fxcpJson(['store', 'stats', store]);
    rmSync(join(store, 'index'), { recursive: true });
    const rebuilt = fxcpJson(['store', 'rebuild-index', store]);
    assert.is(rebuilt.snapshots, 2);
    assert.is(rebuilt.chunks, before.chunks);
    assert.equal(fxcpJson(['store', 'stats', store]), before);
    rmSync(join(store, 'index'), { recursive: true });
    const out = join(t.path, 'out');
    fxcpJson(['snap', 'restore', store, '-o', out]);
    assert.equal(compareTrees(src, out), []);
  } finally { t.cleanup(); }
});

test('unreadable files are named, the rest is recorded, exit 1', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store');
    mkdirSync(src);
    writeFileSync(join(src, 'ok.txt'), 'fine');
    writeFileSync(join(src, 'locked.txt'), 'secret');
    chmodSync(join(src, 'locked.txt'), 0o000);
    let args = ['snap', 'create', src, store];
    if (isRoot) {
      // Root reads everything: run as nobody, which cannot.
      if (spawnSync('setpriv', ['--help']).status !== 0) { console.log('  skip: setpriv missing, cannot drop root'); return; }
      for (const p of [t.path, src, join(src, 'ok.txt')]) chmodSync(p, 0o777);
      mkdirSync(store); chownSync(store, 65534, 65534);
      args = ['--reuid=65534', '--regid=65534', '--clear-groups', FXCP, ...args];
      const r = spawnSync('setpriv', args, { encoding: 'utf8' });
      assert.is(r.status, 1, r.stderr);
      assert.match(r.stderr, /locked\.txt: cannot read: permission denied \(EACCES\)/);
    } else {
      const r = fxcp(args);
      assert.is(r.code, 1, r.stderr);
      assert.match(r.stderr, /locked\.txt/);
    }
    const list = fxcpJson(['snap', 'list', store]);
    assert.is(list.snapshots.length, 1);
    assert.is(list.snapshots[0].stats.errors, 1);
  } finally { t.cleanup(); }
});

test('a stale lock of a dead process is broken with a warning', () => {
  const t = tempDir();
  try {
    const { src, store } = sample(t.path);
    writeFileSync(join(store, 'locks', 'exclusive-999999-dead.lock'), JSON.stringify({
      pid: 999999, host: hostname(), start: null, command: 'fxcp snap prune', exclusive: true, time: '2020-01-01T00:00:00Z',
    }));
    const r = fxcp(['snap', 'create', src, store]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /removed stale lock of dead process 999999/);
  } finally { t.cleanup(); }
});

test('usage errors exit 2 with a one-line message', () => {
  const r = fxcp(['snap', 'create', 'only-one-arg']);
  assert.is(r.code, 2);
  const c = fxcp(['snap', 'create', '.', '/tmp/x', '--compress', 'brotli']);
  assert.is(c.code, 2);
  assert.match(c.stderr, /unknown codec 'brotli'/);
});

/**
 * A store with two snapshots whose `snap diff` prints more than a pipe buffer holds (64 KiB):
 * the second adds 3,000 files with long names.
 */
function bigDiff(dir: string): { store: string; a: string; b: string } {
  const { store } = sample(dir);
  const many = join(dir, 'many');
  mkdirSync(many);
  for (let i = 0; i < 3000; i++) writeFileSync(join(many, `a-name-long-enough-to-fill-the-pipe-buffer-${i}`), '');
  assert.is(fxcp(['snap', 'create', many, store]).code, 0);
  const [a, b] = fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id);  // oldest first
  return { store, a, b };
}

test('a reader that closes stdout early (| head -1) stops fxcp quietly, without a stack trace', () => {
  const t = tempDir();
  try {
    // fxcp is still writing when head exits.
    const { store, a, b } = bigDiff(t.path);
    const r = spawnSync('bash', ['-c', `set -o pipefail; "$0" snap diff "$1" "$2" "$3" | head -1`, FXCP, store, a, b], { encoding: 'utf8' });
    assert.is(r.stdout.split('\n').filter(Boolean).length, 1);
    assert.is(r.stderr, '', 'nothing on stderr');
    assert.is(r.status, 2, 'exit 2: the output was cut short');
  } finally { t.cleanup(); }
});

test('a non-blocking stdout with a slow reader still gets every byte, in order (EAGAIN is waited out)', () => {
  const t = tempDir();
  try {
    const { store, a, b } = bigDiff(t.path);
    const expected = fxcp(['snap', 'diff', store, a, b]).stdout;
    assert.ok(expected.length > 2 * 65536, `${expected.length} bytes: more than a pipe holds`);
    // python3 (needed to build the addon anyway) sets O_NONBLOCK on the pipe, as a parent
    // sharing it may, then runs fxcp on it; the reader starts only after fxcp hit a full pipe.
    const nonblock = 'import fcntl,os,sys; fl=fcntl.fcntl(1,fcntl.F_GETFL); fcntl.fcntl(1,fcntl.F_SETFL,fl|os.O_NONBLOCK); os.execvp(sys.argv[1],sys.argv[1:])';
    const r = spawnSync('bash', ['-c', `set -o pipefail; python3 -c "$0" "$1" snap diff "$2" "$3" "$4" | (sleep 2; cat)`, nonblock, FXCP, store, a, b],
      { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, expected);
  } finally { t.cleanup(); }
});

test.run();
