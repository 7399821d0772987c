// `fxcp doctor` through the real launcher: what it reports follows the environment that
// switches implementations (FOXING_NO_NATIVE, FOXING_DIRECT_PACKS, FOXING_BLAKE3).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../../lib/native/load.js';
import { fxcp } from '../../helpers/run-cli.js';

const doctor = (env: NodeJS.ProcessEnv = {}) => {
  const r = fxcp(['doctor', '--json'], { env });
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string | number>;
};

test('doctor --json names every implementation in use', () => {
  const d = doctor();
  for (const k of ['node', 'cli', 'workers', 'lmdb', 'cores', 'nativeAddon', 'chunker', 'blake3', 'xattrs', 'holes', 'timestamps', 'packWrites']) {
    assert.ok(k in d, `missing ${k}`);
  }
  assert.is(d.node, process.version);
  if (!native) { console.log('  native addon not built here: only the fallback report is checked'); return; }
  assert.is(d.nativeAddon, 'loaded');
  assert.is(d.chunker, 'native');
  assert.match(String(d.packWrites), /^direct \(/);
});

test('doctor follows FOXING_NO_NATIVE and FOXING_DIRECT_PACKS', () => {
  const off = doctor({ FOXING_NO_NATIVE: '1' });
  assert.match(String(off.nativeAddon), /not loaded \(disabled by FOXING_NO_NATIVE=1\)/);
  assert.is(off.chunker, 'ts');
  assert.is(off.packWrites, 'buffered (direct writes need the native addon)');
  if (!native) return;
  assert.is(doctor({ FOXING_DIRECT_PACKS: '0' }).packWrites, 'buffered (FOXING_DIRECT_PACKS=0)');
});

test.run();
