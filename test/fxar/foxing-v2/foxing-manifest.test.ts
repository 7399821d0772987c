/** The manifest's JSON checks (lib/fxar/foxing-v2/foxing-manifest.ts): fields, types, versions. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeManifest } from '../../../lib/fxar/foxing-v2/foxing-manifest.js';
import { errorOf } from './helpers.js';

const H = 'ab'.repeat(32);
const file = (over: Record<string, unknown> = {}) => ({ path: 's/tree/a', size: 3, mode: 33188, mtime: 1700000000, uid: 1, gid: 2, blake3: H, chunks: [0, 0], ...over });
const doc = (over: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ version: 2, created: '2026-01-01T00:00:00+00:00', files: [file()], snapshots: ['s'], ...over }));

test('a well-formed manifest: fields as given, xattrs decoded from hex and sorted, repeats kept', () => {
  const m = decodeManifest(doc({ files: [file({ xattr: { 'user.foxing.z': '00ff', 'user.foxing.a': '' } })] }), 'm');
  assert.is(m.version, 2);
  assert.is(m.created, '2026-01-01T00:00:00+00:00');
  assert.equal(m.snapshots, ['s']);
  const f = m.files[0];
  assert.equal([f.path, f.size, f.mode, f.mtime, f.uid, f.gid, f.chunks], ['s/tree/a', 3, 33188, 1700000000, 1, 2, [0, 0]]);
  assert.is(f.blake3.toString('hex'), H);
  assert.equal(f.xattrs.map(([n, v]) => [n, v.toString('hex')]), [['user.foxing.a', ''], ['user.foxing.z', '00ff']]);
});

test('only user.foxing* xattrs are read: security.* and trusted.* names from an archive are dropped', () => {
  const m = decodeManifest(doc({ files: [file({ xattr: { 'security.capability': '0100000200', 'trusted.x': '00', 'user.other': '00', 'user.foxing.sig': '01' } })] }), 'm');
  assert.equal(m.files[0].xattrs.map(([n]) => n), ['user.foxing.sig']);
});

test('snapshots missing or null: an empty list; created missing: empty', () => {
  const a = JSON.parse(doc().toString());
  delete a.snapshots;
  delete a.created;
  const m = decodeManifest(Buffer.from(JSON.stringify(a)), 'm');
  assert.equal(m.snapshots, []);
  assert.is(m.created, '');
  assert.equal(decodeManifest(doc({ snapshots: null }), 'm').snapshots, []);
});

test('bad fields are FORMAT naming the field; a newer version NEWER_VERSION', async () => {
  const cases: Array<[Buffer, string, RegExp]> = [
    [Buffer.from('{"version":2,'), 'FORMAT', /not valid JSON/],
    [Buffer.from('[1]'), 'FORMAT', /not a JSON object/],
    [doc({ version: 3 }), 'NEWER_VERSION', /version 3 is newer/],
    [doc({ version: '2' }), 'FORMAT', /version/],
    [doc({ files: {} }), 'FORMAT', /files is not a list/],
    [doc({ snapshots: [1] }), 'FORMAT', /snapshots/],
    [doc({ files: [file({ size: -1 })] }), 'FORMAT', /files\[0\]\.size/],
    [doc({ files: [file({ size: 2 ** 60 })] }), 'FORMAT', /files\[0\]\.size/],
    [doc({ files: [file({ chunks: [0, 1.5] })] }), 'FORMAT', /files\[0\]\.chunks\[1\]/],
    [doc({ files: [file({ chunks: '0' })] }), 'FORMAT', /chunks is not a list/],
    [doc({ files: [file({ blake3: H.toUpperCase() })] }), 'FORMAT', /blake3/],
    [doc({ files: [file({ path: '' })] }), 'FORMAT', /path/],
    [doc({ files: [file({ path: 5 })] }), 'FORMAT', /path/],
    [doc({ files: [file({ uid: -3 })] }), 'FORMAT', /uid/],
    [doc({ files: [file({ mtime: 9_300_000_000 })] }), 'FORMAT', /mtime/],
    [doc({ files: [file({ xattr: { 'user.foxing.sig': 'xyz' } })] }), 'FORMAT', /xattr/],
    [doc({ files: [null] }), 'FORMAT', /files\[0\] is not an object/],
  ];
  for (const [bytes, code, message] of cases) {
    const e = await errorOf(() => decodeManifest(bytes, 'a.fxar'));
    assert.is(e.code, code, e.message);
    assert.match(e.message, message);
    assert.ok(e.message.startsWith('a.fxar: '), e.message);
  }
});

test.run();
