// `foxingd sync --watch --events inotify` when the kernel refuses watches for its limit (issue
// 23: "a watch-limit error triggers a rescan of what may have been missed, with a log line and
// a metric; events are never lost silently"). The real binary runs in a user namespace of its
// own whose inotify watch limit is set to 4 (/proc/sys/user/max_inotify_watches is per user
// namespace), so the limit of the rest of the machine is untouched: the refused directories
// are named in the log with the setting to raise, compared in full, and compared again while
// they stay without a watch (every 300 ms here, a minute by default), so a file written into
// one after the start is mirrored too.
// Skipped without the native addon, without unshare, or where user namespaces are not allowed.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../lib/native/load.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { ROOT, tempDir } from '../helpers/run-cli.js';

const FOXINGD = path.join(ROOT, 'bin', 'foxingd.js');
const LIMIT = 4;
const DIRS = 10;

/** Why this test cannot run here, or null. */
function cannotRun(): string | null {
  if (!native) return 'the native addon is not loaded (inotify)';
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'sh', '-c', `echo ${LIMIT} > /proc/sys/user/max_inotify_watches`], { encoding: 'utf8' });
  if (probe.error) return `unshare is not available (${probe.error.message})`;
  if (probe.status !== 0) return `no user namespace with its own inotify limit here: ${probe.stderr.trim()}`;
  return null;
}

test('watches refused for the limit: each refused directory is logged and compared, and the mirror is exact', async () => {
  const why = cannotRun();
  if (why) { console.log(`  skipped: ${why}`); return; }
  const t = tempDir('foxingd-watch-limit-');
  try {
    const src = path.join(t.path, 'src'), dest = path.join(t.path, 'dest');
    for (let i = 0; i < DIRS; i++) {
      fs.mkdirSync(path.join(src, `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(src, `d${i}`, 'f'), `file ${i}\n`);
    }
    const proc = spawn('unshare', ['--user', '--map-root-user', 'sh', '-c', `echo ${LIMIT} > /proc/sys/user/max_inotify_watches && exec "$@"`, 'sh',
      FOXINGD, 'sync', '-a', '--watch', '--events', 'inotify', src, dest], { env: { ...process.env, STATE_DIRECTORY: path.join(t.path, 'state'), FOXING_TEST_REWATCH_MS: '300' } });
    let out = '', err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    const closed = new Promise<number | null>((resolve) => proc.once('close', resolve));
    try {
      const until = Date.now() + 20_000;
      while (!out.includes('watching ') && proc.exitCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.ok(out.includes('watching '), `not watching: ${err}`);
      // A change in the root, which holds a watch, is still mirrored live; one in a directory
      // refused a watch, when that directory is compared again (every 300 ms here).
      fs.writeFileSync(path.join(src, 'live'), 'after the start\n');
      fs.writeFileSync(path.join(src, `d${DIRS - 1}`, 'later'), 'in a directory without a watch\n');
      for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        if (compareCopy(src, dest, { rootMeta: false }).filter((d) => !d.startsWith('.foxing')).length === 0) break;
      }
      assert.equal(compareCopy(src, dest, { rootMeta: false }).filter((d) => !d.startsWith('.foxing')), []);
      // The mirror can be exact before the first timed comparison (the start's own rescan of a
      // refused directory may already carry the later file), so wait for that comparison too.
      const REWATCHED = /directories refused a watch for the limit \(fs\.inotify\.max_user_watches\) watched again: \d+ still without one, compared again/;
      for (const end = Date.now() + 20_000; !REWATCHED.test(err) && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
      assert.match(err, REWATCHED);
    } finally {
      proc.kill('SIGTERM');
    }
    assert.is(await closed, 0, err);
    const refused = err.split('\n').filter((l) => /rescan of .*raise fs\.inotify\.max_user_watches/.test(l));
    assert.ok(refused.length >= DIRS + 1 - LIMIT, `each refused directory logged:\n${err}`);
    for (const l of refused) assert.match(l, new RegExp(`${src.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/d\\d`));
    const rescans = Number(/(\d+) rescans/.exec(err)?.[1]);
    assert.ok(rescans >= 1, `the stop line counts the rescans:\n${err}`);
  } finally {
    t.cleanup();
  }
});

test.run();
