// One use of a store at a time in a process (store-turns.ts). By default a second use of a
// store while one runs is refused at once, no context needed; other stores are fine. After
// allowConcurrentStoreUses (foxingd), uses of one store wait their turn (two lmdb-js handles on
// one index deadlock), other stores do not, and a use of a store inside its own use is still an
// error instead of a wait for ever. Real stores, real LMDB. The tests run in order: the default
// mode's first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withStore } from '../../lib/store/open-store.js';
import { allowConcurrentStoreUses, inStoreTurn } from '../../lib/store/store-turns.js';

let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'fx-turns-')); });
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The USAGE error of `p`, or null when it resolved. */
const usageError = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error & { code?: string });

test('by default: a use inside its own use, or beside it, is refused at once; uses one after another and other stores are fine', async () => {
  const a = join(dir, 'strict');
  const err = await usageError(withStore(a, { create: true, lock: 'shared', command: 'outer' }, async () =>
    withStore(a, { lock: 'shared', command: 'inner' }, async () => 'inner ran')));
  assert.ok(err, 'the inner use is refused');
  assert.is(err!.code, 'USAGE');
  assert.match(err!.message, a);
  let second: ReturnType<typeof usageError> | null = null;
  await withStore(a, { create: true, lock: 'shared', command: 'first' }, async () => {
    second = usageError(withStore(a, { lock: 'shared', command: 'beside' }, async () => 'ran'));
    await tick(10);
  });
  assert.is((await second!)?.code, 'USAGE', 'a use beside the running one is refused');
  assert.is(await withStore(a, { lock: 'shared', command: 'after' }, async () => 'ran'), 'ran', 'the turn was given back');
  assert.is(await inStoreTurn('x', () => inStoreTurn('y', async () => 'both')), 'both');
});

test('allowConcurrentStoreUses: from here on, uses of one store wait their turn', () => {
  allowConcurrentStoreUses();
});

test('uses of one store run one after the other, in call order; another store is not held up', async () => {
  const a = join(dir, 'a'), b = join(dir, 'b');
  const events: string[] = [];
  const use = (path: string, name: string, lock: 'shared' | 'exclusive') =>
    withStore(path, { create: true, lock, command: name }, async (store) => {
      events.push(`${name} in`);
      // A write of the index (an lmdb-js transaction) while the other use would open the store.
      await store.index.flushed();
      await tick(30);
      events.push(`${name} out`);
    });
  await Promise.all([use(a, 'a1', 'shared'), use(a, 'a2', 'exclusive'), use(b, 'b1', 'shared'), use(a, 'a3', 'shared')]);
  const only = (p: string) => events.filter((e) => e.startsWith(p));
  assert.equal(only('a'), ['a1 in', 'a1 out', 'a2 in', 'a2 out', 'a3 in', 'a3 out']);
  // b ran beside a1: it went in before a1 came out.
  assert.ok(events.indexOf('b1 in') < events.indexOf('a1 out'), events.join(', '));
});

test('a failed use gives its turn back', async () => {
  const a = join(dir, 'fail');
  await withStore(a, { create: true, lock: 'shared', command: 'first' }, async () => { throw new Error('boom'); }).then(
    () => assert.unreachable('the first use fails'), (err: Error) => assert.is(err.message, 'boom'));
  const r = await withStore(a, { create: true, lock: 'shared', command: 'second' }, async () => 'ran');
  assert.is(r, 'ran');
});

test('a store used inside its own use is a USAGE error naming it, not a wait for ever', async () => {
  const a = join(dir, 'nested');
  const err = await usageError(withStore(a, { create: true, lock: 'shared', command: 'outer' }, async () =>
    withStore(a, { lock: 'shared', command: 'inner' }, async () => 'inner ran')));
  assert.ok(err, 'the inner use is refused');
  assert.is(err!.code, 'USAGE');
  assert.match(err!.message, a);
  // Other stores inside a use are fine.
  const r = await inStoreTurn('x', () => inStoreTurn('y', async () => 'both'));
  assert.is(r, 'both');
});

test.run();
