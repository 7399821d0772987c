/**
 * std-write.ts: the status line (a progress bar on a terminal) and the text around it. A
 * warning written while the bar is drawn must take the bar's line (not start after its text),
 * and the bar is drawn again below it. Runs the compiled module in a child, so the bytes on
 * its stderr are exactly what a terminal would get.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../helpers/run-cli.js';

const module = pathToFileURL(join(ROOT, 'build', 'lib', 'cli', 'std-write.js')).href;

function stderrOf(script: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { writeErr, writeStatus, writeOut } from '${module}';\n${script}`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stderr;
}

test('a warning while the status line is drawn clears that line first', () => {
  const err = stderrOf("writeStatus('bar 10%'); writeErr('fxcp: warning: x\\n'); writeStatus('bar 20%'); writeStatus('');");
  assert.is(err, '\r\x1b[Kbar 10%\r\x1b[Kfxcp: warning: x\n\r\x1b[Kbar 20%\r\x1b[K');
});

test('without a status line, text is written as it is', () => {
  assert.is(stderrOf("writeErr('a\\n'); writeStatus('s'); writeStatus(''); writeErr('b\\n');"), 'a\n\r\x1b[Ks\r\x1b[Kb\n');
});

test.run();
