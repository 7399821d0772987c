/**
 * Comments name only files that exist. Every comment in lib, bin and test is scanned for what
 * looks like a file of this repository (a name with a source or document extension, with or
 * without directories), and each must resolve: relative to the commenting file, to the
 * repository root, to lib/ or test/, under node_modules, or by its name alone when exactly one
 * file in the repository has it. A compiled name (.js, .cjs) also resolves to its TypeScript
 * source. URLs and absolute paths (system files) are not checked.
 *
 * Limits: the comment finder is a small lexer (strings, template literals and regular
 * expression literals are skipped by their usual shapes), not a parser; a file name written
 * without an extension is not recognised.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../helpers/run-cli.js';

const SKIP_DIRS = new Set(['node_modules', 'build', '.git', 'fixtures']);
const EXT = 'ts|cts|mts|js|cjs|mjs|md|c|cc|h|gyp|json|sh';
/** A path-like word: optional directories, a name, one of EXT; not part of a longer word. */
const PATH_WORD = new RegExp(`(?<![\\w./@-])((?:\\.{1,2}/)?(?:[\\w@.-]+/)*[\\w.-]*[\\w-]\\.(?:${EXT}))(?![\\w/-])`, 'g');
/** Product names that look like file names. */
const NOT_FILES = new Set(['Node.js', 'node.js', 'Next.js', 'Deno.js']);

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** The comments of a JavaScript or TypeScript source, each with the line it starts on. */
export function comments(src: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let i = 0, line = 1;
  /** Brace depths at which a template literal's `${` was opened. */
  const templates: number[] = [];
  let depth = 0;
  let prev = ''; // last significant character outside comments and strings
  const n = src.length;
  const skipString = (q: string) => {
    i++;
    while (i < n && src[i] !== q) {
      if (src[i] === '\\') i++;
      else if (src[i] === '\n') line++;
      i++;
    }
    i++;
  };
  /** Reads template text up to its end or a `${`; returns true at a `${`. */
  const templateText = (): boolean => {
    while (i < n) {
      const c = src[i];
      if (c === '\\') { i += 2; continue; }
      if (c === '\n') line++;
      if (c === '`') { i++; return false; }
      if (c === '$' && src[i + 1] === '{') { i += 2; return true; }
      i++;
    }
    return false;
  };
  while (i < n) {
    const c = src[i];
    if (c === '\n') { line++; i++; continue; }
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      out.push({ line, text: src.slice(i + 2, end < 0 ? n : end) });
      i = end < 0 ? n : end;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const text = src.slice(i + 2, end < 0 ? n : end);
      out.push({ line, text });
      line += text.split('\n').length - 1;
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '\'' || c === '"') { skipString(c); prev = 'a'; continue; }
    if (c === '`') {
      i++;
      if (templateText()) { templates.push(depth); depth++; }
      prev = 'a';
      continue;
    }
    if (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || /\b(return|typeof|case|in|of)\s*$/.test(src.slice(Math.max(0, i - 8), i)))) {
      // A regular expression literal.
      i++;
      let cls = false;
      while (i < n && src[i] !== '\n') {
        if (src[i] === '\\') { i += 2; continue; }
        if (src[i] === '[') cls = true;
        else if (src[i] === ']') cls = false;
        else if (src[i] === '/' && !cls) break;
        i++;
      }
      i++;
      prev = 'a';
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') {
      depth--;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        i++;
        if (templateText()) { templates.push(depth); depth++; }
        prev = 'a';
        continue;
      }
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return out;
}

const all = walk(ROOT);
const byName = new Map<string, string[]>();
for (const f of all) {
  const b = basename(f);
  byName.set(b, [...(byName.get(b) ?? []), f]);
}

/** The candidate file names for `word`: itself, and for a compiled name its TypeScript source. */
function variants(word: string): string[] {
  const m = /^(.*)\.(js|cjs|mjs)$/.exec(word);
  if (!m) return [word];
  const ts = m[2] === 'cjs' ? ['.cts', '.ts'] : m[2] === 'mjs' ? ['.mts', '.ts'] : ['.ts', '.tsx'];
  return [word, ...ts.map((e) => m[1] + e)];
}

function resolves(word: string, from: string): boolean {
  for (const v of variants(word)) {
    for (const base of [dirname(from), ROOT, join(ROOT, 'lib'), join(ROOT, 'test'), join(ROOT, 'node_modules')]) {
      const p = join(base, v);
      if (existsSync(p) && statSync(p).isFile()) return true;
    }
    // By name alone, when only one file has it (a name with directories must match its tail).
    const found = (byName.get(basename(v)) ?? []).filter((f) => f.endsWith(`/${v}`) || !v.includes('/'));
    if (found.length === 1) return true;
  }
  return false;
}

/** The path-like words of a comment, without URLs and absolute paths. */
export function pathWords(text: string): string[] {
  const clean = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, ' ');
  const out: string[] = [];
  for (const m of clean.matchAll(PATH_WORD)) {
    const w = m[1]!;
    const before = clean[m.index! - 1];
    if (before === '/' || w.startsWith('/') || NOT_FILES.has(w)) continue;
    if (/^\.+$/.test(basename(w, w.slice(w.lastIndexOf('.'))))) continue;
    out.push(w);
  }
  return out;
}

const SOURCES = all.filter((f) => {
  const rel = relative(ROOT, f);
  if (rel.startsWith('lib/') || rel.startsWith('test/')) return /\.(ts|cts|mts)$/.test(f) && !f.endsWith('.d.ts');
  return rel.startsWith('bin/') && !rel.slice(4).includes('/');
});

test('the comment finder finds comments, not strings, templates or regular expressions', () => {
  const src = [
    "const a = '// not a comment'; // one",
    'const r = /\\/\\/ not[/]/g; /* two',
    ' lines */ const t = `x ${ { a: 1 }.a } // no ${"`"}`;',
    'if (x) return /a\\/b/.test(y) // three',
  ].join('\n');
  assert.equal(comments(src), [{ line: 1, text: ' one' }, { line: 2, text: ' two\n lines ' }, { line: 4, text: ' three' }]);
});

test('path-like words: names with an extension, with or without directories; not URLs, absolute paths or Node.js', () => {
  assert.equal(pathWords(' see lib/store/chunk-store.ts:70 and formats/store.md §12, restorer.ts,'), ['lib/store/chunk-store.ts', 'formats/store.md', 'restorer.ts']);
  assert.equal(pathWords(' https://example.org/a/b.md and /etc/x.conf.json, Node.js and x.y'), []);
  assert.equal(pathWords(" ('store/chunk-worker.js') ../helpers/seeded.ts"), ['store/chunk-worker.js', '../helpers/seeded.ts']);
});

test('a name that resolves nowhere is caught; the ways one resolves', () => {
  const from = join(ROOT, 'lib', 'store', 'chunk-store.ts');
  for (const ok of ['fs-storage.ts', 'lib/store/fs-storage.ts', 'store/chunk-worker.js', 'formats/store.md', 'uvu/package.json', 'blob-storage.ts']) {
    assert.ok(resolves(ok, from), ok);
  }
  for (const bad of ['no-such-file.ts', 'store/no-such.ts', 'lib/nowhere/chunk-store.ts', 'exports.ts']) assert.not.ok(resolves(bad, from), bad);
});

test('every file a comment names exists', () => {
  const missing: string[] = [];
  let named = 0;
  for (const f of SOURCES) {
    for (const c of comments(readFileSync(f, 'utf8'))) {
      for (const w of pathWords(c.text)) {
        named++;
        if (!resolves(w, f)) missing.push(`${relative(ROOT, f)}:${c.line}: ${w}`);
      }
    }
  }
  assert.ok(named > 100, `${named} names found: the scan works`);
  assert.equal(missing, [], `comments name files that do not exist:\n  ${missing.join('\n  ')}`);
});

test.run();
