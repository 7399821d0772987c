/**
 * The command line, row by row: for every command its positionals, every option, every short
 * alias and every conflicting pair, as argv in and the parsed arguments or the usage error out.
 * The last test walks the table and fails on an option, alias or conflict no row exercises, so
 * a new option cannot arrive untested. Bad input (empty positionals, repeated single-value
 * options, `--`, a value missing at the end, names that were not UTF-8) has rows of its own.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommandLine } from '../../lib/cli/arg-parser.js';
import { FXCP_COMMANDS } from '../../lib/cli/command-table.js';
import { UsageError } from '../../lib/errors/index.js';
import { FXCP, tempDir } from '../helpers/run-cli.js';

type Row = [args: string[], expect: Record<string, unknown> | RegExp];

const ROWS: Row[] = [
  // snap create
  [['snap', 'create', 'src', 'st'], { source: 'src', store: 'st', compress: 'zstd', tag: [], exclude: [], forceRehash: false, progress: false, lockWait: '0' }],
  [['snap', 'create', 'src', 'st', '--tag', 'a', '--tag', 'b', '--compress', 'lz4', '-e', '*.tmp', '--exclude', 'x/', '--force-rehash', '--progress', '--lock-wait', '30s'],
    { tag: ['a', 'b'], compress: 'lz4', exclude: ['*.tmp', 'x/'], forceRehash: true, progress: true, lockWait: '30s' }],
  [['snap', 'create', 'src'], /^missing STORE$/],
  [['snap', 'create', '', 'st'], /^SOURCE is an empty string$/],
  [['snap', 'create', 'src', 'st', '--compress', 'lz4', '--compress', 'xz'], /^--compress given more than once/],
  [['snap', 'create', 'src', 'st', '--compress'], /^--compress needs a value$/],
  [['snap', 'create', 'src', 'st', '-e'], /^--exclude needs a value$/],
  [['snap', 'create', 'src', 'st', '--force-rehsh'], /^Unknown option '--force-rehsh'; did you mean '--force-rehash'\?$/],
  [['snap', 'create', '--', '-src', 'st'], { source: '-src', store: 'st' }],
  [['snap', 'create', 'src', 'st', '--tag', '-x'], /^--tag needs a value$/],
  [['snap', 'create', 'src', 'st', '--tag=-x'], { tag: ['-x'] }],
  [['snap', 'create', '0123', 'st'], { source: '0123' }],
  // snap list
  [['snap', 'list', 'st'], { store: 'st', json: false }],
  [['snap', 'list', 'st', '--json'], { json: true }],
  [['snap', 'list', 'st', 'more'], /^unexpected argument 'more'$/],
  [['snap', 'list', ''], /^STORE is an empty string$/],
  // snap restore
  [['snap', 'restore', 'st', '-o', 'out'], { store: 'st', output: 'out', latest: false, file: [], snapshot: undefined, at: undefined, progress: false }],
  [['snap', 'restore', 'st', '--output', 'out', '--snapshot', '3f2a', '--file', 'a/*', '--file', 'b', '--progress', '--lock-wait', '1m'],
    { output: 'out', snapshot: '3f2a', file: ['a/*', 'b'], progress: true, lockWait: '1m' }],
  [['snap', 'restore', 'st', '-o', 'out', '--latest'], { latest: true }],
  [['snap', 'restore', 'st', '-o', 'out', '--at', '2026-01-01'], { at: '2026-01-01' }],
  [['snap', 'restore', 'st', '-o', 'out', '--snapshot', '12', '--latest'], /^--snapshot and --latest cannot be used together$/],
  [['snap', 'restore', 'st', '-o', 'out', '--snapshot', '12', '--at', 'x'], /^--snapshot and --at cannot be used together$/],
  [['snap', 'restore', 'st', '-o', 'out', '--latest', '--at', 'x'], /^--latest and --at cannot be used together$/],
  [['snap', 'restore', 'st'], /^missing required option --output$/],
  [['snap', 'restore', 'st', '-o'], /^--output needs a value$/],
  [['snap', 'restore', 'st', '-o', ''], /^--output: the path is empty$/],
  [['snap', 'restore', 'st', '-o', 'a', '-o', 'b'], /^--output given more than once/],
  [['snap', 'restore', '-o', 'out', '--', '-st'], { store: '-st', output: 'out' }],
  [['snap', 'restore', 'st', '-o', 'out', '--snapshot', '000123'], { snapshot: '000123' }],
  // snap push, snap pull
  [['snap', 'push', 'st', 'ssh://h/x'], { store: 'st', remote: 'ssh://h/x', snapshot: [], latest: false, all: false, identity: [], knownHosts: undefined, acceptNewHostKey: false, sshCommand: undefined, remoteFxcp: 'fxcp', progress: false }],
  [['snap', 'push', 'st', 'ssh://h/x', '--snapshot', 'a1', '--snapshot', 'b2', '-i', 'k1', '--identity', 'k2', '--known-hosts', 'kh', '--accept-new-host-key', '--ssh-command', 'ssh -J j', '--remote-fxcp', '/opt/fxcp', '--progress', '--lock-wait', '5'],
    { snapshot: ['a1', 'b2'], identity: ['k1', 'k2'], knownHosts: 'kh', acceptNewHostKey: true, sshCommand: 'ssh -J j', remoteFxcp: '/opt/fxcp', progress: true, lockWait: '5' }],
  [['snap', 'push', 'st', 'ssh://h/x', '--latest'], { latest: true }],
  [['snap', 'push', 'st', 'ssh://h/x', '--all'], { all: true }],
  [['snap', 'push', 'st'], /^missing REMOTE$/],
  [['snap', 'push', 'st', 'ssh://h/x', '--snapshot', 'a', '--latest'], /^--snapshot and --latest cannot be used together$/],
  [['snap', 'push', 'st', 'ssh://h/x', '--snapshot', 'a', '--all'], /^--snapshot and --all cannot be used together$/],
  [['snap', 'push', 'st', 'ssh://h/x', '--latest', '--all'], /^--latest and --all cannot be used together$/],
  [['snap', 'pull', 'ssh://h/x', 'st'], { remote: 'ssh://h/x', store: 'st', snapshot: [], latest: false, all: false, identity: [], remoteFxcp: 'fxcp' }],
  [['snap', 'pull', 'ssh://h/x', 'st', '--snapshot', 'a1', '-i', 'k1', '--identity', 'k2', '--known-hosts', 'kh', '--accept-new-host-key', '--ssh-command', 'ssh', '--remote-fxcp', 'f', '--progress', '--lock-wait', '1m'],
    { snapshot: ['a1'], identity: ['k1', 'k2'], knownHosts: 'kh', acceptNewHostKey: true, sshCommand: 'ssh', remoteFxcp: 'f', progress: true, lockWait: '1m' }],
  [['snap', 'pull', 'ssh://h/x', 'st', '--latest'], { latest: true }],
  [['snap', 'pull', 'ssh://h/x', 'st', '--all'], { all: true }],
  [['snap', 'pull', 'ssh://h/x'], /^missing STORE$/],
  [['snap', 'pull', 'ssh://h/x', 'st', '--snapshot', 'a', '--latest'], /^--snapshot and --latest cannot be used together$/],
  [['snap', 'pull', 'ssh://h/x', 'st', '--snapshot', 'a', '--all'], /^--snapshot and --all cannot be used together$/],
  [['snap', 'pull', 'ssh://h/x', 'st', '--latest', '--all'], /^--latest and --all cannot be used together$/],
  // serve (STORE may be left out)
  [['serve', '--stdio'], { store: undefined, stdio: true, appendOnly: false, restrictToPath: undefined }],
  [['serve', '--stdio', 'st', '--append-only', '--restrict-to-path', '/srv', '--lock-wait', '10s'], { store: 'st', appendOnly: true, restrictToPath: '/srv', lockWait: '10s' }],
  [['serve', 'st'], /^missing required option --stdio$/],
  [['serve', '--stdio', 'a', 'b'], /^unexpected argument 'b'$/],
  [['serve', '--stdio', '--s3-endpoint', 'http://h'], /^Unknown option '--s3-endpoint'/],
  // snap export
  [['snap', 'export', 'st'], { store: 'st', output: undefined, snapshot: [], latest: false, all: false, compress: undefined, format: undefined, progress: false }],
  [['snap', 'export', 'st', '-o', 'a.fxar', '--snapshot', 'a1', '--snapshot', 'b2', '--compress', 'zstd:3', '--format', 'tar', '--progress', '--lock-wait', '5'],
    { output: 'a.fxar', snapshot: ['a1', 'b2'], compress: 'zstd:3', format: 'tar', progress: true, lockWait: '5' }],
  [['snap', 'export', 'st', '--latest'], { latest: true }],
  [['snap', 'export', 'st', '--output', '-'], { output: '-' }],
  [['snap', 'export'], /^missing STORE$/],
  [['snap', 'export', 'st', '--all'], { all: true }],
  [['snap', 'export', 'st', '--format', 'zip'], /^unknown format 'zip' for --format: use fxar, tar$/],
  [['snap', 'export', 'st', '--snapshot', 'a', '--latest'], /^--snapshot and --latest cannot be used together$/],
  [['snap', 'export', 'st', '--snapshot', 'a', '--all'], /^--snapshot and --all cannot be used together$/],
  [['snap', 'export', 'st', '--latest', '--all'], /^--latest and --all cannot be used together$/],
  // snap import
  [['snap', 'import', '-', 'st'], { archive: '-', store: 'st', tag: [], progress: false }],
  [['snap', 'import', 'a.tar', 'st', '--tag', 't', '--progress', '--lock-wait', '1h'], { tag: ['t'], progress: true, lockWait: '1h' }],
  [['snap', 'import', 'a.tar'], /^missing STORE$/],
  // snap inspect
  [['snap', 'inspect', 'a.fxar'], { archive: 'a.fxar', list: false, verify: false }],
  [['snap', 'inspect', 'a.fxar', '--list', '--verify'], { list: true, verify: true }],
  [['snap', 'inspect'], /^missing ARCHIVE$/],
  // snap prune
  [['snap', 'prune', 'st'], { store: 'st', groupBy: 'host-source', repackThreshold: '25%', dryRun: false, keepTag: [], tag: [] }],
  [['snap', 'prune', 'st', '--keep-last', '3', '--keep-hourly', '4', '--keep-daily', '7', '--keep-weekly', '5', '--keep-monthly', '12', '--keep-yearly', '2',
    '--keep-tag', 'gold', '--older-than', '30d', '--tag', 'nightly', '--group-by', 'host', '--timezone', 'UTC', '--repack-threshold', '10%', '-n', '--lock-wait', '10m'],
    { keepLast: '3', keepHourly: '4', keepDaily: '7', keepWeekly: '5', keepMonthly: '12', keepYearly: '2', keepTag: ['gold'], olderThan: '30d', tag: ['nightly'],
      groupBy: 'host', timezone: 'UTC', repackThreshold: '10%', dryRun: true, lockWait: '10m' }],
  [['snap', 'prune', 'st', '--dry-run', '--progress'], { dryRun: true, progress: true }],
  [['snap', 'prune', 'st', 'st2'], /^unexpected argument 'st2'$/],
  [['snap', 'prune', 'st', '--group-by', 'hots'], /^unknown key 'hots' for --group-by: use host-source, host, source, none$/],
  [['snap', 'prune', 'st', '--keep-last', '-1'], { keepLast: '-1' }],
  // snap stats, snap diff
  [['snap', 'stats', 'st', '--lock-wait', '2s'], { store: 'st', lockWait: '2s' }],
  [['snap', 'stats'], /^missing STORE$/],
  [['snap', 'diff', 'st', 'a1', 'latest', '--lock-wait', '3s'], { store: 'st', a: 'a1', b: 'latest', lockWait: '3s' }],
  [['snap', 'diff', 'st', 'a1'], /^missing B$/],
  // store
  [['store', 'stats', 'st'], { store: 'st' }],
  [['store', 'stats', ''], /^STORE is an empty string$/],
  [['store', 'rebuild-index'], /^missing STORE$/],
  [['store', 'rebuild-index', 'st', '--lock-wait', '9s'], { store: 'st', lockWait: '9s' }],
  [['store', 'gc', 'st'], { repackThreshold: '25%', dryRun: false, forgetQuarantined: false, lockWait: '0' }],
  [['store', 'gc', 'st', '--repack-threshold', '50%', '-n', '--forget-quarantined', '--lock-wait', '1s'],
    { repackThreshold: '50%', dryRun: true, forgetQuarantined: true, lockWait: '1s' }],
  [['store', 'gc', 'st', '--dry-run', '--progress'], { dryRun: true, progress: true }],
  [['store', 'gc'], /^missing STORE$/],
  [['store', 'check'], /^missing STORE$/],
  [['store', 'check', 'st', '--read-data', '--lock-wait', '4s'], { readData: true, readDataSubset: undefined, lockWait: '4s' }],
  [['store', 'check', 'st', '--read-data-subset', '1/7', '--progress'], { readDataSubset: '1/7', readData: false, progress: true }],
  [['store', 'check', 'st', '--read-data', '--read-data-subset', '10%'], /^--read-data and --read-data-subset cannot be used together$/],
  [['store', 'repair', 'st', '--lock-wait', '6s'], { store: 'st', lockWait: '6s' }],
  [['store', 'repair', 'a', 'b'], /^unexpected argument 'b'$/],
  [['store', 'repiar', 'st'], /^unknown command 'store repiar'; did you mean 'fxcp store repair'\?/],
  [['store', 'upgrade', 'st'], { store: 'st', dryRun: false, lockWait: '0' }],
  [['store', 'upgrade', 'st', '-n', '--lock-wait', '2m'], { dryRun: true, lockWait: '2m' }],
  [['store', 'upgrade', 'st', '--dry-run'], { dryRun: true }],
  [['store', 'upgrade'], /^missing STORE$/],
  // store init; --s3-endpoint, which every command with a STORE takes
  [['store', 'init', 's3://b/p', '--create-bucket', '--s3-endpoint', 'http://h:7480'], { store: 's3://b/p', createBucket: true, s3Endpoint: 'http://h:7480' }],
  [['store', 'init'], /^missing STORE$/],
  ...([['snap', 'create', 'src', 's3://b/p'], ['snap', 'list', 's3://b/p'], ['snap', 'restore', 's3://b/p', '-o', 'out'], ['snap', 'export', 's3://b/p', '-o', 'a.fxar'],
    ['snap', 'import', 'a.fxar', 's3://b/p'], ['store', 'stats', 's3://b/p'], ['store', 'rebuild-index', 's3://b/p'], ['snap', 'prune', 's3://b/p', '--keep-last', '1'],
    ['store', 'gc', 's3://b/p'], ['store', 'check', 's3://b/p'], ['store', 'repair', 's3://b/p'], ['store', 'upgrade', 's3://b/p'], ['snap', 'stats', 's3://b/p'], ['snap', 'diff', 's3://b/p', 'a', 'b'],
    ['snap', 'push', 's3://b/p', 'ssh://h/st'], ['snap', 'pull', 'ssh://h/st', 's3://b/p'],
  ] as string[][]).map((args): Row => [[...args, '--s3-endpoint', 'https://s3.example'], { s3Endpoint: 'https://s3.example' }]),
  // the rest
  [['doctor'], { json: false }],
  [['doctor', '--json'], { json: true }],
  [['completion', 'bash'], { shell: 'bash' }],
  [['completion', 'zsh'], { shell: 'zsh' }],
  [['completion', 'fish'], { shell: 'fish' }],
  [['completion', 'tcsh'], /^SHELL 'tcsh' is not one of bash, zsh, fish$/],
  // The default command, fxcp [OPTIONS] SRC... DEST (a misspelt command is a path to it: test/integration/copy-cli.test.ts).
  [['--bogus'], /^Unknown option '--bogus'/],
  [['-a', 'src'], /^missing DEST$/],
  [['-a', 'a', 'b', 'dest'], { src: ['a', 'b'], dest: 'dest', archive: true, recursive: false, hardLinks: false }],
  [['-rHc', '--inplace', 's', 'd'], { recursive: true, hardLinks: true, checksum: true, inplace: true }],
  [['-a', '--delete', '--delete-excluded', '--max-delete', '5', 's', 'd'], { delete: true, deleteExcluded: true, maxDelete: '5' }],
  [['-anivr', '--stats', '--progress', 's/', 'd'], { dryRun: true, itemizeChanges: true, verbose: true, stats: true, progress: true, src: ['s/'] }],
  [['--dry-run', '--itemize-changes', '--verbose', '--archive', '--recursive', '--hard-links', '--checksum', 's', 'd'], { dryRun: true, archive: true }],
  [['-a', '--include', '*.c', '-e', '*', '--exclude', 'x', 's', 'd'], { include: ['*.c'], exclude: ['*', 'x'],
    filterArgs: [{ option: 'include', value: '*.c' }, { option: 'exclude', value: '*' }, { option: 'exclude', value: 'x' }] }],
  [['--exclude-from', 'ex', '--include-from=in', '-f', '- *.o', '--filter', 'P keep', '-FF', '--rsync-filter', 's', 'd'], {
    filterArgs: [{ option: 'exclude-from', value: 'ex' }, { option: 'include-from', value: 'in' }, { option: 'filter', value: '- *.o' },
      { option: 'filter', value: 'P keep' }, { option: 'rsync-filter', value: '' }, { option: 'rsync-filter', value: '' }, { option: 'rsync-filter', value: '' }] }],
  [['-a', '--', '-weird', 'd'], { src: ['-weird'], dest: 'd' }],
  [['-r', '-H', '-c', '-i', '-v', '-F', 's', 'd'], { recursive: true, hardLinks: true, checksum: true, itemizeChanges: true, verbose: true,
    filterArgs: [{ option: 'rsync-filter', value: '' }] }],
  [['-a', '--max-delete'], /^--max-delete needs a value$/],
  [['-a', '--generate-sigs', '--delta', 'always', '--verify', 's', 'd'], { generateSigs: true, delta: 'always', verify: true }],
  [['-a', 's', 'd'], { generateSigs: false, delta: 'auto', verify: false, compare: false, cleanup: undefined }],
  [['-a', '--delta=sometimes', 's', 'd'], /^unknown when 'sometimes' for --delta: use auto, always, never$/],
  [['--compare', 'a', 'b'], { compare: true, src: ['a'], dest: 'b' }],
  [['--cleanup', 'dest'], { cleanup: 'dest', src: [] }],
  [['--cleanup', 'dest', 'extra'], /^--cleanup takes no other paths \(unexpected argument 'extra'\)$/],
  [['-a', '--throttle', '25', 's', 'd'], { throttle: '25' }],
  [['-a', '--snapshot', 's/', 'd'], { snapshot: true }],
  [['--size', '100', '--decompress', '--checkpoint-interval', '60', '--checkpoint-keep', '2', '-', 'f'],
    { src: ['-'], dest: 'f', size: '100', decompress: true, checkpointInterval: '60', checkpointKeep: '2' }],
];

function run([args, expect]: Row): void {
  const what = `fxcp ${args.join(' ')}`;
  let parsed;
  try {
    parsed = parseCommandLine('fxcp', FXCP_COMMANDS, args);
  } catch (err) {
    assert.instance(err, UsageError, `${what}: ${String(err)}`);
    assert.ok(expect instanceof RegExp, `${what}: unexpected usage error: ${(err as Error).message}`);
    assert.match((err as Error).message, expect, what);
    return;
  }
  assert.not.ok(expect instanceof RegExp, `${what}: parsed, but a usage error matching ${String(expect)} was expected`);
  assert.is(parsed.kind, 'run', what);
  if (parsed.kind !== 'run') return;
  for (const [k, v] of Object.entries(expect as Record<string, unknown>)) assert.equal(parsed.argv[k], v, `${what}: ${k}`);
}

test('every row parses to its arguments or its usage error', () => {
  for (const row of ROWS) run(row);
});

test('handlers get exactly the declared arguments: camelCase, no yargs leftovers', () => {
  const p = parseCommandLine('fxcp', FXCP_COMMANDS, ['snap', 'restore', 'st', '-o', 'out', '--file', 'x']);
  if (p.kind !== 'run') throw new Error('expected run');
  for (const k of ['_', '$0', 'o', '--']) assert.not.ok(k in p.argv, `no '${k}' key`);
});

test('the default-command slot: a table with one parses SRC... DEST beside the named commands', () => {
  const copy = FXCP_COMMANDS.find((c) => c.path.length === 0)!;
  const table = FXCP_COMMANDS;
  const parse = (args: string[]) => parseCommandLine('fxcp', table, args);
  const a = parse(['-a', 'x', 'y', 'dest']);
  assert.ok(a.kind === 'run' && a.command === copy);
  if (a.kind === 'run') { assert.equal(a.argv.src, ['x', 'y']); assert.is(a.argv.dest, 'dest'); assert.is(a.argv.archive, true); }
  const b = parse(['x', 'dest']);
  assert.ok(b.kind === 'run' && b.command === copy && b.argv.dest === 'dest');
  // A first word that names a command is that command; `./snap` or `--` names a path.
  const c = parse(['snap', 'list', 'st']);
  assert.ok(c.kind === 'run' && c.command.path.join(' ') === 'snap list');
  const d = parse(['--', 'snap', 'dest']);
  assert.ok(d.kind === 'run' && d.command === copy && d.argv.src[0] === 'snap');
  const e = parse(['./snap', 'dest']);
  assert.ok(e.kind === 'run' && e.command === copy);
  assert.throws(() => parse(['only-one']), /missing DEST/);
  const help = parse(['--help']);
  assert.ok(help.kind === 'help' && /fxcp SRC\.\.\. DEST/.test(help.text) && /write \.\/NAME or put -- first/.test(help.text));
});

test('every option, alias and conflict of the table is exercised by a row', () => {
  const gaps: string[] = [];
  for (const c of FXCP_COMMANDS) {
    const name = c.path.join(' ');
    const rows = ROWS.filter(([args]) => c.path.every((w, i) => args[i] === w));
    const flat = rows.map(([args]) => args.join(' '));
    if (rows.length === 0) gaps.push(`${name}: no row`);
    for (const [k, o] of Object.entries(c.options)) {
      if (!flat.some((a) => a.includes(`--${k}`))) gaps.push(`${name}: --${k}`);
      if (o.short && !rows.some(([args]) => args.includes(`-${o.short}`))) gaps.push(`${name}: -${o.short}`);
    }
    for (const [a, b] of c.conflicts ?? []) {
      if (!rows.some(([args, e]) => e instanceof RegExp && args.includes(`--${a}`) && args.includes(`--${b}`))) gaps.push(`${name}: --${a} with --${b}`);
    }
    const positionalError = /^\^(missing|unexpected argument)|empty string|is not one of/;
    if (c.positionals.length > 0 && !rows.some(([, e]) => e instanceof RegExp && positionalError.test(e.source))) gaps.push(`${name}: no positional error row`);
  }
  assert.equal(gaps, [], `untested: ${gaps.join('; ')}`);
});

test('a path whose bytes were not UTF-8 is refused, naming the problem, not read as another name', () => {
  const t = tempDir();
  try {
    // bash passes the byte 0xE9 (Latin-1 é); Node decodes it to U+FFFD.
    const r = spawnSync('bash', ['-c', `"$0" snap inspect "$1"$'\\xe9.fxar'`, FXCP, join(t.path, 'caf')], { encoding: 'utf8' });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, /caf\uFFFD\.fxar: the name was not valid UTF-8/);
    assert.match(r.stderr, /\nusage: fxcp snap inspect ARCHIVE/);
    const j = spawnSync('bash', ['-c', `"$0" snap restore "$1" -o "$1"$'\\xff' --json`, FXCP, t.path], { encoding: 'utf8' });
    assert.is(j.status, 2);
    const err = JSON.parse(j.stderr);
    assert.is(err.code, 'USAGE');
    assert.match(err.message, /not valid UTF-8/);
    assert.match(err.usage, /^fxcp snap restore STORE/);
  } finally { t.cleanup(); }
});

test('usage errors exit 2 with the problem, then the usage; no stack trace', () => {
  for (const args of [['snap', 'list'], ['snap', 'list', 'a', 'b'], ['snap', 'restore', 's', '-o'], ['snap', 'create', 'a', 'b', '--compress', 'x', '--compress', 'y']]) {
    const r = spawnSync(FXCP, args, { encoding: 'utf8' });
    assert.is(r.status, 2, args.join(' '));
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.is(lines.length, 2, r.stderr);
    assert.match(lines[0], /^fxcp: /);
    assert.match(lines[1], /^usage: fxcp snap /);
    assert.not.match(r.stderr, /\n\s+at /);
  }
});

test.run();
