/**
 * From the manifest's flat file list to snapshots of safe relative paths. Pure.
 *
 * A manifest path is `<snapshot>/tree/<relative path>`. The reference wrote whatever its walk
 * found and its restore joined it to the target unchecked, so here every path is checked before
 * anything can write it: refused (with the reason, and the file left out) are absolute paths,
 * empty, `.` or `..` components, NUL bytes, components over 255 bytes, and paths not of the
 * `<snapshot>/tree/<path>` form. A name in the `snapshots` list must be a valid component too.
 * Within a snapshot, a path listed twice keeps its later entry (as a later tar member replaces an
 * earlier one), and a file whose path is also a directory of other files is left out (a
 * directory cannot be a file too). Each of these is a `PathProblem` the caller reports.
 *
 * Snapshots come in the manifest's `snapshots` order, then any named only by a path, in order of
 * first appearance. A snapshot's time comes from its name (`YYYY-MM-DDTHHMMSS`, read as UTC: the
 * format records no zone), else from the manifest's `created`, else the epoch.
 */
import type { FoxingFile, FoxingManifest } from './foxing-manifest.js';

export interface FoxingEntry { file: FoxingFile; /** Components, each non-empty, never '.' or '..'. */ parts: string[]; rel: string }

export interface FoxingSnapshot {
  name: string;
  /** ISO 8601 UTC. */
  time: string;
  /** Sorted by components as bytes (tree order: a directory's entries are contiguous). */
  entries: FoxingEntry[];
  bytes: number;
}

export interface PathProblem { path: string; why: string }

const SNAP_NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})$/;

export function snapshotTime(name: string, created: string): string {
  const m = SNAP_NAME.exec(name);
  if (m) {
    const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    if (!Number.isNaN(t) && new Date(t).toISOString().startsWith(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`)) return new Date(t).toISOString();
  }
  const c = Date.parse(created);
  return new Date(Number.isNaN(c) ? 0 : c).toISOString();
}

/** Longest name (bytes) a component may have: Linux's NAME_MAX. */
const NAME_MAX = 255;

/** Why `name` cannot be one path component (a file or directory name), or null. */
function badComponent(name: string): string | null {
  if (name === '') return 'has an empty component';
  if (name === '.' || name === '..') return `contains '${name}'`;
  if (name.includes('/')) return "contains '/'";
  if (name.includes('\0')) return 'contains a NUL byte';
  if (Buffer.byteLength(name, 'utf8') > NAME_MAX) return `has a component longer than ${NAME_MAX} bytes`;
  return null;
}

/** Why `path` cannot be restored, or its snapshot and components. */
export function splitManifestPath(path: string): { snapshot: string; parts: string[] } | { why: string } {
  if (path.startsWith('/')) return { why: 'is absolute' };
  if (path.includes('\0')) return { why: 'contains a NUL byte' };
  const parts = path.split('/');
  for (const p of parts) {
    const why = badComponent(p);
    if (why) return { why };
  }
  if (parts.length < 3 || parts[1] !== 'tree') return { why: "is not of the form '<snapshot>/tree/<path>'" };
  return { snapshot: parts[0], parts: parts.slice(2) };
}

function compareParts(a: FoxingEntry, b: FoxingEntry): number {
  const n = Math.min(a.parts.length, b.parts.length);
  for (let i = 0; i < n; i++) {
    const c = Buffer.compare(Buffer.from(a.parts[i], 'utf8'), Buffer.from(b.parts[i], 'utf8'));
    if (c !== 0) return c;
  }
  return a.parts.length - b.parts.length;
}

const isPrefix = (a: string[], b: string[]) => a.length < b.length && a.every((p, i) => p === b[i]);

export function groupSnapshots(m: FoxingManifest): { snapshots: FoxingSnapshot[]; problems: PathProblem[] } {
  const problems: PathProblem[] = [];
  const byName = new Map<string, FoxingEntry[]>();
  for (const name of m.snapshots) {
    // A listed name becomes a directory name (the snapshot's root): it must be a valid one.
    const why = badComponent(name);
    if (why) problems.push({ path: name, why: `(a snapshot name) ${why}; ignored` });
    else if (!byName.has(name)) byName.set(name, []);
  }
  for (const file of m.files) {
    const s = splitManifestPath(file.path);
    if ('why' in s) { problems.push({ path: file.path, why: `${s.why}; refused` }); continue; }
    let list = byName.get(s.snapshot);
    if (!list) byName.set(s.snapshot, list = []);
    list.push({ file, parts: s.parts, rel: s.parts.join('/') });
  }
  const snapshots: FoxingSnapshot[] = [];
  for (const [name, list] of byName) {
    // Stable sort: among equal paths the manifest's order stays, and the last one is kept.
    const sorted = list.map((e, i) => ({ e, i })).sort((x, y) => compareParts(x.e, y.e) || x.i - y.i).map((x) => x.e);
    const entries: FoxingEntry[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const e = sorted[i];
      const next = sorted[i + 1];
      if (next && compareParts(e, next) === 0) { problems.push({ path: e.file.path, why: 'is listed again later; the later entry is used' }); continue; }
      if (next && isPrefix(e.parts, next.parts)) { problems.push({ path: e.file.path, why: 'is also a directory of other files; left out' }); continue; }
      entries.push(e);
    }
    snapshots.push({ name, time: snapshotTime(name, m.created), entries, bytes: entries.reduce((n, e) => n + e.file.size, 0) });
  }
  return { snapshots, problems };
}
