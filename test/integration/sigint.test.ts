/**
 * SIGINT, table-driven, for every long-running command: each is held at an abort check part-way
 * through its work (FOXING_TEST_PAUSE_CHECK, lib/util/kill-point.ts), sent SIGINT, released, and
 * must then exit 130 with one ABORTED error line, leave a store that `store check` finds clean,
 * and leave no temporary file in the store or the destination. Before lib/errors/abort.ts,
 * check, gc, repair and prune threw the signal's DOMException: exit 2, code 20.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FXCP, fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('fx-sigint-');
const src = join(t.path, 'src');
const base = join(t.path, 'base');
const ids: string[] = [];

/** 8 directories of 4 files of 256 KiB, rewritten in two rounds: 3 snapshots, 3 packs, 27 trees. */
function writeVersion(v: number, files: number[]): void {
  for (let d = 0; d < 8; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (const f of files) writeFileSync(join(src, `d${d}`, `f${f}.bin`), seededBytes(256 << 10, v * 1000 + d * 10 + f));
  }
}

test.before(() => {
  writeVersion(1, [0, 1, 2, 3]);
  ids.push(fxcpJson(['snap', 'create', src, base]).snapshot.id);
  writeVersion(2, [0, 1]);
  ids.push(fxcpJson(['snap', 'create', src, base]).snapshot.id);
  writeVersion(3, [2, 3]);
  ids.push(fxcpJson(['snap', 'create', src, base]).snapshot.id);
  const archive = fxcp(['snap', 'export', base, '-o', join(t.path, 'all.fxar')]);
  assert.is(archive.code, 0, archive.stderr);
});
test.after(() => t.cleanup());

/** A store to interrupt a command in: a copy of the base store, or (gc) one with garbage in it. */
function storeFor(name: string, garbage = false): string {
  const store = join(t.path, `store-${name}`);
  cpSync(base, store, { recursive: true });
  if (garbage) {
    // The first snapshot's record goes, its chunks stay: prune killed before its gc.
    const r = fxcp(['snap', 'prune', store, '--keep-last', '2'], { env: { FOXING_TEST_KILL_AT: 'prune:after-forget' } });
    assert.is(r.signal, 'SIGKILL', r.stderr);
    rmSync(join(store, 'locks'), { recursive: true, force: true });
    mkdirSync(join(store, 'locks'));
  }
  return store;
}

interface Case {
  name: string;
  /** Arguments, given the store and a fresh destination directory. */
  args: (store: string, dest: string) => string[];
  /** The abort check to hold the command at: part-way through its work. */
  at: number;
  garbage?: boolean;
  /** Creates the store (snap create, snap import): it starts empty. */
  fresh?: boolean;
  /** SIGTERM stops a command the same way. */
  signal?: 'SIGINT' | 'SIGTERM';
}

const CASES: Case[] = [
  { name: 'snap create', args: (store) => ['snap', 'create', src, store], at: 3, fresh: true },
  { name: 'snap restore', args: (store, dest) => ['snap', 'restore', store, '--snapshot', ids[0]!, '-o', join(dest, 'out')], at: 3 },
  { name: 'snap export', args: (store, dest) => ['snap', 'export', store, '-o', join(dest, 'all.fxar')], at: 3 },
  { name: 'snap export (tar)', args: (store, dest) => ['snap', 'export', store, '--latest', '-o', join(dest, 'one.tar.zst')], at: 3 },
  { name: 'snap import', args: (store) => ['snap', 'import', join(t.path, 'all.fxar'), store], at: 3, fresh: true },
  { name: 'snap prune', args: (store) => ['snap', 'prune', store, '--keep-last', '2'], at: 3 },
  { name: 'store gc', args: (store) => ['store', 'gc', store], at: 3, garbage: true },
  { name: 'store check --read-data', args: (store) => ['store', 'check', store, '--read-data'], at: 2 },
  { name: 'store repair', args: (store) => ['store', 'repair', store], at: 2 },
  { name: 'snap stats', args: (store) => ['snap', 'stats', store], at: 3 },
  { name: 'snap diff', args: (store) => ['snap', 'diff', store, ids[0]!, ids[2]!], at: 3 },
  { name: 'store gc (SIGTERM)', args: (store) => ['store', 'gc', store], at: 3, garbage: true, signal: 'SIGTERM' },
];

/** Runs the command, held at abort check `at`; sends the signal there, then lets it go on. */
function interrupted(args: string[], at: number, go: string, sig: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; signal: string | null; stderr: string; paused: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(FXCP, [...args, '--json'], { env: { ...process.env, FOXING_TEST_PAUSE_CHECK: `${at}:${go}` }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let paused = false;
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (!paused && stderr.includes(`paused at abort check ${at}\n`)) {
        paused = true;
        child.kill(sig);
        // The child is blocked in its check: the signal is queued before it can see this file.
        writeFileSync(go, '');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stderr, paused }); });
  });
}

/** Temporaries by their names (atomic-file.ts, restore's .fxtmp-), and anything left in tmp/. */
function temporaries(dir: string, rel = ''): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (/^\.fxtmp-|\.tmp-|\.tmp$/.test(e.name)) found.push(r);
    else if (e.isDirectory()) found.push(...temporaries(join(dir, e.name), r));
    else if (/(^|\/)tmp\//.test(r)) found.push(r);
  }
  return found;
}

for (const c of CASES) {
  test(`${c.signal ?? 'SIGINT'} during ${c.name.replace(/ \(SIGTERM\)$/, '')}: exit 130, one ABORTED line, a store that checks clean, no temporary left`, async () => {
    const slug = c.name.replace(/[^a-z]+/g, '-');
    const store = c.fresh ? join(t.path, `store-${slug}`) : storeFor(slug, c.garbage);
    const dest = join(t.path, `dest-${slug}`);
    mkdirSync(dest);
    const r = await interrupted(c.args(store, dest), c.at, join(t.path, `go-${slug}`), c.signal ?? 'SIGINT');
    assert.ok(r.paused, `${c.name} finished before abort check ${c.at}: ${r.stderr}`);
    assert.is(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
    assert.is(r.code, 130, `exit ${r.code}: ${r.stderr}`);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('{'));
    assert.is(errors.length, 1, r.stderr);
    assert.is(JSON.parse(errors[0]!).code, 'ABORTED', r.stderr);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    if (existsSync(join(store, 'snapshots'))) {
      const check = fxcp(['store', 'check', store]);
      assert.is(check.code, 0, `store check after ${c.name}: ${check.stdout}${check.stderr}`);
    }
    assert.equal(temporaries(store), [], 'temporaries in the store');
    assert.equal(temporaries(dest), [], 'temporaries in the destination');
  });
}

test.run();
