/**
 * `snap inspect ARCHIVE --list --json` with the real fxcp: JSON Lines, an object per entry of
 * every snapshot then one summary object; each line parses on its own, and the entries are
 * exactly the source's (paths, types, sizes), checked against a plain walk of the source.
 */
import { lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fxcp, tempDir } from '../helpers/run-cli.js';
import { mulberry32 } from '../helpers/seeded.js';

const t = tempDir('fx-inspect-');
const src = join(t.path, 'src'), store = join(t.path, 'store'), archive = join(t.path, 'a.fxar');

/** path → "type size" for every entry under dir, as inspect names them. */
function walk(dir: string, rel = '', into = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name), r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(p);
    if (st.isDirectory()) { into.set(r, 'dir 0'); walk(p, r, into); }
    else if (st.isSymbolicLink()) into.set(r, `symlink ${st.size}`);
    else into.set(r, `file ${st.size}`);
  }
  return into;
}

test.before(() => {
  const rnd = mulberry32(5);
  for (let a = 0; a < 12; a++) {
    for (let b = 0; b < 8; b++) {
      const d = join(src, `dir-${a}`, `sub ${b}`);
      mkdirSync(d, { recursive: true });
      for (let c = 0; c < 25; c++) writeFileSync(join(d, `f${c}.txt`), 'x'.repeat(Math.floor(rnd() * 3000)));
    }
  }
  symlinkSync('dir-0/sub 0/f0.txt', join(src, 'link'));
  writeFileSync(join(src, 'quote"and\\slash.txt'), 'odd name\n');
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
});
test.after(() => t.cleanup());

test('--list --json is JSON Lines: one object per entry, then the summary', () => {
  const first = walk(src);
  writeFileSync(join(src, 'added.txt'), 'second snapshot\n');
  assert.is(fxcp(['snap', 'create', src, store]).code, 0);
  const second = walk(src);
  assert.is(fxcp(['snap', 'export', store, '-o', archive]).code, 0);
  const r = fxcp(['snap', 'inspect', archive, '--list', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.endsWith('\n'));
  const lines = r.stdout.slice(0, -1).split('\n');
  const docs = lines.map((l, i) => {
    try { return JSON.parse(l); } catch { throw new Error(`line ${i + 1} is not JSON: ${l.slice(0, 80)}`); }
  });
  const summary = docs.pop().summary;
  assert.ok(summary, 'the last line is the summary');
  assert.is(summary.snapshots.length, 2);
  assert.ok(docs.every((d) => !('summary' in d)), 'one summary, last');
  const bySnap = new Map<string, Map<string, string>>();
  for (const d of docs) {
    if (!bySnap.has(d.snapshot)) bySnap.set(d.snapshot, new Map());
    const m = bySnap.get(d.snapshot)!;
    assert.not.ok(m.has(d.path), `listed once: ${d.path}`);
    m.set(d.path, `${d.type} ${d.size}`);
  }
  // Snapshots in archive order (oldest first), each with exactly its source's entries.
  assert.equal([...bySnap.keys()], summary.snapshots.map((s: { id: string }) => s.id));
  const [a, b] = [...bySnap.values()];
  assert.is(a.size, first.size);
  assert.equal(new Map([...a].sort()), new Map([...first].sort()));
  assert.equal(new Map([...b].sort()), new Map([...second].sort()));
});

test('--list without --json streams a line per entry', () => {
  const r = fxcp(['snap', 'inspect', archive, '--list']);
  assert.is(r.code, 0, r.stderr);
  const entries = r.stdout.split('\n').filter((l) => /^[-dl?] +\d+ {2}/.test(l));
  assert.is(entries.length, walk(src).size * 2 - 1);
  assert.ok(entries.some((l) => l.endsWith('  dir-3/sub 4/f7.txt')));
});

test.run();
