/** `fxcp store stats STORE`: logical bytes, stored bytes, chunks, dedup ratio. */
import { listSnapshots } from '../../snapshot/snapshot-catalogue.js';
import { STORE_VERSION } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: ArgsFor<'store stats'>, { out, openStore }: CommandContext): Promise<number> {
  await openStore({ lock: 'none', access: 'read', indexWalk: 'catalogue' }, async (store) => {
    const t = store.index.totals();
    const snaps = listSnapshots(store);
    const logical = snaps.reduce((s, x) => s + x.record.stats.bytes, 0);
    const doc = {
      store: store.root, formatVersion: store.config.version, snapshots: snaps.length, logicalBytes: logical, uniqueBytes: t.rawBytes, storedBytes: t.storedBytes,
      packBytes: t.packBytes, packs: t.packs, chunks: t.chunks,
      dedupRatio: t.rawBytes > 0 ? logical / t.rawBytes : null,
      compressionRatio: t.storedBytes > 0 ? t.rawBytes / t.storedBytes : null,
      totalRatio: t.packBytes > 0 ? logical / t.packBytes : null,
    };
    out.result(doc);
    const r = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}x`);
    out.line(`store        ${store.root}`);
    out.line(`format       version ${store.config.version}${store.config.version < STORE_VERSION ? ` (this fxcp writes ${STORE_VERSION}: 'fxcp store upgrade' lets new snapshots bundle small chunks)` : ''}`);
    out.line(`snapshots    ${snaps.length}`);
    out.line(`logical      ${formatBytes(logical)}  (sum of all snapshots' file sizes)`);
    out.line(`unique       ${formatBytes(t.rawBytes)}  in ${t.chunks} chunks  (dedup ${r(doc.dedupRatio)})`);
    out.line(`stored       ${formatBytes(t.storedBytes)}  (compression ${r(doc.compressionRatio)})`);
    out.line(`packs        ${t.packs} packs, ${formatBytes(t.packBytes)} on disk  (overall ${r(doc.totalRatio)})`);
  });
  return EXIT.OK;
}
