/**
 * lib/copy/copy-paths.ts, pure: rsync's rules for where each source goes, against a fake
 * PathFacts (a table of what exists; real paths resolved lexically under /w, plus one symlink).
 */
import { posix } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type PathFacts, type PathKind, planCopy } from '../../lib/copy/copy-paths.js';
import { UsageError } from '../../lib/errors/index.js';

const B = (s: string) => Buffer.from(s);

/** What exists, relative to /w; 'link' is a symlink to 'd/sub' (a directory when followed). */
function facts(table: Record<string, 'dir' | 'other'>): PathFacts {
  const real = (p: Buffer) => {
    let s = posix.resolve('/w', p.toString());
    s = s.replace(/^\/w\/link(?=\/|$)/, '/w/d/sub');
    return B(s);
  };
  return {
    kind(p, follow) {
      const s = posix.relative('/w', posix.resolve('/w', p.toString()));
      if (s === 'link') return follow ? 'dir' : 'other';
      return (table[s] ?? null) as PathKind;
    },
    real,
  };
}

const WORLD = facts({ '': 'dir', 'd': 'dir', 'd/sub': 'dir', 'f': 'other', 'g': 'other', 'out': 'dir', 'out/d': 'dir', 'x y': 'dir' });

function plan(sources: string[], dest: string) {
  const p = planCopy(sources.map(B), B(dest), WORLD);
  return {
    root: p.root.toString(), makeRoot: p.makeRoot,
    transfers: p.transfers.map((t) => [t.source.toString(), t.isDir, t.contents, t.target.toString(), t.topName?.toString() ?? null]),
  };
}

function refused(sources: string[], dest: string, msg: string | RegExp): void {
  try {
    planCopy(sources.map(B), B(dest), WORLD);
  } catch (err) {
    assert.instance(err, UsageError);
    assert.match((err as Error).message, msg);
    return;
  }
  assert.unreachable(`${sources.join(' ')} ${dest} was not refused`);
}

test('a trailing slash copies a directory\'s contents into DEST; without it the directory itself, as DEST/NAME', () => {
  assert.equal(plan(['d/'], 'new'), { root: 'new', makeRoot: true, transfers: [['d', true, true, 'new', null]] });
  assert.equal(plan(['d'], 'new'), { root: 'new', makeRoot: true, transfers: [['d', true, false, 'new/d', 'd']] });
  assert.equal(plan(['d'], 'out'), { root: 'out', makeRoot: false, transfers: [['d', true, false, 'out/d', 'd']] });
  assert.equal(plan(['d//'], 'out/'), { root: 'out', makeRoot: false, transfers: [['d', true, true, 'out', null]] });
});

test("'.' and 'x/.' name a directory's contents", () => {
  assert.equal(plan(['d/.'], 'out').transfers, [['d/.', true, true, 'out', null]]);
  assert.equal(plan(['x y/'], 'out').transfers, [['x y', true, true, 'out', null]]);
});

test('several sources go into DEST (made when missing), each by name or by contents', () => {
  assert.equal(plan(['d', 'f', 'g'], 'new'), {
    root: 'new', makeRoot: true,
    transfers: [['d', true, false, 'new/d', 'd'], ['f', false, false, 'new/f', null], ['g', false, false, 'new/g', null]],
  });
  assert.equal(plan(['d/', 'f'], 'out').transfers, [['d', true, true, 'out', null], ['f', false, false, 'out/f', null]]);
});

test('a single file: to a new name, into an existing directory, into DEST/ (made), onto a file', () => {
  assert.equal(plan(['f'], 'out/renamed'), { root: 'out', makeRoot: false, transfers: [['f', false, false, 'out/renamed', null]] });
  assert.equal(plan(['f'], 'out'), { root: 'out', makeRoot: false, transfers: [['f', false, false, 'out/f', null]] });
  assert.equal(plan(['f'], 'new/'), { root: 'new', makeRoot: true, transfers: [['f', false, false, 'new/f', null]] });
  assert.equal(plan(['f'], 'g').transfers, [['f', false, false, './g', null]]);
  // DEST a symlink to a directory: into it (rsync follows DEST).
  assert.equal(plan(['f'], 'link').transfers, [['f', false, false, 'link/f', null]]);
});

test('a bare file name as DEST: the plan\'s root is its parent (".")', () => {
  // The target is './renamed', so that it lies strictly inside the root "." (lib/fs/materialize.ts).
  assert.equal(plan(['f'], 'renamed'), { root: '.', makeRoot: false, transfers: [['f', false, false, './renamed', null]] });
});

test('refused: a missing source, a directory or several sources onto a file, no source', () => {
  refused(['nosuch'], 'out', 'nosuch: no such file or directory');
  refused(['d'], 'f', 'f: the destination is a file, not a directory');
  refused(['d/'], 'f', 'the destination is a file');
  refused(['f', 'g'], 'f', 'the destination is a file');
  refused(['f'], 'g/', 'the destination is a file');
  refused([], 'out', 'missing SRC');
});

test('refused: the destination inside the source, the source inside the destination, a source onto itself', () => {
  refused(['d'], 'd/sub', 'd: refused: the destination d/sub/d is inside the source');
  refused(['d/'], 'd/sub', 'the destination d/sub is inside the source');
  refused(['d/'], 'd', 'the destination d is the source itself');
  refused(['d/sub/'], 'd', 'd/sub: refused: the source lies inside the destination d');
  refused(['d/'], './d/../d/sub/new', 'inside the source');
  refused(['d/'], 'link', 'inside the source');
  refused(['f'], 'f', 'the source and the destination are the same file');
  refused(['f'], './f', 'the same file');
  // Not refused: siblings whose names share a prefix.
  assert.equal(plan(['d/'], 'd2').transfers, [['d', true, true, 'd2', null]]);
});

test.run();
