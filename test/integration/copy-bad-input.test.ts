/**
 * Issue 21's bad input for `fxcp -a`: each gives one clear line naming the path, the right exit
 * code (1: some entries failed, the others copied; 2: nothing useful done), writes nothing
 * outside DEST and leaves no torn file or temporary under DEST. An unreadable file (as user
 * nobody); a file that vanishes between the listing and its copy (made deterministic with the
 * LD_PRELOAD fault library: its open fails with ENOENT, what a real vanish looks like to fxcp);
 * DEST a file; a source inside DEST and DEST inside the source; a full destination (a 2 MiB
 * tmpfs, as root); names with a newline and with bytes that are not UTF-8; symlink loops and
 * links out of the tree given as sources; a path longer than PATH_MAX (copied, re-run and
 * updated through directory handles, lib/fs/dir-handle.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TEMP_PREFIX } from '../../lib/fs/temp-name.js';
import { compareCopy, listTree, pathSet, run, writeTree } from '../helpers/copy-tree.js';
import { faultEnv, faultLibrary } from '../helpers/fault-inject.js';
import { fxcp, isRoot, ROOT, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-bad-');
test.after(() => { spawnSync('rm', ['-rf', t.path]); }); // rm, not rmSync: it copes with paths over PATH_MAX

let n = 0;
function world(files: Record<string, string | Buffer> = {}): string {
  const w = join(t.path, `w${n++}`);
  writeTree(w, { 'src/a': 'aaa', 'src/d/b': 'bbb', 'src/d/c': 'ccc', 'src/z': 'zzz', 'out/': '', ...files });
  return w;
}

/** No temporary left anywhere under `root`. */
function noTemps(root: string): void {
  const temps = pathSet(root).filter((p) => p.split('/').some((c) => c.startsWith(TEMP_PREFIX)));
  assert.equal(temps, [], 'no temporary left');
}

/** stderr has exactly one line per problem, and none of them is a stack trace. */
function cleanMessages(stderr: string): void {
  assert.not.match(stderr, /^\s+at /m, 'no stack trace');
  assert.not.match(stderr, /TypeError|ReferenceError|RangeError/);
}

const NOBODY = 65534;
function asNobody(args: string[], cwd: string) {
  return spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, join(ROOT, 'bin', 'fxcp.cjs'), ...args],
    { encoding: 'utf8', cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
}

test('an unreadable file: exit 1, the file named, the others copied, nothing under its name (as user nobody)', () => {
  if (!isRoot) { console.log('  skip: needs root (to run fxcp as user nobody)'); return; }
  const w = world();
  run('chown', ['-R', `${NOBODY}:${NOBODY}`, w]);
  chmodSync(join(w, 'src/d/b'), 0);
  const r = asNobody(['-a', 'src/', 'out'], w);
  if (r.status !== 0 && /Cannot find module|EACCES.*fxcp/.test(r.stderr)) { console.log('  skip: the checkout is not readable by user nobody'); return; }
  assert.is(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], 'd/b');
  assert.match(lines[0], /permission denied|EACCES/i);
  cleanMessages(r.stderr);
  assert.not.ok(existsSync(join(w, 'out/d/b')));
  for (const f of ['a', 'd/c', 'z']) assert.ok(existsSync(join(w, 'out', f)), f);
  noTemps(join(w, 'out'));
});

test('a file that vanishes after the listing (its open fails with ENOENT): exit 1, named as vanished, the others copied', () => {
  const lib = faultLibrary();
  if ('skip' in lib) { console.log(`  skip: ${lib.skip}`); return; }
  const w = world();
  const r = fxcp(['-a', 'src/', 'out'], { cwd: w, env: faultEnv(lib.path, { op: 'open', path: 'src/d/c', errno: 2, sticky: true }) });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, 'd/c');
  assert.match(r.stderr, /no such file|vanish/i);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  cleanMessages(r.stderr);
  assert.not.ok(existsSync(join(w, 'out/d/c')));
  for (const f of ['a', 'd/b', 'z']) assert.ok(existsSync(join(w, 'out', f)), f);
  noTemps(join(w, 'out'));
});

test('a new directory that cannot be made (mkdir fails, EACCES): exit 1, named once, nothing inside it reported or written, the rest copied', () => {
  // New directories are made in the batches (lib/copy/write-batcher.ts), and a job inside one
  // that runs first makes it: whichever mkdir fails, the directory is the one problem named.
  const lib = faultLibrary();
  if ('skip' in lib) { console.log(`  skip: ${lib.skip}`); return; }
  const w = world({ 'src/d/sub/deep/e': 'eee', 'src/d/sub/f': 'fff', 'src/y/g': 'ggg' });
  symlinkSync('b', join(w, 'src/d/link')); // written from the main thread, which makes the directory first
  const r = fxcp(['-a', 'src/', 'out'], { cwd: w, env: faultEnv(lib.path, { op: 'mkdir', path: 'out/d', errno: 13, sticky: true }) });
  assert.is(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /^[^\n]*\bd\b.*(permission denied|EACCES)/i);
  cleanMessages(r.stderr);
  assert.not.ok(existsSync(join(w, 'out/d')));
  for (const f of ['a', 'z', 'y/g']) assert.ok(existsSync(join(w, 'out', f)), f);
  noTemps(join(w, 'out'));
});

test('a file that really vanishes: deleted once the copy of its directory is under way (exit 1, named; never a temporary or a torn file)', async () => {
  // The directory is listed before its files are copied; the last file is deleted as soon as
  // the first 300 copies appear, so it is gone after the listing and before its own copy. If a
  // machine copies 3000 files faster than this poll (every 2 ms), it says so.
  const files: Record<string, string> = {};
  for (let i = 0; i < 3000; i++) files[`src/many/f${String(i).padStart(4, '0')}`] = `file ${i}\n`.repeat(50);
  const w = world(files);
  const victim = join(w, 'src/many/f2999');
  const child = spawn(join(ROOT, 'bin', 'fxcp'), ['-a', 'src/', 'out'], { cwd: w, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '', deleted = false;
  child.stderr.on('data', (d) => { stderr += d; });
  const poll = setInterval(() => {
    const got = existsSync(join(w, 'out/many')) ? readdirSync(join(w, 'out/many')).length : 0;
    if (got >= 300 && !deleted) { unlinkSync(victim); deleted = true; clearInterval(poll); }
  }, 2);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => { clearInterval(poll); resolve(c); }));
  assert.ok(deleted, 'the copy ended before 300 files appeared: make the poll faster');
  if (existsSync(join(w, 'out/many/f2999'))) {
    console.log('  note: f2999 was copied before it was deleted (the copy outran the poll)');
    assert.is(code, 0, stderr);
  } else {
    assert.is(code, 1, stderr);
    assert.match(stderr, 'many/f2999');
    assert.match(stderr, /no such file|vanish/i);
    assert.is(stderr.trim().split('\n').length, 1, stderr);
    cleanMessages(stderr);
  }
  noTemps(join(w, 'out'));
  const copied = readdirSync(join(w, 'out/many'));
  assert.ok(copied.length >= 2999);
  for (const name of copied) assert.is(lstatSync(join(w, 'out/many', name)).size, `file ${Number(name.slice(1))}\n`.length * 50, name);
});

test('DEST is a file and the source a directory: exit 2, the file named, left as it was', () => {
  const w = world({ 'destfile': 'dest' });
  for (const src of ['src', 'src/']) {
    const r = fxcp(['-a', src, 'destfile'], { cwd: w });
    assert.is(r.code, 2);
    assert.is(r.stderr, 'fxcp: destfile: the destination is a file, not a directory\n');
    assert.equal(listTree(join(w, 'destfile')).get('.')!.hash, listTree(join(w, 'destfile')).get('.')!.hash);
    assert.is(lstatSync(join(w, 'destfile')).size, 4);
  }
});

test('a source inside the destination, and the destination inside the source: refused, exit 2, nothing written', () => {
  const w = world({ 'd/sub/z': 'z', 'd/y': 'y' });
  const before = listTree(w);
  for (const [args, msg] of [
    [['d/sub/', 'd'], 'd/sub: refused: the source lies inside the destination d'],
    [['d/sub', 'd'], 'refused'],
    [['d', 'd/sub'], 'd: refused: the destination d/sub/d is inside the source'],
    [['d/', 'd/sub'], 'd: refused: the destination d/sub is inside the source'],
    [['d/', 'd'], 'refused: the destination d is the source itself'],
    [['d/', './d/../d/sub/deeper'], 'inside the source'],
  ] as const) {
    const r = fxcp(['-a', '--delete', ...args], { cwd: w });
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.is(r.stderr.trim().split('\n').length, 1);
    assert.equal(listTree(w), before, `${args.join(' ')}: nothing changed`);
  }
  // Through a symlink to the source: the same refusal.
  symlinkSync('d/sub', join(w, 'sub-link'));
  const r = fxcp(['-a', 'd/', 'sub-link'], { cwd: w });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, 'refused');
});

test('a full destination (a 2 MiB tmpfs, a 5 MB source): exit 2 before writing, both numbers in the message', () => {
  if (!isRoot) { console.log('  skip: needs root (to mount a tmpfs)'); return; }
  const w = world();
  const mnt = join(w, 'small');
  mkdirSync(mnt);
  writeFileSync(join(w, 'src/big'), Buffer.alloc(5_000_000, 1));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) { console.log(`  skip: cannot mount a tmpfs (${m.stderr.trim()})`); return; }
  try {
    const r = fxcp(['-a', 'src/', 'small/copy'], { cwd: w });
    assert.is(r.code, 2, r.stderr);
    // The source holds 5,000,000 + 12 bytes of files.
    assert.is(r.stderr.trim(), 'fxcp: small/copy: not enough free space for the copy: needs 5000012 bytes, the file system has 2097152 bytes free; nothing was copied');
    assert.equal(readdirSync(mnt), [], 'nothing written, DEST not even made');
    const j = fxcp(['-a', '--json', 'src/', 'small/copy'], { cwd: w });
    assert.is(j.code, 2);
    const e = JSON.parse(j.stderr);
    assert.is(e.code, 'NO_SPACE');
    assert.is(e.needed, 5000012);
    assert.is(e.available, 2097152);
    // What fits is copied.
    const ok = fxcp(['-a', 'src/d', 'small/copy'], { cwd: w });
    assert.is(ok.code, 0, ok.stderr);
    assert.equal(compareCopy(join(w, 'src/d'), join(mnt, 'copy/d')), []);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('a re-run into a full destination: unchanged, it succeeds; a change that does not fit stops before anything changes (--delete too)', () => {
  if (!isRoot) { console.log('  skip: needs root (to mount a tmpfs)'); return; }
  const w = world();
  const mnt = join(w, 'small');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) { console.log(`  skip: cannot mount a tmpfs (${m.stderr.trim()})`); return; }
  try {
    const first = fxcp(['-a', '--generate-sigs', 'src/', 'small/copy'], { cwd: w });
    assert.is(first.code, 0, first.stderr);
    // The sources' file system holds more than the tmpfs has free: the sized check is needed
    // once something changes, and finds nothing to write when nothing does.
    const same = fxcp(['-a', '--delete', '--generate-sigs', '--stats', 'src/', 'small/copy'], { cwd: w });
    assert.is(same.code, 0, same.stderr);
    assert.match(same.stdout, 'Number of regular files transferred: 0');
    writeFileSync(join(w, 'src/d/big'), Buffer.alloc(5_000_000, 2));
    unlinkSync(join(w, 'src/a'));
    const before = listTree(mnt);
    const r = fxcp(['-a', '--delete', '--generate-sigs', 'src/', 'small/copy'], { cwd: w });
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /^fxcp: small\/copy: not enough free space for the copy: needs 5000000 bytes, the file system has \d+ bytes free; nothing was copied$/m);
    const after = listTree(mnt);
    for (const [rel, e] of before) {
      if (rel.startsWith('copy/.foxing')) continue;
      assert.equal(after.get(rel), e, `${rel} untouched`);
    }
    assert.ok(existsSync(join(mnt, 'copy/a')), 'the extraneous file is still there');
    noTemps(mnt);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('names with a newline and with bytes that are not UTF-8 are copied byte for byte (files, a directory, a symlink target)', () => {
  const w = world();
  const src = Buffer.from(join(w, 'src'));
  const p = (...names: Buffer[]) => Buffer.concat([src, ...names.flatMap((x) => [Buffer.from('/'), x])]);
  const nl = Buffer.from('line\nbreak'), bad = Buffer.from([0x66, 0xff, 0xfe, 0x80, 0x2e, 0x74]), latin = Buffer.from([0xe9, 0x74, 0xe9]);
  writeFileSync(p(nl), 'newline');
  writeFileSync(p(bad), 'not utf-8');
  mkdirSync(p(latin));
  writeFileSync(p(latin, bad), 'inside');
  symlinkSync(bad, p(latin, nl));
  const r = fxcp(['-a', 'src/', 'out'], { cwd: w });
  assert.is(r.code, 0, r.stderr);
  assert.equal(compareCopy(join(w, 'src'), join(w, 'out')), []);
  const names = readdirSync(join(w, 'out'), { encoding: 'buffer' });
  for (const x of [nl, bad, latin]) assert.ok(names.some((m) => m.equals(x)), x.toString('hex'));
  assert.ok(readlinkSync(Buffer.concat([Buffer.from(join(w, 'out/')), latin, Buffer.from('/'), nl]), { encoding: 'buffer' }).equals(bad));
  // Such names are sources too.
  const r2 = fxcp(['-a', join(w, 'src', nl.toString('latin1')).length > 0 ? `src/${nl.toString()}` : '', 'out2/'], { cwd: w });
  assert.is(r2.code, 0, r2.stderr);
  assert.ok(existsSync(join(w, 'out2', nl.toString())));
});

test('links out of the tree, given as sources, are copied as links (never followed)', () => {
  const w = world();
  symlinkSync('/etc', join(w, 'etc-link'));
  symlinkSync('../../..', join(w, 'up-link'));
  const r = fxcp(['-a', 'etc-link', 'up-link', 'out'], { cwd: w });
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(join(w, 'out')).sort(), ['etc-link', 'up-link']);
  assert.is(readlinkSync(join(w, 'out/etc-link')), '/etc');
  assert.is(readlinkSync(join(w, 'out/up-link')), '../../..');
  // A single link copied to a new name stays a link too.
  const one = fxcp(['-a', 'etc-link', 'out/renamed'], { cwd: w });
  assert.is(one.code, 0, one.stderr);
  assert.is(readlinkSync(join(w, 'out/renamed')), '/etc');
});

test('a symlink loop given as a source is copied as a link', () => {
  
  const w = world();
  symlinkSync('loop-b', join(w, 'loop-a'));
  symlinkSync('loop-a', join(w, 'loop-b'));
  const r = fxcp(['-a', 'loop-a', 'loop-b', 'out'], { cwd: w });
  assert.is(r.code, 0, r.stderr);
  assert.is(readlinkSync(join(w, 'out/loop-a')), 'loop-b');
  assert.is(readlinkSync(join(w, 'out/loop-b')), 'loop-a');
});

test('a path longer than PATH_MAX (30 levels of 200-byte names): copied through directory handles, again unchanged, then updated', () => {
  const w = world();
  const name = 'n'.repeat(200);
  run('bash', ['-c', `cd src && for i in $(seq 30); do mkdir ${name} && cd ${name}; done && echo deep > file && ln file link && mkfifo fifo && touch -d 2001-01-01 . file`], w);
  // Down one level at a time: bash's cd, as every call, refuses a path over PATH_MAX whole.
  const down = `for i in $(seq 30); do cd ${name} || exit 1; done`;
  const r = fxcp(['-a', 'src/', 'out'], { cwd: w });
  assert.is(r.code, 0, r.stderr);
  const check = spawnSync('bash', ['-c', `cd out && ${down} && cat file && stat -c '%h %Y %F' file fifo . | cut -d' ' -f1,2`], { cwd: w, encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
  const [content, file, fifo, dir] = check.stdout.trim().split('\n');
  assert.is(content, 'deep');
  assert.is(file, '2 978307200', 'the hard link kept, the time to the second');
  assert.match(fifo, /^1 /);
  assert.is(dir, '2 978307200', "the directory's time set after its entries");
  const again = fxcp(['-a', '-i', 'src/', 'out'], { cwd: w });
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, '', 'nothing to do the second time');
  run('bash', ['-c', `cd src && ${down} && echo changed > file && rm fifo`], w);
  const update = fxcp(['-a', '--delete', 'src/', 'out'], { cwd: w });
  assert.is(update.code, 0, update.stderr);
  const after = spawnSync('bash', ['-c', `cd out && ${down} && cat file && ls`], { cwd: w, encoding: 'utf8' });
  assert.is(after.stdout, 'changed\nfile\nlink\n');
  // find walks by directory descriptors (fts), so it reaches the bottom.
  const temps = spawnSync('find', ['out', '-name', `${TEMP_PREFIX}*`], { cwd: w, encoding: 'utf8' });
  assert.is(temps.status, 0, temps.stderr);
  assert.is(temps.stdout, '', 'no temporary left');
  // The whole deep tree deleted by --delete, deepest first: 30 directories, the file and its link.
  run('bash', ['-c', `rm -rf src/${name} && touch src/other`], w);
  const gone = fxcp(['-a', '--delete', '--stats', 'src/', 'out'], { cwd: w });
  assert.is(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /Number of deleted files: 32\b/);
  const left = readdirSync(join(w, 'out'));
  assert.ok(left.includes('other') && !left.includes(name), left.join(' '));
});

test.run();
