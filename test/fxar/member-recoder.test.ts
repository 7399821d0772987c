/**
 * member-recoder.ts with the real recode worker pool: members come back each compressed on its
 * own (raw where that is not smaller), in the order added, across batches; a batch is sent when
 * a member of it is waited for; a failed or abandoned batch fails each of its members; codec none
 * sends nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkCodec, CODEC_IDS } from '../../lib/codec/codec.js';
import { MemberRecoder, type Portable } from '../../lib/fxar/member-recoder.js';
import type { CompressJob, CompressResult } from '../../lib/fxar/recode-worker.js';
import { WorkerPool } from '../../lib/util/worker-pool.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

/** Text-like bytes (compress) or seeded random bytes (do not), 1 B to 20 KiB. */
function member(i: number): Buffer {
  const r = mulberry32(i + 1);
  const n = 1 + Math.floor(r() * 20_000);
  if (i % 5 === 0) return Buffer.from(seededBytes(n, i));
  let s = '';
  while (s.length < n) s += `member ${i} of a bundle `;
  return Buffer.from(s.slice(0, n));
}

const codec = new ChunkCodec();
const raw = async (p: Portable, length: number) => Buffer.from(p.codec === CODEC_IDS.none ? p.stored : await codec.decompress(p.codec, p.stored, length));

test('600 members in batches: each its own bytes, compressed where that is smaller, in order', async () => {
  const pool = new WorkerPool('fxar/recode-worker.js', {}, 2);
  let jobs = 0;
  try {
    const r = new MemberRecoder({ name: 'zstd' }, (job, transfer) => { jobs++; return pool.run<CompressResult>(job, transfer); });
    const added = Array.from({ length: 600 }, (_, i) => ({ bytes: member(i), ...r.add(member(i)) }));
    // The last batch is still open: waiting for its first member sends it.
    r.flushThrough(added[599].batch);
    for (const [i, a] of added.entries()) {
      const p = await a.work;
      assert.equal(await raw(p, a.bytes.length), a.bytes, `member ${i}`);
      if (i % 5 === 0 && a.bytes.length > 64) assert.is(p.codec, CODEC_IDS.none, `random member ${i} stays raw`);
      if (i % 5 !== 0 && a.bytes.length > 200) assert.is(p.codec, CODEC_IDS.zstd, `text member ${i} is compressed`);
    }
    assert.ok(jobs >= 3 && jobs < 600 / 16, `${jobs} jobs for 600 members`);
    assert.ok(added[599].batch > added[0].batch);
  } finally {
    await pool.close();
  }
});

test('lz4 and none; a failed batch fails each of its members', async () => {
  const pool = new WorkerPool('fxar/recode-worker.js', {}, 1);
  try {
    const lz4 = new MemberRecoder({ name: 'lz4' }, (job, transfer) => pool.run<CompressResult>(job, transfer));
    const a = lz4.add(member(1));
    lz4.flushThrough(a.batch);
    assert.equal(await raw(await a.work, member(1).length), member(1));
    assert.is((await a.work).codec, CODEC_IDS.lz4);
    let sent = 0;
    const none = new MemberRecoder({ name: 'none' }, () => { sent++; throw new Error('nothing is sent for none'); });
    const n = none.add(member(2));
    assert.equal(Buffer.from((await n.work).stored), member(2));
    assert.is((await n.work).codec, CODEC_IDS.none);
    assert.is(sent, 0);
    const failing = new MemberRecoder({ name: 'zstd' }, (job: CompressJob) => Promise.reject(new Error(`pool gone (${job.ends.length} members)`)));
    const f = [failing.add(member(3)), failing.add(member(4))];
    failing.flushThrough(f[0].batch);
    for (const x of f) await x.work.then(() => assert.unreachable('resolved'), (err: Error) => assert.match(err.message, 'pool gone (2 members)'));
    // Abandoned: the open batch's members fail, a batch already sent is untouched.
    const sentFirst = lz4.add(member(6));
    lz4.flushThrough(sentFirst.batch);
    const open = lz4.add(member(7));
    const failure = open.work.then(() => 'resolved', (err: Error) => err.message);
    lz4.abandon(new Error('export stopped'));
    assert.is((await sentFirst.work).codec, CODEC_IDS.lz4);
    assert.is(await failure, 'export stopped');
    lz4.abandon(new Error('nothing open: nothing happens'));
  } finally {
    await pool.close();
  }
});

test.run();
