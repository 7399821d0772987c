/**
 * The bytes a fanotify group reporting directory ids and names (FAN_REPORT_DFID_NAME) gives,
 * decoded: a run of events, each `struct fanotify_event_metadata` (u32 event_len, u8 vers,
 * u8 reserved, u16 metadata_len, u64 mask, i32 fd, i32 pid) and then info records (u8 type,
 * u8 pad, u16 len; an 8-byte fsid; a `struct file_handle`: u32 handle_bytes, i32 handle_type,
 * the bytes; then a NUL-terminated name). Pure: fanotify-source.ts reads the bytes and turns
 * handles into paths.
 *
 * What it refuses (FormatError): an event or record that runs past what was read or past its
 * own length, an unknown metadata version, a handle longer than its record, a name with a '/'
 * or over NAME_MAX. A record of a type it does not use (pidfd, error) is skipped.
 */
import { FormatError } from '../errors/index.js';

/** The event bits of the kernel's fanotify header that the daemon asks for or reads. */
export const FAN = {
  MODIFY: 0x2, ATTRIB: 0x4, CLOSE_WRITE: 0x8, CREATE: 0x100, DELETE: 0x200, DELETE_SELF: 0x400,
  Q_OVERFLOW: 0x4000, RENAME: 0x1000_0000, ONDIR: 0x4000_0000,
  /** fanotify_init flags. */
  REPORT_DFID_NAME: 0xc00,
  /** Ignore masks: also the events of a directory's entries (not only of the directory itself). */
  EVENT_ON_CHILD: 0x0800_0000,
  /** fanotify_mark flags. */
  MARK_ADD: 0x1, MARK_FLUSH: 0x80, MARK_FILESYSTEM: 0x100, MARK_EVICTABLE: 0x200,
  /** FAN_MARK_IGNORE_SURV: an ignore mask (FAN_MARK_IGNORE) that a write does not clear (FAN_MARK_IGNORED_SURV_MODIFY). */
  MARK_IGNORE_SURV: 0x400 | 0x40,
} as const;

/** What the daemon asks of a filesystem mark: every change of an entry's content, metadata or name. */
export const FANOTIFY_MASK = FAN.MODIFY | FAN.ATTRIB | FAN.CLOSE_WRITE | FAN.CREATE | FAN.DELETE | FAN.RENAME | FAN.ONDIR;

export const INFO = { DFID_NAME: 2, DFID: 3, OLD_DFID_NAME: 10, NEW_DFID_NAME: 12 } as const;

const METADATA_VERSION = 3;
const METADATA_BYTES = 24;
const NAME_MAX = 255;

export interface DirRecord {
  type: number;
  /** The directory's `struct file_handle` (u32 length, i32 type, bytes), for open_by_handle_at. */
  handle: Buffer;
  /** The entry's name in that directory; null when the record names the directory alone. */
  name: Buffer | null;
}

export interface FanotifyEvent {
  /** The event bits (those above 2^32 are not used here and dropped). */
  mask: number;
  records: DirRecord[];
}

/** The events of `bytes` (one read's worth), in order; handles and names are copies. */
export function decodeFanotify(bytes: Uint8Array): FanotifyEvent[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: FanotifyEvent[] = [];
  for (let at = 0; at < b.length;) {
    if (b.length - at < METADATA_BYTES) throw new FormatError(`fanotify: an event header cut short at byte ${at} of ${b.length}`);
    const len = b.readUInt32LE(at), version = b[at + 4], metaLen = b.readUInt16LE(at + 6);
    if (version !== METADATA_VERSION) throw new FormatError(`fanotify: event metadata version ${version} at byte ${at} (this reads ${METADATA_VERSION})`);
    if (len < METADATA_BYTES || len > b.length - at || metaLen < METADATA_BYTES || metaLen > len) {
      throw new FormatError(`fanotify: an event at byte ${at} has lengths ${len}/${metaLen}, outside the ${b.length} read`);
    }
    const mask = b.readUInt32LE(at + 8);
    const records: DirRecord[] = [];
    for (let r = at + metaLen; r < at + len;) {
      if (at + len - r < 4) throw new FormatError(`fanotify: a record header cut short at byte ${r}`);
      const type = b[r], rlen = b.readUInt16LE(r + 2);
      if (rlen < 4 || rlen > at + len - r) throw new FormatError(`fanotify: a record at byte ${r} of length ${rlen} runs past its event`);
      if (type === INFO.DFID_NAME || type === INFO.DFID || type === INFO.OLD_DFID_NAME || type === INFO.NEW_DFID_NAME) records.push(dirRecord(b, r, rlen, type));
      r += rlen;
    }
    events.push({ mask, records });
    at += len;
  }
  return events;
}

function dirRecord(b: Buffer, r: number, rlen: number, type: number): DirRecord {
  const h = r + 4 + 8;  // past the header and the fsid
  if (rlen < 4 + 8 + 8) throw new FormatError(`fanotify: a record at byte ${r} is too short for a file handle`);
  const handleBytes = b.readUInt32LE(h);
  const end = h + 8 + handleBytes;
  if (handleBytes > rlen || end > r + rlen) throw new FormatError(`fanotify: a file handle at byte ${h} runs past its record`);
  const handle = Buffer.from(b.subarray(h, end));
  if (type === INFO.DFID) return { type, handle, name: null };
  const raw = b.subarray(end, r + rlen);
  const nul = raw.indexOf(0);
  if (nul < 0) throw new FormatError(`fanotify: a name at byte ${end} is not NUL-terminated within its record`);
  const name = Buffer.from(raw.subarray(0, nul));
  if (name.length > NAME_MAX || name.includes(0x2f)) throw new FormatError(`fanotify: a record at byte ${r} has a name that is no file name`);
  return { type, handle, name: name.length === 0 || (name.length === 1 && name[0] === 0x2e) ? null : name };
}

/** One event as the kernel lays it out: for tests and the fuzz seed. */
export function encodeFanotify(e: FanotifyEvent): Buffer {
  const recs = e.records.map((rec) => {
    const name = rec.type === INFO.DFID ? Buffer.alloc(0) : Buffer.concat([rec.name ?? Buffer.from('.'), Buffer.from([0])]);
    const body = Buffer.concat([Buffer.alloc(8, 0x11), rec.handle, name]);
    const len = (4 + body.length + 3) & ~3;
    const out = Buffer.alloc(len);
    out[0] = rec.type;
    out.writeUInt16LE(len, 2);
    body.copy(out, 4);
    return out;
  });
  const head = Buffer.alloc(METADATA_BYTES);
  const total = METADATA_BYTES + recs.reduce((n, r) => n + r.length, 0);
  head.writeUInt32LE(total, 0);
  head[4] = METADATA_VERSION;
  head.writeUInt16LE(METADATA_BYTES, 6);
  head.writeUInt32LE(e.mask >>> 0, 8);
  head.writeInt32LE(-1, 16);
  return Buffer.concat([head, ...recs]);
}
