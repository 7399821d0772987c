/** `fxcp store init STORE [--create-bucket]`: an empty store, ready for `snap create` from several hosts. */
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';

export async function run(argv: ArgsFor<'store init'>, { out, openStore }: CommandContext): Promise<number> {
  await openStore({ lock: 'none', create: true, createBucket: argv.createBucket === true }, async (store) => {
    out.result({ store: store.root, id: store.config.id });
    out.line(`store ${store.root} ready (id ${store.config.id})`);
  });
  return EXIT.OK;
}
