/** `fxcp store rebuild-index STORE`: the index is a cache; build it again from packs and records. */
import { rewriteDamagedRecords } from '../../snapshot/record-rescue.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';

export async function run(_argv: ArgsFor<'store rebuild-index'>, { out, openStore }: CommandContext): Promise<number> {
  return openStore({ lock: 'exclusive', rebuildIndex: true }, async (store) => {
    const warnings = out.warnings;
    let rewritten = 0;
    // A damaged record's good copy lives only in the old index: rescued before it goes.
    const r = await store.rebuildIndex(out.warn, { rescue: async (old) => { rewritten = (await rewriteDamagedRecords(store, old, out.warn)).length; } });
    out.result({ store: store.root, ...r, rewrittenSnapshots: rewritten });
    out.line(`index rebuilt: ${r.packs} packs, ${r.chunks} chunks, ${r.snapshots} snapshots` +
      (rewritten > 0 ? `; ${rewritten} damaged snapshot record${rewritten === 1 ? '' : 's'} rewritten from the old index` : ''));
    // A rewritten record is repaired in full: only what was skipped makes this partial.
    return out.warnings - rewritten > warnings ? EXIT.PARTIAL : EXIT.OK;
  });
}
