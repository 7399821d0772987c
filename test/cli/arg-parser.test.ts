import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommandLine, type CommandSpec } from '../../lib/cli/arg-parser.js';
import { FXCP_COMMANDS } from '../../lib/cli/command-table.js';
import { UsageError } from '../../lib/errors/index.js';

const table: CommandSpec[] = FXCP_COMMANDS;

function usage(args: string[]): string {
  try {
    parseCommandLine('fxcp', table, args);
  } catch (err) {
    assert.instance(err, UsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${args.join(' ')}`);
}

test('positionals, repeatable and kebab-case options', () => {
  const p = parseCommandLine('fxcp', table, ['snap', 'create', 'src', 'store', '--tag', 'a', '--tag', 'b', '-e', '*.tmp', '--force-rehash', '--json']);
  assert.is(p.kind, 'run');
  if (p.kind !== 'run') return;
  assert.equal(p.command.path, ['snap', 'create']);
  assert.is(p.argv.source, 'src');
  assert.is(p.argv.store, 'store');
  assert.equal(p.argv.tag, ['a', 'b']);
  assert.equal(p.argv.exclude, ['*.tmp']);
  assert.is(p.argv.forceRehash, true);
  assert.is(p.argv['force-rehash'], true);
  assert.is(p.argv.compress, 'zstd');
  assert.is(p.argv.json, true);
});

test('defaults: repeatable options are empty lists, booleans false', () => {
  const p = parseCommandLine('fxcp', table, ['snap', 'restore', 'store', '-o', 'out']);
  if (p.kind !== 'run') throw new Error('expected run');
  assert.equal(p.argv.file, []);
  assert.is(p.argv.latest, false);
  assert.is(p.argv.output, 'out');
});

test('usage errors name the problem', () => {
  assert.match(usage(['snap', 'create', 'only-one']), /missing STORE/);
  assert.match(usage(['snap', 'list', 'a', 'b']), /unexpected argument 'b'/);
  assert.match(usage(['snap', 'list', 'a', '--bogus']), /Unknown option '--bogus'/);
  assert.match(usage(['snap', 'restore', 'store']), /missing required option --output/);
  assert.match(usage(['snap', 'restore', 'store', '-o', 'x', '--latest', '--at', '2026-01-01']), /--latest and --at cannot be used together/);
  assert.match(usage(['snap', 'frobnicate']), /unknown command 'snap frobnicate'; try: fxcp snap create/);
});

test('help and version', () => {
  const top = parseCommandLine('fxcp', table, []);
  assert.is(top.kind, 'help');
  if (top.kind === 'help') assert.match(top.text, /fxcp snap create SOURCE STORE/);
  const group = parseCommandLine('fxcp', table, ['store']);
  if (group.kind !== 'help') throw new Error('expected help');
  assert.match(group.text, /fxcp store rebuild-index STORE/);
  assert.not.match(group.text, /snap create/);
  const cmd = parseCommandLine('fxcp', table, ['snap', 'restore', '--help']);
  if (cmd.kind !== 'help') throw new Error('expected help');
  assert.match(cmd.text, /-o, --output DIR/);
  assert.is(parseCommandLine('fxcp', table, ['--version']).kind, 'version');
});

test.run();
