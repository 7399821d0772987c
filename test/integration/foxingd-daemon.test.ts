// `foxingd check` and `foxingd daemon --config`, the real binary: check prints each problem as
// FILE:LINE and exits 2 (and 0 with a summary for a sound file); the daemon runs what the file
// asks, two mirrors of one source (with an exclude) and a store-only source, until SIGTERM; then
// both mirrors equal the source (excluded files left out) and the store has snapshots whose
// last one is the tree a full snapshot makes. Skipped without the native addon.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../lib/native/load.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { ROOT, tempDir } from '../helpers/run-cli.js';

const FOXINGD = path.join(ROOT, 'bin', 'foxingd.js');
const FXCP = path.join(ROOT, 'bin', 'fxcp');
let tmp: { path: string; cleanup: () => void };
test.before(() => { tmp = tempDir('foxingd-daemon-'); });
test.after(() => tmp.cleanup());

test('check: every problem with its line; exit 2; a sound file exit 0', () => {
  const bad = path.join(tmp.path, 'bad.toml');
  fs.mkdirSync(path.join(tmp.path, 'src'), { recursive: true });
  fs.writeFileSync(bad, `[[sources]]\npath = "${tmp.path}/src"\n  [[sources.targets]]\n  path = "${tmp.path}/src/inside"\n[[source]]\npath = "/x"\n`);
  const r = spawnSync(FOXINGD, ['check', '--config', bad], { encoding: 'utf8' });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.toml:4: sources\[0\]\.targets\[0\]: .* lie inside one another/);
  assert.match(r.stderr, /bad\.toml:5: unknown key 'source' \(did you mean 'sources'\?\)/);
  assert.match(r.stderr, /2 problems \(above\); nothing was started/);
  const good = path.join(tmp.path, 'good.toml');
  fs.writeFileSync(good, `[[sources]]\npath = "${tmp.path}/src"\n  [[sources.targets]]\n  path = "${tmp.path}/m"\n`);
  const ok = spawnSync(FOXINGD, ['check', '--config', good], { encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /sound: 1 source, 1 mirror, 0 with a store/);
  const explain = spawnSync(FOXINGD, ['explain'], { encoding: 'utf8' });
  assert.is(explain.status, 0);
  assert.match(explain.stdout, /\[\[sources\.targets\]\]/);
  assert.match(explain.stdout, /enable_versioning .*NOT SUPPORTED/);
});

test('daemon: two mirrors of one source with an exclude, and a store-only source', async () => {
  if (!native) { console.log('  skipped: the native addon is not loaded'); return; }
  const src = path.join(tmp.path, 'd-src'), src2 = path.join(tmp.path, 'd-src2'), store = path.join(tmp.path, 'd-store');
  fs.mkdirSync(path.join(src, 'a'), { recursive: true });
  fs.mkdirSync(src2, { recursive: true });
  fs.writeFileSync(path.join(src, 'a/f'), 'f');
  fs.writeFileSync(path.join(src2, 'g'), 'g');
  const m = [path.join(tmp.path, 'm1'), path.join(tmp.path, 'm2')];
  const cfg = path.join(tmp.path, 'daemon.toml');
  fs.writeFileSync(cfg, `[[sources]]\npath = "${src}"\nexclude = ["*.tmp"]\n  [[sources.targets]]\n  path = "${m[0]}"\n  [[sources.targets]]\n  path = "${m[1]}"\n` +
    `[[sources]]\npath = "${src2}"\nstore = "${store}"\nsnapshot_interval = "0.3s"\n`);
  const d = spawn(FOXINGD, ['daemon', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  d.stderr.on('data', (x) => { err += x; });
  await new Promise<void>((resolve, reject) => {
    d.stdout.on('data', (x) => { out += x; if ((out.match(/watching /g) ?? []).length === 3) resolve(); });
    d.once('exit', (c) => reject(new Error(`foxingd exited ${c}: ${err}`)));
  });
  try {
    fs.writeFileSync(path.join(src, 'a/new'), 'new');
    fs.writeFileSync(path.join(src, 'junk.tmp'), 'junk');
    fs.writeFileSync(path.join(src2, 'h'), 'h');
    const until = Date.now() + 20_000;
    let diffs: string[] = [];
    do {
      await new Promise((r) => setTimeout(r, 100));
      diffs = m.flatMap((t) => compareCopy(src, t, { rootMeta: false }).filter((x) => !x.startsWith('.foxing') && !x.startsWith('junk.tmp')));
    } while (diffs.length > 0 && Date.now() < until);
    assert.equal(diffs, []);
    for (const t of m) assert.not.ok(fs.existsSync(path.join(t, 'junk.tmp')));
    await new Promise((r) => setTimeout(r, 700));
  } finally {
    const code = await new Promise((resolve) => { d.once('close', resolve); d.kill('SIGTERM'); });
    assert.is(code, 0, err);
  }
  const list = JSON.parse(spawnSync(FXCP, ['snap', 'list', store, '--json'], { encoding: 'utf8' }).stdout).snapshots;
  assert.ok(list.length >= 2, `snapshots: ${list.length}`);
  const check = path.join(tmp.path, 'd-check');
  assert.is(spawnSync(FXCP, ['snap', 'create', src2, check], { encoding: 'utf8' }).status, 0);
  const full = JSON.parse(spawnSync(FXCP, ['snap', 'list', check, '--json'], { encoding: 'utf8' }).stdout).snapshots;
  assert.match(list.at(-1).tree, /^[0-9a-f]{64}$/);
  assert.is(list.at(-1).tree, full.at(-1).tree);
});

test.run();
