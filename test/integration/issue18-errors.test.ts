/**
 * Issue 18: failures end in one clear line and leave nothing behind.
 *  - D7: a store path whose parent refuses mkdir ends at once (exit 2), not in a spin;
 *  - D11: an interrupted snapshot leaves no temporary pack;
 *  - D12: a refused import creates no store and names the archive.
 * Each CLI run has a time limit: a hang is killed and fails the test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FXCP, tempDir } from '../helpers/run-cli.js';

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

test.run();
