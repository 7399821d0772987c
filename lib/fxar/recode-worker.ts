/**
 * Worker thread for export. A RecodeJob takes a chunk as stored in the store, decompresses and
 * verifies it against its id, and compresses it with the archive's codec (raw when that is not
 * smaller): export sends chunks here only when the stored codec differs from the requested one;
 * chunks already in the right codec are copied as they are. A CompressJob is a batch of bundle
 * members' bytes (verified by the main thread as it read them, member-recoder.ts), each
 * compressed on its own.
 */
import { ChunkCodec, CODEC_IDS, type CodecSpec } from '../codec/codec.js';
import { decodeVerified } from '../store/chunk-verify.js';
import { serveJobs } from '../util/worker-job.js';

export interface RecodeJob {
  op?: undefined;
  id: Uint8Array;
  where: string;
  offset: number;
  codec: number;
  rawLength: number;
  storedLength: number;
  stored: Uint8Array;
  to: CodecSpec;
}

export interface RecodeResult { codec: number; stored: Uint8Array }

/** Members' bytes back to back; member i ends at ends[i]. */
export interface CompressJob { op: 'compress'; data: Uint8Array; ends: Uint32Array; to: CodecSpec }

/** Each member's stored bytes back to back (never longer than its raw bytes), ending at ends[i], in codecs[i]. */
export interface CompressResult { data: Uint8Array; ends: Uint32Array; codecs: Uint8Array }

const codec = new ChunkCodec();

/**
 * In place: a member is stored compressed only where that is smaller, so its stored bytes end at
 * or before its raw bytes did, and writing them (after it is compressed, from the codec's output
 * space) overwrites only members already done. `ends` is rewritten likewise.
 */
async function compressAll(job: CompressJob): Promise<CompressResult> {
  const { data, ends } = job;
  const codecs = new Uint8Array(ends.length);
  const to = CODEC_IDS[job.to.name];
  let from = 0, at = 0;
  for (let i = 0; i < ends.length; i++) {
    const raw = data.subarray(from, ends[i]);
    from = ends[i];
    const out = await codec.compressTransient(job.to, raw);
    if (out) data.set(out, at);
    else data.copyWithin(at, from - raw.byteLength, from);
    at += (out ?? raw).byteLength;
    ends[i] = at;
    codecs[i] = out ? to : CODEC_IDS.none;
  }
  return { data: data.subarray(0, at), ends, codecs };
}

serveJobs(async (job: RecodeJob | CompressJob) => {
  if (job.op === 'compress') {
    const result = await compressAll(job);
    return { result, transfer: [result.data.buffer as ArrayBuffer, result.ends.buffer as ArrayBuffer, result.codecs.buffer as ArrayBuffer] };
  }
  const raw = await decodeVerified(codec, job.where, job.id, job, job.stored);
  const out = await codec.compress(job.to, raw);
  const result: RecodeResult = out ? { codec: CODEC_IDS[job.to.name], stored: out } : { codec: CODEC_IDS.none, stored: raw };
  const buf = result.stored;
  // Transfer only a buffer this thread owns outright (not a slice of a shared pool).
  const own = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  return { result, transfer: own ? [buf.buffer as ArrayBuffer] : [] };
});
