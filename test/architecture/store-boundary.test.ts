/**
 * The store is a boundary (issue 19): code outside lib/store imports lib/store only through its
 * entry module (lib/store/index.ts), and lib/store imports nothing from lib/snapshot. Read from
 * the sources: every import, export-from and import() with a relative specifier in lib/**.
 *
 * One exception, on purpose: worker scripts outside lib/store (the worker files, each loaded by
 * path in a thread of its own) may import the record check (chunk-verify.ts), the reader of
 * bundle members (bundle-cache.ts), the bundler of verified chunks (verified-bundles.ts) and the
 * layout constants (store-layout.ts) directly. Loading the entry, which loads the whole store, costs a
 * worker about 60 ms of start-up (measured in build/lib), paid by every restore worker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../helpers/run-cli.js';

const LIB = join(ROOT, 'lib');
const WORKER_LEAVES = new Set(['store/bundle-cache.ts', 'store/chunk-verify.ts', 'store/store-layout.ts', 'store/verified-bundles.ts']);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.c?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The relative specifiers a source imports (static, type-only, re-exports, dynamic), as lib-relative .ts paths. */
export function importsOf(file: string, text: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (let m; (m = re.exec(text));) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs.filter((s) => s.startsWith('.'))
    .map((s) => relative(LIB, resolve(dirname(file), s)).replace(/\.c?js$/, (ext) => (ext === '.cjs' ? '.cts' : '.ts')));
}

/** What breaks the boundary in one file (lib-relative path and its imports). */
export function violations(from: string, imports: string[]): string[] {
  const bad: string[] = [];
  const inStore = from.startsWith('store/');
  const isWorker = /-worker\.ts$/.test(from);
  for (const to of imports) {
    if (inStore && to.startsWith('snapshot/')) bad.push(`${from} imports ${to} (lib/store must not depend on lib/snapshot)`);
    if (!inStore && to.startsWith('store/') && to !== 'store/index.ts' && !(isWorker && WORKER_LEAVES.has(to))) {
      bad.push(`${from} imports ${to} (outside lib/store, import lib/store/index.ts)`);
    }
  }
  return bad;
}

test('the rules catch both kinds of breach, and the worker exception only for workers', () => {
  assert.equal(violations('snapshot/archiver.ts', ['store/chunk-writer.ts', 'store/index.ts']), ['snapshot/archiver.ts imports store/chunk-writer.ts (outside lib/store, import lib/store/index.ts)']);
  assert.equal(violations('store/chunk-store.ts', ['snapshot/tree-entry.ts']).length, 1);
  assert.equal(violations('snapshot/restore-worker.ts', ['store/chunk-verify.ts', 'store/store-layout.ts']), []);
  assert.equal(violations('snapshot/restorer.ts', ['store/chunk-verify.ts']).length, 1);
  assert.equal(violations('snapshot/restore-worker.ts', ['store/pack-writer.ts']).length, 1);
});

test('the import parser sees every form of import', () => {
  const file = join(LIB, 'snapshot', 'x.ts');
  const text = [
    "import type { A } from '../store/a.js';",
    "import {\n  B,\n  C,\n} from '../store/b.js';",
    "export { D } from '../store/d.js';",
    "const m = await import('../store/e.js');",
    "import '../store/f.js';",
    "import { G } from 'node:fs';",
  ].join('\n');
  assert.equal(importsOf(file, text), ['store/a.ts', 'store/b.ts', 'store/d.ts', 'store/e.ts', 'store/f.ts']);
});

test('lib/: only the entry module of lib/store is imported from outside it; lib/store imports nothing from lib/snapshot', () => {
  const bad: string[] = [];
  let files = 0;
  for (const file of sources(LIB)) {
    files++;
    bad.push(...violations(relative(LIB, file), importsOf(file, readFileSync(file, 'utf8'))));
  }
  assert.ok(files > 100, `read ${files} sources`);
  assert.equal(bad, []);
});

test.run();
