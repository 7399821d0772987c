/**
 * Stores written by earlier builds (fixtures/store-vN/, made by fixtures/gen-store-fixture.ts
 * with the build of their version) are read by this one: each is of the versions its manifest
 * says, the index is rebuilt from its packs, it checks clean with every record read, it lists its
 * one snapshot, and that snapshot restores to exactly the files the manifest describes. A change
 * to the pack, tree or snapshot encoding that forgets to raise its version (and keep the old
 * one readable) fails here (formats/store.md, the version table). store-v2 holds a bundle
 * (formats/store.md §7.6); store-v1 none.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FixtureEntry } from '../../fixtures/gen-store-fixture.js';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { CHUNK_BUNDLE, PACK_VERSION, STORE_VERSION } from '../../lib/store/store-layout.js';
import { fxcp, tempDir } from '../helpers/run-cli.js';

const t = tempDir('fx-store-fixture-');
test.after(() => t.cleanup());

const ok = (args: string[]) => {
  const r = fxcp(args);
  assert.is(r.code, 0, `fxcp ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

for (let version = 1; version <= STORE_VERSION; version++) {
  const FIXTURE = fileURLToPath(new URL(`../../../fixtures/store-v${version}/`, import.meta.url));
  const manifest = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as {
    formats: { store: number; pack: number; tree: number; snapshot: number }; snapshot: string; entries: FixtureEntry[];
  };
  // A copy: opening builds the index (a cache) inside the store, never in fixtures/.
  const store = join(t.path, `store-v${version}`);
  cpSync(FIXTURE, store, { recursive: true });

  test(`v${version}: the fixture is of the versions its manifest names (store config, pack header)`, () => {
    assert.is(JSON.parse(readFileSync(join(store, 'config'), 'utf8')).version, manifest.formats.store);
    assert.is(manifest.formats.pack, 1);
    // Pack header: "FXPK", u16 version (formats/store.md §7.1); the current writer's version is
    // the fixture's until a new fixture is added beside this one.
    assert.is(PACK_VERSION, manifest.formats.pack);
  });

  test(`v${version}: bundles only from version 2 on`, async () => {
    const storage = directoryLocation(store).storage;
    let bundles = 0, members = 0;
    for await (const pack of storage.list('pack')) {
      for (const e of await readPackEntries(storage, pack)) { if (e.type === CHUNK_BUNDLE) bundles++; if (e.codec === CODEC_BUNDLED) members++; }
    }
    if (version < 2) assert.equal([bundles, members], [0, 0]);
    else assert.ok(bundles >= 1 && members >= 2, `${bundles} bundles, ${members} members`);
  });

  test(`v${version}: checks clean, every record read; lists its snapshot`, () => {
    assert.match(ok(['store', 'check', store, '--read-data']), /no problems/);
    const list = JSON.parse(ok(['snap', 'list', store, '--json'])).snapshots;
    assert.equal(list.map((s: { id: string }) => s.id), [manifest.snapshot]);
  });

  test(`v${version}: restores exactly what the manifest describes: contents, modes, times, symlinks`, () => {
    const out = join(t.path, `out-v${version}`);
    ok(['snap', 'restore', store, '-o', out, '--snapshot', manifest.snapshot]);
    for (const e of manifest.entries) {
      const p = join(out, e.path);
      const st = lstatSync(p);
      if (e.type === 'symlink') {
        assert.ok(st.isSymbolicLink(), e.path);
        assert.is(readlinkSync(p), e.target, e.path);
        continue;
      }
      assert.ok(st.isFile(), e.path);
      assert.is(st.size, e.size, e.path);
      assert.is(createHash('sha256').update(readFileSync(p)).digest('hex'), e.sha256, e.path);
      assert.is(st.mode & 0o7777, e.mode, e.path);
      assert.is(Math.floor(st.mtimeMs / 1000), e.mtimeSec, e.path);
    }
    // One file alone, as a one-file restore reads it.
    const one = join(t.path, `one-v${version}`);
    ok(['snap', 'restore', store, '-o', one, '--file', 'deep/1/2/3/4/5/leaf.txt']);
    assert.is(readFileSync(join(one, 'deep/1/2/3/4/5/leaf.txt'), 'utf8'), 'leaf\n');
  });
}

test.run();
