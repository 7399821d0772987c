// foxingd's per-file versions (enable_versioning), end to end: the real daemon mirrors a source
// with a versioned target; each write it mirrors becomes a version in TARGET/.foxing/versions;
// a version is the content written, however soon the next replaces it (each is staged as a
// hard link at once); what a restart's hydration writes is a version too (not what the first
// hydration copies anew); max_versions drops the oldest; `foxingd versions list|copy|revert|force|cleanup` read and
// change them; the versions store checks clean with `fxcp store check`. Skipped without the
// native addon (the daemon's event sources need it).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { native } from '../../lib/native/load.js';
import { mountTestFs } from '../helpers/loop-fs.js';
import { ROOT, tempDir } from '../helpers/run-cli.js';

const FOXINGD = path.join(ROOT, 'bin', 'foxingd.js');
const FXCP = path.join(ROOT, 'bin', 'fxcp');
let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('foxingd-versions-'); });
test.after(() => tmp.cleanup());

const versions = (...args: string[]) => spawnSync(FOXINGD, ['versions', ...args], { encoding: 'utf8' });
const listed = (file: string): Array<{ id: string; bytes: number; tags: string[] }> => {
  const r = versions('list', file, '--json');
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).versions;
};

/** The daemon started on `cfg`, once it watches; `log` gathers what it prints. */
async function startDaemon(cfg: string, env: NodeJS.ProcessEnv = process.env) {
  const d = spawn(FOXINGD, ['daemon', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const log = { out: '', err: '' };
  d.stderr.on('data', (x) => { log.err += x; });
  await new Promise<void>((resolve, reject) => {
    d.stdout.on('data', (x) => { log.out += x; if (log.out.includes('watching ')) resolve(); });
    d.once('exit', (c) => reject(new Error(`foxingd exited ${c}: ${log.err}`)));
  });
  return { d, log };
}

test('each mirrored write is a version; max_versions keeps the newest; list, copy, revert, force, cleanup', async () => {
  if (!native) { console.log('  skipped: no native addon (foxingd watches through it)'); return; }
  const src = path.join(tmp.path, 'src'), mirror = path.join(tmp.path, 'mirror');
  fs.mkdirSync(path.join(src, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(src, 'docs/report.txt'), 'draft 0\n');
  const cfg = path.join(tmp.path, 'd.toml');
  fs.writeFileSync(cfg, `metrics = ""\nstatus_socket = "${tmp.path}/d.sock"\n[[sources]]\npath = "${src}"\n  [[sources.targets]]\n  path = "${mirror}"\n  enable_versioning = true\n  max_versions = 3\n`);
  const { d, log } = await startDaemon(cfg);
  const file = path.join(mirror, 'docs/report.txt');
  try {
    // Five versions, each mirrored (and recorded) before the next is written.
    for (let k = 1; k <= 5; k++) {
      fs.writeFileSync(path.join(src, 'docs/report.txt'), `draft ${k}\n`.repeat(k * 1000));
      const until = Date.now() + 10_000;
      while (Date.now() < until && (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== `draft ${k}\n`.repeat(k * 1000))) await new Promise((r) => setTimeout(r, 20));
    }
    // Each staged version recorded (the daemon's status counts them), before the stop.
    const until = Date.now() + 20_000;
    let recorded = 0;
    while (recorded < 5 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      const st = spawnSync(FOXINGD, ['status', '--socket', `${tmp.path}/d.sock`, '--json'], { encoding: 'utf8' });
      recorded = st.status === 0 ? JSON.parse(st.stdout).mirrors[0].versions.versions : 0;
    }
    assert.is(recorded, 5, log.err);
  } finally {
    const code = await new Promise((resolve) => { d.once('close', resolve); d.kill('SIGTERM'); });
    assert.is(code, 0, log.err);
  }
  // The hydration's copy is no version; of the five writes, the newest three are kept.
  const kept = listed(file);
  assert.equal(kept.map((v) => v.bytes), [3, 4, 5].map((k) => `draft ${k}\n`.length * k * 1000), log.err);
  const text = versions('list', file);
  assert.match(text.stdout, /^3 versions of .*report\.txt$/m);

  // copy: the oldest kept version, to a new file; an existing one is refused and left alone.
  const out3 = path.join(tmp.path, 'report-3.txt');
  const copy = versions('copy', file, kept[0].id.slice(0, 10), out3);
  assert.is(copy.status, 0, copy.stderr);
  assert.is(fs.readFileSync(out3, 'utf8'), 'draft 3\n'.repeat(3000));
  fs.writeFileSync(out3, 'mine');
  const again = versions('copy', file, kept[0].id, out3);
  assert.is(again.status, 2, again.stderr);
  assert.match(again.stderr, /exists/i);
  assert.is(fs.readFileSync(out3, 'utf8'), 'mine');
  assert.equal(fs.readdirSync(tmp.path).filter((n) => n.startsWith('.foxingd-version-')), [], 'no temporary left');
  const unknown = versions('copy', file, 'ffffffffffff', path.join(tmp.path, 'x'));
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, /no version 'ffffffffffff'/);

  // revert: the mirror's file is the version again, whole.
  const revert = versions('revert', file, kept[1].id);
  assert.is(revert.status, 0, revert.stderr);
  assert.is(fs.readFileSync(file, 'utf8'), 'draft 4\n'.repeat(4000));

  // force: a tagged version outside the limits; cleanup keeps it and the newest N.
  const force = versions('force', file, '--tag', 'pre-migration');
  assert.is(force.status, 0, force.stderr);
  const withForced = listed(file);
  assert.is(withForced.length, 4);
  assert.equal(withForced.at(-1)!.tags, ['foxingd-version', 'pre-migration']);
  const dry = versions('cleanup', file, '--max-versions', '1', '--dry-run');
  assert.is(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /2 versions of .* would be dropped/);
  assert.is(listed(file).length, 4);
  const cleanup = versions('cleanup', file, '--max-versions', '1');
  assert.is(cleanup.status, 0, cleanup.stderr);
  assert.equal(listed(file).map((v) => v.id), [withForced[2].id, withForced[3].id]);
  const all = versions('cleanup', file, '--max-versions', '1', '--include-forced');
  assert.is(all.status, 0, all.stderr);
  assert.equal(listed(file).map((v) => v.id), [withForced[3].id]);
  const check = spawnSync(FXCP, ['store', 'check', path.join(mirror, '.foxing/versions'), '--read-data'], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stdout + check.stderr);

  // A file outside any versioned mirror: a clear error.
  const none = versions('list', path.join(src, 'docs/report.txt'));
  assert.is(none.status, 2);
  assert.match(none.stderr, /no versions: not inside a mirror with enable_versioning/);
});

test('a version staged but not recorded (its store locked, then kill -9) is recorded at the next start', async () => {
  if (!native) { console.log('  skipped: no native addon (foxingd watches through it)'); return; }
  const src = path.join(tmp.path, 'k-src'), mirror = path.join(tmp.path, 'k-mirror');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'ledger'), 'first\n');
  const cfg = path.join(tmp.path, 'k.toml');
  fs.writeFileSync(cfg, `metrics = ""\nstatus_socket = "${tmp.path}/k.sock"\n[[sources]]\npath = "${src}"\n  [[sources.targets]]\n  path = "${mirror}"\n  enable_versioning = true\n`);
  const first = await startDaemon(cfg);
  const file = path.join(mirror, 'ledger');
  // The versions store held by an exclusive lock (as a gc would): the batch cannot record.
  const { StoreLock } = await import('../../lib/store/store-lock.js');
  const store = path.join(mirror, '.foxing/versions');
  fs.mkdirSync(store, { recursive: true });
  const { withStore } = await import('../../lib/store/index.js');
  await withStore(store, { create: true, lock: 'none', command: 'test' }, async () => {});
  const lock = await StoreLock.acquire(store, { exclusive: true, command: 'test' });
  try {
    fs.writeFileSync(path.join(src, 'ledger'), 'second\n');
    const until = Date.now() + 10_000;
    while (!/not recorded in/.test(first.log.err) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.match(first.log.err, /1 version not recorded in .*\(.*\); they stay staged for the next try/);
    assert.is(fs.readFileSync(file, 'utf8'), 'second\n');
    first.d.kill('SIGKILL');
    await new Promise((r) => first.d.once('close', r));
  } finally {
    lock.release();
  }
  // The mirror's file replaced while the daemon is down (as the mirror replaces files: a new
  // file renamed over it): the staged version is still the content that was written then.
  fs.writeFileSync(`${file}.new`, 'replaced\n');
  fs.renameSync(`${file}.new`, file);
  const second = await startDaemon(cfg);
  try {
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const r = versions('list', file, '--json');
      if (r.status === 0 && JSON.parse(r.stdout).versions.length > 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    const code = await new Promise((resolve) => { second.d.once('close', resolve); second.d.kill('SIGTERM'); });
    assert.is(code, 0, second.log.err);
  }
  // The staged version, then the hydration's own write (it put 'second' back over 'replaced').
  const kept = listed(file);
  assert.is(kept.length, 2);
  kept.forEach((v, k) => {
    const out = path.join(tmp.path, `ledger-v${k}`);
    assert.is(versions('copy', file, v.id, out).status, 0);
    assert.is(fs.readFileSync(out, 'utf8'), 'second\n');
  });
  assert.equal(fs.readdirSync(path.join(mirror, '.foxing/versions-staging')), [], 'nothing left staged');
});

test('what the hydration of a restart writes is a version: a file changed and one made while the daemon was down', async () => {
  if (!native) { console.log('  skipped: no native addon (foxingd watches through it)'); return; }
  const src = path.join(tmp.path, 'h-src'), mirror = path.join(tmp.path, 'h-mirror');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'notes.txt'), 'v0\n');
  const cfg = path.join(tmp.path, 'h.toml');
  fs.writeFileSync(cfg, `metrics = ""\nstatus_socket = "${tmp.path}/h.sock"\n[[sources]]\npath = "${src}"\n  [[sources.targets]]\n  path = "${mirror}"\n  enable_versioning = true\n`);
  const file = path.join(mirror, 'notes.txt'), made = path.join(mirror, 'made-while-down.txt');
  const until = async (what: string, ok: () => boolean, log: { err: string }) => {
    const end = Date.now() + 15_000;
    while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 30));
    assert.ok(ok(), `${what}: ${log.err}`);
  };
  const count = (f: string) => { const r = versions('list', f, '--json'); return r.status === 0 ? JSON.parse(r.stdout).versions.length : 0; };
  const stop = async (d: ReturnType<typeof spawn>, log: { err: string }) => {
    const code = await new Promise((resolve) => { d.once('close', resolve); d.kill('SIGTERM'); });
    assert.is(code, 0, log.err);
  };
  // First run: the first hydration's copy is the baseline (no version); one live write is.
  const first = await startDaemon(cfg);
  try {
    fs.writeFileSync(path.join(src, 'notes.txt'), 'v1 live\n');
    await until('v1 recorded', () => count(file) === 1, first.log);
  } finally {
    await stop(first.d, first.log);
  }
  // While the daemon is down: notes.txt changes, a file is made.
  fs.writeFileSync(path.join(src, 'notes.txt'), 'v2 while down\n');
  fs.writeFileSync(path.join(src, 'made-while-down.txt'), 'new while down\n');
  const second = await startDaemon(cfg);
  try {
    assert.is(fs.readFileSync(file, 'utf8'), 'v2 while down\n', 'hydrated');
    await until('the hydration\'s writes recorded', () => count(file) === 2 && count(made) === 1, second.log);
    // A live write after it: the hydrated content stays restorable.
    fs.writeFileSync(path.join(src, 'notes.txt'), 'v3 live\n');
    await until('v3 recorded', () => count(file) === 3, second.log);
  } finally {
    await stop(second.d, second.log);
  }
  const kept = listed(file);
  const texts = kept.map((v, k) => {
    const out = path.join(tmp.path, `h-${k}`);
    const r = versions('copy', file, v.id, out);
    assert.is(r.status, 0, r.stderr);
    return fs.readFileSync(out, 'utf8');
  });
  assert.equal(texts, ['v1 live\n', 'v2 while down\n', 'v3 live\n']);
  const out = path.join(tmp.path, 'h-made');
  assert.is(versions('copy', made, listed(made)[0].id, out).status, 0);
  assert.is(fs.readFileSync(out, 'utf8'), 'new while down\n');
});

// Recorded versions the policy can spare are forgotten; when none is recorded yet (a load that
// let the writes fill the target before the first batch), older staged ones give way.
const GAVE_WAY = /is full: (forgot the \d+ oldest versions the policy could spare; \d+ bytes freed|gave up \d+ older staged versions? not yet recorded)/;

test('a full target gives up its older versions first, then the mirror converges', async () => {
  if (!native) { console.log('  skipped: no native addon (foxingd watches through it)'); return; }
  const mnt = mountTestFs('tmpfs', 8);
  if ('skip' in mnt) { console.log(`  skipped: ${mnt.skip}`); return; }
  const src = path.join(tmp.path, 'full-src');
  fs.mkdirSync(src, { recursive: true });
  const cfg = path.join(tmp.path, 'full.toml');
  fs.writeFileSync(cfg, `metrics = ""\nstatus_socket = "${tmp.path}/full.sock"\n[[sources]]\npath = "${src}"\n  [[sources.targets]]\n  path = "${mnt.mountPoint}"\n  enable_versioning = true\n`);
  const { d, log } = await startDaemon(cfg, { ...process.env, STATE_DIRECTORY: path.join(tmp.path, 'state') });
  let stopped = false;
  try {
    // 1 MiB of random bytes, rewritten: each version costs a MiB in the store (nothing to
    // deduplicate or compress), so versions fill the 8 MiB target.
    const file = path.join(mnt.mountPoint, 'data.bin');
    let last = Buffer.alloc(0);
    for (let k = 0; k < 12 && !GAVE_WAY.test(log.err); k++) {
      last = randomBytes(1 << 20);
      fs.writeFileSync(path.join(src, 'data.bin'), last);
      const until = Date.now() + 5_000;
      while (Date.now() < until && !/is full/.test(log.err) && !(fs.existsSync(file) && fs.readFileSync(file).equals(last))) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.match(log.err, /paused: the target .* is full/);
    const until = Date.now() + 20_000;
    while (Date.now() < until && !(GAVE_WAY.test(log.err) && fs.existsSync(file) && fs.readFileSync(file).equals(last))) await new Promise((r) => setTimeout(r, 100));
    assert.match(log.err, GAVE_WAY, log.err);
    assert.ok(fs.readFileSync(file).equals(last), `the mirror converged after the versions made room: ${log.err}`);
  } finally {
    // Bounded: a daemon that does not stop must fail this test, not hang the suite.
    const closed = new Promise((resolve) => d.once('close', resolve));
    d.kill('SIGTERM');
    stopped = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
    if (!stopped) { d.kill('SIGKILL'); await closed; }
    mnt.cleanup();
  }
  assert.ok(stopped, `foxingd did not stop within 30 s of SIGTERM with its target full: ${log.err}`);
});

test.run();
