/**
 * What the server of a blob session (formats/wire.md §7, blob-serve.ts) enforces itself, against
 * a client that skips the Store code and sends requests as it likes: with --append-only no
 * removal, no commit over an existing blob and no exclusive lock, the session going on after
 * each refusal; names that are not blob names end the session (PROTOCOL) and touch nothing;
 * --restrict-to-path holds at TOpenBlobs; the lock is the server's own lock file, released when
 * the session ends.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ToolkitError } from '../../lib/errors/index.js';
import { FsStorage } from '../../lib/store/fs-storage.js';
import { FRAME } from '../../lib/transport/wire-layout.js';
import { tempDir } from '../helpers/run-cli.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';
import { wireStorage } from '../helpers/wire-storage.js';

const t = tempDir();
test.after(() => t.cleanup());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (err) { return err instanceof ToolkitError ? err.code : `not a ToolkitError: ${String(err)}`; }
  return 'no error';
}

const PACK = 'ab'.repeat(16);

test('append-only: remove, a commit over an existing blob and an exclusive lock are refused; adding goes on', async () => {
  const root = join(t.path, 'append');
  const setup = new FsStorage(root);
  await setup.put('pack', PACK, Buffer.from('history'));
  await setup.close();
  const { storage, client } = await wireStorage(root, { appendOnly: true });
  assert.is(await codeOf(storage.remove('pack', PACK)), 'APPEND_ONLY');
  const w = await storage.create('pack');
  await w.write(Buffer.from('rewritten'));
  assert.is(await codeOf(w.commit(PACK)), 'APPEND_ONLY');
  assert.is(readFileSync(join(root, 'packs', 'ab', `${PACK}.pack`), 'utf8'), 'history');
  assert.is(await codeOf(client.json(FRAME.TLock, FRAME.ROk, { exclusive: true, command: 'prune', waitMs: 0 })), 'APPEND_ONLY');
  // The session goes on: a shared lock, and a new blob.
  await client.json(FRAME.TLock, FRAME.ROk, { exclusive: false, command: 'create', waitMs: 0 });
  assert.is(readdirSync(join(root, 'locks')).length, 1);
  await storage.put('pack', 'cd'.repeat(16), Buffer.from('new'));
  assert.is((await storage.get('pack', 'cd'.repeat(16))).toString(), 'new');
  await storage.close();
  // The lock goes with the session, and no temporary is left.
  assert.equal(readdirSync(join(root, 'locks')), []);
  assert.equal(readdirSync(join(root, 'tmp')), []);
});

test('without --append-only the same requests work', async () => {
  const root = join(t.path, 'full');
  const { storage, client } = await wireStorage(root);
  await storage.put('pack', PACK, Buffer.from('one'));
  await storage.put('pack', PACK, Buffer.from('two'));
  assert.is((await storage.get('pack', PACK)).toString(), 'two');
  await storage.remove('pack', PACK);
  assert.is(await storage.exists('pack', PACK), false);
  await client.json(FRAME.TLock, FRAME.ROk, { exclusive: true, command: 'prune', waitMs: 0 });
  await storage.close();
});

test('a name that is not a blob name ends the session with PROTOCOL and touches nothing', async () => {
  const root = join(t.path, 'names');
  mkdirSync(join(t.path, 'outside'));
  for (const bad of ['../../outside/x', `${PACK}/../../x`, 'AB'.repeat(16), '']) {
    const { client, server } = await wireStorage(root);
    assert.is(await codeOf(client.json(FRAME.TBlobRemove, FRAME.ROk, { kind: 'pack', name: bad })), 'PROTOCOL', bad);
    assert.is(await codeOf(server), 'PROTOCOL', bad);
  }
  const { client } = await wireStorage(root);
  assert.is(await codeOf(client.json(FRAME.TBlobStat, FRAME.RBlobStat, { kind: '../config', name: PACK })), 'PROTOCOL');
  assert.equal(readdirSync(join(t.path, 'outside')), []);
});

test('--restrict-to-path holds for blob sessions, symbolic links resolved', async () => {
  const allowed = join(t.path, 'allowed');
  mkdirSync(allowed);
  symlinkSync(t.path, join(allowed, 'escape'));
  assert.is(await codeOf(wireStorage(join(t.path, 'other'), { restrictTo: allowed })), 'PATH_REFUSED');
  assert.is(await codeOf(wireStorage(join(allowed, 'escape', 'x'), { restrictTo: allowed })), 'PATH_REFUSED');
  const { storage } = await wireStorage(join(allowed, 'store'), { restrictTo: allowed });
  await storage.put('snapshot', PACK, Buffer.from('s'));
  await storage.close();
  assert.ok(existsSync(join(allowed, 'store', 'snapshots', `${PACK}.snap`)));
});

test('read-ahead: seeded in-order reads of every size by one to four cursors on one blob, 16 reads in flight (as a restore of several files from one pack) read exactly the bytes asked', async () => {
  const root = join(t.path, 'reads');
  const { storage } = await wireStorage(root);
  const name = '12'.repeat(16);
  const data = seededBytes(24_000_000, 40);
  await storage.put('pack', name, data);
  for (const seed of [1, 2, 3, 4]) {
    const rnd = mulberry32(seed);
    const starts = Array.from({ length: seed }, (_, c) => c * Math.floor(data.length / seed) + (c ? seed * 997 : 0));
    const at = [...starts];
    const ends = [...starts.slice(1), data.length];
    const reads: Array<Promise<void>> = [];
    for (;;) {
      const open = starts.map((_, c) => c).filter((c) => at[c]! < ends[c]!);
      if (open.length === 0) break;
      const c = open[Math.floor(rnd() * open.length)]!;
      // Two records of the cursor, asked in order or (a third of the time) the second first.
      const pair: Array<[number, number]> = [];
      for (let k = 0; k < 2 && at[c]! < ends[c]!; k++) {
        const len = Math.min(ends[c]! - at[c]!, 1 + Math.floor(rnd() * (rnd() < 0.1 ? 3_000_000 : 100_000)));
        pair.push([at[c]!, len]);
        at[c] = at[c]! + len;
      }
      if (pair.length === 2 && rnd() < 0.33) pair.reverse();
      for (const [off, len] of pair) {
        reads.push(storage.readRange('pack', name, off, len).then((got) => {
          assert.ok(got.equals(data.subarray(off, off + len)), `seed ${seed}: cursor ${c} at ${off}+${len}`);
        }));
      }
      if (reads.length >= 16) await reads.shift();
    }
    await Promise.all(reads);
  }
  await storage.close();
});

test.run();
