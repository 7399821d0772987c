/**
 * --progress: on a terminal (a pty made by `script`) a live line with bytes, files and rate is
 * redrawn on stderr; with --json off a terminal, progress comes as JSON lines on stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededBytes } from '../helpers/seeded.js';
import { FXCP, haveCommand, tempDir } from '../helpers/run-cli.js';

function sample(dir: string): void {
  for (let i = 0; i < 40; i++) {
    mkdirSync(join(dir, `d${i % 4}`), { recursive: true });
    writeFileSync(join(dir, `d${i % 4}`, `f${i}.bin`), seededBytes(3 << 20, i));
  }
}

test('a live progress line is drawn on a terminal', () => {
  if (!haveCommand('script')) { console.log('  skip: `script` (util-linux) is missing, no pty to test with'); return; }
  const t = tempDir();
  try {
    const src = join(t.path, 'src');
    sample(src);
    const cmd = `${FXCP} snap create ${src} ${join(t.path, 'store')} --progress`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\r\x1b\[K.*snapshot .*\d+(\.\d+)? (B|KiB|MiB).*files, .*\/s/);
  } finally { t.cleanup(); }
});

test('off a terminal, --progress --json writes JSON progress lines on stderr', () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src');
    sample(src);
    const r = spawnSync(FXCP, ['snap', 'create', src, join(t.path, 'store'), '--progress', '--json'],
      { encoding: 'utf8', env: { ...process.env, FOXING_WORKERS: '1' } });
    assert.is(r.status, 0, r.stderr);
    JSON.parse(r.stdout);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('{"progress"'));
    assert.ok(lines.length >= 1, 'at least the final progress line');
    const p = JSON.parse(lines[lines.length - 1]);
    assert.is(p.bytes, 40 * (3 << 20), 'the last line reports every byte');
    assert.is(p.progress, 'snapshot');
    assert.type(p.bytes, 'number');
    assert.type(p.bytesPerSecond, 'number');
  } finally { t.cleanup(); }
});

test.run();
