/**
 * Issue 22, signatures: `fxcp -a --generate-sigs` records a signature for every regular file of
 * DEST in DEST/.foxing/signatures.mdb, valid for the file as written (checked through the
 * store, as a later copy reads it); `.foxing` is neither copied from a source nor deleted by
 * --delete; with -c a destination file whose signature is valid is not read (its content hash
 * comes from the signature: the fault library fails every open of one, and nothing notices),
 * and one edited in place three levels down with its mtime put back
 * has an invalid signature, so it is read, found different and copied again.
 */
import { lstatSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SignatureStore, STATE_DIR } from '../../lib/signature/signature-store.js';
import { touchAt, writeTree } from '../helpers/copy-tree.js';
import { faultEnv, faultLibrary } from '../helpers/fault-inject.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';

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

test.run();
