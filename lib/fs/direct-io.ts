/**
 * Direct I/O for new pack data (the default; FOXING_DIRECT_PACKS=0 turns it off). A snapshot
 * writes about as many bytes as it stores (1.5 GiB for the 2 GiB `mixed` bench set) and will not
 * read them again soon; written through the page cache, each byte costs a kernel copy into a
 * cache page and pushes the user's working set out of memory. With O_DIRECT the device reads
 * our staging buffer itself, which halves a snapshot's system time (docs/BENCHMARKS.md). That
 * needs several writes in flight (pack-writer.ts): one at a time, each waiting for the device,
 * it is slower than buffered. Packs are fsynced before they are committed either
 * way, so durability is the same.
 *
 * Limits: O_DIRECT needs the buffer's address, the length and the file offset aligned to the
 * device's logical block (DIRECT_ALIGN = 4096 covers common devices); callers write whole
 * aligned staging buffers and send the unaligned rest (a pack's last block) through a buffered
 * descriptor. Where it cannot be used it is not: without the native addon (JavaScript cannot
 * see a buffer's address to align it), on a file system that refuses O_DIRECT at open (tmpfs,
 * some FUSE; the storage then remembers and writes buffered).
 */
import { constants } from 'node:fs';
import { native } from '../native/load.js';

export const DIRECT_ALIGN = 4096;

/** The O_DIRECT open flag, or 0 when packs are written through the page cache (`enabled` false, no addon). */
export function directOpenFlag(enabled = true): number {
  return native && enabled ? (constants.O_DIRECT ?? 0) : 0;
}

/**
 * A buffer of `size` bytes whose first byte is DIRECT_ALIGN-aligned when the native addon can
 * tell (otherwise an ordinary buffer, which isDirectAligned then refuses).
 */
export function alignedBuffer(size: number): Buffer {
  if (!native) return Buffer.allocUnsafeSlow(size);
  const raw = Buffer.allocUnsafeSlow(size + DIRECT_ALIGN);
  const skew = native.addressOffset(raw, DIRECT_ALIGN);
  const start = skew === 0 ? 0 : DIRECT_ALIGN - skew;
  return raw.subarray(start, start + size);
}

/** Whether `data` may be written with O_DIRECT at file offset `position`. */
export function isDirectAligned(data: Uint8Array, position: number): boolean {
  return native !== null && position % DIRECT_ALIGN === 0 && data.byteLength % DIRECT_ALIGN === 0 &&
    data.byteLength > 0 && native.addressOffset(data, DIRECT_ALIGN) === 0;
}
