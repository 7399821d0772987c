/**
 * Regression: a file whose only data extent is followed by a hole (data in the middle, holes
 * on both sides) was recorded as "changed while being read" and cut at the end of its data,
 * because the grew-since-stat probe read the hole after the extent instead of the stat size.
 */
import { closeSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fxcp, tempDir } from '../helpers/run-cli.js';

test('a trailing hole after a single data extent keeps the file size', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), store = join(t.path, 'store'), out = join(t.path, 'out');
    mkdirSync(src);
    const f = join(src, 'tail-hole.img');
    const fd = openSync(f, 'w');
    writeSync(fd, Buffer.alloc(8192, 1), 0, 8192, 1 << 20);
    closeSync(fd);
    truncateSync(f, 4 << 20);
    const c = fxcp(['snap', 'create', src, store]);
    assert.is(c.code, 0, c.stderr);
    assert.not.match(c.stderr, /changed while being read/);
    const r = fxcp(['snap', 'restore', store, '-o', out]);
    assert.is(r.code, 0, r.stderr);
    assert.is(statSync(join(out, 'tail-hole.img')).size, 4 << 20);
    assert.ok(readFileSync(join(out, 'tail-hole.img')).equals(readFileSync(f)));
  } finally {
    t.cleanup();
  }
});

test.run();
