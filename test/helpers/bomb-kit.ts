/**
 * Compressed streams and tars that expand enormously ("bombs") for the memory tests, made as
 * a stream (the expanded bytes are never held): zstd as one frame (zstd-napi), gzip as one member
 * (node:zlib), xz as one stream (the xz command: lzma-native's encoder takes 20 s for
 * 512 MiB of zeros, `xz -0` 3 s), lz4 as a frame per 1 MiB piece (lz4-napi encodes whole
 * buffers only; the import decodes lz4 block by block either way). One stream, not repeated
 * small ones: a decoder that queues the output of one input buffer is caught only so.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BLOCK, dataBlocks, encodeHeader } from '../../lib/tar/tar-header.js';
import { haveCommand } from './run-cli.js';

export type BombKind = 'zstd' | 'gzip' | 'xz' | 'lz4';
export const BOMB_KINDS: BombKind[] = ['zstd', 'gzip', 'xz', 'lz4'];

const require = createRequire(import.meta.url);
const PIECE = 1 << 20;
const ZERO = Buffer.alloc(PIECE);

/** Why a kind's bomb cannot be made here, or null. */
export function cannotMake(kind: BombKind): string | null {
  return kind === 'xz' && !haveCommand('xz') ? 'the xz command is missing (test/setup/install-test-tools.sh installs it)' : null;
}

export type BombMember = { name: string; data: Buffer } | { name: string; zeros: number };

/** `n` zero bytes as views of one zero-filled piece. */
export function* zeroPieces(n: number): Generator<Buffer> {
  for (let left = n; left > 0; left -= PIECE) yield ZERO.subarray(0, Math.min(PIECE, left));
}

/** The tar's bytes in order: zeros come as views of one zero-filled piece. */
export function* tarPieces(members: BombMember[]): Generator<Buffer> {
  for (const m of members) {
    const size = 'zeros' in m ? m.zeros : m.data.length;
    yield encodeHeader({ name: Buffer.from(m.name), mode: 0o644, uid: 0, gid: 0, size, mtime: 1_700_000_000, typeflag: 0x30 });
    const pad = dataBlocks(size) * BLOCK - size;
    if ('data' in m) yield m.data;
    else yield* zeroPieces(size);
    if (pad) yield ZERO.subarray(0, pad);
  }
  yield ZERO.subarray(0, 2 * BLOCK);
}

/** The stream of `pieces` compressed with `kind` (zstd at `zstdLevel`), as it is made. */
export async function* compressed(kind: BombKind, pieces: Iterable<Buffer>, zstdLevel = 3): AsyncGenerator<Buffer> {
  switch (kind) {
    case 'zstd': {
      const z = require('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');
      const c = new z.CCtx();
      c.setParameter(z.CParameter.compressionLevel, zstdLevel);
      const out = Buffer.alloc(1 << 16);
      const step = function* (src: Buffer, end: boolean) {
        for (;;) {
          const [left, produced, consumed] = c.compressStream2(out, src, end ? z.EndDirective.end : z.EndDirective.continue);
          if (produced) yield Buffer.from(out.subarray(0, produced));
          src = src.subarray(consumed);
          if (src.length === 0 && (!end || left === 0)) return;
        }
      };
      for (const p of pieces) yield* step(p, false);
      yield* step(Buffer.alloc(0), true);
      return;
    }
    case 'lz4': {
      const lz4 = require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer };
      const frames = new Map<number, Buffer>();
      for (const p of pieces) {
        const zeros = p.equals(ZERO.subarray(0, p.length));
        const f = (zeros && frames.get(p.length)) || lz4.compressFrameSync(p);
        if (zeros) frames.set(p.length, f);
        yield f;
      }
      return;
    }
    case 'gzip':
    case 'xz': {
      const child = kind === 'xz' ? spawn('xz', ['-0', '-T1', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] }) : null;
      const t = child ? null : createGzip({ level: 9 });
      const input = child ? child.stdin! : t!;
      const output = child ? child.stdout! : t!;
      const feeding = pipeline(Readable.from(pieces), input);
      yield* output as AsyncIterable<Buffer>;
      await feeding;
    }
  }
}

/** All of `pieces` compressed, in memory (a bomb is small). */
export async function bomb(kind: BombKind, pieces: Iterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of compressed(kind, pieces)) parts.push(c);
  return Buffer.concat(parts);
}

/** A whole compressed tar of `members`. */
export function bombTar(kind: BombKind, members: BombMember[]): Promise<Buffer> {
  return bomb(kind, tarPieces(members));
}
