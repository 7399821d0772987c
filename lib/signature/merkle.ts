/**
 * Merkle hashes of trees: a directory's hash folds in every child's name, type and hash, files
 * and subdirectories alike, so a change anywhere below a directory changes its hash and every
 * hash above it (the reference folded in only its immediate children's sizes and times, so an
 * in-place edit two levels down went unnoticed). Pure: names, types and hashes in, 32 bytes out.
 *
 *   file      BLAKE3 of its content (a signature's `content`)
 *   symlink   BLAKE3("L" ‖ target bytes)
 *   special   BLAKE3("S" ‖ type ‖ rdev as decimal)   (fifo, socket, devices)
 *   directory BLAKE3("FXMD1\0" ‖ for each child in byte order of names:
 *                    u32 name length ‖ name ‖ u8 type code ‖ hash[32])
 *
 * Type codes: 1 file, 2 directory, 3 symlink, 4 fifo, 5 socket, 6 character device, 7 block
 * device. Owners, modes and times are not part of the hash: it says whether two trees hold the
 * same names and the same bytes, which is what a copy needs to know before it looks at
 * attributes (a cheap stat comparison).
 */
import type { EntryType } from '../fs/file-meta.js';
import { blake3 } from '../hash/blake3.js';

const TYPE_CODE: Record<EntryType, number> = { file: 1, dir: 2, symlink: 3, fifo: 4, socket: 5, chardev: 6, blockdev: 7 };
const DIR_PREFIX = Buffer.from('FXMD1\0', 'latin1');

export interface MerkleChild {
  name: Buffer;
  type: EntryType;
  hash: Uint8Array;
}

/** The hash of a directory whose children are `children`, in byte order of their names (the caller's listing order). */
export function directoryHash(children: readonly MerkleChild[]): Buffer {
  const h = blake3().hasher();
  h.update(DIR_PREFIX);
  const head = Buffer.alloc(5);
  for (const c of children) {
    head.writeUInt32LE(c.name.length, 0);
    h.update(head.subarray(0, 4));
    h.update(c.name);
    head[4] = TYPE_CODE[c.type];
    h.update(head.subarray(4, 5));
    h.update(c.hash);
  }
  return h.digest();
}

export function symlinkHash(target: Buffer): Buffer {
  return blake3().hash(Buffer.concat([Buffer.from('L'), target]));
}

export function specialHash(type: EntryType, rdev: number): Buffer {
  return blake3().hash(Buffer.from(`S${TYPE_CODE[type]}:${rdev}`, 'latin1'));
}
