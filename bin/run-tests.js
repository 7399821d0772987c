#!/usr/bin/env node
// `npm test`: runs the uvu suites in build/test and ends with the one line CI reads:
//   tests: N passed, N failed, N skipped
// uvu's own summary ("Total/Passed/Skipped") is parsed from its output. A crash, a missing
// summary, or a run past the time limit counts as a failure. Extra arguments filter files:
//   npm test -- store      (only test files whose path contains "store")
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const uvu = join(root, 'node_modules', 'uvu', 'bin.js');
const pattern = process.argv[2] ? `(?:${process.argv[2]}).*\\.test\\.js$` : '\\.test\\.js$';
const limitMs = Number(process.env.FOXING_TEST_TIMEOUT_MS ?? 40 * 60 * 1000);

const child = spawn(process.execPath, [uvu, join(root, 'build', 'test'), pattern], {
  cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
});
let out = '';
child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
const timer = setTimeout(() => { console.error(`\ntest run exceeded ${limitMs} ms; killing it`); child.kill('SIGKILL'); }, limitMs);
child.on('close', (code) => {
  clearTimeout(timer);
  const num = (label) => { const m = out.match(new RegExp(`${label}:\\s+(\\d+)`)); return m ? Number(m[1]) : null; };
  const total = num('Total'), passed = num('Passed'), skipped = num('Skipped') ?? 0;
  let failed;
  if (total === null || passed === null) failed = 1;
  else failed = total - passed - skipped;
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`tests: ${passed ?? 0} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
