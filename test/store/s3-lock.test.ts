/**
 * The lock object reader (lib/store/s3-lock.ts parseLockInfo): a lock in a bucket is written by
 * another host, or by anything with write access. A lock as fxcp writes it reads back whole;
 * seeded mutations of it never throw, and give either null (the caller then holds the lock as
 * unreadable, never breaking it) or fields of their types with a lease that is a time. The
 * locking itself is tested on Ceph (test/integration/s3-store.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLockInfo } from '../../lib/store/s3-lock.js';
import { fuzzSeeds, mulberry32 } from '../helpers/seeded.js';

const LOCK = { host: 'backup-7', pid: 4242, command: 'fxcp snap create', exclusive: false, time: '2026-12-06T14:00:00.000Z', expires: '2026-12-06T14:01:30.000Z' };
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

test('a lock as written reads back; wrong types or a lease that is not a time are unreadable', () => {
  assert.equal(parseLockInfo(bytes(LOCK)), LOCK);
  for (const bad of [
    '', 'null', '[]', '"lock"', '{', { ...LOCK, expires: 'soon' }, { ...LOCK, expires: undefined }, { ...LOCK, pid: '4242' },
    { ...LOCK, pid: 1.5 }, { ...LOCK, host: { name: 'x' } }, { ...LOCK, exclusive: 'yes' }, { ...LOCK, command: 'x'.repeat(2000) },
  ]) {
    assert.is(parseLockInfo(bytes(bad)), null, JSON.stringify(bad).slice(0, 80));
  }
});

test('seeded mutations never throw; a lock read has every field of its type and a lease that is a time', () => {
  const text = JSON.stringify(LOCK);
  let read = 0;
  for (const seed of fuzzSeeds(1, 3000)) {
    const rnd = mulberry32(seed);
    let s = text;
    for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n; i++) {
      const at = Math.floor(rnd() * (s.length + 1));
      const r = rnd();
      if (r < 0.4) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 6));
      else if (r < 0.8) s = s.slice(0, at) + '{}[]":,0123456789.-etrufanlTZ \\x'[Math.floor(rnd() * 32)] + s.slice(at);
      else s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 0x3000)) + s.slice(at);
    }
    const got = parseLockInfo(Buffer.from(s));
    if (got === null) continue;
    read++;
    assert.type(got.host, 'string');
    assert.type(got.command, 'string');
    assert.type(got.time, 'string');
    assert.type(got.exclusive, 'boolean');
    assert.ok(Number.isSafeInteger(got.pid), `seed ${seed}`);
    assert.ok(!Number.isNaN(Date.parse(got.expires)), `seed ${seed}: ${got.expires}`);
    assert.equal(Object.keys(got).sort(), Object.keys(LOCK).sort());
  }
  assert.ok(read > 50, `${read} mutated locks read`);
});

test.run();
