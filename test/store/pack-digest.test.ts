/** The pack digest (pack-digest.ts): a trailer agrees with the index's entries only when every field of every entry does. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { indexDigests, trailerAgrees } from '../../lib/store/pack-digest.js';
import { seededBytes } from '../helpers/seeded.js';

const entries = Array.from({ length: 50 }, (_, i) => ({
  id: seededBytes(32, i + 1), packNo: 7, offset: 8 + i * 1000, storedLength: 900 + i, rawLength: 2000 + i, codec: i % 3,
}));

test('the index\'s own entries agree with the trailer, in any order; another pack number does not', () => {
  const d = indexDigests([...entries].reverse());
  assert.ok(trailerAgrees(d.get(7), entries));
  assert.not.ok(trailerAgrees(d.get(8), entries));
});

test('any one field of any one entry changed, one entry missing or one more: disagree', () => {
  const d = indexDigests(entries).get(7);
  for (const field of ['offset', 'storedLength', 'rawLength', 'codec'] as const) {
    for (const at of [0, 17, 49]) {
      const changed = entries.map((e, i) => (i === at ? { ...e, [field]: e[field] + 1 } : e));
      assert.not.ok(trailerAgrees(d, changed), `${field} of entry ${at}`);
    }
  }
  const otherId = entries.map((e, i) => (i === 3 ? { ...e, id: seededBytes(32, 999) } : e));
  assert.not.ok(trailerAgrees(d, otherId));
  assert.not.ok(trailerAgrees(d, entries.slice(1)));
  assert.not.ok(trailerAgrees(d, [...entries, { ...entries[0], offset: 99_999 }]));
});

test.run();
