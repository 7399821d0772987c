// The inotify record decoder (lib/daemon/inotify-events.ts): records as the kernel lays them
// out decode to their fields and names (padding dropped); a record cut short, a length past
// the read, or a name with a '/' is a FormatError; and a seeded fuzz: damaged bytes give a
// FormatError or records whose names are file names, never a crash or a name with a '/'.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError } from '../../lib/errors/index.js';
import { decodeInotify, encodeInotify, IN, type InotifyEvent } from '../../lib/daemon/inotify-events.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const sample: InotifyEvent[] = [
  { wd: 1, mask: IN.CREATE, cookie: 0, name: Buffer.from('a') },
  { wd: 1, mask: IN.MOVED_FROM | IN.ISDIR, cookie: 77, name: Buffer.from('dir with spaces') },
  { wd: 2, mask: IN.MOVED_TO | IN.ISDIR, cookie: 77, name: Buffer.from([0xff, 0xfe, 0x41]) },
  { wd: 3, mask: IN.DELETE_SELF, cookie: 0, name: null },
  { wd: -1, mask: IN.Q_OVERFLOW, cookie: 0, name: null },
  { wd: 4, mask: IN.CLOSE_WRITE, cookie: 0, name: Buffer.from('x'.repeat(255)) },
];

test('records decode to their fields; names lose their NUL padding; raw bytes survive', () => {
  const bytes = Buffer.concat(sample.map(encodeInotify));
  assert.equal(decodeInotify(bytes), sample);
  assert.equal(encodeInotify(sample[0]).length, 16 + 4, 'a 1-byte name padded to 4');
});

test('damage is refused with a FormatError naming where', () => {
  const one = encodeInotify(sample[1]);
  assert.throws(() => decodeInotify(one.subarray(0, 10)), (e: unknown) => e instanceof FormatError && /header cut short at byte 0/.test((e as Error).message));
  assert.throws(() => decodeInotify(one.subarray(0, one.length - 1)), (e: unknown) => e instanceof FormatError && /past the/.test((e as Error).message));
  const slash = encodeInotify({ wd: 1, mask: IN.CREATE, cookie: 0, name: Buffer.from('a/b') });
  assert.throws(() => decodeInotify(slash), /no file name/);
  assert.equal(decodeInotify(Buffer.alloc(0)), []);
});

test('fuzz: flipped, cut and grown bytes give a FormatError or events with file names', () => {
  const base = Buffer.concat(sample.map(encodeInotify));
  for (const seed of fuzzSeeds(1, 3000)) {
    const rnd = mulberry32(seed);
    let b = Buffer.from(base);
    const flips = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
    if (rnd() < 0.3) b = b.subarray(0, Math.floor(rnd() * b.length));
    try {
      for (const e of decodeInotify(b)) {
        assert.ok(e.name === null || (e.name.length > 0 && e.name.length <= 255 && !e.name.includes(0x2f) && !e.name.includes(0)), `seed ${seed}`);
      }
    } catch (err) {
      assert.ok(err instanceof FormatError, `seed ${seed}: ${(err as Error).message}`);
    }
  }
});

test.run();
