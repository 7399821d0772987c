/**
 * Picking snapshots from a listing (oldest first): one by id prefix, time or latest
 * (chooseSnapshot), and the several that export, push and pull move (chooseSnapshots).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NotFoundError, UsageError } from '../../lib/errors/index.js';
import { chooseSnapshot, chooseSnapshots, type SnapshotListing } from '../../lib/snapshot/snapshot-catalogue.js';
import type { SnapshotRecord } from '../../lib/snapshot/snapshot-record.js';

const listing = (id: string, time: string): SnapshotListing => ({ id, record: { time } as SnapshotRecord });
const all = [listing('aa11', '2026-01-01T00:00:00Z'), listing('ab22', '2026-02-01T00:00:00Z'), listing('bc33', '2026-03-01T00:00:00Z')];
const ids = (xs: SnapshotListing[]): string[] => xs.map((x) => x.id);

test('chooseSnapshot: by id prefix, at a time, latest; ambiguous and missing are errors', () => {
  assert.is(chooseSnapshot(all, { snapshot: 'AB' }, 'S').id, 'ab22');
  assert.is(chooseSnapshot(all, { at: '2026-02-15' }, 'S').id, 'ab22');
  assert.is(chooseSnapshot(all, {}, 'S').id, 'bc33');
  assert.throws(() => chooseSnapshot(all, { snapshot: 'a' }, 'S'), (e: unknown) => e instanceof UsageError && /ambiguous/.test(e.message));
  assert.throws(() => chooseSnapshot(all, { snapshot: 'ff' }, 'S'), (e: unknown) => e instanceof NotFoundError && /S: no snapshot with id 'ff'/.test(e.message));
  assert.throws(() => chooseSnapshot(all, { at: '2025-12-31' }, 'S'), (e: unknown) => e instanceof NotFoundError);
});

test('chooseSnapshots: named ones once each, in the listing order; else the latest; else all', () => {
  assert.equal(ids(chooseSnapshots(all, { snapshot: ['bc', 'aa1', 'bc33'] }, 'S', 'to push')), ['aa11', 'bc33']);
  assert.equal(ids(chooseSnapshots(all, { snapshot: [], latest: true }, 'S', 'to push')), ['bc33']);
  assert.equal(ids(chooseSnapshots(all, { snapshot: [] }, 'S', 'to push')), ['aa11', 'ab22', 'bc33']);
  assert.throws(() => chooseSnapshots(all, { snapshot: ['zz'] }, 'S', 'to push'), (e: unknown) => e instanceof NotFoundError);
  assert.throws(() => chooseSnapshots([], { snapshot: [] }, 'S', 'to export'),
    (e: unknown) => e instanceof NotFoundError && e.message === 'S: store has no snapshots to export');
});

test.run();
