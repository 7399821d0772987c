// The fanotify event decoder (lib/daemon/fanotify-events.ts): events with directory-handle
// records decode to their mask, handles and names ('.' names the directory itself); damage (a
// length past the read, a record past its event, a wrong metadata version, a name with '/') is a
// FormatError; and a seeded fuzz gives a FormatError or records with file names, never a crash.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FormatError } from '../../lib/errors/index.js';
import { decodeFanotify, encodeFanotify, FAN, type FanotifyEvent, INFO } from '../../lib/daemon/fanotify-events.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const handle = (n: number) => { const h = Buffer.alloc(8 + 8); h.writeUInt32LE(8, 0); h.writeInt32LE(1, 4); h.fill(n, 8); return h; };
const sample: FanotifyEvent[] = [
  { mask: FAN.CLOSE_WRITE | FAN.MODIFY, records: [{ type: INFO.DFID_NAME, handle: handle(1), name: Buffer.from('file') }] },
  { mask: FAN.RENAME | FAN.ONDIR, records: [{ type: INFO.OLD_DFID_NAME, handle: handle(2), name: Buffer.from('old') }, { type: INFO.NEW_DFID_NAME, handle: handle(3), name: Buffer.from([0xc3, 0x28]) }] },
  { mask: FAN.ATTRIB | FAN.ONDIR, records: [{ type: INFO.DFID_NAME, handle: handle(4), name: null }] },
  { mask: FAN.Q_OVERFLOW, records: [] },
];

test('events decode to their masks, directory handles and names', () => {
  const bytes = Buffer.concat(sample.map(encodeFanotify));
  assert.equal(decodeFanotify(bytes), sample);
});

test('damage is refused with a FormatError', () => {
  const one = encodeFanotify(sample[1]);
  assert.throws(() => decodeFanotify(one.subarray(0, 20)), (e: unknown) => e instanceof FormatError && /cut short/.test((e as Error).message));
  assert.throws(() => decodeFanotify(one.subarray(0, one.length - 4)), (e: unknown) => e instanceof FormatError && /outside the/.test((e as Error).message));
  const v = Buffer.from(one);
  v[4] = 2;
  assert.throws(() => decodeFanotify(v), /version 2/);
  const slash = encodeFanotify({ mask: FAN.CREATE, records: [{ type: INFO.DFID_NAME, handle: handle(5), name: Buffer.from('a/b') }] });
  assert.throws(() => decodeFanotify(slash), /no file name/);
});

test('fuzz: damaged bytes give a FormatError or records with file names', () => {
  const base = Buffer.concat(sample.map(encodeFanotify));
  for (const seed of fuzzSeeds(1, 3000)) {
    const rnd = mulberry32(seed);
    let b = Buffer.from(base);
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
    if (rnd() < 0.3) b = b.subarray(0, Math.floor(rnd() * b.length));
    try {
      for (const e of decodeFanotify(b)) {
        for (const r of e.records) {
          assert.ok(r.name === null || (r.name.length > 0 && r.name.length <= 255 && !r.name.includes(0x2f) && !r.name.includes(0)), `seed ${seed}`);
          assert.ok(r.handle.length >= 8 && r.handle.readUInt32LE(0) === r.handle.length - 8, `seed ${seed}: handle`);
        }
      }
    } catch (err) {
      assert.ok(err instanceof FormatError, `seed ${seed}: ${(err as Error).message}`);
    }
  }
});

test.run();
