/** `fxcp store rebuild-index STORE`: the index is a cache; build it again from packs and records. */
import { withStore } from '../../store/open-store.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../main.js';

export async function run(argv: Record<string, any>, { out }: CommandContext): Promise<number> {
  return withStore(argv.store, { lock: 'exclusive', rebuildIndex: true, command: 'fxcp store rebuild-index', onWarn: out.warn }, async (store) => {
    const warnings = out.warnings;
    const r = await store.rebuildIndex(out.warn);
    out.result({ store: store.root, ...r });
    out.line(`index rebuilt: ${r.packs} packs, ${r.chunks} chunks, ${r.snapshots} snapshots`);
    return out.warnings > warnings ? EXIT.PARTIAL : EXIT.OK;
  });
}
