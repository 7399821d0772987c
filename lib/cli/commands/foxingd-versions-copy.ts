/** `foxingd versions copy FILE VERSION OUT`: a version of FILE written to OUT, a new file. */
import { pickVersion } from '../../daemon/file-versions.js';
import { findVersioned, writeVersion } from '../../daemon/version-access.js';
import { withStore } from '../../store/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: FoxingdArgs<'versions copy'>, { out, signal }: CommandContext): Promise<number> {
  const v = findVersioned(argv.file);
  await withStore(v.store, { lock: 'shared', access: 'read', command: 'foxingd versions copy', onWarn: out.warn, signal }, async (store) => {
    const pick = pickVersion(store, v.file, argv.version);
    const bytes = await writeVersion(store, pick.record, argv.out, false, out.warn, signal);
    out.result({ file: v.file, version: pick.id, out: argv.out, bytes });
    out.line(`version ${pick.id.slice(0, 12)} of ${v.file} (${pick.record.time}) written to ${argv.out}: ${formatBytes(bytes)}`);
  });
  return EXIT.OK;
}
