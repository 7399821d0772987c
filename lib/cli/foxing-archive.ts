/**
 * The Foxing (Rust) archive branch of `snap inspect`, `snap import` and `snap restore`: each
 * command tells the archive's kind from its first bytes (lib/fxar/archive-kind.ts) and hands a
 * Foxing one here. The work is lib/fxar/foxing-v2; this file prints and picks exit codes.
 */
import { join, resolve } from 'node:path';
import { NotFoundError, UsageError } from '../errors/index.js';
import { requireFreeSpace } from '../fs/free-space.js';
import { FileReader, type PositionalReader } from '../fxar/positional-file.js';
import { FoxingReader, groupSnapshots, type FoxingSnapshot } from '../fxar/foxing-v2/index.js';
import { summarizeFoxing, verifyFoxing } from '../fxar/foxing-v2/foxing-inspect.js';
import { restoreFoxing, selectEntries } from '../fxar/foxing-v2/foxing-restore.js';
import { parseDate, shortId, type SnapshotSelector } from '../snapshot/snapshot-catalogue.js';
import type { Store } from '../store/index.js';
import { DIRS } from '../store/index.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';
import { formatBytes } from './output.js';

const mode = (m: number) => (m & 0o7777).toString(8).padStart(4, '0');

export async function inspectFoxing(path: string, argv: { list?: boolean; verify?: boolean }, out: Output, signal: AbortSignal): Promise<number> {
  const r = await FoxingReader.open(FileReader.open(path));
  try {
    const { snapshots, problems } = groupSnapshots(r.manifest);
    const s = summarizeFoxing(r, snapshots, problems);
    const doc: Record<string, unknown> = { ...s };
    out.line(`${path}: Foxing (Rust) FXAR v2 archive, ${s.form}${s.footer ? ' with FXAF footer' : ''}, codec ${s.codec}, ${formatBytes(s.bytes)}, ` +
      `${s.snapshots.length} snapshot${s.snapshots.length === 1 ? '' : 's'}, ${s.files} files, ${s.chunks} chunks`);
    out.line(`  logical ${formatBytes(s.logicalBytes)}, unique data ${formatBytes(s.uniqueBytes)}, stored ${formatBytes(s.storedBytes)}${s.created ? `, created ${s.created}` : ''}`);
    for (const snap of s.snapshots) out.line(`  ${snap.name}  ${snap.time}  ${String(snap.files).padStart(7)} files  ${formatBytes(snap.bytes).padStart(10)}`);
    for (const p of problems) out.warn('FOXING_PATH', `${path}: '${p.path}' ${p.why}`, { path: p.path });
    if (argv.list) {
      for (const snap of snapshots) {
        if (snapshots.length > 1) out.line(`snapshot ${snap.name} (${snap.time}):`);
        for (const e of snap.entries) {
          if (out.json) out.record({ snapshot: snap.name, path: e.rel, type: 'file', size: e.file.size, mode: e.file.mode & 0o7777, mtime: e.file.mtime, uid: e.file.uid, gid: e.file.gid });
          else out.line(`- ${mode(e.file.mode)} ${String(e.file.size).padStart(12)}  ${new Date(e.file.mtime * 1000).toISOString().slice(0, 19)}Z  ${e.rel}`);
        }
      }
    }
    let damaged = false;
    if (argv.verify) {
      const v = await verifyFoxing(r, signal);
      doc.verify = v;
      for (const d of v.damagedChunks) out.warn('DAMAGED_CHUNK', d.message, { chunk: d.chunk, offset: d.offset });
      for (const f of v.damagedFiles) out.warn('AFFECTED_FILE', f.message, { path: f.path });
      damaged = v.damagedChunks.length > 0 || v.damagedFiles.length > 0;
      out.line(damaged
        ? `verify: ${v.damagedChunks.length} of ${v.chunks} chunks damaged, ${v.damagedFiles.length} of ${v.files} files do not verify`
        : `verify: all ${v.chunks} chunks match their BLAKE3 ids and all ${v.files} files their whole-file BLAKE3`);
    }
    if (argv.list) out.record({ summary: doc });
    else out.result(doc);
    return damaged || problems.length > 0 ? EXIT.PARTIAL : EXIT.OK;
  } finally {
    r.close();
  }
}

/** A Foxing archive from a file, or from stdin copied to a temporary file in the store. */
export async function importFoxingArchive(archive: string, stream: AsyncIterable<Uint8Array>, store: Store, out: Output, signal: AbortSignal,
  opts: { spaceGuard: import('../fs/space-guard.js').SpaceGuard | undefined; progress: { files: number; bytes: number } }): Promise<number> {
  const where = archive === '-' ? '<stdin>' : archive;
  let src: PositionalReader;
  if (archive === '-') {
    const { spoolToFile } = await import('../fxar/foxing-v2/foxing-spool.js');
    src = await spoolToFile(stream, join(store.localDir, DIRS.tmp), where, { signal, guard: opts.spaceGuard });
  } else {
    src = FileReader.open(archive);
  }
  const r = await FoxingReader.open(src);
  try {
    const { importFoxing } = await import('../fxar/foxing-v2/foxing-import.js');
    const res = await importFoxing(r, store, { source: archive === '-' ? '-' : resolve(archive), signal, onWarn: out.warn, spaceGuard: opts.spaceGuard, progress: opts.progress });
    out.result({ archive: where, store: store.root, format: 'foxing-fxar-v2', ...res });
    const added = res.snapshots.filter((s) => s.added);
    out.line(`imported Foxing archive ${where} into ${store.root}: ${added.length} of ${res.snapshots.length} snapshot${res.snapshots.length === 1 ? '' : 's'} ` +
      `(${res.snapshots.map((s) => `${s.name} as ${shortId(s.id)}${s.added ? '' : ' already present'}`).join(', ')}), ${res.files} files, ${formatBytes(res.bytes)}; ` +
      `${formatBytes(res.dedupBytes)} deduplicated against the store, ${formatBytes(res.newBytes)} new (${formatBytes(res.storedBytes)} stored)` +
      `${res.skipped ? `; ${res.skipped} files left out (named above)` : ''}`);
    return res.skipped > 0 ? EXIT.PARTIAL : EXIT.OK;
  } finally {
    r.close();
  }
}

/** Picks a Foxing snapshot: by name (or unique prefix), the newest at or before a date, or the newest. */
export function chooseFoxingSnapshot(all: FoxingSnapshot[], sel: SnapshotSelector, where: string): FoxingSnapshot {
  const sorted = all.map((s, i) => ({ s, i })).sort((a, b) => (a.s.time < b.s.time ? -1 : a.s.time > b.s.time ? 1 : a.i - b.i)).map((x) => x.s);
  if (sorted.length === 0) throw new NotFoundError(`${where}: archive has no snapshots`, { path: where }, 'NO_SNAPSHOT');
  if (sel.snapshot) {
    const hits = sorted.filter((s) => s.name.startsWith(sel.snapshot!));
    if (hits.length === 0) throw new NotFoundError(`${where}: no snapshot named '${sel.snapshot}' (it has ${sorted.map((s) => s.name).join(', ')})`, { path: where }, 'NO_SNAPSHOT');
    if (hits.length > 1 && !hits.some((s) => s.name === sel.snapshot)) throw new UsageError(`snapshot '${sel.snapshot}' is ambiguous (${hits.length} snapshots match); give more of its name`);
    return hits.find((s) => s.name === sel.snapshot) ?? hits[0];
  }
  if (sel.at) {
    const t = parseDate(sel.at);
    const before = sorted.filter((s) => Date.parse(s.time) <= t);
    if (before.length === 0) throw new NotFoundError(`${where}: no snapshot at or before ${sel.at}`, { path: where }, 'NO_SNAPSHOT');
    return before[before.length - 1];
  }
  return sorted[sorted.length - 1];
}

export async function restoreFoxingArchive(path: string, argv: { output: string; file: string[] }, sel: SnapshotSelector, out: Output, signal: AbortSignal,
  progress: { files: number; bytes: number }): Promise<number> {
  const r = await FoxingReader.open(FileReader.open(path));
  try {
    const { snapshots, problems } = groupSnapshots(r.manifest);
    const snap = chooseFoxingSnapshot(snapshots, sel, path);
    // The refused paths of this snapshot, and those that name no snapshot (absolute ones).
    const refused = problems.filter((p) => p.path.startsWith(`${snap.name}/`) || !p.path.includes('/tree/'));
    for (const p of refused) out.warn('FOXING_PATH', `${path}: '${p.path}' ${p.why}`, { path: p.path });
    const selected = selectEntries(snap, argv.file);
    if (argv.file.length > 0 && selected.length === 0) {
      throw new NotFoundError(`no file of snapshot ${snap.name} matches ${argv.file.map((f) => `'${f}'`).join(', ')}`, { snapshot: snap.name, patterns: argv.file }, 'NO_MATCH');
    }
    requireFreeSpace(argv.output, selected.reduce((n, e) => n + e.file.size, 0), 'the restore');
    const res = await restoreFoxing(r, snap, { target: argv.output, files: argv.file, onWarn: out.warn, signal, progress });
    out.result({ archive: path, format: 'foxing-fxar-v2', snapshot: snap.name, time: snap.time, target: argv.output, ...res, refused });
    out.line(`restored Foxing snapshot ${snap.name} (${snap.time}) to ${argv.output}: ${res.files} files, ${res.dirs} dirs, ${formatBytes(res.bytes)}` +
      `${res.problems.length ? `; ${res.problems.length} failed (named above)` : ''}`);
    return res.problems.length > 0 || refused.length > 0 ? EXIT.PARTIAL : EXIT.OK;
  } finally {
    r.close();
  }
}
