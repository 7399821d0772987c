#!/usr/bin/env node
// `npm test`: runs the uvu suites in build/test and ends with the one line CI reads:
//   tests: N passed, N failed, N skipped
// Each test file runs in its own Node process, so a crash (a native abort, an out-of-memory kill)
// fails that file by name and the other files still run. uvu's own per-file summary
// ("Total/Passed/Skipped") is parsed from its output; a crash, a missing summary, or a file or
// run past its time limit counts as a failure. Extra arguments filter files by a regex on the
// path below build/test:
//   npm test -- store      (only test files whose path contains "store")
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, 'build', 'test');
const pattern = new RegExp(process.argv[2] ? `(?:${process.argv[2]}).*\\.test\\.js$` : '\\.test\\.js$');
const runLimitMs = Number(process.env.FOXING_TEST_TIMEOUT_MS ?? 40 * 60 * 1000);
const fileLimitMs = Number(process.env.FOXING_TEST_FILE_TIMEOUT_MS ?? 10 * 60 * 1000);
const started = Date.now();
const SUMMARY = /^\s*(Total|Passed|Skipped|Duration):/;

/** Test files below dir in a stable order (directories depth first, names sorted). */
function testFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (pattern.test(relative(testRoot, p))) out.push(p);
  }
  return out;
}

/** Runs one file; resolves to its counts, with `crashed` naming why it has no clean summary. */
function runFile(file, limitMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    let out = '', echoed = 0, timedOut = false;
    // Echo whole lines as they come, less blank lines and uvu's per-file summary (the run prints one).
    const echo = (all) => {
      const end = all ? out.length : out.lastIndexOf('\n') + 1;
      if (end <= echoed) return;
      for (const l of out.slice(echoed, end).split('\n')) if (l.trim() !== '' && !SUMMARY.test(l)) process.stdout.write(`${l}\n`);
      echoed = end;
    };
    child.stdout.on('data', (d) => { out += d; echo(false); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      echo(true);
      const num = (label) => { const m = out.match(new RegExp(`${label}:\\s+(\\d+)`)); return m ? Number(m[1]) : null; };
      const total = num('Total'), passed = num('Passed') ?? 0, skipped = num('Skipped') ?? 0;
      // uvu's Total counts the tests that ran: skipped ones are apart (a test.skip is no failure).
      let failed = total === null ? 1 : total - passed;
      let crashed = null;
      if (timedOut) crashed = `killed after ${limitMs} ms`;
      else if (signal) crashed = `killed by ${signal}`;
      else if (total === null) crashed = `no summary (exit ${code})`;
      else if (code !== 0 && failed === 0) crashed = `exit ${code}`;
      if (crashed && failed === 0) failed = 1;
      resolve({ passed, failed, skipped, crashed });
    });
  });
}

const files = testFiles(testRoot);
let passed = 0, failed = 0, skipped = 0;
const failures = [];
for (const file of files) {
  const left = runLimitMs - (Date.now() - started);
  if (left <= 0) { failures.push(`run exceeded ${runLimitMs} ms; ${relative(testRoot, file)} and later files not run`); failed++; break; }
  console.log(`\n${relative(testRoot, file)}`);
  const r = await runFile(file, Math.min(fileLimitMs, left));
  passed += r.passed; failed += r.failed; skipped += r.skipped;
  if (r.failed > 0) failures.push(`${relative(testRoot, file)}: ${r.crashed ?? `${r.failed} failed`}`);
}
if (files.length === 0) { failures.push(`no test files match ${pattern}`); failed++; }
console.log(`\n${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const f of failures) console.log(`FAILED ${f}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
