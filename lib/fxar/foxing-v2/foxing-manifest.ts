/**
 * The manifest of a Foxing archive: one JSON document (serde order version, created, files,
 * snapshots) naming every file, its metadata, its whole-file BLAKE3 and the chunk indexes its
 * bytes are made of. Pure: decoded bytes in, checked values out.
 *
 * It is held whole, so its size is bounded before it is decompressed (foxing-layout.ts
 * MANIFEST_MAX_STORED, MANIFEST_MAX_JSON). Every field is checked for type and range here, so
 * nothing downstream meets a string where it expects a number; paths are checked in
 * foxing-paths.ts, where what a bad one means (skip it, name it) is decided.
 */
import { FormatError } from '../../errors/index.js';
import { FOXING_VERSION } from './foxing-layout.js';

export interface FoxingFile {
  /** As written: `<snapshot>/tree/<relative path>` (checked in foxing-paths.ts). */
  path: string;
  size: number;
  /** Full st_mode (S_IFREG | permissions). */
  mode: number;
  /** Seconds since the epoch; the format keeps no nanoseconds. */
  mtime: number;
  uid: number;
  gid: number;
  blake3: Buffer;
  /** Indexes into the chunk index, in order; repeats allowed; empty for an empty file. */
  chunks: number[];
  /** `user.foxing*` attributes only (the reference captured no others; any other name is ignored), raw values. */
  xattrs: Array<[string, Buffer]>;
}

export interface FoxingManifest {
  version: number;
  /** RFC 3339, as the writer's clock said when it started; '' when absent. */
  created: string;
  files: FoxingFile[];
  /** Snapshot directory names (`2026-03-12T084500`), in the archive's order; [] when absent. */
  snapshots: string[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const HEX64 = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
/** The xattrs the reference captures, and the only ones read: others are ignored. */
const XATTR_PREFIX = 'user.foxing';
/** Linux's largest xattr value. */
const XATTR_MAX = 65536;
/** Seconds whose nanoseconds fit an i64 (our trees keep times as i64 ns): years 1678 to 2262. */
const MAX_MTIME = 9_223_372_035;

function int(v: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new Error(`${what} is ${JSON.stringify(v)?.slice(0, 40)}, not an integer in ${min}..${max}`);
  return v;
}

function fileOf(v: unknown, i: number): FoxingFile {
  if (!isObject(v)) throw new Error(`files[${i}] is not an object`);
  const at = `files[${i}]`;
  if (typeof v.path !== 'string' || v.path.length === 0) throw new Error(`${at}.path is not a non-empty string`);
  if (typeof v.blake3 !== 'string' || !HEX64.test(v.blake3)) throw new Error(`${at}.blake3 is not 64 lowercase hex digits`);
  if (!Array.isArray(v.chunks)) throw new Error(`${at}.chunks is not a list`);
  const xattrs: Array<[string, Buffer]> = [];
  if (v.xattr !== undefined && v.xattr !== null) {
    if (!isObject(v.xattr)) throw new Error(`${at}.xattr is not an object`);
    for (const [name, hex] of Object.entries(v.xattr)) {
      if (typeof hex !== 'string' || !HEX.test(hex) || hex.length > 2 * XATTR_MAX) throw new Error(`${at}.xattr '${name.slice(0, 40)}' is not a hex string of at most ${XATTR_MAX} bytes`);
      // Only what the reference captures: a `trusted.*` or `security.*` name from an archive
      // (security.capability, say) must never reach a restored file.
      if (!name.startsWith(XATTR_PREFIX) || Buffer.byteLength(name, 'utf8') > 255 || name.includes('\0')) continue;
      xattrs.push([name, Buffer.from(hex, 'hex')]);
    }
    xattrs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  return {
    path: v.path,
    size: int(v.size, `${at}.size`, 0),
    mode: int(v.mode, `${at}.mode`, 0, 0xffffffff),
    mtime: int(v.mtime, `${at}.mtime`, -MAX_MTIME, MAX_MTIME),
    uid: int(v.uid, `${at}.uid`, 0, 0xffffffff),
    gid: int(v.gid, `${at}.gid`, 0, 0xffffffff),
    blake3: Buffer.from(v.blake3, 'hex'),
    chunks: v.chunks.map((c, k) => int(c, `${at}.chunks[${k}]`, 0)),
    xattrs,
  };
}

/** Parses and checks the decoded manifest; FORMAT (or NEWER_VERSION) naming what is wrong. */
export function decodeManifest(json: Uint8Array, where: string): FoxingManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (err) {
    throw new FormatError(`${where}: Foxing manifest is not valid JSON (${(err as Error).message.split('\n')[0]})`, { path: where }, 'FORMAT');
  }
  try {
    if (!isObject(doc)) throw new Error('it is not a JSON object');
    const version = int(doc.version, 'version', 0);
    if (version > FOXING_VERSION) {
      throw new FormatError(`${where}: Foxing manifest version ${version} is newer than this reader knows (${FOXING_VERSION})`, { path: where, version }, 'NEWER_VERSION');
    }
    if (!Array.isArray(doc.files)) throw new Error('files is not a list');
    const snapshots = doc.snapshots === undefined || doc.snapshots === null ? [] : doc.snapshots;
    if (!Array.isArray(snapshots) || !snapshots.every((s) => typeof s === 'string')) throw new Error('snapshots is not a list of names');
    return {
      version,
      created: typeof doc.created === 'string' ? doc.created : '',
      files: doc.files.map(fileOf),
      snapshots: snapshots as string[],
    };
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(`${where}: Foxing manifest: ${(err as Error).message}`, { path: where }, 'FORMAT');
  }
}
