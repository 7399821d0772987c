// StoreIndex on a real, nearly full tmpfs: a commit that fails for want of space (LMDB's own
// ENOSPC, not the pre-flight estimate) leaves the index usable again in the same process once
// space returns. lmdb-js's write thread, when such a commit failed on it, kept the index's
// write lock for ever, and the next open in the process blocked its main thread (foxingd did
// not stop on SIGTERM): near a full disk the index now commits on the main thread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 } from '../../lib/hash/blake3.js';
import { StoreIndex } from '../../lib/index/store-index.js';
import type { PackEntry } from '../../lib/store/pack-codec.js';
import { mountTestFs } from '../helpers/loop-fs.js';

const cid = (s: string) => blake3().hash(Buffer.from(s));
const packId = (s: string) => cid(`pack ${s}`).toString('hex');
const entries = (tag: string, n: number): PackEntry[] =>
  Array.from({ length: n }, (_, j) => ({ id: cid(`${tag}-${j}`), type: 0, codec: 1, rawLength: 1000, storedLength: 400, offset: j * 400 }));

test('a commit that finds the disk full fails as NO_SPACE, and the index works again in this process', async () => {
  const mnt = mountTestFs('tmpfs', 8);
  if ('skip' in mnt) { console.log(`  skipped: ${mnt.skip}`); return; }
  try {
    const dir = join(mnt.mountPoint, 'index');
    let idx = StoreIndex.open(dir);
    await idx.addPack(packId('first'), 400, entries('first', 1));
    // Everything but 64 KiB taken: the next big transaction cannot get its pages.
    const fs = statfsSync(mnt.mountPoint);
    const filler = join(mnt.mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - 64 * 1024)));
    // replacePacks makes no space check first (it is gc's, which frees space): LMDB itself fails.
    const err = await idx.replacePacks([{ packId: packId('big'), size: 400 * 5000, entries: entries('big', 5000) }], []).then(() => null, (e: unknown) => e as Error & { code?: string });
    assert.ok(err, 'the commit fails');
    assert.is(err!.code, 'NO_SPACE', err!.message);
    await idx.close();
    rmSync(filler);
    await StoreIndex.settle(dir);
    idx = StoreIndex.open(dir);
    await idx.addPack(packId('after'), 400, entries('after', 100));
    assert.ok(idx.hasChunk(cid('after-99')));
    assert.ok(idx.hasChunk(cid('first-0')), 'what was committed before is there');
    assert.not.ok(idx.hasChunk(cid('big-0')), 'nothing of the failed commit');
    await idx.close();
  } finally {
    mnt.cleanup();
  }
});

test.run();
