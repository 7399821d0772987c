/**
 * `fxcp store upgrade` (lib/store/store-upgrade.ts, formats/store.md §3) on a store written by
 * the version-1 build (fixtures/store-v1): a dry run changes nothing; the upgrade raises the
 * version and keeps every other field; the next snapshot bundles its small files; the old
 * snapshot and the new one restore exactly and the store checks clean; a second upgrade is a
 * no-op. Refusals change nothing: a store locked by another process, a config of a newer
 * version, a directory that is not a store. The config text itself: upgradeConfigText.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODEC_BUNDLED } from '../../lib/codec/codec-ids.js';
import { readPackEntries } from '../../lib/store/pack-reader.js';
import { upgradeConfigText } from '../../lib/store/store-config.js';
import { StoreLock } from '../../lib/store/store-lock.js';
import { directoryLocation } from '../../lib/store/store-location.js';
import { STORE_VERSION } from '../../lib/store/store-layout.js';
import { compareCopy } from '../helpers/copy-tree.js';
import { fxcp, fxcpJson, tempDir } from '../helpers/run-cli.js';

const FIXTURE = fileURLToPath(new URL('../../../fixtures/store-v1/', import.meta.url));

const ok = (args: string[]): string => {
  const r = fxcp(args);
  assert.is(r.code, 0, `fxcp ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** Chunks stored as bundle members, in every pack of `store`. */
async function members(store: string): Promise<number> {
  const storage = directoryLocation(store).storage;
  let n = 0;
  for await (const pack of storage.list('pack')) for (const e of await readPackEntries(storage, pack)) if (e.codec === CODEC_BUNDLED) n++;
  return n;
}

/** A copy of the version-1 fixture store in `dir`, and its config's text. */
function fixtureCopy(dir: string): { store: string; configPath: string; before: string } {
  const store = join(dir, 'store');
  cpSync(FIXTURE, store, { recursive: true });
  const configPath = join(store, 'config');
  return { store, configPath, before: readFileSync(configPath, 'utf8') };
}

function smallTextFiles(root: string, count: number): void {
  for (let i = 0; i < count; i++) {
    mkdirSync(join(root, `d${i % 5}`), { recursive: true });
    writeFileSync(join(root, `d${i % 5}`, `f${i}.txt`), `file ${i}\n` + 'the chunk of a tree in a pack of the store\n'.repeat(20 + (i * 37) % 200));
  }
}

test('a version-1 store: dry run, upgrade, then bundles; old and new snapshots restore, check clean, a second upgrade does nothing', async () => {
  const t = tempDir('fx-upgrade-');
  try {
    const { store, configPath, before } = fixtureCopy(t.path);
    assert.is(JSON.parse(before).version, 1);
    assert.is(fxcpJson(['store', 'stats', store]).formatVersion, 1);
    assert.match(ok(['store', 'stats', store]), /^format +version 1 \(this fxcp writes 2: 'fxcp store upgrade'/m);

    assert.equal(fxcpJson(['store', 'upgrade', store, '-n']), { store, from: 1, to: STORE_VERSION, changed: false, dryRun: true });
    assert.is(readFileSync(configPath, 'utf8'), before, 'a dry run writes nothing');

    assert.match(ok(['store', 'upgrade', store]), /^upgraded store .* from format version 1 to 2/m);
    const after = JSON.parse(readFileSync(configPath, 'utf8'));
    assert.equal(after, { ...JSON.parse(before), version: STORE_VERSION }, 'only the version changed');
    assert.is(fxcpJson(['store', 'stats', store]).formatVersion, STORE_VERSION);

    // The next snapshot bundles its small files; the fixture's snapshot still restores.
    const src = join(t.path, 'src');
    smallTextFiles(src, 60);
    ok(['snap', 'create', src, store]);
    assert.ok(await members(store) >= 20, 'small chunks bundled after the upgrade');
    const out = join(t.path, 'out');
    ok(['snap', 'restore', store, '-o', out, '--latest']);
    assert.equal(compareCopy(src, out, { rootMeta: false }), []);
    const manifest = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as { snapshot: string; entries: Array<{ path: string; type: string; sha256?: string }> };
    const old = join(t.path, 'old');
    ok(['snap', 'restore', store, '-o', old, '--snapshot', manifest.snapshot]);
    for (const e of manifest.entries.filter((x) => x.type === 'file')) {
      assert.is(createHash('sha256').update(readFileSync(join(old, e.path))).digest('hex'), e.sha256, e.path);
    }
    assert.is(fxcpJson(['store', 'check', store, '--read-data']).problems.length, 0);

    const text = readFileSync(configPath, 'utf8');
    assert.match(ok(['store', 'upgrade', store]), /is at format version 2 already: nothing to do/);
    assert.equal(fxcpJson(['store', 'upgrade', store]), { store, from: STORE_VERSION, to: STORE_VERSION, changed: false, dryRun: false });
    assert.is(readFileSync(configPath, 'utf8'), text, 'an upgraded store is left as it is');
  } finally {
    t.cleanup();
  }
});

test('refusals change nothing: a store locked by another process, a newer version, no store', async () => {
  const t = tempDir('fx-upgrade-');
  try {
    const { store, configPath, before } = fixtureCopy(t.path);

    // A snapshot being written elsewhere holds a shared lock: the upgrade waits for nobody.
    const lock = await StoreLock.acquire(store, { exclusive: false, command: 'snap create (test)' });
    try {
      const r = fxcp(['store', 'upgrade', store]);
      assert.is(r.code, 2, r.stderr);
      assert.match(r.stderr, /locked shared by pid \d+ .*snap create \(test\)/);
      assert.is(readFileSync(configPath, 'utf8'), before);
    } finally {
      lock.release();
    }

    writeFileSync(configPath, before.replace('"version": 1', '"version": 3'));
    const newer = fxcp(['store', 'upgrade', store, '--json']);
    assert.is(newer.code, 2);
    assert.is(JSON.parse(newer.stderr).code, 'NEWER_VERSION');
    assert.match(readFileSync(configPath, 'utf8'), /"version": 3/);

    const empty = join(t.path, 'empty');
    mkdirSync(empty);
    const none = fxcp(['store', 'upgrade', empty]);
    assert.is(none.code, 2);
    assert.match(none.stderr, /empty/);
  } finally {
    t.cleanup();
  }
});

test('upgradeConfigText: the version raised, every other field and their order kept; garbage and newer configs refused', () => {
  const text = readFileSync(join(FIXTURE, 'config'), 'utf8');
  const u = upgradeConfigText(text, 'fixture', 2);
  assert.is(u.from, 1);
  assert.is(u.to, 2);
  assert.is(u.text, text.replace('"version": 1', '"version": 2'));
  assert.equal(upgradeConfigText(u.text!, 'fixture', 2), { from: 2, to: 2, text: null });
  assert.throws(() => upgradeConfigText('{"format": "tar"}', 'x'), /not a foxing store/);
  assert.throws(() => upgradeConfigText('nope', 'x'), /not a foxing store/);
  assert.throws(() => upgradeConfigText(text.replace('"version": 1', '"version": 99'), 'x'), /newer than this fxcp supports/);
});

test.run();
