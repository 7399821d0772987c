// Merkle hashes (lib/signature/merkle.ts): a directory's hash changes with any child's name, type
// or hash, so a change three levels down reaches the root; the encoding separates names from
// hashes (no two child lists give the same bytes); a golden root pins the encoding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake3 } from '../../lib/hash/blake3.js';
import { directoryHash, type MerkleChild, specialHash, symlinkHash } from '../../lib/signature/merkle.js';

const file = (name: string, content: string): MerkleChild => ({ name: Buffer.from(name), type: 'file', hash: blake3().hash(Buffer.from(content)) });
const dir = (name: string, children: MerkleChild[]): MerkleChild => ({ name: Buffer.from(name), type: 'dir', hash: directoryHash(children) });

function tree(deep: string): Buffer {
  return directoryHash([dir('a', [dir('b', [dir('c', [file('deep', deep)]), file('g', 'g')])]), file('top', 'x')]);
}

test('a change three levels down changes the root; the same tree hashes the same', () => {
  assert.ok(tree('one').equals(tree('one')));
  assert.not.ok(tree('one').equals(tree('ONE')));
});

test('names, types and hashes each count, and a name cannot pass for a hash', () => {
  const base = directoryHash([file('a', '1'), file('b', '2')]);
  assert.not.ok(base.equals(directoryHash([file('a', '1'), file('c', '2')])), 'a name');
  assert.not.ok(base.equals(directoryHash([file('a', '1'), { ...file('b', '2'), type: 'symlink' }])), 'a type');
  assert.not.ok(base.equals(directoryHash([file('a', '1')])), 'a child less');
  assert.not.ok(directoryHash([]).equals(directoryHash([file('', '')])), 'the empty directory');
  assert.not.ok(symlinkHash(Buffer.from('t')).equals(blake3().hash(Buffer.from('t'))), 'a symlink is not a file with its target as content');
  assert.not.ok(specialHash('fifo', 0).equals(specialHash('socket', 0)));
  assert.not.ok(specialHash('chardev', 0x0103).equals(specialHash('chardev', 0x0105)));
});

test('golden: the encoding is pinned (a change here changes every stored comparison)', () => {
  // BLAKE3("FXMD1\0"): the empty directory; checked against blake3-wasm when written.
  assert.is(directoryHash([]).toString('hex'), '45b62988f39ee2b99e5eb0c0da69c9f8020e6535a0e8ef9c6c7c32695c14e4f6');
  assert.is(directoryHash([file('a', 'x'), dir('d', [])]).toString('hex'), '6d0679c411674b5bd9ddfdb09d29536949b0ba3c9d17a6ea1782bdb964c09b60');
});

test.run();
