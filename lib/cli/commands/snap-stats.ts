/**
 * `fxcp snap stats STORE`: per snapshot and in total, apparent size, bytes referenced (after
 * dedup within the snapshot) raw and stored, savings, unique bytes (what deleting the snapshot
 * would free), and the size histogram of referenced data chunks. Exit 1 when a chunk a tree
 * names is missing from the store (each named on stderr; the numbers leave it out).
 */
import { snapshotStats, type UsageCounts } from '../../snapshot/snapshot-stats.js';
import { shortId } from '../../snapshot/snapshot-catalogue.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: ArgsFor<'snap stats'>, { out, signal, openStore }: CommandContext): Promise<number> {
  return openStore({ lock: 'shared', access: 'read' }, async (store) => {
    const u = await snapshotStats(store, { onWarn: out.warn, signal });
    out.result({ store: store.root, ...u });
    if (!out.json) {
      const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
      const head = ['ID', 'TIME', 'FILES', 'APPARENT', 'REFERENCED', 'STORED', 'SAVED', 'UNIQUE STORED'];
      const rows = u.snapshots.map((s) => [shortId(s.id), s.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), String(s.files),
        formatBytes(s.apparentBytes), formatBytes(s.referenced.rawBytes), formatBytes(s.referenced.storedBytes), pct(s.savings),
        formatBytes(s.unique.storedBytes)]);
      const t = u.total;
      rows.push(['total', `${t.snapshots} snapshots`, '', formatBytes(t.apparentBytes), formatBytes(t.referenced.rawBytes),
        formatBytes(t.referenced.storedBytes), pct(t.savings), '']);
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const fmt = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
      out.line(fmt(head));
      for (const r of rows) out.line(fmt(r));
      out.line();
      out.line(`referenced   ${counts(t.referenced)}  (${t.referenced.dataChunks} data, ${t.referenced.treeChunks} tree chunks)`);
      out.line(`unreferenced ${counts(t.unreferenced)}  (gc would free these)`);
      if (t.missingChunks > 0) out.line(`missing      ${t.missingChunks} chunks (named above)`);
      out.line();
      out.line('data chunk sizes (raw):');
      const most = Math.max(1, ...u.histogram.map((b) => b.chunks));
      for (const b of u.histogram) {
        const range = `${formatBytes(b.from)} – ${formatBytes(b.to)}`;
        out.line(`  ${range.padEnd(22)} ${String(b.chunks).padStart(9)} chunks  ${formatBytes(b.bytes).padStart(10)}  ${'#'.repeat(Math.ceil((b.chunks / most) * 30))}`);
      }
    }
    return u.total.missingChunks > 0 ? EXIT.PARTIAL : EXIT.OK;
  });
}

function counts(c: UsageCounts): string {
  return `${c.chunks} chunks, ${formatBytes(c.rawBytes)} raw, ${formatBytes(c.storedBytes)} stored`;
}
