/**
 * recordVersions (lib/daemon/version-batch.ts) with a real store: a batch of staged versions,
 * stored in one walk, comes out as one snapshot record per version, each under its file's own
 * path and name, with its staged time, chained to the file's previous version, and restoring
 * to exactly the content staged. A version whose staged link is gone is reported by its
 * file's path and the others are still recorded. applyPolicy over several files at once
 * forgets per file.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyPolicy } from '../../lib/daemon/file-versions.js';
import { recordVersions, type StagedVersion } from '../../lib/daemon/version-batch.js';
import { writeVersion } from '../../lib/daemon/version-access.js';
import { VERSION_TAG } from '../../lib/daemon/version-policy.js';
import { listSnapshots } from '../../lib/snapshot/snapshot-catalogue.js';
import { withStore } from '../../lib/store/open-store.js';
import { tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const quiet = () => {};

test('a batch of staged versions: one record each, named, timed, chained, restorable; a lost link reported alone', async () => {
  const t = tempDir();
  try {
    const mirror = join(t.path, 'mirror'), staging = join(t.path, 'staging');
    mkdirSync(join(mirror, 'docs'), { recursive: true });
    mkdirSync(staging);
    const contents = [seededBytes(200_000, 1), Buffer.from('short\n'), seededBytes(70_000, 2), Buffer.from('gone\n')];
    const files = [join(mirror, 'docs/a.bin'), join(mirror, 'b.txt'), join(mirror, 'docs/a.bin'), join(mirror, 'c.txt')];
    const staged: StagedVersion[] = files.map((file, k) => {
      // As the mirror does: the file written anew, and its inode staged under a link of its own.
      writeFileSync(`${file}.${k}`, contents[k]);
      const link = join(staging, String(k));
      linkSync(`${file}.${k}`, link);
      return { file, link, time: Date.UTC(2026, 0, 1, 0, 0, k) };
    });
    // The last one's link vanished (a crash, someone cleaning up): reported, the others recorded.
    rmSync(staged[3].link);
    const scratch = join(t.path, 'scratch');
    await withStore(join(t.path, 'versions'), { create: true, lock: 'shared', command: 'test', onWarn: quiet }, async (store) => {
      const out = await recordVersions(store, staged, scratch, quiet);
      assert.is(out.length, 4);
      assert.ok('error' in out[3] && out[3].error.includes(files[3]), JSON.stringify(out[3]));
      const ids = out.slice(0, 3).map((o) => ('id' in o ? o.id : assert.unreachable(JSON.stringify(o))) as string);
      const listed = new Map(listSnapshots(store).map((s) => [s.id, s.record]));
      assert.is(listed.size, 3);
      for (const [k, id] of ids.entries()) {
        const rec = listed.get(id)!;
        assert.is(rec.source, files[k]);
        assert.equal(rec.tags, [VERSION_TAG]);
        assert.is(rec.time, new Date(staged[k].time).toISOString());
        assert.is(rec.stats.bytes, contents[k].length);
        const got = join(t.path, `restored-${k}`);
        await writeVersion(store, rec, got, false, quiet);
        assert.ok(readFileSync(got).equals(contents[k]), `version ${k} restores to what was staged`);
      }
      // Two versions of a.bin in one batch: the second's parent is the first.
      assert.is(listed.get(ids[0])!.parent, null);
      assert.is(listed.get(ids[2])!.parent, ids[0]);
      // One version each kept: a.bin's older one goes, b.txt's only one stays.
      const forgotten = await applyPolicy(store, new Set([files[0], files[1]]), { maxVersions: 1, maxBytes: 1 << 30 });
      assert.equal(forgotten, [ids[0]]);
      assert.equal(listSnapshots(store).map((s) => s.id).sort(), [ids[1], ids[2]].sort());
    });
    assert.not.ok(existsSync(scratch), 'the scratch directory is removed');
  } finally {
    t.cleanup();
  }
});

test.run();
