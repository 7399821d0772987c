// Signing a file (lib/signature/file-signature.ts) and keeping signatures in a destination's
// LMDB store (signature-store.ts): the chunk list is the store chunker's and hashes the file; a
// recorded signature is valid for the file as it is, and stops being valid when the file is
// touched, rewritten with its old mtime put back (ctime), or replaced by another inode; a
// damaged record in the store is no signature; pending records survive close and reopen; an
// environment LMDB cannot open is made anew.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createChunker, DEFAULT_CHUNKER_PARAMS } from '../../lib/chunker/index.js';
import { blake3 } from '../../lib/hash/blake3.js';
import { lmdb } from '../../lib/index/load-lmdb.js';
import { signFile } from '../../lib/signature/file-signature.js';
import type { FileIdentity } from '../../lib/signature/signature-codec.js';
import { dirKey, SIGNATURE_FILE, signatureKey, SignatureStore, STATE_DIR } from '../../lib/signature/signature-store.js';
import { PAGE } from '../../lib/index/lmdb-layout.js';
import { pageSizeOf, treePages } from '../helpers/lmdb-pages.js';
import { seededBytes } from '../helpers/seeded.js';

let dir = '';
test.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-sig-store-')); });
test.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function identity(file: string): FileIdentity {
  const st = fs.lstatSync(file, { bigint: true });
  return { dev: st.dev, ino: st.ino, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

test('signFile: identity from fstat, BLAKE3 of the whole, the chunker cuts of the whole file', () => {
  const file = path.join(dir, 'f');
  const data = seededBytes(5 * 1024 * 1024 + 123, 42);
  fs.writeFileSync(file, data);
  const sig = signFile(file);
  assert.equal({ dev: sig.dev, ino: sig.ino, size: sig.size, mtimeNs: sig.mtimeNs, ctimeNs: sig.ctimeNs }, identity(file));
  assert.ok(Buffer.from(sig.content).equals(blake3().hash(data)));
  const lengths = Array.from(createChunker(DEFAULT_CHUNKER_PARAMS).cutLengths(data, true));
  assert.equal(sig.chunks!.map((c) => c.length), lengths, 'the same cuts as one pass over the whole file (reads of 1 MiB carried over)');
  let at = 0;
  for (const c of sig.chunks!) {
    assert.ok(Buffer.from(c.id).equals(blake3().hash(data.subarray(at, at + c.length))));
    at += c.length;
  }
  fs.writeFileSync(path.join(dir, 'empty'), '');
  assert.equal(signFile(path.join(dir, 'empty')).chunks, []);
  fs.symlinkSync('f', path.join(dir, 'link'));
  assert.throws(() => signFile(path.join(dir, 'link')), /ELOOP|symbolic link/);
});

test('the store: valid while the file is as signed; not after touch, a rewrite with the old mtime, or another inode', async () => {
  const dest = path.join(dir, 'dest');
  fs.mkdirSync(dest);
  const file = path.join(dest, 'a');
  fs.writeFileSync(file, 'first content');
  let store = SignatureStore.open(dest);
  store.put(signFile(file));
  assert.ok(store.validFor(identity(file)), 'valid before the close (pending)');
  await store.close();
  store = SignatureStore.open(dest);
  assert.ok(fs.existsSync(path.join(dest, STATE_DIR, SIGNATURE_FILE)));
  assert.ok(store.validFor(identity(file)), 'valid after close and reopen');
  const { mtime } = fs.statSync(file);
  fs.writeFileSync(file, 'other content');
  fs.utimesSync(file, mtime, mtime);
  const now = identity(file);
  assert.is(now.size, 13);
  assert.not.ok(store.validFor(now), 'same size and mtime, but the ctime moved');
  store.put(signFile(file));
  assert.ok(store.validFor(identity(file)));
  fs.utimesSync(file, new Date(), new Date());
  assert.not.ok(store.validFor(identity(file)), 'touched');
  store.put(signFile(file));
  fs.renameSync(file, `${file}.old`);
  fs.copyFileSync(`${file}.old`, file);
  assert.not.ok(store.validFor(identity(file)), 'another inode');
  await store.close();
});

test('names(): the identity bytes alone, for leaving an unchanged file alone; false once the file moved on', async () => {
  const dest = path.join(dir, 'names');
  fs.mkdirSync(dest);
  const file = path.join(dest, 'a');
  fs.writeFileSync(file, 'content');
  let store = SignatureStore.open(dest);
  assert.not.ok(store.names(identity(file)));
  store.put(signFile(file));
  assert.ok(store.names(identity(file)), 'pending');
  await store.close();
  store = SignatureStore.open(dest);
  assert.ok(store.names(identity(file)), 'written');
  fs.appendFileSync(file, '!');
  assert.not.ok(store.names(identity(file)));
  await store.close();
});

test('a damaged or foreign record in the store is no signature', async () => {
  const dest = path.join(dir, 'damaged');
  fs.mkdirSync(dest);
  const file = path.join(dest, 'a');
  fs.writeFileSync(file, 'content');
  let store = SignatureStore.open(dest);
  store.put(signFile(file));
  await store.close();
  const id = identity(file);
  const env = lmdb().open<Buffer, Buffer>({ path: path.join(dest, STATE_DIR, SIGNATURE_FILE), keyEncoding: 'binary', encoding: 'binary' });
  const key = signatureKey(id.dev, id.ino);
  const good = env.getBinary(key)!;
  const bad = Buffer.from(good);
  bad[70] ^= 0x10;
  env.putSync(key, bad);
  await env.close();
  store = SignatureStore.open(dest);
  assert.is(store.validFor(id), null);
  await store.close();
});

// Directory records (formats/signatures.md §6): a digest kept per directory, matched exactly;
// anything else under the key (seeded: truncated, padded, flipped, random) matches nothing.
test('a directory record holds its digest only; a damaged or foreign one holds none (seeded fuzz)', async () => {
  const dest = path.join(dir, 'dir-records');
  fs.mkdirSync(dest);
  const file = path.join(dest, 'a');
  fs.writeFileSync(file, 'content');
  const digest = blake3().hash(Buffer.from('identities')), other = blake3().hash(Buffer.from('others'));
  let store = SignatureStore.open(dest);
  assert.not.ok(store.dirHolds(5n, 7n, digest), 'none yet');
  store.putDir(5n, 7n, digest);
  store.put(signFile(file));
  assert.ok(store.dirHolds(5n, 7n, digest), 'pending, read back');
  await store.close();
  store = SignatureStore.open(dest);
  assert.ok(store.dirHolds(5n, 7n, digest));
  assert.not.ok(store.dirHolds(5n, 7n, other));
  assert.not.ok(store.dirHolds(5n, 8n, digest), 'another directory');
  assert.ok(store.validFor(identity(file)), 'file records beside it are untouched');
  await store.close();
  const raw = () => lmdb().open<Buffer, Buffer>({ path: path.join(dest, STATE_DIR, SIGNATURE_FILE), keyEncoding: 'binary', encoding: 'binary' });
  let env = raw();
  const key = dirKey(5n, 7n), good = Buffer.from(env.getBinary(key)!);
  await env.close();
  assert.is(good.length, 40);
  const values: Buffer[] = [good.subarray(0, 39), Buffer.concat([good, Buffer.alloc(1)]), Buffer.alloc(0)];
  for (const at of [0, 4, 5, 7, 8, 39]) { const b = Buffer.from(good); b[at]! ^= 0x01; values.push(b); }
  const bytes = seededBytes(64 * 40, 22);
  for (let k = 0; k < 40; k++) values.push(bytes.subarray(k * 64, k * 64 + (bytes[k * 64]! % 64)));
  for (const v of values) {
    env = raw();
    env.putSync(key, v);
    await env.close();
    store = SignatureStore.open(dest);
    assert.not.ok(store.dirHolds(5n, 7n, digest), `value ${v.toString('hex')}`);
    await store.close();
  }
});

test('a store file that is not an LMDB environment is replaced by a new one', async () => {
  const dest = path.join(dir, 'garbage');
  fs.mkdirSync(path.join(dest, STATE_DIR), { recursive: true });
  fs.writeFileSync(path.join(dest, STATE_DIR, SIGNATURE_FILE), Buffer.alloc(20000, 0x5a));
  const file = path.join(dest, 'a');
  fs.writeFileSync(file, 'content');
  const store = SignatureStore.open(dest);
  store.put(signFile(file));
  assert.ok(store.validFor(identity(file)));
  await store.close();
});

test('signatures.checked: written at close; a page damaged after that run is still found (the walk runs again)', async () => {
  const dest = path.join(dir, 'stamp');
  fs.mkdirSync(dest);
  const file = path.join(dest, 'a');
  fs.writeFileSync(file, 'content');
  let store = SignatureStore.open(dest);
  for (let k = 0; k < 3000; k++) store.put({ ...signFile(file), ino: BigInt(1_000_000 + k) });
  store.put(signFile(file));
  await store.close();
  const mdb = path.join(dest, STATE_DIR, SIGNATURE_FILE), stamp = path.join(dest, STATE_DIR, 'signatures.checked');
  assert.match(fs.readFileSync(stamp, 'latin1'), /^foxing-signatures-checked 1 \S+ \d+ \d+ \d+ -?\d+ -?\d+\n$/);
  store = SignatureStore.open(dest);
  assert.ok(store.validFor(identity(file)), 'reopened as the run left it (the stamp matched: no walk)');
  await store.close();
  // A leaf marked a branch, size unchanged: its ctime moved, so the stamp no longer names the
  // file; the walk finds the page and the store is made anew (no record, no crash).
  const b = fs.readFileSync(mdb), leaf = treePages(b).get('main')!.leaves[0];
  const fd = fs.openSync(mdb, 'r+');
  const flag = Buffer.alloc(2);
  flag.writeUInt16LE(1);
  fs.writeSync(fd, flag, 0, 2, leaf * pageSizeOf(b) + PAGE.flags);
  fs.closeSync(fd);
  store = SignatureStore.open(dest);
  assert.is(store.validFor(identity(file)), null);
  await store.close();
  // A stamp of another file (or torn) is only a walk: the store opens as before.
  fs.writeFileSync(stamp, 'foxing-signatures-checked 1 x 1 2 3 4 5\n');
  store = SignatureStore.open(dest);
  store.put(signFile(file));
  await store.close();
  store = SignatureStore.open(dest);
  assert.ok(store.validFor(identity(file)));
  await store.close();
});

test.run();
