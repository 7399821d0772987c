/**
 * Issue 22, signatures: `fxcp -a --generate-sigs` records a signature for every regular file of
 * DEST in DEST/.foxing/signatures.mdb, valid for the file as written (checked through the
 * store, as a later copy reads it); `.foxing` is neither copied from a source nor deleted by
 * --delete; with -c a destination file whose signature is valid is not read (its content hash
 * comes from the signature: the fault library fails every open of one, and nothing notices),
 * and one edited in place three levels down with its mtime put back has an invalid signature,
 * so it is read, found different and copied again. Delta: a 6 MiB file with 8 KiB inserted is
 * rebuilt from its old chunks under --delta auto (signatures) and always (none), not never.
 * --compare: Merkle hashes of both trees find that edit, one-sided entries and type changes.
 * --cleanup, --verify, --throttle; --snapshot: DEST's history in DEST/.foxing/store.
 */
import { chmodSync, lstatSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { blake3 } from '../../lib/hash/blake3.js';
import { native } from '../../lib/native/load.js';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SignatureStore, STATE_DIR } from '../../lib/signature/signature-store.js';
import { touchAt, writeTree } from '../helpers/copy-tree.js';
import { seededBytes } from '../helpers/seeded.js';
import { faultEnv, faultLibrary } from '../helpers/fault-inject.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

const t = tempDir('copy-signatures-');
test.after(() => t.cleanup());

const FILES = ['f', 'a/g', 'a/b/h', 'a/b/c/deep'];

function identity(file: string) {
  const st = lstatSync(file, { bigint: true });
  return { dev: st.dev, ino: st.ino, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

async function validSignatures(dst: string): Promise<string[]> {
  const store = SignatureStore.open(dst);
  try {
    return FILES.filter((f) => store.validFor(identity(join(dst, f))) !== null);
  } finally {
    await store.close();
  }
}

test('--generate-sigs: every file signed; .foxing kept out of copies and deletes; -c trusts only valid signatures', async () => {
  const src = join(t.path, 'src'), dst = join(t.path, 'dst');
  writeTree(src, { 'f': 'ffff', 'a/g': 'g'.repeat(70_000), 'a/b/h': 'hhh', 'a/b/c/deep': 'the original text', [`${STATE_DIR}/x`]: 'a source state dir is not data' });
  touchAt(join(src, 'a/b/c/deep'), '1700000000.5');
  let r = fxcp(['-a', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(await validSignatures(dst), FILES);
  assert.not.ok(readdirSync(join(dst, STATE_DIR)).includes('x'), "the source's .foxing was not copied");

  // A re-run with --delete: nothing written, .foxing kept.
  r = fxcp(['-ai', '--delete', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.equal(await validSignatures(dst), FILES);

  // The destination edited in place three levels down, same size, its mtime put back.
  const deep = join(dst, 'a/b/c/deep');
  const { atime, mtime } = statSync(deep);
  writeFileSync(deep, 'THE ORIGINAL TEXT');
  utimesSync(deep, atime, mtime);
  assert.equal(await validSignatures(dst), FILES.filter((f) => f !== 'a/b/c/deep'), 'its signature is no longer valid');
  // The quick check cannot see it (rsync's rule); -c reads it, since its signature is not valid.
  r = fxcp(['-a', '--generate-sigs', '-i', `${src}/`, dst]);
  assert.is(r.stdout, '');
  r = fxcp(['-ac', '--generate-sigs', '-i', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), '>fc........ a/b/c/deep');
  assert.is(readFileSync(deep, 'utf8'), 'the original text');
  assert.equal(await validSignatures(dst), FILES, 'signed again');

  // With valid signatures, -c compares against them: every open of the destination a/g fails
  // (the fault library), and nothing needs one.
  const lib = faultLibrary();
  if ('skip' in lib) { console.log(`  skip the no-read check: ${lib.skip}`); return; }
  r = fxcp(['-ac', '--generate-sigs', '-i', `${src}/`, dst], { env: faultEnv(lib.path, { op: 'open', path: `${dst}/a/g`, errno: 5, sticky: true }) });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '', 'nothing differs, and a/g of the destination was not opened');
  // Without the store's help (no --generate-sigs) -c must read them, and the same fault shows.
  r = fxcp(['-ac', '-i', `${src}/`, dst], { env: faultEnv(lib.path, { op: 'open', path: `${dst}/a/g`, errno: 5, sticky: true }) });
  assert.is(r.code, 1, 'the fault library does catch a read of the destination');
});

// Directory records (formats/signatures.md §6): a re-run that finds a directory's files
// unchanged checks one record for the directory, and does not size its sources' xattrs; it
// must still see a destination file whose ctime moved (its record no longer names it) and sign
// it again, and a source file that gained an xattr (its ctime moved) and copy the xattr.
test('--generate-sigs re-run: one record per directory covers its unchanged files; a file whose ctime moved is signed again; a new source xattr is copied', async () => {
  const src = join(t.path, 'dirrec-src'), dst = join(t.path, 'dirrec-dst');
  writeTree(src, { 'd/f1': 'one', 'd/f2': 'two', 'd/f3': 'three', 'top': 't' });
  let r = fxcp(['-a', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const digestOf = (files: string[]) => {
    const ids = Buffer.alloc(64 * files.length);
    files.forEach((f, k) => {
      const id = identity(join(dst, f)), s = identity(join(src, f));
      ids.writeBigUInt64LE(id.dev, k * 64);
      ids.writeBigUInt64LE(id.ino, k * 64 + 8);
      ids.writeBigUInt64LE(BigInt(id.size), k * 64 + 16);
      ids.writeBigInt64LE(id.mtimeNs, k * 64 + 24);
      ids.writeBigInt64LE(id.ctimeNs, k * 64 + 32);
      ids.writeBigUInt64LE(s.dev, k * 64 + 40);
      ids.writeBigUInt64LE(s.ino, k * 64 + 48);
      ids.writeBigInt64LE(s.ctimeNs, k * 64 + 56);
    });
    return blake3().hash(ids);
  };
  const holds = async (files: string[]) => {
    const store = SignatureStore.open(dst), d = lstatSync(join(dst, 'd'), { bigint: true });
    try { return store.dirHolds(d.dev, d.ino, digestOf(files)); } finally { await store.close(); }
  };
  // The first run wrote every file: no directory found them unchanged yet.
  assert.not.ok(await holds(['d/f1', 'd/f2', 'd/f3']));
  r = fxcp(['-ai', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.stdout, '');
  assert.ok(await holds(['d/f1', 'd/f2', 'd/f3']), 'the re-run recorded the directory');
  // Same mode again, same mtime: only its ctime moved.
  chmodSync(join(dst, 'd/f2'), 0o600);
  chmodSync(join(dst, 'd/f2'), statSync(join(src, 'd/f2')).mode & 0o7777);
  const signed = async () => {
    const store = SignatureStore.open(dst);
    try { return ['d/f1', 'd/f2', 'd/f3'].filter((f) => store.validFor(identity(join(dst, f))) !== null); } finally { await store.close(); }
  };
  assert.equal(await signed(), ['d/f1', 'd/f3']);
  r = fxcp(['-ai', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '', 'nothing to copy');
  assert.equal(await signed(), ['d/f1', 'd/f2', 'd/f3'], 'f2 signed again');
  assert.ok(await holds(['d/f1', 'd/f2', 'd/f3']), 'the record follows');
  // A source file gains an xattr: mtime and size stay, its ctime moves.
  try { native!.xattrSet(join(src, 'd/f3'), 'user.added', Buffer.from('later')); } catch { console.log('  (no user xattrs here: the xattr step skipped)'); return; }
  r = fxcp(['-ai', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), '.f........x d/f3');
  assert.is(native!.xattrGet(join(dst, 'd/f3'), 'user.added').toString(), 'later');
  assert.not.ok(await holds(['d/f1', 'd/f2', 'd/f3']), 'a source with xattrs is never vouched for');
  // A run without -a neither compares nor copies xattrs: it must not vouch for the sources
  // having none. The destination's xattr removed, a -r run, then -a puts it back.
  native!.xattrSet(join(dst, 'd/f3'), 'user.added', Buffer.from('other'));
  r = fxcp(['-r', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  r = fxcp(['-ai', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.stdout.trim(), '.f........x d/f3');
  assert.is(native!.xattrGet(join(dst, 'd/f3'), 'user.added').toString(), 'later');
});

test('delta: a changed file of 1 MiB or more rebuilt from its old chunks (--delta auto with signatures, always, never)', () => {
  const src = join(t.path, 'dsrc'), dst = join(t.path, 'ddst');
  const data = seededBytes(6 << 20, 5);
  writeTree(src, { big: data });
  let r = fxcp(['-a', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const edit = (seed: number) => {
    const now = readFileSync(join(src, 'big'));
    writeFileSync(join(src, 'big'), Buffer.concat([now.subarray(0, 3 << 20), seededBytes(8192, seed), now.subarray(3 << 20)]));
  };
  const writeOf = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.action === 'write');
  edit(6);
  r = fxcp(['-a', '--generate-sigs', '--json', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  let w = writeOf(r.stdout);
  assert.is(w.strategy, 'delta');
  assert.ok(w.reused > 5.5 * 2 ** 20 && w.bytes < 2 ** 19, JSON.stringify(w));
  assert.ok(readFileSync(join(dst, 'big')).equals(readFileSync(join(src, 'big'))));
  // The summary gives the bytes saved, --stats too.
  const summaryOf = (out: string) => JSON.parse(out.trim().split('\n').pop()!).summary;
  assert.is(summaryOf(r.stdout).bytesReused, w.reused);
  edit(16);
  r = fxcp(['-a', '--generate-sigs', '--stats', `${src}/`, dst]);
  assert.match(r.stdout, /Bytes reused from old files \(delta\): [\d,]+ bytes/);
  // More than half dirty: copied whole. Under 1 MiB: copied whole.
  writeFileSync(join(src, 'big'), Buffer.concat([seededBytes(4 << 20, 17), readFileSync(join(src, 'big')).subarray(4 << 20)]));
  writeFileSync(join(src, 'small'), seededBytes((1 << 20) - 1, 18));
  r = fxcp(['-a', '--generate-sigs', '--json', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  writeFileSync(join(src, 'small'), Buffer.concat([seededBytes(10, 19), readFileSync(join(src, 'small')).subarray(10)]));
  writeFileSync(join(src, 'big'), Buffer.concat([seededBytes(4 << 20, 20), readFileSync(join(src, 'big')).subarray(4 << 20)]));
  r = fxcp(['-a', '--generate-sigs', '--json', `${src}/`, dst]);
  const writes = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.action === 'write');
  assert.equal(writes.map((x) => [x.path, x.strategy === 'delta', x.bytes]).sort(), [['big', false, (6 << 20) + 8192 * 2], ['small', false, (1 << 20) - 1]]);
  assert.is(summaryOf(r.stdout).bytesReused, 0);
  assert.ok(readFileSync(join(dst, 'big')).equals(readFileSync(join(src, 'big'))));
  // The new file's signature was recorded from the delta: the next delta needs no read of the old file.
  edit(7);
  r = fxcp(['-a', '--generate-sigs', '--json', `${src}/`, dst]);
  assert.is(writeOf(r.stdout).strategy, 'delta');
  edit(8);
  r = fxcp(['-a', '--delta=never', '--generate-sigs', '--json', `${src}/`, dst]);
  assert.is.not(writeOf(r.stdout).strategy, 'delta');
  // Without the store's signatures: --delta=always chunks the old file first.
  edit(9);
  r = fxcp(['-a', '--json', `${src}/`, dst]);
  assert.is.not(writeOf(r.stdout).strategy, 'delta', 'auto needs a signature');
  edit(10);
  r = fxcp(['-a', '--delta=always', '--json', `${src}/`, dst]);
  assert.is(writeOf(r.stdout).strategy, 'delta');
  assert.ok(readFileSync(join(dst, 'big')).equals(readFileSync(join(src, 'big'))));
  r = fxcp(['-a', '--delta=sometimes', `${src}/`, dst]);
  assert.is(r.code, 2);
});

test('--compare: same trees exit 0; an in-place edit three levels down (mtime put back) is found; one-sided and type differences; usage', () => {
  const src = join(t.path, 'csrc'), dst = join(t.path, 'cdst');
  writeTree(src, { 'top': 'x', 'a/b/c/deep': 'one', 'a/g': 'g', 'e/': '' });
  let r = fxcp(['-a', '--generate-sigs', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  r = fxcp(['--compare', '--stats', src, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^same: /);
  assert.match(r.stdout, /from signatures: 3/, 'the destination files were not read');
  const deep = join(dst, 'a/b/c/deep');
  const { atime, mtime } = statSync(deep);
  writeFileSync(deep, 'ONE');
  utimesSync(deep, atime, mtime);
  r = fxcp(['--compare', src, dst]);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, 'differs: a/b/c/deep\n1 difference\n');
  writeFileSync(join(src, 'only'), '');
  writeFileSync(join(dst, 'e', 'extra'), '');
  writeFileSync(join(src, 'e2'), '');
  writeTree(dst, { 'e2/': '' });
  r = fxcp(['--compare', '--json', src, dst]);
  assert.is(r.code, 1);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.slice(0, -1).map((d) => `${d.difference} ${d.path}`), ['content a/b/c/deep', 'only-dest e/extra', 'type e2', 'only-src only']);
  assert.is(lines.at(-1).summary.differences, 4);
  assert.is.not(lines.at(-1).summary.srcRoot, lines.at(-1).summary.destRoot);
  assert.is(fxcp(['--compare', src, join(t.path, 'missing')]).code, 2);
  assert.is(fxcp(['--compare', src, src, dst]).code, 2);
});

test('--cleanup DEST: the temporaries of gone processes removed everywhere below, each printed; a live one kept', () => {
  const dst = join(t.path, 'clean');
  // Pids over the kernel's limit (pid_max is at most 4194304): no live process has them.
  writeTree(dst, { 'a/b/keep': 'k', '.fxtmp-4999999-0000abcd': 'x', 'a/b/.fxtmp-4999998-00001234': 'y' });
  const live = `.fxtmp-${process.pid}-0000beef`;
  writeFileSync(join(dst, 'a', live), 'mine');
  const r = fxcp(['--cleanup', dst]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.slice(0, -1).sort(), [`removed ${dst}/.fxtmp-4999999-0000abcd`, `removed ${dst}/a/b/.fxtmp-4999998-00001234`]);
  assert.is(lines.at(-1), '2 temporaries removed in 3 directories');
  assert.equal(readdirSync(join(dst, 'a')).sort(), [live, 'b'].sort(), "a live process's temporary stays");
  assert.is(fxcp(['--cleanup', dst, 'extra']).code, 2);
  assert.is(fxcp(['--cleanup', join(dst, 'a/b/keep')]).code, 2);
});

test('--verify: every file written read back; a failing read-back is named and the run partial', () => {
  const src = join(t.path, 'vsrc'), dst = join(t.path, 'vdst');
  writeTree(src, { 'a': 'aaa', 'd/b': 'b'.repeat(100_000) });
  let r = fxcp(['-a', '--verify', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const lib = faultLibrary();
  if ('skip' in lib) { console.log(`  skip the failing read-back: ${lib.skip}`); return; }
  writeFileSync(join(src, 'd/b'), 'c'.repeat(100_000));
  r = fxcp(['-a', '--verify', `${src}/`, dst], { env: faultEnv(lib.path, { op: 'read', path: `${dst}/d/b`, errno: 5, sticky: true }) });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /d\/b: .*i\/o error/i);
});

test('--throttle PCT: a copy paced on the real PSI finishes and reports; a bad PCT is a usage error', () => {
  const src = join(t.path, 'tsrc'), dst = join(t.path, 'tdst');
  writeTree(src, { a: 'a', 'd/b': 'b' });
  const r = fxcp(['-a', '--throttle', '50', '--json', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!).summary;
  assert.is(typeof summary.throttledSeconds, 'number');
  assert.is(fxcp(['-a', '--throttle', '0', `${src}/`, dst]).code, 2);
  assert.is(fxcp(['-a', '--throttle', 'high', `${src}/`, dst]).code, 2);
});

test('--snapshot: what a copy overwrites or deletes is recorded first, DEST after each run; snap list/restore (--snapshot, --at)/prune take DEST', () => {
  const src = join(t.path, 'hsrc'), dst = join(t.path, 'hdst');
  writeTree(src, { a: 'new a', c: 'c' });
  writeTree(dst, { a: 'old a', b: 'old b, deleted by the copy' });
  let r = fxcp(['-a', '--delete', '--snapshot', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  const list = () => fxcpJson<{ snapshots: { id: string }[] }>(['snap', 'list', dst, '--json']).snapshots;
  assert.is(list().length, 2, 'DEST before (it held data) and after');
  const [before, after] = list();
  const restored = join(t.path, 'hrestore');
  r = fxcp(['snap', 'restore', dst, '-o', `${restored}-1`, '--snapshot', before.id]);
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(`${restored}-1`, 'a'), 'utf8'), 'old a');
  assert.is(readFileSync(join(`${restored}-1`, 'b'), 'utf8'), 'old b, deleted by the copy');
  assert.not.ok(readdirSync(`${restored}-1`).includes(STATE_DIR), 'the store is not in its own snapshots');
  r = fxcp(['snap', 'restore', dst, '-o', `${restored}-2`, '--snapshot', after.id]);
  assert.equal(readdirSync(`${restored}-2`).sort(), ['a', 'c']);
  // A run with DEST untouched since: its snapshot before is the same tree, dropped; one after.
  writeFileSync(join(src, 'c'), 'c2');
  r = fxcp(['-a', '--delete', '--snapshot', `${src}/`, dst]);
  assert.is(r.code, 0, r.stderr);
  assert.is(list().length, 3);
  // --at DATE takes DEST too: now gives the newest tree; a date before any run, none.
  r = fxcp(['snap', 'restore', dst, '-o', `${restored}-3`, '--at', new Date(Date.now() + 1000).toISOString()]);
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(`${restored}-3`, 'c'), 'utf8'), 'c2');
  r = fxcp(['snap', 'restore', dst, '-o', `${restored}-4`, '--at', '2001-01-01T00:00:00Z']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /2001/);
  r = fxcp(['snap', 'prune', dst, '--keep-last', '1']);
  assert.is(r.code, 0, r.stderr);
  assert.is(list().length, 1);
  assert.is(fxcp(['-a', '--snapshot', join(src, 'a'), join(t.path, 'one-file')]).code, 2, 'a file DEST has no history');
});

test.run();
