/** `foxingd versions revert FILE VERSION`: a version of FILE put back in its place, atomically. */
import { pickVersion } from '../../daemon/file-versions.js';
import { findVersioned, writeVersion } from '../../daemon/version-access.js';
import { withStore } from '../../store/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: FoxingdArgs<'versions revert'>, { out, signal }: CommandContext): Promise<number> {
  const v = findVersioned(argv.file);
  await withStore(v.store, { lock: 'shared', access: 'read', command: 'foxingd versions revert', onWarn: out.warn, signal }, async (store) => {
    const pick = pickVersion(store, v.file, argv.version);
    const bytes = await writeVersion(store, pick.record, v.file, true, out.warn, signal);
    out.result({ file: v.file, version: pick.id, bytes });
    out.line(`${v.file} reverted to version ${pick.id.slice(0, 12)} (${pick.record.time}): ${formatBytes(bytes)}`);
  });
  return EXIT.OK;
}
