// entriesNamed: binary search of a tree's entries (sorted by name bytes) by name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entriesNamed, type TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { mulberry32 } from '../helpers/seeded.js';

const entry = (name: string): TreeEntry => ({
  name: Buffer.from(name, 'utf8'), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0,
  mtimeNs: 0n, atimeNs: 0n, ctimeNs: 0n, dev: 0n, ino: 0n, nlink: 1, rdev: 0,
});
const byBytes = (a: TreeEntry, b: TreeEntry) => Buffer.compare(a.name, b.name);

test('finds exactly the named entries, in tree order, for seeded trees', () => {
  // Names with multi-byte characters sort differently as bytes than as JavaScript strings.
  const alphabet = ['a', 'b', 'Z', '.', '-', 'é', '€', '😀', '1'];
  for (let seed = 1; seed <= 50; seed++) {
    const rnd = mulberry32(seed);
    const names = new Set<string>();
    const n = Math.floor(rnd() * 60);
    while (names.size < n) {
      let s = '';
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) s += alphabet[Math.floor(rnd() * alphabet.length)];
      names.add(s);
    }
    const entries = [...names].map(entry).sort(byBytes);
    const wanted = [...names].filter(() => rnd() < 0.3);
    wanted.push('absent-name', wanted[0] ?? 'x'); // a miss and a duplicate
    const got = entriesNamed(entries, wanted).map((e) => e.name.toString('utf8'));
    const want = entries.filter((e) => wanted.includes(e.name.toString('utf8'))).map((e) => e.name.toString('utf8'));
    assert.equal(got, want, `seed ${seed}`);
  }
});

test('an empty tree or no names finds nothing', () => {
  assert.equal(entriesNamed([], ['a']), []);
  assert.equal(entriesNamed([entry('a')], []), []);
});

test.run();
