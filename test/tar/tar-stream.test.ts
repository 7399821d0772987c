/**
 * Streaming behaviour: import from a pipe (GNU tar's stdout, as `snap import -` gets it),
 * export to a Node Writable, many members in shuffled order (the spill), and cancellation.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AbortedError } from '../../lib/errors/index.js';
import { Store } from '../../lib/store/chunk-store.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { exportTar } from '../../lib/tar/tar-export.js';
import { streamSink } from '../../lib/fxar/archive-io.js';
import { importTar } from '../../lib/tar/tar-import.js';
import { TarWriter } from '../../lib/tar/tar-writer.js';
import { mulberry32 } from '../helpers/seeded.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, isRoot, tempDir } from '../helpers/run-cli.js';
import { sh, snapshotOf } from './tar-test-kit.js';
import { makeVariedTree } from './varied-tree.js';

test('import from a pipe, export to a Writable, and back through GNU tar', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src'), out = join(t.path, 'out'), out2 = join(t.path, 'out2'), file = join(t.path, 'x.tar.zst');
    mkdirSync(src);
    makeVariedTree(src, { xattrs: false });
    const child = spawn('tar', ['--format=pax', '-C', src, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
    try {
      const r = await importTar(child.stdout, store, { source: '-', tags: ['piped'] });
      assert.is(r.record.source, '-');
      assert.equal(r.record.tags, ['piped']);
      const ws = createWriteStream(file);
      const sink = streamSink(ws, 'pipe');
      await exportTar(store, r.record, sink, { compress: 'zstd' });
      await new Promise<void>((res, rej) => ws.end((err?: Error | null) => (err ? rej(err) : res())));
      const rs = fxcp(['snap', 'restore', join(t.path, 'store'), '-o', out, '--snapshot', r.snapshotId]);
      assert.is(rs.code, 0, rs.stderr);
    } finally {
      await store.close();
    }
    assert.equal(compareTrees(src, out, { owner: isRoot }), []);
    mkdirSync(out2);
    const x = sh('tar', ['-xpf', file, '--zstd', ...(isRoot ? ['--numeric-owner'] : []), '-C', out2]);
    assert.is(x.code, 0, x.stderr);
    assert.equal(compareTrees(src, out2, { owner: isRoot }), []);
  } finally {
    t.cleanup();
  }
});

test('12,000 members in shuffled order, directories after their contents', async () => {
  const t = tempDir();
  try {
    const rnd = mulberry32(11);
    const members: string[] = [];
    for (let d = 0; d < 40; d++) for (let f = 0; f < 300; f++) members.push(`d${d}/sub${f % 3}/f${f}`);
    for (let i = members.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [members[i], members[j]] = [members[j], members[i]]; }
    const parts: Buffer[] = [];
    const w = new TarWriter({ write: async (c) => { parts.push(Buffer.from(c)); } });
    const base = { mode: 0o644, uid: 0, gid: 0, mtimeNs: 1_650_000_000_000_000_000n };
    for (const m of members) {
      const data = Buffer.from(`content of ${m}\n`);
      await w.add({ ...base, path: Buffer.from(m), type: 'file', size: data.length });
      await w.data(data);
    }
    for (let d = 0; d < 40; d++) await w.add({ ...base, path: Buffer.from(`d${d}`), type: 'dir', mode: 0o711, size: 0 });
    await w.finish();
    const file = join(t.path, 'many.tar');
    writeFileSync(file, Buffer.concat(parts));
    const store = await Store.open(directoryLocation(join(t.path, 'store')), { create: true });
    let id: string;
    try {
      const { createReadStream } = await import('node:fs');
      const r = await importTar(createReadStream(file), store, { source: file });
      assert.is(r.entries, 12_040);
      assert.is(r.record.stats.files, 12_000);
      id = r.snapshotId;
    } finally {
      await store.close();
    }
    const out = join(t.path, 'out');
    const rs = fxcp(['snap', 'restore', join(t.path, 'store'), '-o', out, '--snapshot', id]);
    assert.is(rs.code, 0, rs.stderr);
    assert.is(readdirSync(out).length, 40);
    assert.is(readdirSync(join(out, 'd7', 'sub1')).length, 100);
    assert.is(readFileSync(join(out, 'd39/sub2/f299'), 'utf8'), 'content of d39/sub2/f299\n');
    const { statSync } = await import('node:fs');
    assert.is(statSync(join(out, 'd5')).mode & 0o7777, 0o711);
  } finally {
    t.cleanup();
  }
});

test('an aborted export or import stops with AbortedError and lists nothing', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src');
    mkdirSync(src);
    makeVariedTree(src, { xattrs: false, nonUtf8: false });
    const { record } = await snapshotOf(src, join(t.path, 'store'));
    const store = await Store.open(directoryLocation(join(t.path, 'store')));
    try {
      const ac = new AbortController();
      let pieces = 0;
      const err = await exportTar(store, record, { write: async () => { if (++pieces === 1) ac.abort(); } }, { signal: ac.signal }).catch((e) => e);
      assert.ok(err instanceof AbortedError, (err as Error)?.stack ?? JSON.stringify(err));
      const tarBytes = sh('tar', ['-C', src, '-cf', '-', '.']).stdout;
      const ac2 = new AbortController();
      async function* slow() { yield tarBytes.subarray(0, 4096); ac2.abort(); yield tarBytes.subarray(4096); }
      const before = (await import('../../lib/snapshot/snapshot-catalogue.js')).listSnapshots(store).length;
      const err2 = await importTar(slow(), store, { source: 'x', signal: ac2.signal }).catch((e) => e);
      assert.ok(err2 instanceof AbortedError, (err2 as Error)?.stack ?? JSON.stringify(err2));
      assert.is((await import('../../lib/snapshot/snapshot-catalogue.js')).listSnapshots(store).length, before);
    } finally {
      await store.close();
    }
  } finally {
    t.cleanup();
  }
});

test.run();
