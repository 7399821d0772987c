/** `fxcp store gc STORE`: delete chunks no snapshot references; repack mostly-garbage packs. */
import { UsageError } from '../../errors/index.js';
import { collectGarbage, type GcResult } from '../../snapshot/garbage-collect.js';
import { DEFAULT_REPACK_THRESHOLD } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';
import { progressFor } from '../progress-bar.js';

/** "25%" or "0.25" → 0.25; "100%" repacks only packs that are wholly garbage (they are deleted). */
export function parseRepackThreshold(text: string | undefined): number {
  if (text === undefined) return DEFAULT_REPACK_THRESHOLD;
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(text);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v >= 0 && v <= 1)) throw new UsageError(`--repack-threshold must be a percentage 0%..100% (got '${text}')`);
  return v === 1 ? 1.01 : v;
}

export function gcJson(g: GcResult): Record<string, unknown> {
  return { ...g };
}

export function describeGc(g: GcResult, dryRun: boolean): string {
  const freed = `${formatBytes(Math.max(0, g.freedBytes))} ${dryRun ? 'would be freed' : 'freed'}`;
  const act = dryRun
    ? `${g.packsDeleted} packs would be deleted, ${g.packsRepacked} repacked`
    : `${g.packsDeleted} packs deleted, ${g.packsRepacked} repacked into ${g.packsWritten}`;
  return `gc: ${g.snapshots} snapshots, ${g.trees} trees, ${g.liveChunks} live chunks marked (${formatBytes(g.markBytes)} mark table); ` +
    `${g.packs} packs: ${act}; ${g.garbageChunks} garbage chunks; ${freed}` +
    (g.garbageKeptBytes > 0 ? `; ${formatBytes(g.garbageKeptBytes)} of garbage left in packs under the repack threshold` : '') +
    (g.damagedPacks.length > 0 ? `; ${g.damagedPacks.length} damaged packs left alone` : '');
}

export async function run(argv: ArgsFor<'store gc'>, { out, signal, openStore }: CommandContext): Promise<number> {
  const dryRun = argv.dryRun;
  const bar = progressFor(argv.progress, out.json, 'gc');
  const g = await openStore({ lock: dryRun ? 'shared' : 'exclusive' },
    (store) => collectGarbage(store, { dryRun, repackThreshold: parseRepackThreshold(argv.repackThreshold), forgetQuarantined: argv.forgetQuarantined, onWarn: out.warn, signal, progress: bar?.counters }))
    .finally(() => bar?.stop());
  out.result({ dryRun, gc: gcJson(g) });
  for (const id of g.quarantined) {
    out.line(g.forgetQuarantined ? `${dryRun ? 'would forget' : 'forgot'} quarantined snapshot record ${id}`
      : `quarantined snapshot record ${id} holds this gc back: the figures below are for after 'fxcp store gc --forget-quarantined'`);
  }
  out.line(describeGc(g, dryRun));
  return g.damagedPacks.length > 0 ? EXIT.PARTIAL : EXIT.OK;
}
