/** `fxcp store upgrade STORE [-n]`: raise the store's format version to this fxcp's (lib/store/store-upgrade.ts). */
import { upgradeStore } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';

export async function run(argv: ArgsFor<'store upgrade'>, { out, openStore }: CommandContext): Promise<number> {
  const dryRun = argv.dryRun === true;
  await openStore({ lock: dryRun ? 'shared' : 'exclusive' }, async (store) => {
    const u = await upgradeStore(store, { dryRun });
    out.result({ store: store.root, from: u.from, to: u.to, changed: u.changed, dryRun });
    if (u.from === u.to) out.line(`store ${store.root} is at format version ${u.to} already: nothing to do`);
    else if (!u.changed) out.line(`would upgrade store ${store.root} from format version ${u.from} to ${u.to} (dry run: nothing changed)`);
    else out.line(`upgraded store ${store.root} from format version ${u.from} to ${u.to}: new snapshots bundle small chunks; an fxcp older than this one refuses the store now`);
  });
  return EXIT.OK;
}
