/** `fxcp store repair STORE`: rebuild the index, salvage and quarantine damaged packs and records. */
import { shortId } from '../../snapshot/snapshot-catalogue.js';
import { repairStore } from '../../snapshot/store-repair.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';

export async function run(_argv: ArgsFor<'store repair'>, { out, signal, openStore }: CommandContext): Promise<number> {
  const r = await openStore({ lock: 'exclusive', rebuildIndex: true },
    (store) => repairStore(store, { onWarn: out.warn, signal }));
  // A record rewritten from its good copy is repaired in full: it alone does not make exit 1.
  const nothing = r.damagedPacks.length === 0 && r.quarantinedSnapshots.length === 0;
  out.result({ clean: nothing && r.rewrittenSnapshots.length === 0 && r.check.problems.length === 0, ...r });
  for (const s of r.rewrittenSnapshots) out.line(`rewrote snapshot record ${shortId(s.snapshot)} from the index's verified copy: ${s.reason}`);
  for (const s of r.quarantinedSnapshots) out.line(`quarantined snapshot record ${shortId(s.snapshot)}: ${s.reason}`);
  for (const p of r.damagedPacks) {
    out.line(`quarantined pack ${p.pack.slice(0, 16)}: ${p.salvaged} chunks salvaged${p.lost !== null ? `, ${p.lost} lost` : ''} (${p.reason})`);
  }
  for (const p of r.check.problems) {
    out.line(`remaining ${p.code}: ${p.message}`);
    for (const a of p.affects ?? []) out.line(`    affects snapshot ${shortId(a.snapshot)}: ${a.path}`);
  }
  out.line(`verified ${r.packsVerified} packs; ${nothing && r.rewrittenSnapshots.length === 0 ? 'nothing damaged; index rebuilt' : `${r.rewrittenSnapshots.length} snapshot records rewritten, ${r.damagedPacks.length} packs and ${r.quarantinedSnapshots.length} snapshot records quarantined, ${r.packsWritten} packs written`}` +
    (r.check.problems.length > 0 ? `; ${r.check.problems.length} problems remain (snapshots above lost data; their other files restore)` : ''));
  return nothing && r.check.problems.length === 0 ? EXIT.OK : EXIT.PARTIAL;
}
