/** `fxcp snap list STORE`: the snapshots, oldest first. */
import { listSnapshots, shortId, warnDamagedRecords } from '../../snapshot/snapshot-catalogue.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: ArgsFor<'snap list'>, { out, openStore }: CommandContext): Promise<number> {
  await openStore({ lock: 'none', access: 'read', indexWalk: 'catalogue' }, async (store) => {
    const all = listSnapshots(store);
    await warnDamagedRecords(store, all.map((s) => s.id), out.warn);
    out.result({ store: store.root, snapshots: all.map(({ id, record }) => ({ id, ...record })) });
    if (out.json) return;
    const rows = all.map(({ id, record: r }) => [shortId(id), r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), r.tags.join(',') || '-',
      String(r.stats.files), formatBytes(r.stats.bytes), formatBytes(r.stats.storedBytes), r.source]);
    const head = ['ID', 'TIME', 'TAGS', 'FILES', 'SIZE', 'NEW STORED', 'SOURCE'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => (i === 3 || i === 4 || i === 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
    out.line(fmt(head));
    for (const r of rows) out.line(fmt(r));
    out.line(`${all.length} snapshot${all.length === 1 ? '' : 's'}`);
  });
  return EXIT.OK;
}
