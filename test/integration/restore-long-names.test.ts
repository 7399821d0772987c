/**
 * Issue 18 D4 and D10: anything a snapshot can hold, a restore can write, and a restore that
 * fails leaves no temporary behind. Names of exactly 255 bytes (NAME_MAX): ASCII, multi-byte
 * UTF-8, and bytes that are not UTF-8 (kept raw by the store), for files, symlinks,
 * directories, hard links, a FIFO and a large sparse file restored by workers in parts; a
 * temporary named after such a name (NAME + suffix) cannot exist, so each of them failed with
 * ENAMETOOLONG before. Through the real CLI, from a store and from an exported archive.
 */
import { closeSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { joinPath } from '../../lib/fs/index.js';
import { TEMP_PREFIX } from '../../lib/fs/temp-name.js';
import { compareTrees } from '../helpers/tree-compare.js';
import { fxcp, haveCommand, tempDir } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

const t = tempDir('long-names-');
const src = join(t.path, 'src'), store = join(t.path, 'store');
const B = Buffer.from(src);

/** A 255-byte name: `head` then `fill` up to 255 bytes. */
const name255 = (head: Buffer | string, fill = 'n'): Buffer => {
  const h = Buffer.from(head);
  return Buffer.concat([h, Buffer.alloc(255 - h.length, fill)]);
};
const ascii = name255('ascii-');
const utf8 = Buffer.concat([Buffer.from('é'.repeat(127)), Buffer.from('x')]);
const raw = name255(Buffer.from([0x66, 0xff, 0xfe, 0x80, 0x2d]));
const dirName = name255('dir-', 'd');

/** Every entry whose name starts with the temporary prefix, anywhere below dir. */
function temporaries(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: Buffer): void => {
    for (const e of readdirSync(d, { withFileTypes: true, encoding: 'buffer' })) {
      const p = joinPath(d, e.name as unknown as Buffer);
      if ((e.name as unknown as Buffer).toString('latin1').startsWith(TEMP_PREFIX)) found.push(p.toString());
      if (e.isDirectory()) walk(p);
    }
  };
  walk(Buffer.from(dir));
  return found;
}

test.before(() => {
  assert.is(ascii.length, 255);
  assert.is(utf8.length, 255);
  assert.is(raw.length, 255);
  const dir = joinPath(B, dirName);
  mkdirSync(dir, { recursive: true });
  for (const [i, n] of [ascii, utf8, raw].entries()) writeFileSync(joinPath(dir, n), seededBytes(1000 + i, i));
  writeFileSync(joinPath(B, raw), seededBytes(300_000, 9)); // a worker's file when the pool is on
  symlinkSync(Buffer.from('target of a long link'), joinPath(dir, name255('link-')));
  // A hard-link group across directories: the second member is linked under a temporary.
  const first = joinPath(dir, name255('hard-'));
  writeFileSync(first, seededBytes(5000, 5));
  linkSync(first, joinPath(B, name255('hard-')));
  linkSync(first, joinPath(B, utf8));
  if (haveCommand('mkfifo')) {
    // A FIFO with a raw name: made by the mkfifo fallback under a temporary when the addon is out.
    const r = spawnSync('mkfifo', [join(src, 'fifo')]);
    assert.is(r.status, 0);
    renameSync(join(src, 'fifo'), joinPath(dir, name255(Buffer.from([0xff, 0x7c]), 'f')));
  }
  // Large and sparse: two 18 MiB data runs between holes, 36 MiB of data, so the workers
  // restore it in two parts (restorer.ts PART_BYTES) when the pool is on.
  const big = joinPath(B, name255('big-', 'b'));
  const fd = openSync(big, 'w');
  const mib = seededBytes(1 << 20, 11);
  for (let run = 0; run < 2; run++) {
    for (let m = 0; m < 18; m++) {
      mib.writeUInt32LE(run * 1000 + m, 0); // every MiB different: no dedup inside the file
      writeSync(fd, mib, 0, mib.length, (run * 40 + 2 + m) * (1 << 20));
    }
  }
  closeSync(fd);
  truncateSync(big, 80 << 20);
  const r = fxcp(['snap', 'create', src, store]);
  assert.is(r.code, 0, r.stderr);
});
test.after(() => t.cleanup());

for (const [how, env] of [['on the main thread', {}], ['by the workers, the large file in parts', { FOXING_RESTORE_POOL_BYTES: '0' }]] as const) {
  test(`255-byte names restore byte for byte ${how}`, () => {
    const out = join(t.path, `out-${Object.keys(env).length}`);
    const r = fxcp(['snap', 'restore', store, '-o', out, '--latest'], { env });
    assert.is(r.code, 0, r.stderr);
    const diffs = compareTrees(src, out, { rootMeta: false });
    assert.equal(diffs, [], diffs.join('\n'));
    assert.equal(temporaries(out), []);
  });
}

test('255-byte archive and tar names: exported, and the archive restores byte for byte', () => {
  const archive = join(t.path, `${'a'.repeat(250)}.fxar`);
  const e = fxcp(['snap', 'export', store, '-o', archive]);
  assert.is(e.code, 0, e.stderr);
  const tar = join(t.path, `${'t'.repeat(251)}.tar`);
  const x = fxcp(['snap', 'export', store, '--format', 'tar', '-o', tar]);
  assert.is(x.code, 0, x.stderr);
  assert.ok(readdirSync(t.path).includes(`${'t'.repeat(251)}.tar`));
  assert.equal(temporaries(t.path).filter((p) => !p.startsWith(src)), []);
  const out = join(t.path, 'from-archive');
  const r = fxcp(['snap', 'restore', archive, '-o', out], { env: { FOXING_RESTORE_POOL_BYTES: '0' } });
  assert.is(r.code, 0, r.stderr);
  const diffs = compareTrees(src, out, { rootMeta: false });
  assert.equal(diffs, [], diffs.join('\n'));
});

test.run();
