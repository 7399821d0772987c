/**
 * The bytes an inotify descriptor gives, decoded: a run of `struct inotify_event` records
 * (i32 wd, u32 mask, u32 cookie, u32 len, then `len` bytes of name padded with NULs). Pure: the
 * daemon's event source (inotify-source.ts) reads the bytes; this knows only their layout.
 *
 * The kernel writes only whole records into a read, so a record that runs past the bytes read
 * is damage, not a partial read: the decoder refuses it (and a name longer than NAME_MAX),
 * since a wrong name would send a change to the wrong path.
 */
import { FormatError } from '../errors/index.js';

/** The event bits of the kernel's inotify header that this daemon asks for or reads. */
export const IN = {
  ACCESS: 0x1, MODIFY: 0x2, ATTRIB: 0x4, CLOSE_WRITE: 0x8, CLOSE_NOWRITE: 0x10, OPEN: 0x20,
  MOVED_FROM: 0x40, MOVED_TO: 0x80, CREATE: 0x100, DELETE: 0x200, DELETE_SELF: 0x400, MOVE_SELF: 0x800,
  UNMOUNT: 0x2000, Q_OVERFLOW: 0x4000, IGNORED: 0x8000,
  ONLYDIR: 0x0100_0000, DONT_FOLLOW: 0x0200_0000, EXCL_UNLINK: 0x0400_0000, ISDIR: 0x4000_0000,
} as const;

/**
 * What a watched directory reports: everything that changes an entry's content, metadata or
 * name, and the watch's own end. Not IN_OPEN, IN_ACCESS, IN_CLOSE_NOWRITE (reads change
 * nothing). IN_EXCL_UNLINK: no events for a file after it is unlinked (its last writer's close
 * would name a path that is gone). IN_DONT_FOLLOW, IN_ONLYDIR: a symlink or a file put at the
 * path between the listing and the watch is not watched in its place.
 */
export const WATCH_MASK = IN.MODIFY | IN.ATTRIB | IN.CLOSE_WRITE | IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE | IN.DELETE |
  IN.DELETE_SELF | IN.MOVE_SELF | IN.EXCL_UNLINK | IN.DONT_FOLLOW | IN.ONLYDIR;

const HEADER_BYTES = 16;
const NAME_MAX = 255;

export interface InotifyEvent {
  /** The watch (-1 for IN_Q_OVERFLOW, which belongs to no watch). */
  wd: number;
  mask: number;
  /** Pairs an IN_MOVED_FROM with its IN_MOVED_TO (0 otherwise). */
  cookie: number;
  /** The entry's name in the watched directory; null for an event on the directory itself. */
  name: Buffer | null;
}

/** The records of `bytes` (one read's worth), in order; names are copies. Throws FormatError on damage. */
export function decodeInotify(bytes: Uint8Array): InotifyEvent[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: InotifyEvent[] = [];
  for (let at = 0; at < b.length;) {
    if (b.length - at < HEADER_BYTES) throw new FormatError(`inotify: a record header cut short at byte ${at} of ${b.length}`);
    const len = b.readUInt32LE(at + 12);
    if (len > b.length - at - HEADER_BYTES) throw new FormatError(`inotify: a record at byte ${at} names ${len} bytes, past the ${b.length} read`);
    const raw = b.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len);
    const end = raw.indexOf(0);
    const name = end === 0 || len === 0 ? null : Buffer.from(end < 0 ? raw : raw.subarray(0, end));
    if (name !== null && (name.length > NAME_MAX || name.includes(0x2f))) {
      throw new FormatError(`inotify: a record at byte ${at} has a name that is no file name`);
    }
    events.push({ wd: b.readInt32LE(at), mask: b.readUInt32LE(at + 4), cookie: b.readUInt32LE(at + 8), name });
    at += HEADER_BYTES + len;
  }
  return events;
}

/** One record as the kernel lays it out (names padded to 4 bytes): for tests and the fuzz seed. */
export function encodeInotify(e: InotifyEvent): Buffer {
  const len = e.name === null ? 0 : (e.name.length + 4) & ~3;
  const b = Buffer.alloc(HEADER_BYTES + len);
  b.writeInt32LE(e.wd, 0);
  b.writeUInt32LE(e.mask >>> 0, 4);
  b.writeUInt32LE(e.cookie >>> 0, 8);
  b.writeUInt32LE(len, 12);
  e.name?.copy(b, HEADER_BYTES);
  return b;
}
