/**
 * `fxcp snap inspect ARCHIVE [--list] [--verify]`: what an archive holds; its files; a full
 * verification naming every damaged chunk and the files it affects (exit 1 when any). A Foxing
 * (Rust) archive is told by its first bytes and inspected by ../foxing-archive.ts.
 *
 * --list streams, tree by tree: a line per entry as it is walked, never the archive's file
 * list in memory. With --json too the output is JSON Lines (docs/archives.md): an object per
 * entry, then one {"summary": ...} object with what `inspect --json` prints without --list.
 */
import { readFileHead } from '../../fxar/archive-io.js';
import { requireFxar, SNIFF_BYTES, sniffArchiveKind } from '../../fxar/archive-kind.js';
import { ArchiveReader } from '../../fxar/archive-reader.js';
import { summarizeArchive, verifyArchive, walkSnapshot } from '../../fxar/inspect-archive.js';
import { shortId } from '../../snapshot/snapshot-catalogue.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: ArgsFor<'snap inspect'>, { out, signal }: CommandContext): Promise<number> {
  const head = readFileHead(argv.archive, SNIFF_BYTES);
  const kind = sniffArchiveKind(head);
  if (kind === 'foxing-fxar') return (await import('../foxing-archive.js')).inspectFoxing(argv.archive, argv, out, signal);
  requireFxar(kind, argv.archive, head.length === 0);
  const ar = ArchiveReader.openFile(argv.archive);
  try {
    const snaps = ar.listSnapshots();
    const summary = summarizeArchive(ar, snaps);
    const doc: Record<string, unknown> = { ...summary };
    if (!out.json) {
      out.line(`${ar.path}: FXAR v2 archive, ${formatBytes(summary.bytes)}, ${summary.snapshots.length} snapshot${summary.snapshots.length === 1 ? '' : 's'}, ` +
        `${summary.chunks} chunks (${summary.dataChunks} data, ${summary.treeChunks} tree)`);
      out.line(`  logical ${formatBytes(summary.logicalBytes)}, unique data ${formatBytes(summary.uniqueBytes)}, dedup ratio ${summary.dedupRatio.toFixed(2)}x`);
      out.line(`  codecs: ${Object.entries(summary.codecs).map(([k, v]) => `${k} ${v.chunks} chunks ${formatBytes(v.storedBytes)}`).join(', ')}`);
      for (const s of summary.snapshots) {
        out.line(`  ${shortId(s.id)}  ${s.time}  ${String(s.files).padStart(7)} files  ${formatBytes(s.bytes).padStart(10)}  ${s.tags.join(',') || '-'}  ${s.source}`);
      }
    }
    if (argv.list) {
      for (const snap of snaps) {
        if (snaps.length > 1) out.line(`snapshot ${shortId(snap.id)} (${snap.record.time}):`);
        await walkSnapshot(ar, snap, (path, e) => {
          if (out.json) out.record({ snapshot: snap.id, path, type: e.type, size: e.size });
          else out.line(`${e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : e.type === 'file' ? '-' : '?'} ${String(e.size).padStart(12)}  ${path}${e.type === 'dir' ? '/' : ''}`);
        }, undefined, signal);
      }
    }
    let damaged = false;
    if (argv.verify) {
      const v = await verifyArchive(ar, signal);
      doc.verify = v;
      for (const d of v.damaged) out.warn('DAMAGED_CHUNK', d.message, { chunk: d.chunk, offset: d.offset });
      for (const p of v.problems) out.warn('DAMAGED_ARCHIVE', p);
      for (const a of v.affected) out.warn('AFFECTED_FILE', `snapshot ${shortId(a.snapshot)}: ${a.path}: needs a damaged chunk`, a);
      damaged = v.damaged.length > 0 || v.problems.length > 0;
      out.line(damaged
        ? `verify: ${v.damaged.length} of ${v.chunks} chunks damaged, ${v.affected.length} files affected, ${v.problems.length} other problems`
        : `verify: all ${v.chunks} chunks, the index and every snapshot's trees are intact`);
    }
    if (argv.list) out.record({ summary: doc });
    else out.result(doc);
    return damaged ? EXIT.PARTIAL : EXIT.OK;
  } finally {
    ar.close();
  }
}
