/** `foxingd versions list FILE`: the versions a versioned mirror keeps of FILE, oldest first. */
import { versionsOf } from '../../daemon/file-versions.js';
import { findVersioned } from '../../daemon/version-access.js';
import { isForced } from '../../daemon/version-policy.js';
import { withStore } from '../../store/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes } from '../output.js';

export async function run(argv: FoxingdArgs<'versions list'>, { out }: CommandContext): Promise<number> {
  const v = findVersioned(argv.file);
  const versions = await withStore(v.store, { lock: 'none', access: 'read', command: 'foxingd versions list', onWarn: out.warn }, async (store) => versionsOf(store, v.file));
  out.result({ file: v.file, store: v.store, versions });
  out.line(`VERSION       TIME                  ${'SIZE'.padStart(9)}  TAGS`);
  for (const x of versions) {
    out.line(`${x.id.slice(0, 12)}  ${x.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${formatBytes(x.bytes).padStart(9)}  ${isForced(x) ? x.tags.filter((t) => t !== 'foxingd-version').join(',') : '-'}`);
  }
  out.line(`${versions.length} version${versions.length === 1 ? '' : 's'} of ${v.file}`);
  return EXIT.OK;
}
