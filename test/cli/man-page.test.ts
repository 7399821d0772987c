import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manPage, roffCode, roffText } from '../../lib/cli/man-page.js';
import { fxcpManExtras, foxingdManExtras } from '../../lib/cli/man-texts.js';
import { FXCP } from '../../lib/cli/command-table.js';
import { FOXINGD } from '../../lib/cli/foxingd-table.js';
import { GLOBAL_OPTIONS, type ProgramSpec } from '../../lib/cli/command-spec.js';
import { haveCommand, ROOT, tempDir } from '../helpers/run-cli.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PAGES = [
  { file: join(ROOT, 'docs', 'man', 'fxcp.1'), page: () => manPage(FXCP, fxcpManExtras(version)) },
  { file: join(ROOT, 'docs', 'man', 'foxingd.8'), page: () => manPage(FOXINGD, foxingdManExtras(version)) },
];

/** groff's warnings (all of them: -ww) and its text rendering of a page. */
function groff(file: string): { warnings: string; text: string } {
  const check = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', file], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
  const render = spawnSync('groff', ['-man', '-Tascii', '-P-cbou', '-rLL=200n', file], { encoding: 'utf8' });
  assert.is(render.status, 0, render.stderr);
  return { warnings: check.stderr, text: render.stdout };
}

test('the committed pages are what the generator makes from the table now', () => {
  for (const { file, page } of PAGES) {
    const committed = readFileSync(file, 'utf8');
    assert.ok(committed === page(), `${file} is stale: run the build (node bin/build.js) and commit it`);
  }
});

test('package.json "man" names both pages', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man?: string[] };
  assert.equal(pkg.man, ['./docs/man/fxcp.1', './docs/man/foxingd.8']);
});

test('groff -ww reads each page without a warning', () => {
  if (!haveCommand('groff')) { console.log('  skip: groff is not installed (test/setup/install-test-tools.sh installs it)'); return; }
  for (const { file } of PAGES) {
    const { warnings, text } = groff(file);
    assert.is(warnings, '', `${file}: ${warnings}`);
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'EXIT STATUS', 'SEE ALSO']) {
      assert.ok(new RegExp(`^${section}$`, 'm').test(text), `${file}: no ${section} section`);
    }
  }
});

test('man -l renders fxcp(1) and foxingd(8)', () => {
  if (!haveCommand('man')) { console.log('  skip: man is not installed (test/setup/install-test-tools.sh installs it)'); return; }
  for (const { file } of PAGES) {
    const r = spawnSync('man', ['-l', file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' } });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    assert.match(r.stdout, /EXIT STATUS/);
  }
  const fxcpPage = spawnSync('man', ['-l', PAGES[0].file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat' } }).stdout.replace(/.\x08/g, '');
  assert.match(fxcpPage, /fxcp snap restore STORE \[options\]/);
  assert.match(fxcpPage, /-o, --output DIR/);
  assert.match(fxcpPage, /FOXING_RESTORE_POOL_BYTES/);
  assert.match(fxcpPage, /130\s+Interrupted/);
  const foxingd = spawnSync('man', ['-l', PAGES[1].file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat' } }).stdout.replace(/.\x08/g, '');
  assert.match(foxingd, /FOXINGD\(8\)/);
  assert.match(foxingd, /foxingd sync/);
  assert.match(foxingd, /--watch/);
});

test('roff escaping: requests, backslashes, minus signs and quotes', () => {
  assert.is(roffText('.start'), '\\&.start');
  assert.is(roffText("'quote\nx\n.y"), "\\&'quote\nx\n\\&.y");
  assert.is(roffText('a\\b'), 'a\\eb');
  assert.is(roffText('mid . and \' stay'), "mid . and ' stay");
  assert.is(roffCode("--file 'a/*.db'"), "\\-\\-file \\(aqa/*.db\\(aq");
});

test('text that looks like roff prints as written', () => {
  if (!haveCommand('groff')) { console.log('  skip: groff is not installed (test/setup/install-test-tools.sh installs it)'); return; }
  const tricky: ProgramSpec = {
    name: 'fxcp', section: 1, summary: 'a summary with a \\fB backslash', globalOptions: GLOBAL_OPTIONS,
    commands: [{
      path: ['odd', 'cmd'], describe: '.starts with a dot and has "quotes"',
      positionals: [{ name: 'dir', describe: "'starts with a quote", path: true }],
      options: { 'some-opt': { type: 'string', value: 'V', choices: ['a-b', 'c'], describe: '.TH would be a request' } },
      examples: ["fxcp odd cmd --some-opt a-b 'x y' \\ ", ".fi not a request"],
      details: 'First paragraph.\n\n.SH not a section',
    }],
  };
  const dir = tempDir();
  try {
    const file = join(dir.path, 'tricky.1');
    writeFileSync(file, manPage(tricky, { ...fxcpManExtras(version), source: 'foxing "quoted" 1.0', description: ['.PP not a request', 'a \\n(.l register'] }));
    const { warnings, text } = groff(file);
    assert.is(warnings, '');
    for (const literal of ['a summary with a \\fB backslash', '.starts with a dot and has "quotes"', "'starts with a quote", '.TH would be a request', 'One of: a-b, c.',
      "fxcp odd cmd --some-opt a-b 'x y' \\", '.fi not a request', '.SH not a section', '.PP not a request', 'a \\n(.l register', '--some-opt V', 'foxing "quoted" 1.0']) {
      assert.ok(text.includes(literal), `not printed as written: ${literal}\n${text}`);
    }
  } finally {
    dir.cleanup();
  }
});

test.run();
