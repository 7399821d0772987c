// readFiles (native/src/read_files.cc): a chunk worker's batch of small files read in one call.
// Each file lands at the sum of the sizes before it, at most its stat size; a file that grew or
// shrank since is flagged (growth by the byte past its size in the same read, no probe of its own); one that cannot be opened gets -errno and leaves the others intact;
// files of several directories and a name that is not UTF-8 are read. Skips without the addon.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native, nativeLoadError } from '../../lib/native/load.js';
import { seededBytes } from '../helpers/seeded.js';
import { dropCached, residentBytes } from '../helpers/page-cache.js';

/** `count` files of a few sizes (one past the cache's 4 KiB pages) in a new directory, as readFiles takes them. */
function batchOf(dir: string, count: number) {
  const bodies = Array.from({ length: count }, (_, i) => seededBytes(500 + ((i * 7919) % 70000), 100 + i));
  const paths = bodies.map((b, i) => { const p = path.join(dir, `f${i}`); fs.writeFileSync(p, b); return p; });
  const ends = new Uint32Array(count);
  let end = 0;
  paths.forEach((p, i) => { ends[i] = end += Buffer.byteLength(p); });
  return { bodies, paths, joined: Buffer.from(paths.join('')), ends, sizes: Uint32Array.from(bodies.map((b) => b.length)) };
}

test('a batch across directories: bytes in place, growth and shrinkage flagged, a missing file is -ENOENT', () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-read-files-'));
  try {
    fs.mkdirSync(path.join(dir, 'a'));
    fs.mkdirSync(path.join(dir, 'b'));
    const raw = Buffer.from([0x66, 0xff, 0xfe]); // not UTF-8
    const files: Array<{ path: Buffer; body: Buffer | null; size: number }> = [];
    const add = (rel: Buffer, body: Buffer | null, size = body?.length ?? 10) => {
      const p = Buffer.concat([Buffer.from(dir + '/'), rel]);
      if (body) fs.writeFileSync(p, body);
      files.push({ path: p, body, size });
    };
    add(Buffer.from('a/one'), seededBytes(1000, 1));
    add(Buffer.from('a/grew'), seededBytes(300, 2), 200); // stat said 200: 200 read, changed
    add(Buffer.from('a/gone'), null);
    add(Buffer.from('b/shrank'), seededBytes(50, 3), 80); // stat said 80: 50 read, changed
    add(Buffer.concat([Buffer.from('b/'), raw]), seededBytes(4096, 4));
    add(Buffer.from('a/back'), seededBytes(7, 5)); // a directory met again after another
    // Growth is seen by a byte read past the stat size, in the same read: at a page boundary too,
    // and from an empty file.
    add(Buffer.from('b/page-grew'), seededBytes(8192 + 10, 6), 8192); // 8192 read, changed
    add(Buffer.from('b/empty'), Buffer.alloc(0));
    add(Buffer.from('b/empty-grew'), seededBytes(5, 7), 0); // 0 read, changed

    const ends = new Uint32Array(files.length);
    let end = 0;
    files.forEach((f, i) => { ends[i] = end += f.path.length; });
    const paths = Buffer.concat(files.map((f) => f.path));
    const sizes = Uint32Array.from(files.map((f) => f.size));
    const total = files.reduce((n, f) => n + f.size, 0);
    const out = Buffer.alloc(total + 16, 0xaa);
    const results = new Int32Array(2 * files.length);
    assert.is(native.readFiles(paths, ends, sizes, out, results), total);

    const expect: Array<[number, number]> = [[1000, 0], [200, 1], [-os.constants.errno.ENOENT, 0], [50, 1], [4096, 0], [7, 0], [8192, 1], [0, 0], [0, 1]];
    let at = 0;
    files.forEach((f, i) => {
      assert.equal([results[2 * i], results[2 * i + 1]], expect[i], `file ${i}`);
      if (f.body) assert.ok(out.subarray(at, at + results[2 * i]).equals(f.body.subarray(0, results[2 * i])), `file ${i} bytes`);
      at += f.size;
    });
    assert.ok(out.subarray(total).every((b) => b === 0xaa), 'nothing written past the sizes');
    assert.throws(() => native!.readFiles(paths, ends, sizes, Buffer.alloc(total - 1), results), /smaller than the sizes/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('files not in the page cache: counted in results[2n], read side by side, bytes in place; read again, none is cold', () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-read-cold-'));
  try {
    const b = batchOf(dir, 40);
    if (!b.paths.every((p) => dropCached(p))) { console.log('  skip: cannot drop pages from the page cache here (tmpfs?)'); return; }
    const warmOnes = [3, 17];
    for (const i of warmOnes) fs.readFileSync(b.paths[i]);
    const total = b.sizes.reduce((n, s) => n + s, 0);
    const read = () => {
      const out = Buffer.alloc(total);
      const results = new Int32Array(2 * b.paths.length + 1);
      native!.readFiles(b.joined, b.ends, b.sizes, out, results);
      let at = 0;
      b.bodies.forEach((body, i) => {
        assert.equal([results[2 * i], results[2 * i + 1]], [body.length, 0], `file ${i}`);
        assert.ok(out.subarray(at, at + body.length).equals(body), `file ${i} bytes`);
        at += body.length;
      });
      return results[2 * b.paths.length];
    };
    // A cold file's first RWF_NOWAIT read starts its readahead; when the disk answers before
    // the kernel looks at the page again (a loaded host, a disk cache below), that file is read
    // without waiting and not counted. So: some counted, never more than were dropped.
    const cold = read();
    assert.ok(cold >= 1 && cold <= b.paths.length - warmOnes.length, `the cold files counted (${cold})`);
    assert.is(read(), 0, 'now all cached');
    assert.is(read(), 0, 'and still');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('prefetchFiles starts reading a batch into the page cache and returns; a missing file is left out', async () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-prefetch-'));
  try {
    const b = batchOf(dir, 20);
    if (!b.paths.every((p) => dropCached(p))) { console.log('  skip: cannot drop pages from the page cache here (tmpfs?)'); return; }
    fs.rmSync(b.paths[5]);
    assert.is(native.prefetchFiles(b.joined, b.ends, b.sizes), 19);
    // The reads were only started: wait for them (nothing else reads these files). readahead(2)
    // is advisory: under memory pressure the kernel may skip pages it cannot get at once (its
    // allocations do not retry), so on a loaded host a few files may stay out; none in means
    // nothing was started.
    const residentCount = () => b.paths.filter((p, i) => i !== 5 && residentBytes(p) >= b.sizes[i]).length; // whole pages
    let resident = residentCount();
    for (let tries = 0; tries < 100 && resident < 19; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      resident = residentCount();
    }
    if (resident < 19) console.log(`  ${resident} of 19 files in the page cache (the kernel skipped some readahead)`);
    assert.ok(resident >= 1, 'files in the page cache');
    assert.throws(() => native!.prefetchFiles(b.joined, b.ends, b.sizes.subarray(1)), /lengths differ/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
