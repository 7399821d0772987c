import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completeWords, completionReply } from '../../lib/cli/shell-completion.js';
import { FXCP } from '../../lib/cli/command-table.js';
import { FOXINGD } from '../../lib/cli/foxingd-table.js';
import { fxcp, haveCommand, ROOT, tempDir } from '../helpers/run-cli.js';

// [words after `fxcp` (the last one under the cursor), what is offered]
const ROWS: [string[], string[]][] = [
  [[''], ['snap', 'serve', 'store', 'doctor', 'completion']],
  [['st'], ['store']],
  [['snap', 're'], ['restore']],
  [['snap', 's'], ['stats']],
  [['store', 's'], ['stats']],
  [['store', 're'], ['rebuild-index', 'repair']],
  [['snap', 'nope'], []],
  [['bogus', ''], []],
  // The default command (fxcp SRC... DEST): its options where no command word was typed.
  [['-'], ['--archive', '-a', '--recursive', '-r', '--hard-links', '-H', '--checksum', '-c', '--inplace', '--delete', '--delete-excluded',
    '--delta', '--cleanup', '--size', '--decompress', '--checkpoint-interval', '--checkpoint-keep', '--throttle', '--verify', '--compare', '--snapshot', '--generate-sigs', '--max-delete', '--dry-run', '-n', '--itemize-changes', '-i', '--verbose', '-v', '--stats', '--progress', '--exclude', '-e', '--include',
    '--exclude-from', '--include-from', '--filter', '-f', '--rsync-filter', '-F', '--json', '--help', '-h']],
  [['-a', 'src', '--del'], ['--delete', '--delete-excluded', '--delta']],
  [['snap', '--del'], []],
  [['snap', 'prune', '--keep-l'], ['--keep-last']],
  [['snap', 'create', '--compress', ''], ['zstd', 'lz4', 'gzip', 'xz', 'none']],
  [['snap', 'create', '--compress', 'z'], ['zstd']],
  [['snap', 'export', '--format', 't'], ['tar']],
  [['snap', 'export', '/s', '--format', ''], ['fxar', 'tar']],
  [['snap', 'prune', '--group-by', 'host'], ['host-source', 'host']],
  [['completion', ''], ['bash', 'zsh', 'fish']],
  [['completion', 'z'], ['zsh']],
  // A path, or a value that is no fixed list: nothing, so the shell completes file names.
  [['snap', 'restore', '-o', ''], []],
  [['snap', 'restore', '--output', ''], []],
  [['snap', 'create', ''], []],
  [['snap', 'create', '/data', ''], []],
  [['snap', 'create', '--tag', ''], []],
  // Options already given are not offered again, unless they may be repeated.
  [['snap', 'restore', 's', '-o', 'd', '--latest', '--l'], ['--lock-wait']],
  [['snap', 'restore', 's', '--output', 'd', '-'], ['--lock-wait', '--snapshot', '--latest', '--at', '--file', '--progress', '--s3-endpoint', '--json', '--help', '-h']],
  [['snap', 'create', '--tag', 'a', '--ta'], ['--tag']],
  [['snap', 'create', '-e', 'x', '-'], ['--tag', '--compress', '--exclude', '-e', '--force-rehash', '--progress', '--lock-wait', '--s3-endpoint', '--json', '--help', '-h']],
  // After --, no options.
  [['snap', 'create', '--', '-'], []],
  [['doctor', '--j'], ['--json']],
];

for (const [words, expected] of ROWS) {
  test(`fxcp ${words.map((w) => w || "''").join(' ')} -> ${expected.join(' ') || '(nothing)'}`, () => {
    assert.equal(completeWords(FXCP, words), expected);
  });
}

test('the callback answer: the program name first as the shells pass it; zsh gets value:description', () => {
  assert.is(completionReply(FXCP, ['fxcp', 'snap', 're'], false), 'restore\n');
  assert.is(completionReply(FXCP, ['fxcp', 'snap', 'restore', '-o', ''], false), '');
  assert.match(completionReply(FXCP, ['fxcp', 'snap', 're'], true), /^restore:restore a snapshot/);
  assert.is(completionReply(FXCP, [], false), 'snap\nserve\nstore\ndoctor\ncompletion\n');
  assert.is(completionReply(FOXINGD, ['foxingd', '--j'], false), '--json\n');
});

test('the real callback: fxcp --get-yargs-completions, and foxingd the same way', () => {
  const r = fxcp(['--get-yargs-completions', 'fxcp', 'snap', 'export', '--format', '']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'fxar\ntar\n');
  assert.is(r.stderr, '');
  const d = spawnSync(process.execPath, [join(ROOT, 'bin', 'foxingd.js'), '--get-yargs-completions', 'foxingd', '--h'], { encoding: 'utf8' });
  assert.is(d.status, 0, d.stderr);
  assert.is(d.stdout, '--help\n');
});

test('fxcp completion refuses a shell it has no script for', () => {
  const r = fxcp(['completion', 'powershell']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /SHELL 'powershell' is not one of bash, zsh, fish/);
  assert.is(r.stdout, '');
});

/** The script `fxcp completion SHELL` prints, in a file, and a PATH on which `fxcp` is this build. */
function script(shell: string, dir: string): { file: string; env: NodeJS.ProcessEnv } {
  const r = fxcp(['completion', shell]);
  assert.is(r.code, 0, r.stderr);
  const file = join(dir, `fxcp.${shell}`);
  writeFileSync(file, r.stdout);
  return { file, env: { ...process.env, PATH: `${join(ROOT, 'bin')}:${process.env.PATH}` } };
}

test('bash: sourcing the real script and completing `fxcp snap re` offers restore; values and paths', () => {
  const dir = tempDir();
  try {
    const { file, env } = script('bash', dir.path);
    // What bash sets before it calls a completion function, for the line typed so far.
    const complete = (line: string, cword = line.split(' ').length - 1) => {
      const r = spawnSync('bash', ['-c', `source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=${cword}; COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}
        _fxcp_completions; printf '%s\\n' "\${COMPREPLY[@]}"; complete -p fxcp`, 'bash', file, ...line.split(' ')], { encoding: 'utf8', env, cwd: dir.path });
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stderr, '');
      const lines = r.stdout.trimEnd().split('\n');
      // -o default: an empty answer falls back to file names.
      assert.is(lines.pop(), 'complete -o bashdefault -o default -F _fxcp_completions fxcp');
      return lines.filter(Boolean);
    };
    assert.equal(complete('fxcp snap re'), ['restore']);
    assert.equal(complete('fxcp snap export --format t'), ['tar']);
    assert.equal(complete('fxcp completion '), ['bash', 'zsh', 'fish']);
    assert.equal(complete('fxcp snap restore -o '), []);
    // Only the words up to the cursor count (the cursor on `re`, a word after it).
    assert.equal(complete('fxcp snap re --json', 2), ['restore']);
  } finally {
    dir.cleanup();
  }
});

test('zsh: the script parses, and its function offers value:description pairs to _describe', () => {
  if (!haveCommand('zsh')) { console.log('  skip: zsh is not installed (test/setup/install-test-tools.sh installs it)'); return; }
  const dir = tempDir();
  try {
    const { file, env } = script('zsh', dir.path);
    const n = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    assert.is(n.status, 0, n.stderr);
    // Outside a completion widget compdef, _describe and _files are stubbed; words and CURRENT
    // are what zsh sets for the line typed so far.
    const r = spawnSync('zsh', ['-fc', `compdef() { :; }; _describe() { print -rl -- "\${(@P)2}"; }; _files() { print FILES; }
      source "$1"; words=(fxcp snap re); CURRENT=3; _fxcp_completions
      words=(fxcp snap restore -o ''); CURRENT=5; _fxcp_completions`, 'zsh', file], { encoding: 'utf8', env, cwd: dir.path });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^restore:restore a snapshot[^\n]*\nFILES\n$/);
  } finally {
    dir.cleanup();
  }
});

test('fish: the static script parses, and fish completes commands, values and choices from it', () => {
  if (!haveCommand('fish')) { console.log('  skip: fish is not installed (test/setup/install-test-tools.sh installs it)'); return; }
  const dir = tempDir();
  try {
    const { file } = script('fish', dir.path);
    const n = spawnSync('fish', ['-n', file], { encoding: 'utf8' });
    assert.is(n.status, 0, n.stderr);
    const complete = (line: string) => {
      const r = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', file, line], { encoding: 'utf8', cwd: dir.path, env: { ...process.env, HOME: dir.path } });
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stderr, '');
      return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
    };
    assert.equal(complete('fxcp snap re'), ['restore']);
    assert.equal(complete('fxcp store re').sort(), ['rebuild-index', 'repair']);
    assert.equal(complete('fxcp snap export --format ').sort(), ['fxar', 'tar']);
    assert.equal(complete('fxcp completion ').sort(), ['bash', 'fish', 'zsh']);
    assert.equal(complete('fxcp snap prune --group'), ['--group-by']);
    // The tempdir holds the script: a path argument completes file names.
    assert.ok(complete('fxcp snap list ').includes('fxcp.fish'));
  } finally {
    dir.cleanup();
  }
});

test.run();
