/** `foxingd versions force FILE --tag T`: FILE as it is now, kept as a tagged version outside the policy. */
import { recordVersion } from '../../daemon/file-versions.js';
import { findVersioned } from '../../daemon/version-access.js';
import { withStore } from '../../store/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';

export async function run(argv: FoxingdArgs<'versions force'>, { out, signal }: CommandContext): Promise<number> {
  const v = findVersioned(argv.file);
  const id = await withStore(v.store, { lock: 'shared', command: 'foxingd versions force', onWarn: out.warn, signal },
    (store) => recordVersion(store, v.file, [argv.tag], out.warn, signal));
  out.result({ file: v.file, version: id, tag: argv.tag });
  out.line(`version ${id.slice(0, 12)} of ${v.file} recorded, tagged ${argv.tag}`);
  return EXIT.OK;
}
