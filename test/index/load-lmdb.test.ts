// The index's lmdb: from build/lmdb.cjs (lmdb bundled with its dependencies, the addon found
// without a search) when the build made it, and the same database either way.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lmdb, lmdbSource } from '../../lib/index/load-lmdb.js';
import { packageRoot } from '../../lib/util/package-paths.js';

const bundle = join(packageRoot, 'build', 'lmdb.cjs');

test('lmdb() loads the bundle when it exists, and it reads and writes', () => {
  if (!existsSync(bundle)) console.log(`  ${bundle} not built here: the installed package is checked instead`);
  assert.is(lmdbSource().startsWith('bundle '), existsSync(bundle));
  const dir = mkdtempSync(join(tmpdir(), 'fx-lmdb-'));
  try {
    const db = lmdb().open({ path: join(dir, 'db.mdb'), keyEncoding: 'binary', encoding: 'binary' });
    db.putSync(Buffer.from('k'), Buffer.from('value'));
    assert.equal(Buffer.from(db.get(Buffer.from('k')) as Uint8Array), Buffer.from('value'));
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// LMDB_PREBUILD makes the bundle's addon stand-in ask lmdb's own loader: it must still find the
// addon (here: the same prebuilt directory the loader would pick, named explicitly).
test('the bundle falls back to lmdb\'s own addon search when LMDB_PREBUILD is set', () => {
  if (!existsSync(bundle)) { console.log(`  skipped: ${bundle} not built here`); return; }
  const script = `const l = require(${JSON.stringify(bundle)}); const p = require('node:path').join(require('node:os').tmpdir(), 'fx-lmdb-fb-' + process.pid);
    const db = l.open({ path: p }); db.putSync('a', 1); const v = db.get('a'); db.close(); require('node:fs').rmSync(p, { recursive: true, force: true });
    require('node:fs').rmSync(p + '-lock', { force: true }); process.stdout.write(String(v));`;
  const prebuilt = join(packageRoot, 'node_modules', '@lmdb', `lmdb-${process.platform}-${process.arch}`);
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, LMDB_PREBUILD: prebuilt }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '1');
});

test.run();
