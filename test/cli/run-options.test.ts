// The run options the CLI reads from the environment once (lib/cli/run-options.ts); the
// library itself takes them as options. That the CLI passes them on is covered where they
// change what a command does (test/integration/restore-temporaries.test.ts and others run
// restores with FOXING_RESTORE_POOL_BYTES=0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runOptionsFromEnv } from '../../lib/cli/run-options.js';
import { defaultPoolSize } from '../../lib/util/worker-pool.js';
import { availableParallelism } from 'node:os';

test('FOXING_WORKERS, FOXING_RESTORE_POOL_BYTES and FOXING_DIRECT_PACKS are parsed; anything else is the default', () => {
  assert.equal(runOptionsFromEnv({}), { workers: undefined, restorePoolBytes: undefined, directPacks: undefined });
  assert.equal(runOptionsFromEnv({ FOXING_WORKERS: '3', FOXING_RESTORE_POOL_BYTES: '0', FOXING_DIRECT_PACKS: '0' }), { workers: 3, restorePoolBytes: 0, directPacks: false });
  for (const other of ['1', 'yes', '']) assert.is(runOptionsFromEnv({ FOXING_DIRECT_PACKS: other }).directPacks, undefined, `FOXING_DIRECT_PACKS=${other}`);
  assert.equal(runOptionsFromEnv({ FOXING_RESTORE_POOL_BYTES: '1048576' }).restorePoolBytes, 1 << 20);
  for (const bad of ['0', '-2', '1.5', 'many', '']) assert.is(runOptionsFromEnv({ FOXING_WORKERS: bad }).workers, undefined, `FOXING_WORKERS=${bad}`);
  for (const bad of ['-1', '1.5', 'x', '']) assert.is(runOptionsFromEnv({ FOXING_RESTORE_POOL_BYTES: bad }).restorePoolBytes, undefined, `FOXING_RESTORE_POOL_BYTES=${bad}`);
});

test('the library reads no environment for the pool size: it is what it is given, else one per core', () => {
  const old = process.env.FOXING_WORKERS;
  process.env.FOXING_WORKERS = '7';
  try {
    assert.is(defaultPoolSize(), Math.max(1, availableParallelism()));
    assert.is(defaultPoolSize(5), 5);
    assert.is(defaultPoolSize(0), Math.max(1, availableParallelism()));
  } finally {
    if (old === undefined) delete process.env.FOXING_WORKERS; else process.env.FOXING_WORKERS = old;
  }
});

test.run();
