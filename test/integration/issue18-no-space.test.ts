/**
 * Issue 18, D6: a full disk during `snap create` is one line naming the store, the bytes needed
 * and the bytes free, with code NO_SPACE and exit 2: never a line per source file, never a bare
 * ENOSPC, never an lmdb stack trace. Afterwards the store checks clean, tmp/ is empty and the
 * earlier snapshot restores. Real tmpfs mounts, so root only (skipped with the reason otherwise).
 *  - the packs fill the disk (a source larger than the file system), several times over;
 *  - only the index would not fit: the disk is left with room for the packs of a small change
 *    but not for the index pages after them (lmdb used to fail with EIO or ENOSPC there, print
 *    its own lines and a stack trace, and end the process on an unhandled rejection).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTrees } from '../helpers/tree-compare.js';
import { FXCP, fxcpJson, isRoot, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('fx-nospace-');
const mounts: string[] = [];
const small = join(t.path, 'small');
let restores = 0;

test.before(() => {
  mkdirSync(join(small, 'docs'), { recursive: true });
  writeFileSync(join(small, 'docs/a.txt'), 'small and early\n');
  writeFileSync(join(small, 'b.bin'), seededBytes(100_000, 1));
});
test.after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  t.cleanup();
});

/** A tmpfs of `size` at a new directory, or null (with the reason printed) when none can be mounted. */
function tmpfs(name: string, size: string): string | null {
  if (!isRoot) { console.log('  (skipped: mounting a tmpfs needs root)'); return null; }
  const dir = join(t.path, name);
  mkdirSync(dir);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) { console.log(`  (skipped: cannot mount tmpfs: ${m.stderr.trim()})`); return null; }
  mounts.push(dir);
  return dir;
}

function run(args: string[]): { code: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(FXCP, args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** snap create that must stop with NO_SPACE: exit 2 and exactly one line (one JSON object with --json). */
function noSpace(source: string, store: string, json: boolean): void {
  const r = run(['snap', 'create', source, store, ...(json ? ['--json'] : [])]);
  assert.is(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  assert.is(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `one line, got:\n${r.stderr}`);
  const text = json ? JSON.parse(lines[0]) : null;
  if (json) assert.is(text.code, 'NO_SPACE', lines[0]);
  const message = json ? text.message : lines[0].replace(/^fxcp: /, '');
  const m = new RegExp(`^${store}: no space left: need (\\d+) bytes, (\\d+) bytes free$`).exec(message);
  assert.ok(m, `message: ${message}`);
  assert.ok(Number(m![1]) > Number(m![2]), message);
}

/** The store checks clean, lists only `ids`, has nothing in tmp/, and restores the first one as `small`. */
function intact(store: string, ids: string[]): void {
  const check = run(['store', 'check', store]);
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.equal(fxcpJson(['snap', 'list', store]).snapshots.map((s: { id: string }) => s.id), ids);
  assert.equal(readdirSync(join(store, 'tmp')), [], 'no temporary blobs left');
  const out = join(t.path, `restored-${++restores}`);
  const r = run(['snap', 'restore', store, '-o', out, '--snapshot', ids[0]]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(compareTrees(small, out), []);
}

test('D6: a source larger than the disk stops with one NO_SPACE line, every time', () => {
  const mnt = tmpfs('packs', '20m');
  if (!mnt) return;
  const big = join(t.path, 'big');
  mkdirSync(big);
  // Incompressible: 40 MiB of random bytes in 4 files, twice the file system.
  for (let i = 0; i < 4; i++) writeFileSync(join(big, `r${i}.bin`), seededBytes(10 << 20, 100 + i));
  const store = join(mnt, 'store');
  const first = fxcpJson(['snap', 'create', small, store]).snapshot.id;
  for (let i = 0; i < 6; i++) {
    noSpace(big, store, i % 2 === 1);
    intact(store, [first]);
  }
});

test('D6: when only the index does not fit, the same one NO_SPACE line, every time', () => {
  const mnt = tmpfs('index', '20m');
  if (!mnt) return;
  const store = join(mnt, 'store');
  const first = fxcpJson(['snap', 'create', small, store]).snapshot.id;
  const changed = join(t.path, 'changed');
  rmSync(changed, { recursive: true, force: true });
  spawnSync('cp', ['-a', small, changed]);
  writeFileSync(join(changed, 'new.bin'), seededBytes(20_000, 7));
  for (let i = 0; i < 4; i++) {
    // Room for the lock file, the new data pack (5 pages) and tree pack (1 page), and nothing
    // for the index pages that follow them.
    const fill = join(mnt, 'fill');
    const st = statfsSync(mnt);
    writeFileSync(fill, Buffer.alloc(Number(st.bavail * st.bsize) - 7 * 4096));
    noSpace(changed, store, i % 2 === 1);
    rmSync(fill);
    // The packs written before the index stopped are valid and simply not indexed yet (store
    // check names them; the next writer indexes them).
    intact(store, [first]);
  }
  assert.ok(existsSync(store));
});

test.run();
