// `foxingd check` and `foxingd daemon --config`, the real binary: check prints each problem as
// FILE:LINE and exits 2 (and 0 with a summary for a sound file); the daemon runs what the file
// asks, two mirrors of one source (with an exclude) and a store-only source, until SIGTERM; then
// both mirrors equal the source (excluded files left out) and the store has snapshots whose
// last one is the tree a full snapshot makes. Skipped without the native addon.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
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
  assert.match(explain.stdout, /max_versions .*default: 10/);
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
  fs.writeFileSync(cfg, `metrics = ""\nstatus_socket = "${tmp.path}/d.sock"\n[[sources]]\npath = "${src}"\nexclude = ["*.tmp"]\n  [[sources.targets]]\n  path = "${m[0]}"\n  [[sources.targets]]\n  path = "${m[1]}"\n` +
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

test('daemon: the mirrors of one source share one watch (one inotify instance for two mirrors)', async () => {
  if (!native) { console.log('  skipped: no native addon'); return; }
  const src = path.join(tmp.path, 'w-src'), m = [path.join(tmp.path, 'w-m1'), path.join(tmp.path, 'w-m2')];
  for (const d of ['a', 'b/c']) fs.mkdirSync(path.join(src, d), { recursive: true });
  const cfg = path.join(tmp.path, 'w.toml');
  fs.writeFileSync(cfg, `metrics = ""\nevents = "inotify"\nstatus_socket = "${tmp.path}/w.sock"\n[[sources]]\npath = "${src}"\n  [[sources.targets]]\n  path = "${m[0]}"\n  [[sources.targets]]\n  path = "${m[1]}"\n`);
  const d = spawn(FOXINGD, ['daemon', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  d.stderr.on('data', (x) => { err += x; });
  try {
    await new Promise<void>((resolve, reject) => {
      d.stdout.on('data', (x) => { out += x; if ((out.match(/watching /g) ?? []).length === 2) resolve(); });
      d.once('exit', (c) => reject(new Error(`foxingd exited ${c}: ${err}`)));
    });
    const fds = fs.readdirSync(`/proc/${d.pid}/fd`).filter((f) => { try { return fs.readlinkSync(`/proc/${d.pid}/fd/${f}`) === 'anon_inode:inotify'; } catch { return false; } });
    assert.is(fds.length, 1, 'one inotify instance for both mirrors');
    const wds = fs.readFileSync(`/proc/${d.pid}/fdinfo/${fds[0]}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:'));
    assert.is(wds.length, 4, 'a watch per directory, once: the source, a, b, b/c');
    // Started through its first line, the daemon's young generation is capped (lib/cli/heap-policy.ts).
    assert.ok(fs.readFileSync(`/proc/${d.pid}/cmdline`, 'utf8').split('\0').includes('--max-semi-space-size=4'), 'node runs with the young-generation cap');
    // Both mirrors get every change.
    fs.writeFileSync(path.join(src, 'b/c/new'), 'new');
    const until = Date.now() + 10_000;
    while (Date.now() < until && !m.every((t) => fs.existsSync(path.join(t, 'b/c/new')))) await new Promise((r) => setTimeout(r, 50));
    for (const t of m) assert.is(fs.readFileSync(path.join(t, 'b/c/new'), 'utf8'), 'new');
  } finally {
    const code = await new Promise((resolve) => { d.once('close', resolve); d.kill('SIGTERM'); });
    assert.is(code, 0, err);
  }
});

test('daemon: READY=1 to systemd, status over its socket, metrics over HTTP, SIGHUP reload, STOPPING=1', async () => {
  if (!native) { console.log('  skipped: the native addon is not loaded'); return; }
  const py = spawnSync('python3', ['-c', 'import socket']);
  if (py.status !== 0) { console.log('  skipped: no python3 to stand in for systemd\'s notify socket'); return; }
  const src = path.join(tmp.path, 'h-src'), m1 = path.join(tmp.path, 'h-m1'), m2 = path.join(tmp.path, 'h-m2');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'f'), 'f');
  const sock = path.join(tmp.path, 'h.sock'), notify = path.join(tmp.path, 'notify.sock');
  const port = 20000 + (process.pid % 20000);
  const cfg = path.join(tmp.path, 'h.toml');
  const store = path.join(tmp.path, 'h-store');
  const write = (target: string) => fs.writeFileSync(cfg, `metrics = "127.0.0.1:${port}"\nstatus_socket = "${sock}"\n[[sources]]\npath = "${src}"\nstore = "${store}"\n  [[sources.targets]]\n  path = "${target}"\n`);
  write(m1);
  // systemd's side of sd_notify: a datagram socket printing each message on a line.
  const listener = spawn('python3', ['-u', '-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\nwhile True: print(s.recv(4096).decode(),flush=True)`, notify], { stdio: ['ignore', 'pipe', 'inherit'] });
  let notes = '';
  await new Promise<void>((resolve) => listener.stdout.on('data', (x) => { notes += x; if (notes.includes('bound')) resolve(); }));
  const d = spawn(FOXINGD, ['daemon', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: notify } });
  let err = '';
  d.stderr.on('data', (x) => { err += x; });
  const waitFor = async (what: () => boolean, why: string) => {
    const until = Date.now() + 15_000;
    while (!what() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(what(), `${why}: ${err}`);
  };
  try {
    await waitFor(() => notes.includes('READY=1'), 'READY=1');
    const status = spawnSync(FOXINGD, ['status', '--socket', sock, '--json'], { encoding: 'utf8' });
    assert.is(status.status, 0, status.stderr);
    const doc = JSON.parse(status.stdout);
    assert.is(doc.mirrors.length, 1);
    assert.is(doc.mirrors[0].target, m1);
    // A change mirrored and stored, then every metric the issue names, with its labels.
    fs.writeFileSync(path.join(src, 'g'), 'metered');
    await waitFor(() => fs.existsSync(path.join(m1, 'g')), 'g mirrored');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, new RegExp(`foxingd_queue_depth\\{source="${src}",target="${m1}"\\} 0`));
    const value = (name: string, labels: string) => {
      const m = new RegExp(`^${name}\\{${labels}\\} ([0-9.e+-]+)$`, 'm').exec(metrics);
      assert.ok(m, `${name}{${labels}} in ${metrics}`);
      return Number(m![1]);
    };
    const mirror = `source="${src}",target="${m1}"`;
    for (const name of ['foxingd_events_lost_total', 'foxingd_rescans_total', 'foxingd_operations_total', 'foxingd_retries_total', 'foxingd_failures_total',
      'foxingd_delta_bytes_saved_total', 'foxingd_copies_in_flight', 'foxingd_replication_lag_seconds', 'foxingd_paused']) value(name, mirror);
    assert.ok(value('foxingd_events_total', mirror) >= 1, 'the write was an event');
    assert.ok(value('foxingd_bytes_copied_total', mirror) >= 'metered'.length, 'its bytes were copied');
    const stored = `source="${src}",store="${store}"`;
    assert.ok(value('foxingd_snapshots_cut', stored) >= 1, 'the first snapshot was cut');
    for (const name of ['foxingd_snapshot_failures', 'foxingd_bytes_ingested', 'foxingd_snapshot_cut_seconds']) value(name, stored);
    // The same metrics through the status socket (foxingd metrics), and an unknown request refused.
    const viaSocket = spawnSync(FOXINGD, ['metrics', '--socket', sock], { encoding: 'utf8' });
    assert.is(viaSocket.status, 0, viaSocket.stderr);
    assert.match(viaSocket.stdout, new RegExp(`^foxingd_queue_depth\\{source="${src}",target="${m1}"\\} 0$`, 'm'));
    const odd = await new Promise<string>((resolve) => {
      let text = '';
      const c = net.connect(sock, () => c.write('delete everything\n'));
      c.setEncoding('utf8').on('data', (d) => { text += d; }).on('end', () => resolve(text));
    });
    assert.is(JSON.parse(odd).error, 'unknown request "delete everything": status or metrics');
    write(m2);
    d.kill('SIGHUP');
    await waitFor(() => fs.existsSync(path.join(m2, 'f')), 'the reloaded configuration hydrated its new mirror');
    await waitFor(() => notes.includes('RELOADING=1'), 'RELOADING=1');
    fs.writeFileSync(path.join(src, 'after-reload'), 'x');
    await waitFor(() => fs.existsSync(path.join(m2, 'after-reload')), 'the new mirror is live');
  } finally {
    const code = await new Promise((resolve) => { d.once('close', resolve); d.kill('SIGTERM'); });
    assert.is(code, 0, err);
    await waitFor(() => notes.includes('STOPPING=1'), 'STOPPING=1');
    listener.kill();
  }
  assert.not.ok(fs.existsSync(sock), 'the status socket is removed at exit');
  const gone = spawnSync(FOXINGD, ['status', '--socket', sock], { encoding: 'utf8' });
  assert.is(gone.status, 2);
  assert.match(gone.stderr, /no foxingd answers here/);
});

test('daemon --tui under tmux: the live view shows each mirror and the newest lines; Ctrl-C ends it', async () => {
  if (!native) { console.log('  skipped: the native addon is not loaded'); return; }
  if (spawnSync('tmux', ['-V']).status !== 0) { console.log('  skipped: no tmux (test/setup/install-test-tools.sh installs it as root)'); return; }
  const src = path.join(tmp.path, 't-src'), mirror = path.join(tmp.path, 't-m');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'f'), 'f');
  const cfg = path.join(tmp.path, 't.toml');
  fs.writeFileSync(cfg, `metrics = ""\nstatus_socket = "${tmp.path}/t.sock"\n[[sources]]\npath = "${src}"\n  [[sources.targets]]\n  path = "${mirror}"\n`);
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', `foxing-test-${process.pid}`, ...args], { encoding: 'utf8' });
  assert.is(tmux('new-session', '-d', '-s', 'fx', '-x', '150', '-y', '24', `${FOXINGD} daemon --config ${cfg} --tui -v`).status, 0);
  const screen = () => tmux('capture-pane', '-p', '-t', 'fx').stdout ?? '';
  const waitFor = async (re: RegExp) => {
    const until = Date.now() + 15_000;
    while (!re.test(screen()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.match(screen(), re);
  };
  try {
    await waitFor(/STATE\s+QUEUE\s+RUN\s+LAG/);
    await waitFor(new RegExp(`idle\\s+0\\s+0\\s+0\\.0s.*${src} -> ${mirror}`));
    fs.writeFileSync(path.join(src, 'g'), 'g');
    await waitFor(/sync g: 1 written/);
    tmux('send-keys', '-t', 'fx', 'C-c');
    const until = Date.now() + 15_000;
    while (tmux('has-session', '-t', 'fx').status === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.is.not(tmux('has-session', '-t', 'fx').status, 0, 'the daemon ended on Ctrl-C');
  } finally {
    tmux('kill-server');
  }
});

test.run();
