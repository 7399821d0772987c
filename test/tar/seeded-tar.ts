/**
 * A deterministic tar for the import tests that compare the worker path with the single-thread
 * one: every directory is an explicit member (so no tree depends on the importing user's ids),
 * and the members exercise what the ordering of results must get right: many small files (one
 * batch holds many), files that span several batches, duplicate paths whose first copy is still
 * being chunked when the second arrives, a hard link to a file whose chunks are not known yet,
 * repeated content (dedup within the import), a member skipped under a file, empty files.
 */
import { TarWriter, type TarMember } from '../../lib/tar/tar-writer.js';
import { mulberry32, seededBytes } from '../helpers/seeded.js';

type Member = Omit<TarMember, 'path' | 'size' | 'mode' | 'uid' | 'gid' | 'mtimeNs'> & { path: string; data?: Buffer; mode?: number };

/** Text-like bytes: compressible, and the chunker still finds content-defined cuts in it. */
function textBytes(len: number, seed: number): Buffer {
  const rnd = mulberry32(seed);
  const words = ['chunk', 'pack', 'tree', 'snapshot', 'store', 'archive', 'index', 'fox', '\n', ' ', 'the', 'of'];
  const out = Buffer.allocUnsafe(len);
  let o = 0;
  while (o < len) {
    const w = words[Math.floor(rnd() * words.length)] + (rnd() < 0.1 ? String(Math.floor(rnd() * 1e6)) : '');
    o += out.write(w, o, 'latin1');
  }
  return out;
}

export function seededMembers(seed: number, scale = 1): Member[] {
  const rnd = mulberry32(seed);
  const big = seededBytes(Math.round(5 * scale * (1 << 20)), seed + 1);
  const m: Member[] = [{ path: '.', type: 'dir' }];
  for (let d = 0; d < 6; d++) {
    m.push({ path: `d${d}`, type: 'dir', mode: 0o750 });
    m.push({ path: `d${d}/sub`, type: 'dir' });
  }
  m.push({ path: 'big/first', type: 'file', data: big });
  m.push({ path: 'big', type: 'dir' });
  // A hard link to a file that may still be in a worker when the link is read.
  m.push({ path: 'big/link', type: 'hardlink', linkpath: Buffer.from('big/first') });
  for (let i = 0; i < 400; i++) {
    const len = rnd() < 0.05 ? 0 : Math.floor(rnd() ** 3 * 40_000);
    const data = rnd() < 0.5 ? textBytes(len, seed * 1000 + i) : seededBytes(len, seed * 1000 + i);
    m.push({ path: `d${i % 6}/${i % 3 ? 'sub/' : ''}f${i}`, type: 'file', data });
    if (i === 100) {
      // Big again, after edits: most chunks repeat (dedup), the cuts resynchronise.
      const edited = Buffer.concat([big.subarray(0, 1 << 20), textBytes(5000, 7), big.subarray(1 << 20), textBytes(Math.round(scale * (3 << 20)), 8)]);
      m.push({ path: 'big/second', type: 'file', data: edited });
      // Replaced while its first copy may still be chunked: the later member must win.
      m.push({ path: 'big/second', type: 'file', data: textBytes(70_000, 9) });
      m.push({ path: 'big/second.link', type: 'hardlink', linkpath: Buffer.from('big/second') });
    }
    if (i === 200) {
      m.push({ path: 'd0/f0/under-a-file', type: 'file', data: textBytes(3000, 10) });
      m.push({ path: 'd1/sym', type: 'symlink', linkpath: Buffer.from('../big/first') });
      m.push({ path: 'd1/fifo', type: 'fifo' });
    }
  }
  m.push({ path: 'tail', type: 'file', data: seededBytes(Math.round(scale * (2.5 * (1 << 20))), seed + 2) });
  return m;
}

/** The archive's bytes (plain tar). */
export async function seededTar(seed: number, scale = 1): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  const w = new TarWriter({ write: async (c) => { parts.push(Buffer.from(c)); } });
  for (const x of seededMembers(seed, scale)) {
    const data = x.data ?? Buffer.alloc(0);
    await w.add({
      mode: x.type === 'dir' ? 0o755 : 0o644, uid: 1000, gid: 1000, mtimeNs: 1_650_000_000_123_456_789n, ...x,
      path: Buffer.from(x.path), size: x.type === 'file' ? data.length : 0,
    });
    if (data.length) await w.data(data);
  }
  await w.finish();
  return Buffer.concat(parts);
}
