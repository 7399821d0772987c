/**
 * docs/errors.md against the code: every error code the doc lists is one some class carries
 * (lib/errors/error-codes.ts), with that class; every code thrown in lib/ is in the doc with its
 * class and a "what to do"; a code is thrown only through its own class; and the doc's exit
 * codes are lib/cli/exit-codes.ts's. lib/ is read with the TypeScript parser, not grep, so a
 * code in a ternary or on the next line is found too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ts from 'typescript';
import { ERROR_CLASSES, errorFromJSON, isErrorCode } from '../../lib/errors/index.js';
import { EXIT, exitCodeFor } from '../../lib/cli/exit-codes.js';
import { ROOT } from '../helpers/run-cli.js';

interface DocRow { code: string; cls: string; todo: string; text: string; exit: number | null }

/** Every row of a table with a Class column, with the exit code its section heading names. */
function docRows(md: string): DocRow[] {
  const rows: DocRow[] = [];
  let header: string[] | null = null;
  let sectionExit: number | null = null;
  for (const line of md.split('\n')) {
    if (line.startsWith('#')) { sectionExit = /exit (\d+)/.exec(line) ? Number(/exit (\d+)/.exec(line)![1]) : null; header = null; continue; }
    if (!line.startsWith('|')) { header = null; continue; }
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    if (!header) { header = cells; continue; }
    if (/^-+$/.test(cells[0]!)) continue;
    const at = (name: string) => header!.indexOf(name);
    if (at('Code') !== 0 || at('Class') < 0) continue;
    const code = /`([A-Z][A-Z0-9_]*)`/.exec(cells[0]!)?.[1];
    if (!code) continue;
    rows.push({ code, cls: cells[at('Class')]!, todo: at('What to do') >= 0 ? cells[at('What to do')]! : '', text: line, exit: sectionExit });
  }
  return rows;
}

const md = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
const rows = docRows(md);

test('the doc is read: its error tables have rows', () => {
  assert.ok(rows.length >= 40, `${rows.length} rows`);
  assert.ok(rows.some((r) => r.code === 'TAR_COMPRESSION'), 'the tar table');
  assert.ok(rows.some((r) => r.code === 'PACK_BROKEN'), 'the internal table');
});

test('every code in the doc is carried by the class the doc names', () => {
  for (const r of rows) {
    assert.ok(isErrorCode(r.code), `${r.code} (docs/errors.md) is no code of lib/errors/error-codes.ts`);
    const cls = ERROR_CLASSES[r.code as keyof typeof ERROR_CLASSES].name;
    assert.ok(r.cls.split(/[^A-Za-z]+/).includes(cls), `${r.code}: the doc says ${r.cls}, the code says ${cls}`);
  }
});

test('every code a class carries is in the doc, with what to do', () => {
  for (const code of Object.keys(ERROR_CLASSES)) {
    const row = rows.find((r) => r.code === code);
    assert.ok(row, `${code} is not in docs/errors.md`);
    assert.ok(row!.todo.length > 0, `${code}: no "What to do" in docs/errors.md`);
  }
});

test('the exit codes in the doc are exit-codes.ts\'s, for the table and for each error code', () => {
  const table = [...md.matchAll(/^\| (\d+) \| (\w+) \|/gm)].map((m) => [m[2]!, Number(m[1])] as const);
  const names: Record<string, keyof typeof EXIT> = { success: 'OK', partial: 'PARTIAL', failure: 'FAILURE', interrupted: 'INTERRUPTED' };
  assert.equal(table.map(([n, c]) => [names[n], c]).sort(), Object.entries(EXIT).sort(), 'the exit code table');
  for (const r of rows) {
    const exit = exitCodeFor(errorFromJSON({ code: r.code, message: 'x' }));
    const said = /Exits with (\d+)/.exec(r.text);
    if (said) assert.is(exit, Number(said[1]), `${r.code}: the doc says exit ${said[1]}`);
    else if (r.exit !== null) assert.is(exit, r.exit, `${r.code}: its section says exit ${r.exit}`);
  }
});

/** Where lib/ throws a stable code, and through which class ('Error' for a code stuck on a plain Error). */
function thrownCodes(): Array<{ where: string; cls: string; code: string }> {
  const found: Array<{ where: string; cls: string; code: string }> = [];
  const classes = new Set(Object.values(ERROR_CLASSES).map((c) => c.name));
  /** Position of the code argument, and the default when it is left out. */
  const codeArg: Record<string, [number, string | null]> = { ToolkitError: [0, null], FormatError: [2, 'FORMAT'], NotFoundError: [2, 'NOT_FOUND'] };
  const literals = (e: ts.Expression | undefined): string[] => {
    if (!e) return [];
    if (ts.isStringLiteral(e)) return [e.text];
    if (ts.isConditionalExpression(e)) return [...literals(e.whenTrue), ...literals(e.whenFalse)];
    if (ts.isParenthesizedExpression(e)) return literals(e.expression);
    return []; // computed (err.code): typed ErrorCode, so the compiler checks it
  };
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => d.isDirectory() ? files(join(dir, d.name)) : /\.c?ts$/.test(d.name) ? [join(dir, d.name)] : []);
  for (const file of files(join(ROOT, 'lib'))) {
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = (n: ts.Node) => `${file.slice(ROOT.length + 1)}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const visit = (n: ts.Node): void => {
      if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && classes.has(n.expression.text) && codeArg[n.expression.text]) {
        const [at, dflt] = codeArg[n.expression.text]!;
        const arg = n.arguments?.[at];
        const codes = arg ? literals(arg) : dflt ? [dflt] : [];
        for (const code of codes) found.push({ where: where(n), cls: n.expression.text, code });
      }
      // Object.assign(new Error(...), { code: 'X' }): a code on no class at all.
      if (ts.isCallExpression(n) && n.expression.getText(src) === 'Object.assign' && n.arguments.length >= 2
        && ts.isNewExpression(n.arguments[0]!) && n.arguments[0].expression.getText(src) === 'Error' && ts.isObjectLiteralExpression(n.arguments[1]!)) {
        for (const p of n.arguments[1].properties) {
          if (ts.isPropertyAssignment(p) && p.name.getText(src) === 'code') for (const code of literals(p.initializer)) found.push({ where: where(n), cls: 'Error', code });
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return found;
}

test('every code thrown in lib/ is thrown through its own class and is in the doc', () => {
  const thrown = thrownCodes();
  assert.ok(thrown.length > 50, `${thrown.length} throw sites found`);
  const documented = new Set(rows.map((r) => r.code));
  for (const t of thrown) {
    // A plain Error with an errno code (ENOENT) is Node's shape, not a stable code.
    if (t.cls === 'Error' && /^E[A-Z]+$/.test(t.code)) continue;
    assert.ok(documented.has(t.code), `${t.where}: ${t.code} is not in docs/errors.md`);
    assert.ok(isErrorCode(t.code), `${t.where}: ${t.code} is no code of lib/errors/error-codes.ts`);
    const cls = ERROR_CLASSES[t.code as keyof typeof ERROR_CLASSES].name;
    assert.is(t.cls, cls, `${t.where}: ${t.code} thrown as ${t.cls}, its class is ${cls}`);
  }
});

test.run();
