/**
 * The `real` bench set (lib/bench/real-set.ts; issue 25): its pins are exact, the method text
 * in docs/BENCHMARKS.md names every package, and v2 is made the same way every time: on a tree
 * of real files' shapes (made here, nothing fetched), two v2 builds are byte for byte the same,
 * edit about 2 % of the files by inserting 64 bytes in their middle, remove about 0.5 %, and add
 * 20 files of random bytes, leaving v1 as it was.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL_METHOD } from '../../lib/bench/real-bench.js';
import { buildV2, DEBIAN_PACKAGES, NPM_PACKAGES, REAL_V2 } from '../../lib/bench/real-set.js';
import { seededBytes } from '../helpers/seeded.js';
import { tempDir } from '../helpers/run-cli.js';

/** Path → sha256 (files) or '-> target' (symlinks), for every entry under `root`. */
function digest(root: string, rel = '', out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, r));
    if (st.isDirectory()) digest(root, r, out);
    else if (st.isSymbolicLink()) out.set(r, 'symlink');
    else out.set(r, createHash('sha256').update(readFileSync(join(root, r))).digest('hex'));
  }
  return out;
}

test('pins are exact versions and checksums; the method text names every package', () => {
  for (const spec of NPM_PACKAGES) assert.match(spec, /^(@[a-z0-9-]+\/)?[a-z0-9.-]+@\d+\.\d+\.\d+$/, spec);
  for (const p of DEBIAN_PACKAGES) {
    assert.match(p.file, /^pool\/main\/[a-z0-9]+\/[^/]+\/[^/]+_[^/_]+_(all|amd64)\.deb$/, p.file);
    assert.match(p.sha256, /^[0-9a-f]{64}$/, p.file);
  }
  const method = REAL_METHOD.join('\n');
  for (const spec of NPM_PACKAGES) assert.ok(method.includes(spec), `${spec} is not named`);
  for (const p of DEBIAN_PACKAGES) assert.ok(method.includes(p.file.split('/').pop()!.replace(/\.deb$/, '')), `${p.file} is not named`);
});

test('v2: the same seeded edit every time (2 % edited in the middle, 0.5 % removed, 20 added), v1 untouched', () => {
  const t = tempDir('fx-real-set-');
  try {
    const v1 = join(t.path, 'v1');
    const sizes: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const dir = join(v1, `d${i % 40}`, `e${i % 7}`);
      mkdirSync(dir, { recursive: true });
      const size = 10 + ((i * 7919) % 9000);
      sizes.push(size);
      writeFileSync(join(dir, `f${i}.txt`), seededBytes(size, i));
    }
    symlinkSync('d0/e0/f0.txt', join(v1, 'link'));
    const before = digest(v1);
    const [a, b] = [join(t.path, 'v2a'), join(t.path, 'v2b')];
    buildV2(v1, a);
    buildV2(v1, b);
    assert.equal(digest(v1), before, 'v1 changed');
    const da = digest(a);
    assert.equal(da, digest(b), 'two builds of v2 differ');
    let edited = 0, removed = 0;
    for (const [path, sum] of before) {
      if (!da.has(path)) { removed++; continue; }
      if (da.get(path) === sum) continue;
      edited++;
      const old = readFileSync(join(v1, path)), now = readFileSync(join(a, path));
      const mid = old.length >> 1;
      assert.is(now.length, old.length + REAL_V2.insertBytes, path);
      assert.ok(now.subarray(0, mid).equals(old.subarray(0, mid)) && now.subarray(mid + REAL_V2.insertBytes).equals(old.subarray(mid)), `${path}: not an insert in the middle`);
    }
    const added = [...da.keys()].filter((p) => !before.has(p));
    assert.is(added.length, REAL_V2.added);
    assert.ok(added.every((p) => /^added\/random-\d+\.bin$/.test(p)), added.join(' '));
    // Seeded draws: about editShare and removeShare of 4,000 files (80 and 20).
    assert.ok(edited >= 50 && edited <= 110, `${edited} edited`);
    assert.ok(removed >= 8 && removed <= 35, `${removed} removed`);
  } finally {
    t.cleanup();
  }
});

test.run();
