/**
 * Issue 21, filters end to end: every rule set of the filter corpus (fixtures/filter/corpus.ts)
 * run through the real `fxcp -a` command line, on the corpus tree and (for the --delete cases)
 * the same prepared destination as rsync's. The tree fxcp leaves must equal the golden list
 * recorded from rsync (fixtures/filter/golden.json) and, where rsync is installed, what rsync
 * leaves in this run. test/filter/filter-corpus.test.ts checks the engine alone; this checks the
 * option parsing, the transfer roots, merge files read from the walk and the delete pass of the
 * copy itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCorpus, CASES, expandArgs, listTree, prepareDest, runRsync } from '../../fixtures/filter/corpus.js';
import { fxcp, haveCommand, ROOT, tempDir } from '../helpers/run-cli.js';

const GOLDEN = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'filter', 'golden.json'), 'utf8')) as Record<string, string[]>;
const haveRsync = haveCommand('rsync');

test(`fxcp -a with each of the ${CASES.length} corpus rule sets leaves the tree rsync leaves`, () => {
  assert.ok(CASES.length >= 60);
  if (!haveRsync) console.log('  skip: rsync is not installed; fxcp is checked against the golden lists only');
  const t = tempDir('fxcp-filters-');
  try {
    const p = buildCorpus(t.path);
    const failures: string[] = [];
    for (const k of CASES) {
      const dest = prepareDest(p, { ...k, name: `${k.name}.fxcp` });
      const from = k.form === 'noslash' ? p.src : `${p.src}/`;
      const r = fxcp(['-a', ...expandArgs(p, k.args), from, `${dest}/`]);
      // 1: a protected entry kept in a directory --delete removes (rsync says 23 there).
      if (r.code !== 0 && r.code !== 1) { failures.push(`${k.name}: exit ${r.code}: ${r.stderr.trim()}`); continue; }
      const got = listTree(dest);
      const wants: [string, string[] | undefined][] = [['golden', GOLDEN[k.name]]];
      if (haveRsync) wants.push(['rsync', runRsync(p, k)]);
      for (const [what, want] of wants) {
        if (!want) { failures.push(`${k.name}: no ${what} list`); continue; }
        if (JSON.stringify(got) === JSON.stringify(want)) continue;
        const extra = got.filter((x) => !want.includes(x)), missing = want.filter((x) => !got.includes(x));
        failures.push(`${k.name} (${k.args.join(' ')}) vs ${what}: extra ${JSON.stringify(extra)}, missing ${JSON.stringify(missing)}`);
      }
    }
    assert.equal(failures, [], failures.join('\n'));
  } finally {
    t.cleanup();
  }
});

test.run();
