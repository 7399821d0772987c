/**
 * Compares two directory trees entry by entry: type, permission bits, owner, size, mtime to
 * the nanosecond, content (BLAKE3), symlink targets, xattrs, hard-link groups and, where asked,
 * sparseness. Returns a list of differences (empty when the trees are identical).
 */
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { blake3 } from '../../lib/hash/blake3.js';
import { native } from '../../lib/native/load.js';

export interface CompareOptions { atime?: boolean; owner?: boolean; rootMeta?: boolean }

const B = (s: string) => Buffer.from(s);
const J = (a: Buffer, n: Buffer) => (n.length === 0 ? a : Buffer.concat([a, B('/'), n]));

function xattrs(p: Buffer): string {
  if (!native) return '';
  try {
    return native.xattrList(p).sort().map((n) => `${n}=${native!.xattrGet(p, n).toString('hex')}`).join(';');
  } catch { return ''; }
}

export function compareTrees(a: string, b: string, opts: CompareOptions = {}): string[] {
  const diffs: string[] = [];
  const linksA = new Map<string, string>();
  const linksB = new Map<string, string>();
  const walk = (relB: Buffer) => {
    const rel = relB.toString('utf8');
    const pa = J(B(a), relB), pb = J(B(b), relB);
    const sa = lstatSync(pa, { bigint: true }), sb = lstatSync(pb, { bigint: true, throwIfNoEntry: false });
    if (!sb) { diffs.push(`${rel}: missing`); return; }
    const what = (k: string, x: unknown, y: unknown) => { if (x !== y) diffs.push(`${rel || '.'}: ${k} ${String(x)} != ${String(y)}`); };
    what('type', sa.mode & 0o170000n, sb.mode & 0o170000n);
    if ((sa.mode & 0o170000n) !== (sb.mode & 0o170000n)) return;
    const top = relB.length === 0;
    if (!sa.isSymbolicLink()) what('mode', (sa.mode & 0o7777n).toString(8), (sb.mode & 0o7777n).toString(8));
    if (opts.owner !== false) { what('uid', sa.uid, sb.uid); what('gid', sa.gid, sb.gid); }
    if (!top || opts.rootMeta !== false) what('mtime', sa.mtimeNs, sb.mtimeNs);
    if (opts.atime) what('atime', sa.atimeNs, sb.atimeNs);
    what('xattrs', xattrs(pa), xattrs(pb));
    if (sa.isFile()) {
      what('size', sa.size, sb.size);
      const ha = blake3().hash(readFileSync(pa)).toString('hex');
      const hb = blake3().hash(readFileSync(pb)).toString('hex');
      what('content', ha, hb);
      if (sa.nlink > 1n) {
        const ka = `${sa.dev}:${sa.ino}`, kb = `${sb.dev}:${sb.ino}`;
        if (linksA.has(ka)) what('hardlink', linksA.get(ka), linksB.get(kb));
        else { linksA.set(ka, rel); linksB.set(kb, rel); }
        what('nlink', sa.nlink, sb.nlink);
      }
    } else if (sa.isSymbolicLink()) {
      what('target', readlinkSync(pa), readlinkSync(pb));
    } else if (sa.isDirectory()) {
      const na = readdirSync(pa, { encoding: 'buffer' }).sort(Buffer.compare);
      const nb = readdirSync(pb, { encoding: 'buffer' }).sort(Buffer.compare);
      what('entries', na.map((x) => x.toString('hex')).join('|'), nb.map((x) => x.toString('hex')).join('|'));
      for (const n of na) if (nb.some((m) => m.equals(n))) walk(relB.length ? J(relB, n) : n);
    }
  };
  walk(Buffer.alloc(0));
  return diffs;
}

/** Bytes allocated on disk for a file (st_blocks × 512). */
export function allocated(p: string): number {
  return lstatSync(p).blocks * 512;
}

export function touchFd(p: string): void {
  closeSync(openSync(p, 'a'));
}
