/**
 * lib/copy/entry-compare.ts, pure: the quick check (size and mtime to the ns) and which
 * attribute changes are seen under what the copy keeps (-a, -r, as a user); ACLs apart from
 * other xattrs, as rsync's itemize shows them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { anyChange, attributeChanges, type KeepAttributes, sameByQuickCheck } from '../../lib/copy/entry-compare.js';
import type { FileMeta } from '../../lib/fs/file-meta.js';

function meta(over: Partial<FileMeta> = {}): FileMeta {
  return {
    name: Buffer.from('x'), type: 'file', mode: 0o644, uid: 1000, gid: 1000, size: 10, atimeNs: 1n, mtimeNs: 1700000000123456789n, ctimeNs: 1n,
    dev: 1n, ino: 2n, nlink: 1, rdev: 0, blocks: 8, xattrs: [], ...over,
  };
}
const ALL: KeepAttributes = { perms: true, times: true, owner: true, xattrs: true };
const NONE: KeepAttributes = { perms: false, times: false, owner: false, xattrs: false };

test('the quick check: same size and mtime to the ns; a 1 ns difference is a difference', () => {
  assert.ok(sameByQuickCheck(meta(), meta({ ino: 9n, mode: 0o600 })));
  assert.not.ok(sameByQuickCheck(meta(), meta({ mtimeNs: 1700000000123456790n })));
  assert.not.ok(sameByQuickCheck(meta(), meta({ size: 11 })));
});

test('attribute changes under -a: each attribute alone; ACLs apart from other xattrs', () => {
  assert.equal(attributeChanges(meta(), meta(), ALL), {});
  assert.not.ok(anyChange(attributeChanges(meta(), meta({ ino: 5n, atimeNs: 99n }), ALL)), 'atime and inode are not attributes');
  assert.equal(attributeChanges(meta({ mode: 0o4755 }), meta({ mode: 0o755 }), ALL), { perms: true });
  assert.equal(attributeChanges(meta({ uid: 0 }), meta(), ALL), { owner: true });
  assert.equal(attributeChanges(meta({ gid: 0 }), meta(), ALL), { group: true });
  assert.equal(attributeChanges(meta({ mtimeNs: 5n }), meta(), ALL), { time: true });
  const acl: Array<[string, Buffer]> = [['system.posix_acl_access', Buffer.from([2, 0, 0, 0])]];
  const user: Array<[string, Buffer]> = [['user.a', Buffer.from('1')]];
  assert.equal(attributeChanges(meta({ xattrs: acl }), meta(), ALL), { acl: true });
  assert.equal(attributeChanges(meta({ xattrs: user }), meta(), ALL), { xattrs: true });
  assert.equal(attributeChanges(meta({ xattrs: [['user.a', Buffer.from('2')]] }), meta({ xattrs: user }), ALL), { xattrs: true });
  assert.equal(attributeChanges(meta({ xattrs: [...acl, ...user] }), meta({ xattrs: [...acl, ...user] }), ALL), {});
  assert.equal(attributeChanges(meta({ xattrs: undefined }), meta({ xattrs: [] }), ALL), {});
  // A symlink's mode is not an attribute (Linux cannot change it).
  assert.equal(attributeChanges(meta({ type: 'symlink', mode: 0o777 }), meta({ type: 'symlink', mode: 0o755 }), ALL), {});
});

test('attribute changes without -a (-r) or as a user: nothing kept, nothing compared', () => {
  const other = meta({ mode: 0o600, uid: 0, gid: 0, mtimeNs: 5n, xattrs: [['user.a', Buffer.from('1')]] });
  assert.equal(attributeChanges(other, meta(), NONE), {});
  assert.equal(attributeChanges(other, meta(), { ...ALL, owner: false }), { perms: true, time: true, xattrs: true });
});

test.run();
