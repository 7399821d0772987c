import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type FileVersion, VERSION_TAG, versionsToForget } from '../../lib/daemon/version-policy.js';

const v = (n: number, bytes = 10, tags: string[] = [VERSION_TAG]): FileVersion => ({ id: `v${n}`, time: `2026-12-05T10:00:${String(n).padStart(2, '0')}Z`, bytes, tags });

test('keeps the newest max_versions, forgets the older ones oldest first', () => {
  assert.equal(versionsToForget([v(3), v(1), v(5), v(2), v(4)], { maxVersions: 2, maxBytes: 1e9 }), ['v1', 'v2', 'v3']);
  assert.equal(versionsToForget([v(1), v(2)], { maxVersions: 2, maxBytes: 1e9 }), []);
});

test('stops keeping once the sizes would pass max_versions_size_mb; the newest stays whatever its size', () => {
  assert.equal(versionsToForget([v(1, 40), v(2, 40), v(3, 40)], { maxVersions: 10, maxBytes: 100 }), ['v1']);
  assert.equal(versionsToForget([v(1, 40), v(2, 500)], { maxVersions: 10, maxBytes: 100 }), ['v1']);
  // A smaller older one is not kept past a bigger one that did not fit: versions stay contiguous.
  assert.equal(versionsToForget([v(1, 1), v(2, 90), v(3, 50)], { maxVersions: 10, maxBytes: 100 }), ['v1', 'v2']);
});

test('forced versions (a tag of their own) are neither counted nor forgotten', () => {
  const forced = v(2, 10, [VERSION_TAG, 'pre-migration']);
  assert.equal(versionsToForget([v(1), forced, v(3), v(4)], { maxVersions: 1, maxBytes: 1e9 }), ['v1', 'v3']);
  assert.equal(versionsToForget([v(1), forced, v(3), v(4)], { maxVersions: 1, maxBytes: 1e9 }, true), ['v1', 'v2', 'v3']);
});

test.run();
