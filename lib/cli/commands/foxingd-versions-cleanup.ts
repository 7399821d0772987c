/** `foxingd versions cleanup FILE [--dry-run]`: the versions policy applied to FILE now, and gc. */
import { applyPolicy } from '../../daemon/file-versions.js';
import { findVersioned, recordedPolicy } from '../../daemon/version-access.js';
import { collectGarbage } from '../../snapshot/garbage-collect.js';
import { withStore } from '../../store/index.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes } from '../output.js';
import { UsageError } from '../../errors/index.js';

export async function run(argv: FoxingdArgs<'versions cleanup'>, { out, signal }: CommandContext): Promise<number> {
  const v = findVersioned(argv.file);
  const recorded = recordedPolicy(v.target);
  const policy = {
    maxVersions: argv.maxVersions === undefined ? recorded.maxVersions : positive(argv.maxVersions, '--max-versions', true),
    maxBytes: argv.maxSizeMb === undefined ? recorded.maxBytes : Math.round(positive(argv.maxSizeMb, '--max-size-mb', false) * 1024 * 1024),
  };
  const dryRun = argv.dryRun === true;
  await withStore(v.store, { lock: 'exclusive', command: 'foxingd versions cleanup', onWarn: out.warn, signal }, async (store) => {
    const dropped = await applyPolicy(store, v.file, policy, { dryRun, forcedToo: argv.includeForced === true });
    const gc = dryRun || dropped.length === 0 ? null : await collectGarbage(store, { onWarn: out.warn, signal });
    out.result({ file: v.file, policy, dryRun, dropped, freedBytes: gc?.freedBytes ?? 0 });
    for (const id of dropped) out.line(`${dryRun ? 'would drop' : 'dropped'} version ${id.slice(0, 12)}`);
    out.line(`${dropped.length} version${dropped.length === 1 ? '' : 's'} of ${v.file} ${dryRun ? 'would be ' : ''}dropped (keeping at most ${policy.maxVersions}, ${formatBytes(policy.maxBytes)})` +
      (gc ? `; ${formatBytes(gc.freedBytes)} freed` : ''));
  });
  return EXIT.OK;
}

function positive(text: string, option: string, whole: boolean): number {
  const n = Number(text);
  if (!(n > 0) || (whole && !Number.isInteger(n))) throw new UsageError(`${option} takes a ${whole ? 'whole number of 1 or more' : 'number above 0'}, not '${text}'`);
  return n;
}
