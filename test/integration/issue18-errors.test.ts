/**
 * Issue 18: failures end in one clear line and leave nothing behind.
 *  - D7: a store path whose parent refuses mkdir ends at once (exit 2), not in a spin;
 *  - D11: an interrupted snapshot leaves no temporary pack;
 *  - D12: a refused import creates no store and names the archive.
 * Each CLI run has a time limit: a hang is killed and fails the test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FXCP, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('fx-issue18-');
const src = join(t.path, 'src');
test.before(() => {
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd/a.txt'), 'hello\n');
});
test.after(() => t.cleanup());

/** fxcp with a time limit; a run killed at the limit has code -1 and `killed` set. */
function run(args: string[], limitMs = 20_000): { code: number; stdout: string; stderr: string; killed: string | null } {
  const r = spawnSync(FXCP, args, { encoding: 'utf8', timeout: limitMs, killSignal: 'SIGKILL' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, killed: r.signal };
}

test('D7: a store under /proc ends at once with exit 2 and one line naming it', () => {
  if (!existsSync('/proc/self')) { console.log('  (skipped: no /proc)'); return; }
  for (const json of [false, true]) {
    const r = run(['snap', 'create', src, '/proc/self/st', ...(json ? ['--json'] : [])], 10_000);
    assert.is(r.killed, null, 'killed at the time limit: the store creation does not end');
    assert.is(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], '/proc/self/st');
    if (json) assert.is(JSON.parse(lines[0]).code, 'ENOENT');
  }
});

/** Many directories of small files: tree packs are opened and filled all through the walk. */
function manyDirs(root: string): void {
  for (let d = 0; d < 120; d++) {
    const dir = join(root, `d${d}`, `e${d % 7}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 8; f++) writeFileSync(join(dir, `f${f}.bin`), seededBytes(3000 + ((d * 8 + f) * 37) % 9000, d * 8 + f));
  }
}

/**
 * snap create, interrupted by one SIGINT `afterMs` after it took its lock (before that, Node
 * is still starting and has no handler: a signal then ends it as it ends any program).
 */
function interrupted(source: string, store: string, afterMs: number): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(FXCP, ['snap', 'create', source, store], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      const locks = join(store, 'locks');
      if (existsSync(locks) && readdirSync(locks).length > 0) {
        clearInterval(poll);
        timer = setTimeout(() => child.kill('SIGINT'), afterMs);
      }
    }, 2);
    const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => { clearInterval(poll); clearTimeout(timer); clearTimeout(limit); resolve({ code, signal, stderr }); });
  });
}

test('D11: a snap create stopped by one SIGINT at any moment leaves nothing in tmp/', async () => {
  const many = join(t.path, 'many');
  manyDirs(many);
  const store = join(t.path, 'd11-store');
  // How long an uninterrupted run takes here: the interrupts are spread over it.
  const started = Date.now();
  const full = run(['snap', 'create', many, store]);
  assert.is(full.code, 0, full.stderr);
  const took = Date.now() - started;
  let stopped = 0;
  for (let i = 1; i <= 12; i++) {
    rmSync(store, { recursive: true, force: true });
    const r = await interrupted(many, store, Math.round((took * i) / 13));
    assert.is(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
    assert.ok(r.code === 130 || r.code === 0, `exit ${r.code}: ${r.stderr}`);
    if (r.code === 130) stopped++;
    // formats/store.md §12: after an interrupt, unsealed packs are removed from tmp/.
    const left = existsSync(join(store, 'tmp')) ? readdirSync(join(store, 'tmp')) : [];
    assert.equal(left, [], `interrupt ${i} of 12 (after ${Math.round((took * i) / 13)} ms of ${took}): left in tmp/`);
  }
  assert.ok(stopped >= 3, `only ${stopped} of 12 runs were interrupted before they finished`);
});

/** A one-member ustar archive, written byte by byte (no tar tool refuses to write it). */
function tarOf(name: string, data: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write('14000000000\0', 136);
  h.write('0', 156);
  h.write('ustar\0', 257); h.write('00', 263);
  h.write('        ', 148);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  body.write(data);
  return Buffer.concat([h, body, Buffer.alloc(1024)]);
}

/** A refused import: exit 2, one line naming the archive, and no store left where there was none. */
function refusedImport(archive: string, input: Buffer | null, line: RegExp): void {
  for (const where of ['new-store', 'a/b/new-store', 'empty-dir']) {
    const base = join(t.path, `d12-${where.replace(/\//g, '-')}`);
    rmSync(base, { recursive: true, force: true });
    mkdirSync(base);
    const store = join(base, where);
    if (where === 'empty-dir') mkdirSync(store);
    for (const json of [false, true]) {
      const args = ['snap', 'import', input ? '-' : archive, store, ...(json ? ['--json'] : [])];
      const r = spawnSync(FXCP, args, { encoding: 'utf8', input: input ?? undefined, timeout: 20_000, killSignal: 'SIGKILL' });
      assert.is(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.is(lines.length, 1, r.stderr);
      assert.match(json ? JSON.parse(lines[0]).message : lines[0], line);
      // The store this import would have created is gone, with the parents it made; an
      // existing directory stays, empty.
      assert.equal(readdirSync(base), where === 'empty-dir' ? ['empty-dir'] : [], `${where}: left behind`);
      if (where === 'empty-dir') assert.equal(readdirSync(store), []);
    }
  }
}

test('D12: a refused tar import creates no store, and its line names the archive', () => {
  const evil = join(t.path, 'evil.tar');
  writeFileSync(evil, tarOf('../escape', 'x'));
  refusedImport(evil, null, /evil\.tar: offset 0: member '\.\.\/escape' contains '\.\.'; refused$/);
  // From stdin the archive is named "-", as in the import's warnings.
  refusedImport(evil, readFileSync(evil), /(^|: )-: offset 0: member '\.\.\/escape' contains '\.\.'; refused$/);
});

test('D12: a damaged FXAR import creates no store, and its line names the archive', () => {
  const store = join(t.path, 'fxar-store'), archive = join(t.path, 'ok.fxar');
  assert.is(run(['snap', 'create', src, store]).code, 0);
  assert.is(run(['snap', 'export', store, '-o', archive]).code, 0);
  const bytes = readFileSync(archive);
  const truncated = join(t.path, 'truncated.fxar'), flipped = join(t.path, 'flipped.fxar');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
  const f = Buffer.from(bytes);
  f[40] ^= 0xff; // inside the first chunk record
  writeFileSync(flipped, f);
  refusedImport(truncated, null, /truncated\.fxar: .*truncated/);
  refusedImport(flipped, null, /flipped\.fxar: .*damaged/);
  refusedImport(flipped, readFileSync(flipped), /<stdin>: .*damaged/);
});

test('D6 (no root needed): a store that cannot be written fails the snapshot once, not once per file', () => {
  const store = join(t.path, 'unwritable-store');
  assert.is(run(['snap', 'create', src, store]).code, 0);
  const many = join(t.path, 'many-files');
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(many, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(join(many, `d${d}`, `f${f}.bin`), seededBytes(2000, d * 20 + f));
  }
  // Every blob is written in tmp/ first: with a file there, no pack can be.
  rmSync(join(store, 'tmp'), { recursive: true });
  writeFileSync(join(store, 'tmp'), 'not a directory');
  for (const json of [false, true]) {
    const r = run(['snap', 'create', many, store, ...(json ? ['--json'] : [])]);
    assert.is(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.not.match(lines[0], /many-files\/d/, 'blamed on a source file');
    if (json) assert.ok(JSON.parse(lines[0]).error, lines[0]);
  }
});

test.run();
