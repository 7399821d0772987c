/**
 * The pre-scan behind a snapshot's progress total (lib/snapshot/scan-totals.ts), on real trees:
 * it counts what the real archiver counts (files and bytes, with the same exclusions and the
 * store inside the source left out), keeps several calls in flight but never more than asked,
 * gives null when stopped, and never fails.
 */
import { chmodSync, mkdirSync, promises as fsp, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scanTotals } from '../../lib/snapshot/scan-totals.js';
import { compileExcludes } from '../../lib/filter/exclude-rules.js';
import { fxcpJson, isRoot, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

function tree(root: string): void {
  for (let i = 0; i < 60; i++) {
    const dir = join(root, `d${i % 5}`, `e${i % 3}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.${i % 4 === 0 ? 'tmp' : 'bin'}`), seededBytes(1000 + 97 * i, i));
  }
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x6e, 0xff, 0x2e, 0x62])]), 'a name that is not UTF-8');
  symlinkSync('d0', join(root, 'link-to-dir'));
  symlinkSync('nowhere', join(root, 'dangling'));
  writeFileSync(join(root, 'empty'), '');
}

test('counts the files and bytes the snapshot counts, with its exclusions, and leaves out the store inside the source', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src');
    tree(src);
    const store = join(src, 'store-inside');
    const plain = fxcpJson(['snap', 'create', src, join(t.path, 'store')]).stats;
    assert.equal(await scanTotals(src), { files: plain.files, bytes: plain.bytes });
    // The store inside the source: the snapshot skips it, and so does the scan.
    const inside = fxcpJson(['snap', 'create', src, store]).stats;
    fxcpJson(['snap', 'create', src, store]); // a second run, with the store's packs in place
    const again = fxcpJson(['snap', 'create', src, store]).stats;
    assert.equal(await scanTotals(src, { skip: store }), { files: again.files, bytes: again.bytes });
    assert.is(again.files, inside.files);
    const excluded = fxcpJson(['snap', 'create', src, join(t.path, 'store2'), '--exclude', '*.tmp', '--exclude', 'd3/']).stats;
    assert.ok(excluded.files < plain.files);
    assert.equal(await scanTotals(src, { exclude: compileExcludes(['*.tmp', 'd3/']) }), { files: excluded.files, bytes: excluded.bytes });
    // A file as the source.
    assert.equal(await scanTotals(join(src, 'd1', 'e1', 'f1.bin')), { files: 1, bytes: 1097 });
  } finally { t.cleanup(); }
});

test('several calls in flight, never more than the bound; the same totals at any bound', async () => {
  const t = tempDir();
  const { lstat, readdir } = fsp;
  try {
    tree(t.path);
    let inFlight = 0, most = 0;
    const watch = <F extends (...a: any[]) => Promise<any>>(f: F) => (async (...a: any[]) => {
      most = Math.max(most, ++inFlight);
      try { return await f(...a); } finally { inFlight--; }
    }) as F;
    fsp.lstat = watch(lstat);
    fsp.readdir = watch(readdir);
    const serial = await scanTotals(t.path, { concurrency: 1 });
    assert.is(most, 1);
    most = 0;
    const parallel = await scanTotals(t.path, { concurrency: 6 });
    assert.ok(most > 1, `${most} calls at once`);
    assert.ok(most <= 6, `${most} calls at once`);
    assert.equal(parallel, serial);
  } finally {
    fsp.lstat = lstat;
    fsp.readdir = readdir;
    t.cleanup();
  }
});

test('stopped: null, not a partial count; a missing source or an unreadable directory: no failure', async () => {
  const t = tempDir();
  try {
    tree(t.path);
    const ac = new AbortController();
    const found = scanTotals(t.path, { signal: ac.signal });
    ac.abort();
    assert.is(await found, null);
    assert.equal(await scanTotals(join(t.path, 'missing')), { files: 0, bytes: 0 });
    if (isRoot) { console.log('  skip: root reads a mode-000 directory'); return; }
    const whole = (await scanTotals(t.path))!;
    chmodSync(join(t.path, 'd2'), 0);
    try {
      const part = (await scanTotals(t.path))!;
      assert.is(part.files, whole.files - 12);
    } finally { chmodSync(join(t.path, 'd2'), 0o755); }
  } finally { t.cleanup(); }
});

test.run();
