/** `foxingd check --config FILE`: each problem of the configuration on a line; exit 0 when there is none. */
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { loadDaemonConfig } from '../foxingd-config-file.js';
import type { FoxingdArgs } from '../foxingd-table.js';

export async function run(argv: FoxingdArgs<'check'>, { out }: CommandContext): Promise<number> {
  const c = loadDaemonConfig(argv.config, out);
  const mirrors = c.sources.reduce((n, s) => n + s.targets.length, 0), stores = c.sources.filter((s) => s.store).length;
  out.result({ ok: true, sources: c.sources.length, mirrors, stores });
  out.line(`${argv.config}: sound: ${c.sources.length} source${c.sources.length === 1 ? '' : 's'}, ${mirrors} mirror${mirrors === 1 ? '' : 's'}, ${stores} with a store`);
  return EXIT.OK;
}
