// bin/fxcp (a link to bin/fxcp.cjs, whose first line starts node through `env -S -u ...`):
// it must drop NODE_EXTRA_CA_CERTS, which costs ~100 ms of every start, keep the rest of the
// environment, and work through a link elsewhere, the way npm installs it.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fxcp, FXCP, tempDir } from '../helpers/run-cli.js';
import { spawnSync } from 'node:child_process';

test('NODE_EXTRA_CA_CERTS is not passed to node', () => {
  // Node warns on stderr when the file it names cannot be loaded: no warning means not read.
  const r = fxcp(['--version'], { env: { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('the rest of the environment reaches fxcp', () => {
  const r = fxcp(['doctor', '--json'], { env: { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem', FOXING_NO_NATIVE: '1' } });
  assert.is(r.code, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).nativeAddon, /FOXING_NO_NATIVE=1/);
});

test('runs through a symbolic link from another directory', () => {
  const t = tempDir();
  try {
    const link = join(t.path, 'fxcp');
    symlinkSync(FXCP, link);
    const r = spawnSync(link, ['--version'], { cwd: t.path, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  } finally {
    t.cleanup();
  }
});

test.run();
