// The V8 code cache (lib/cli/cli-loader.cts) of an install the user cannot write (a global
// install by root): it goes to $XDG_CACHE_HOME/foxing/, one directory per install, and is used
// from there on the next start; nothing is written into the install; a run that failed writes none. Runs fxcp as user nobody
// through setpriv, so it needs root; skipped with the reason otherwise.
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LOW_HEAP_GROWING_PERCENT, usesLowHeapGrowth } from '../../lib/cli/cli-loader.cjs';
import { HEAP_GROWING_PERCENT } from '../../lib/cli/heap-policy.js';
import { ROOT } from '../helpers/run-cli.js';

const NOBODY = 65534;

function asNobody(args: string[], env: Record<string, string>) {
  return spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, join(ROOT, 'bin', 'fxcp.cjs'), ...args],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
}

/** Why this test cannot run here, or null. */
function cannotRun(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (to run fxcp as another user)';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv (util-linux) is not installed';
  const probe = asNobody(['--version'], { HOME: '/nonexistent' });
  if (probe.status !== 0) return `the checkout is not readable by user nobody (${(probe.stderr || probe.error?.message || '').trim().split('\n')[0]})`;
  return null;
}

/** A cache home of user nobody's, holding a source tree src/ with one file. */
function nobodysCacheHome(): { xdg: string; env: Record<string, string> } {
  const xdg = mkdtempSync(join(tmpdir(), 'fx-xdg-'));
  mkdirSync(join(xdg, 'src'));
  writeFileSync(join(xdg, 'src', 'f'), 'data');
  for (const f of ['', 'src', 'src/f']) chownSync(join(xdg, f), NOBODY, NOBODY);
  return { xdg, env: { HOME: '/nonexistent', XDG_CACHE_HOME: xdg } };
}

test('an install the user cannot write keeps its code cache under XDG_CACHE_HOME, and uses it on the next start', () => {
  const why = cannotRun();
  if (why) { console.log(`  skipped: ${why}`); return; }
  const xdg = mkdtempSync(join(tmpdir(), 'fx-xdg-'));
  chownSync(xdg, NOBODY, NOBODY);
  const installCache = join(ROOT, 'build', 'v8-cache');
  const before = existsSync(installCache) ? readdirSync(installCache).sort() : [];
  try {
    const env = { HOME: '/nonexistent', XDG_CACHE_HOME: xdg };
    // A run that fails writes no cache for its command: it compiled only the parser and the
    // start of the command, and its cache, used from then on, would leave the rest to compile.
    const failed = asNobody(['snap', 'list', join(xdg, 'no-store')], env);
    assert.is(failed.status, 2, failed.stderr);
    const cached = () => readdirSync(xdg, { recursive: true }).map(String);
    assert.not.ok(cached().some((f) => f.includes('fxcp-snap-list-')), cached().join(' '));
    const first = asNobody(['doctor', '--json'], env);
    assert.is(first.status, 0, first.stderr);
    assert.match(JSON.parse(first.stdout).cli, new RegExp(`code cache (none yet|rejected \\(stale\\)) \\(${xdg}/foxing/v8-cache-[0-9a-f]{8}\\)`));
    const dirs = readdirSync(join(xdg, 'foxing'));
    assert.is(dirs.length, 1, dirs.join(' '));
    assert.ok(readdirSync(join(xdg, 'foxing', dirs[0])).some((f) => f.startsWith('fxcp-doctor-')), 'the doctor command\'s cache was written');
    const second = asNobody(['doctor', '--json'], env);
    assert.is(second.status, 0, second.stderr);
    assert.match(JSON.parse(second.stdout).cli, /code cache used /);
    // Nothing new in the install (root's own caches may be there already).
    const after = existsSync(installCache) ? readdirSync(installCache).sort() : [];
    assert.equal(after, before);
    // No writable cache anywhere: fxcp still runs, without one.
    const none = asNobody(['--version'], { HOME: '/nonexistent' });
    assert.is(none.status, 0, none.stderr);
    assert.is(none.stderr, '');
  } finally {
    rmSync(xdg, { recursive: true, force: true });
  }
});

test('the copy (`fxcp -a SRC DEST`, no command word) has a cache of its own, not the one --version wrote first', () => {
  const why = cannotRun();
  if (why) { console.log(`  skipped: ${why}`); return; }
  const { xdg, env } = nobodysCacheHome();
  try {
    assert.is(asNobody(['--version'], env).status, 0);
    const copy = asNobody(['-a', join(xdg, 'src/'), join(xdg, 'dst')], env);
    assert.is(copy.status, 0, copy.stderr);
    const names = readdirSync(join(xdg, 'foxing'), { recursive: true }).map(String).filter((f) => f.endsWith('.bin')).map((f) => f.replace(/.*\//, '').replace(/-v8-.*/, ''));
    assert.equal(names.filter((n) => n.startsWith('fxcp')).sort(), ['fxcp', 'fxcp-copy']);
  } finally {
    rmSync(xdg, { recursive: true, force: true });
  }
});

test('the heap flag of snap create is set before the CLI compiles: its code cache is used from the second run on', () => {
  assert.is(LOW_HEAP_GROWING_PERCENT, HEAP_GROWING_PERCENT, 'the loader and the heap policy set the same value');
  assert.ok(usesLowHeapGrowth('fxcp', ['snap', 'create', 'src', 'st']));
  assert.ok(usesLowHeapGrowth('foxingd', ['daemon']));
  assert.ok(usesLowHeapGrowth('foxingd', ['sync', 'a', 'b', '--watch']));
  for (const [prog, args] of [['fxcp', ['snap', 'restore', 'st']], ['fxcp', ['-a', 'snap', 'create']], ['foxingd', ['sync', 'a', 'b']]] as const) {
    assert.not.ok(usesLowHeapGrowth(prog, args), `${prog} ${args.join(' ')}`);
  }
  const why = cannotRun();
  if (why) { console.log(`  skipped: ${why}`); return; }
  const { xdg, env } = nobodysCacheHome();
  try {
    const snap = () => {
      const r = asNobody(['snap', 'create', join(xdg, 'src'), join(xdg, 'store')], env);
      assert.is(r.status, 0, r.stderr);
    };
    const caches = () => new Map(readdirSync(join(xdg, 'foxing'), { recursive: true }).map(String).filter((f) => f.endsWith('.bin'))
      .map((f) => [f, statSync(join(xdg, 'foxing', f)).mtimeMs]));
    snap();
    const first = caches();
    assert.ok([...first.keys()].some((f) => f.includes('fxcp-snap-create-')), [...first.keys()].join(' '));
    assert.ok([...first.keys()].some((f) => /dep-.*-hg20\.bin$/.test(f)), 'its dependencies have caches of their own');
    snap();
    assert.equal(caches(), first, 'nothing rejected, nothing written again');
  } finally {
    rmSync(xdg, { recursive: true, force: true });
  }
});

test.run();
