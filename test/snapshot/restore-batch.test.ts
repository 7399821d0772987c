/**
 * Small entries of a restore reach the restore workers in batches (restore-batch.ts). With a real
 * worker and real files: an entry of a batch that cannot be made rejects alone, with the worker's
 * message naming it, and every other entry of its batch (before and after it) is made with its
 * mode and times; nothing is left under a temporary name. One worker, so that after the first
 * entry (sent at once to the idle worker) the rest wait in one batch, the failing one among them.
 */
import { lstatSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordBuffers } from '../../lib/snapshot/record-buffers.js';
import { EntryBatcher } from '../../lib/snapshot/restore-batch.js';
import type { TreeEntry } from '../../lib/snapshot/tree-entry.js';
import { WorkerPool } from '../../lib/util/worker-pool.js';
import { tempDir } from '../helpers/run-cli.js';

const OLD_NS = 981173106_123456789n;
const ENTRIES = 20;
const BLOCKED = 9;

function entry(i: number): TreeEntry {
  const link = i % 2 === 1;
  return {
    name: Buffer.from(link ? `l${i}` : `e${i}`), type: link ? 'symlink' : 'file', mode: link ? 0o777 : 0o640, uid: 0, gid: 0,
    size: link ? 6 : 0, atimeNs: OLD_NS, mtimeNs: OLD_NS + BigInt(i), ctimeNs: 0n, dev: 1n, ino: BigInt(i), nlink: 1, rdev: 0,
    linkTarget: link ? Buffer.from('target') : undefined, chunks: [],
  };
}

test('a batch entry that cannot be made fails alone; the rest of its batch is made with its metadata', async () => {
  const t = tempDir('restore-batch-');
  const pool = new WorkerPool('snapshot/restore-worker.js', {}, 1);
  try {
    const out = join(t.path, 'out');
    // A non-empty directory where symlink l9 goes: it cannot be replaced.
    mkdirSync(join(out, `l${BLOCKED}`, 'x'), { recursive: true });
    const warnings: string[] = [];
    const batcher = new EntryBatcher(pool, Buffer.from(out), false, (_code, message) => warnings.push(message), new RecordBuffers());
    const outcomes: Array<Promise<string>> = [];
    for (let i = 0; i < ENTRIES; i++) {
      const e = entry(i);
      await batcher.room();
      const done = batcher.add(e, Buffer.from(join(out, e.name.toString())), [], 0, false);
      outcomes.push(done.then(() => 'ok', (err: Error) => err.message));
    }
    await batcher.drain();
    const got = await Promise.all(outcomes);
    got.forEach((o, i) => {
      if (i === BLOCKED) assert.match(o, new RegExp(`l${BLOCKED}`));
      else assert.is(o, 'ok', `entry ${i}`);
    });
    for (let i = 0; i < ENTRIES; i++) {
      if (i === BLOCKED) continue;
      const e = entry(i);
      const st = lstatSync(join(out, e.name.toString()), { bigint: true });
      assert.is(st.mtimeNs, e.mtimeNs, `${e.name} mtime`);
      if (e.type === 'symlink') assert.is(readlinkSync(join(out, e.name.toString())), 'target');
      else assert.is(Number(st.mode & 0o7777n), 0o640, `${e.name} mode`);
    }
    assert.ok(lstatSync(join(out, `l${BLOCKED}`, 'x')).isDirectory());
    assert.is(readdirSync(out).length, ENTRIES, 'no temporary left');
    assert.equal(warnings, []);
  } finally {
    await pool.close();
    t.cleanup();
  }
});

test('batches in flight are bounded: add refuses once there is no room, and room() waits for it', async () => {
  const t = tempDir('restore-batch-');
  const pool = new WorkerPool('snapshot/restore-worker.js', {}, 1);
  try {
    const out = join(t.path, 'out');
    mkdirSync(out);
    const batcher = new EntryBatcher(pool, Buffer.from(out), false, () => {}, new RecordBuffers());
    const done: Array<Promise<void>> = [];
    // No await in between: no batch can come back, so the bound is reached.
    let i = 0;
    while (batcher.hasRoom) { const e = entry(i++); done.push(batcher.add(e, Buffer.from(join(out, e.name.toString())), [], 0, false)); }
    assert.ok(i > 64 && i <= 4 * 64 + 1, `${i} entries before the bound`);
    assert.throws(() => batcher.add(entry(i), Buffer.from(join(out, 'x')), [], 0, false), /without room/);
    await batcher.room();
    assert.ok(batcher.hasRoom);
    await batcher.drain();
    await Promise.all(done);
    assert.is(readdirSync(out).length, i);
  } finally {
    await pool.close();
    t.cleanup();
  }
});

test.run();
