// map-budget.ts: the process's file-backed RSS from /proc, and a budget counted from the open.
// The release it leads to is tested with a real index in store-index.test.ts.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_BUDGET_BYTES, MapBudget, rssFileBytes } from '../../lib/index/map-budget.js';

const proc = existsSync('/proc/self/status');

test('RssFile is read from /proc (the node binary alone maps megabytes of code)', () => {
  if (!proc) { console.log('  skip: no /proc here'); return; }
  const bytes = rssFileBytes();
  assert.ok(bytes !== null && bytes > 1 << 20 && bytes % 1024 === 0, String(bytes));
});

test('a budget is spent once the file-backed RSS grew by it since the budget was made', () => {
  if (!proc) { console.log('  skip: no /proc here'); return; }
  assert.is(new MapBudget('/nonexistent', 0).spent(), true, 'nothing to spend');
  assert.is(new MapBudget('/nonexistent').spent(), false, `${MAP_BUDGET_BYTES} bytes not spent by doing nothing`);
});

test.run();
