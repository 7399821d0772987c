// The scale set (issue 25): N small text files of 100 to 4,000 bytes in 10,000 directories,
// as the probe had them (1M files: 100 a directory; 3M: 300). File i lives in
// directory i % 10,000, so the 3M tree is the 1M tree plus more files in the same directories,
// and a tree made once is extended, not made again. Contents are seeded slices of a text-like
// corpus (words of a seeded vocabulary), each headed by its own number: no two files are equal
// (no whole-file dedup flatters a tool) and they compress like text.
//
// The 1 % change: the files numbered below N/100 get a line inserted in the middle. File i is
// in directory i % 10,000, so every directory gets N/1,000,000 changed files (every tree is
// rewritten, as in the 1 %-changed snapshot). A kept tree is put back before use.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCALE_SET_VERSION = 1;
export const SCALE_DIRS = 10_000;
const MIN_BYTES = 100;
const MAX_BYTES = 4000;
const CORPUS_BYTES = 1 << 20;

/** A small fast seeded generator (mulberry32): the same tree on every machine. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let corpusCache: Buffer | null = null;

/** 1 MiB of text: lines of words from a seeded 4,096-word vocabulary. */
function corpus(): Buffer {
  if (corpusCache) return corpusCache;
  const r = rng(25);
  const letters = 'etaoinshrdlucmfwypvbgkjqxz';
  const vocab = Array.from({ length: 4096 }, () => {
    const n = 2 + Math.floor(r() * r() * 10);
    let w = '';
    for (let k = 0; k < n; k++) w += letters[Math.floor(r() * r() * letters.length)];
    return w;
  });
  const parts: string[] = [];
  let size = 0, line = 0;
  while (size < CORPUS_BYTES) {
    const w = vocab[Math.floor(r() * r() * vocab.length)]!;
    const sep = ++line % 12 === 0 ? '\n' : ' ';
    parts.push(w, sep);
    size += w.length + 1;
  }
  corpusCache = Buffer.from(parts.join('')).subarray(0, CORPUS_BYTES);
  return corpusCache;
}

/** Where file `i` lives, relative to the tree. */
export function scaleFileRel(i: number): string {
  const d = i % SCALE_DIRS;
  return `d${String(Math.floor(d / 100)).padStart(3, '0')}/s${String(d % 100).padStart(2, '0')}/f${String(Math.floor(i / SCALE_DIRS)).padStart(4, '0')}.txt`;
}

/** File `i`'s contents: its number, then a seeded slice of the corpus. */
export function scaleFileBytes(i: number): Buffer {
  const r = rng(i * 2654435761);
  const size = MIN_BYTES + Math.floor(r() * (MAX_BYTES - MIN_BYTES + 1));
  const c = corpus();
  const head = Buffer.from(`# file ${i}\n`);
  const at = Math.floor(r() * (c.length - MAX_BYTES));
  return Buffer.concat([head, c.subarray(at, at + size - head.length)]);
}

/** File `i` after the 1 % change: a line inserted in the middle. */
function changedBytes(i: number): Buffer {
  const b = scaleFileBytes(i);
  const mid = b.length >> 1;
  return Buffer.concat([b.subarray(0, mid), Buffer.from(`\nchanged line of file ${i}\n`), b.subarray(mid)]);
}

interface Stamp { count: number; changed: number }

function readStamp(root: string): Stamp {
  try {
    const [v, count, changed] = readFileSync(join(root, '.scale-stamp'), 'utf8').trim().split(' ').map(Number);
    if (v === SCALE_SET_VERSION) return { count: count!, changed: changed ?? 0 };
  } catch { /* no tree yet */ }
  return { count: 0, changed: 0 };
}

function writeStamp(root: string, st: Stamp): void {
  writeFileSync(join(root, '.scale-stamp'), `${SCALE_SET_VERSION} ${st.count} ${st.changed}\n`);
}

/**
 * Makes the tree at `root` hold exactly files 0 to n - 1, unchanged: a kept tree (the stamp
 * says how many files it holds and how many the last change rewrote) is extended, cut back or
 * put back as needed rather than made again.
 */
export function scaleTree(root: string, n: number, log: (m: string) => void): void {
  const st = readStamp(root);
  if (st.count === 0) for (let d = 0; d < SCALE_DIRS; d++) mkdirSync(join(root, scaleFileRel(d), '..'), { recursive: true });
  for (let i = 0; i < Math.min(st.changed, st.count, n); i++) writeFileSync(join(root, scaleFileRel(i)), scaleFileBytes(i));
  if (st.count > n) log(`scale set: removing files ${n.toLocaleString('en-US')} to ${st.count.toLocaleString('en-US')} under ${root}`);
  for (let i = n; i < st.count; i++) rmSync(join(root, scaleFileRel(i)), { force: true });
  if (st.count < n) log(`scale set: writing files ${st.count.toLocaleString('en-US')} to ${n.toLocaleString('en-US')} under ${root}`);
  for (let i = st.count; i < n; i++) {
    writeFileSync(join(root, scaleFileRel(i)), scaleFileBytes(i));
    if (i % 250_000 === 249_999) log(`  ${(i + 1).toLocaleString('en-US')} files`);
  }
  writeStamp(root, { count: n, changed: 0 });
}

/** Applies the 1 % change to the `n`-file tree (files 0 to n/100 - 1); returns their new bytes. */
export function applyScaleChange(root: string, n: number): number {
  const changed = Math.floor(n / 100);
  writeStamp(root, { count: n, changed });
  let bytes = 0;
  for (let i = 0; i < changed; i++) {
    const b = changedBytes(i);
    writeFileSync(join(root, scaleFileRel(i)), b);
    bytes += b.length;
  }
  return bytes;
}
