// The filter corpus (fixtures/filter/corpus.ts): for each rule set, the paths the engine selects,
// walking the tree as a copy does (transfer per entry, --delete per extraneous destination entry),
// must equal what real rsync leaves in the destination, and the golden lists recorded from rsync.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileFilterArgs, type FilterArg } from '../../lib/filter/filter-args.js';
import { FilterScope, parentDirsOf, type MergeReader } from '../../lib/filter/filter-scope.js';
import { buildCorpus, CASES, expandArgs, listTree, prepareDest, runRsync, type CorpusCase, type CorpusPaths } from '../../fixtures/filter/corpus.js';
import { haveCommand, ROOT, tempDir } from '../helpers/run-cli.js';

const GOLDEN = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'filter', 'golden.json'), 'utf8')) as Record<string, string[]>;

/** The rsync arguments of a case as the lead's parser hands them over, plus the delete mode. */
function filterArgs(args: readonly string[]): { filters: FilterArg[]; del: 'none' | 'delete' | 'excluded' } {
  const filters: FilterArg[] = [];
  let del: 'none' | 'delete' | 'excluded' = 'none';
  for (const a of args) {
    if (a === '--delete') { if (del === 'none') del = 'delete'; continue; }
    if (a === '--delete-excluded') { del = 'excluded'; continue; }
    if (a === '-F') { filters.push({ option: 'F', value: '' }); continue; }
    const m = /^--(exclude|include|filter|exclude-from|include-from)=(.*)$/s.exec(a);
    if (!m) throw new Error(`corpus argument not understood: ${a}`);
    filters.push({ option: m[1] as FilterArg['option'], value: m[2] });
  }
  return { filters, del };
}

function reader(dir: string | null): MergeReader {
  return (name) => {
    if (dir === null) return null;
    try {
      return readFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
  };
}

interface Entry { name: Buffer; isDir: boolean }

function entries(dir: string): Entry[] {
  return readdirSync(dir, { withFileTypes: true, encoding: 'buffer' }).map((d) => ({ name: d.name, isDir: d.isDirectory() }));
}

function exists(path: string): boolean {
  try { readdirSync(path); return true; } catch { return false; }
}

/**
 * What a copy with the engine leaves in the destination: a walk of the source asking transfer(),
 * and, with --delete, of each synchronised destination directory asking protects() of a scope
 * chain entered through the destination's own merge files (as rsync's receiver reads them).
 */
function engineResult(p: CorpusPaths, k: CorpusCase): string[] {
  const { filters, del } = filterArgs(expandArgs(p, k.args));
  const rules = compileFilterArgs(filters, { readFile: (path) => readFileSync(path), deleteExcluded: del === 'excluded' });
  const dest = join(p.out, `${k.name}.engine`);
  const before = new Set(k.dest ? listTree(prepareDest(p, { ...k, name: `${k.name}.engine` })) : []);
  const out = new Set<string>(before);
  const parents = (first: string, root: string) => parentDirsOf(first, root).map((d) => ({ pathToRoot: Buffer.from(d.pathToRoot), readMerge: reader(d.dir) }));

  const deleteTree = (dir: string, rel: string, scope: FilterScope): boolean => {
    let kept = false;
    for (const e of entries(dir)) {
      const path = rel + e.name.toString() + (e.isDir ? '/' : '');
      if (scope.protects(e.name, e.isDir, { deleting: true })) { kept = true; continue; }
      if (e.isDir && deleteTree(join(dir, e.name.toString()), path, scope.enter(e.name, reader(join(dir, e.name.toString()))))) { kept = true; continue; }
      dropTree(path);
    }
    return kept;
  };
  const dropTree = (path: string): void => { for (const q of [...out]) if (q === path || (path.endsWith('/') && q.startsWith(path))) out.delete(q); };

  const sync = (src: string, dst: string, rel: string, send: FilterScope, recv: FilterScope | null): void => {
    const sent = new Set<string>();
    for (const e of entries(src)) {
      if (!send.transfer(e.name, e.isDir)) continue;
      const name = e.name.toString();
      sent.add(name);
      out.add(rel + name + (e.isDir ? '/' : ''));
      if (e.isDir) {
        const childDst = join(dst, name);
        sync(join(src, name), childDst, `${rel}${name}/`, send.enter(e.name, reader(join(src, name))),
          recv && exists(childDst) ? recv.enter(e.name, reader(childDst)) : null);
      }
    }
    if (del === 'none' || !recv) return;
    for (const e of entries(dst)) {
      const name = e.name.toString();
      if (sent.has(name) || recv.protects(e.name, e.isDir)) continue;
      const path = rel + name + (e.isDir ? '/' : '');
      if (e.isDir && deleteTree(join(dst, name), path, recv.enter(e.name, reader(join(dst, name))))) continue;
      dropTree(path);
    }
  };

  const absRootOf = (root: string) => ({ absRoot: Buffer.from(root) });
  if (k.form === 'noslash') {
    const send = FilterScope.root(rules, { parentDirs: parents(p.src, p.parent), ...absRootOf(p.parent) });
    if (send.transfer(Buffer.from('src'), true)) {
      out.add('src/');
      const dstSrc = join(dest, 'src');
      const recv = exists(dstSrc)
        ? FilterScope.root(rules, { parentDirs: parents(dstSrc, dest), ...absRootOf(dest) }).enter(Buffer.from('src'), reader(dstSrc))
        : null;
      sync(p.src, dstSrc, 'src/', send.enter(Buffer.from('src'), reader(p.src)), recv);
    }
  } else {
    const send = FilterScope.root(rules, { readMerge: reader(p.src), parentDirs: parents(p.src, p.src), ...absRootOf(p.src) });
    const recv = FilterScope.root(rules, { readMerge: reader(dest), parentDirs: parents(dest, dest), ...absRootOf(dest) });
    sync(p.src, dest, '', send, recv);
  }
  return [...out].sort();
}

const haveRsync = haveCommand('rsync');

test(`corpus: ${CASES.length} rule sets, the engine against ${haveRsync ? 'real rsync and ' : ''}the golden lists`, () => {
  assert.ok(CASES.length >= 60);
  if (!haveRsync) console.log('  skip: rsync is not installed; the engine is checked against the golden lists only');
  const t = tempDir('fxfilter-');
  try {
    const p = buildCorpus(t.path);
    const failures: string[] = [];
    for (const k of CASES) {
      const got = engineResult(p, k);
      const golden = GOLDEN[k.name];
      if (!golden) failures.push(`${k.name}: no golden list (run fixtures/gen-filter-golden)`);
      else if (JSON.stringify(got) !== JSON.stringify(golden)) failures.push(diff(k, 'golden', golden, got));
      if (haveRsync) {
        const want = runRsync(p, k);
        if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(diff(k, 'rsync', want, got));
      }
    }
    assert.equal(failures, [], failures.join('\n'));
  } finally {
    t.cleanup();
  }
});

function diff(k: CorpusCase, what: string, want: string[], got: string[]): string {
  const w = new Set(want);
  const g = new Set(got);
  const missing = want.filter((x) => !g.has(x));
  const extra = got.filter((x) => !w.has(x));
  return `${k.name} [${k.args.join(' ')}]${k.form === 'noslash' ? ' (noslash)' : ''} vs ${what}: missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`;
}

test.run();
