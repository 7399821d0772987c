// The copy benchmark's check that a copy is right before its time counts: the source and every
// copy walked together, directory by directory, comparing the set of names, each entry's type,
// permission bits, owner, size, mtime to the nanosecond, symlink target and file contents. The
// source's bytes are read once and compared with each copy's in lockstep (1 MiB at a time), which
// is stricter than a hash and needs no second pass. Memory: one directory's names and 1 MiB per
// tree. Hard links, xattrs and ACLs are not compared (the generated sets have none; the engine's
// own tests check them). Holes read as zeros, so a copy that filled them in still compares equal:
// the report's "bytes used" shows that.
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

const CHUNK = 1024 * 1024;

/**
 * For each copy, null when it equals `src`, else its first difference ("a/b: mtime …"). Names
 * in `notData` at the top of a copy are left out (a tool's own state there, fxcp's `.foxing`).
 */
export function compareCopies(src: string, copies: string[], notData: readonly string[] = []): (string | null)[] {
  const diff: (string | null)[] = copies.map(() => null);
  const bufs = [src, ...copies].map(() => Buffer.allocUnsafe(CHUNK));
  const walk = (rel: string): void => {
    const live = copies.map((_, k) => k).filter((k) => diff[k] === null);
    if (!live.length) return;
    const sa = lstatSync(join(src, rel), { bigint: true });
    const shown = rel || '.';
    const open: number[] = [];
    for (const k of live) {
      const sb = lstatSync(join(copies[k]!, rel), { bigint: true, throwIfNoEntry: false });
      const d = sb ? metaDiff(sa, sb, rel === '') : 'missing';
      if (d) diff[k] = `${shown}: ${d}`;
      else if (sa.isSymbolicLink() && readlinkSync(join(src, rel)) !== readlinkSync(join(copies[k]!, rel))) diff[k] = `${shown}: symlink target differs`;
      else open.push(k);
    }
    if (sa.isFile() && open.length) {
      for (const k of sameBytes(join(src, rel), open.map((k) => join(copies[k]!, rel)), bufs)) diff[open[k]!] = `${shown}: contents differ`;
    } else if (sa.isDirectory() && open.length) {
      const names = readdirSync(join(src, rel)).sort();
      for (const k of open) {
        const other = readdirSync(join(copies[k]!, rel)).filter((n) => rel !== '' || !notData.includes(n)).sort();
        if (other.length !== names.length || other.some((n, i) => n !== names[i])) diff[k] = `${shown}: entries differ (${names.length} in the source, ${other.length} in the copy)`;
      }
      for (const n of names) walk(rel ? `${rel}/${n}` : n);
    }
  };
  walk('');
  return diff;
}

function metaDiff(a: BigIntStats, b: BigIntStats, top: boolean): string | null {
  const type = (s: BigIntStats): bigint => s.mode & 0o170000n;
  if (type(a) !== type(b)) return `type ${type(a).toString(8)} != ${type(b).toString(8)}`;
  if (!a.isSymbolicLink() && (a.mode & 0o7777n) !== (b.mode & 0o7777n)) return `mode ${(a.mode & 0o7777n).toString(8)} != ${(b.mode & 0o7777n).toString(8)}`;
  if (a.uid !== b.uid || a.gid !== b.gid) return `owner ${a.uid}:${a.gid} != ${b.uid}:${b.gid}`;
  if (a.isFile() && a.size !== b.size) return `size ${a.size} != ${b.size}`;
  // The top directory's mtime too: cp -a SRC/. and rsync -a SRC/ both carry it over.
  if (a.mtimeNs !== b.mtimeNs) return `mtime ${a.mtimeNs} != ${b.mtimeNs} ns${top ? ' (the top directory)' : ''}`;
  return null;
}

/** Indexes (into `copies`) of the files whose bytes differ from `src`'s (sizes already equal). */
function sameBytes(src: string, copies: string[], bufs: Buffer[]): number[] {
  const fds = [src, ...copies].map((p) => openSync(p, 'r'));
  const bad = new Set<number>();
  try {
    for (;;) {
      const n = readSync(fds[0]!, bufs[0]!, 0, CHUNK, null);
      for (let k = 0; k < copies.length; k++) {
        if (bad.has(k)) continue;
        let got = 0;
        while (got < n) { const r = readSync(fds[k + 1]!, bufs[k + 1]!, got, n - got, null); if (r === 0) break; got += r; }
        if (got !== n || !bufs[0]!.subarray(0, n).equals(bufs[k + 1]!.subarray(0, n))) bad.add(k);
      }
      if (n === 0 || bad.size === copies.length) break;
    }
  } finally { for (const fd of fds) closeSync(fd); }
  return [...bad];
}
