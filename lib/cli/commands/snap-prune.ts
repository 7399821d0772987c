/** `fxcp snap prune STORE`: apply a retention policy, remove the other snapshots, free their space. */
import { UsageError } from '../../errors/index.js';
import { prune } from '../../snapshot/prune.js';
import { parseDuration, type RetentionPolicy } from '../../snapshot/retention-policy.js';
import { shortId } from '../../snapshot/snapshot-catalogue.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { describeGc, gcJson, parseRepackThreshold } from './store-gc.js';
import { progressFor } from '../progress-bar.js';

function count(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (v === 'unlimited') return -1;
  if (!/^(-1|\d+)$/.test(v)) throw new UsageError(`--${name} must be a whole number, or -1 / 'unlimited' (got '${v}')`);
  return Number(v);
}

export function policyFromArgv(argv: ArgsFor<'snap prune'>): RetentionPolicy {
  return {
    last: count(argv.keepLast, 'keep-last'), hourly: count(argv.keepHourly, 'keep-hourly'), daily: count(argv.keepDaily, 'keep-daily'),
    weekly: count(argv.keepWeekly, 'keep-weekly'), monthly: count(argv.keepMonthly, 'keep-monthly'), yearly: count(argv.keepYearly, 'keep-yearly'),
    keepTags: argv.keepTag, onlyTags: argv.tag,
    within: argv.olderThan !== undefined ? parseDuration(argv.olderThan) : undefined,
  };
}

export async function run(argv: ArgsFor<'snap prune'>, { out, signal, openStore }: CommandContext): Promise<number> {
  const policy = policyFromArgv(argv);
  const groupBy = argv.groupBy;
  const timeZone = argv.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const dryRun = argv.dryRun;
  const bar = progressFor(argv.progress, out.json, 'prune');
  const r = await openStore({ lock: dryRun ? 'shared' : 'exclusive' },
    (store) => prune(store, {
      policy, clock: { now: Date.now(), timeZone }, groupBy, dryRun, repackThreshold: parseRepackThreshold(argv.repackThreshold), onWarn: out.warn, signal, progress: bar?.counters,
    })).finally(() => bar?.stop());
  const row = (d: (typeof r.decisions)[number]) => ({
    id: d.id, time: d.snapshot.record.time, host: d.snapshot.record.host, source: d.snapshot.record.source, tags: d.snapshot.record.tags, reasons: d.reasons,
  });
  out.result({
    dryRun, kept: r.decisions.filter((d) => d.keep).map(row), removed: r.decisions.filter((d) => !d.keep).map(row), gc: gcJson(r.gc),
  });
  let group: string | null = null;
  for (const d of [...r.decisions].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.snapshot.record.time < b.snapshot.record.time ? 1 : -1))) {
    if (d.group !== group) { group = d.group; out.line(`${group || 'all snapshots'}:`); }
    const s = d.snapshot.record;
    const tags = s.tags.length ? ` [${s.tags.join(',')}]` : '';
    out.line(`  ${d.keep ? 'keep  ' : dryRun ? 'would remove' : 'remove'} ${shortId(d.id)}  ${s.time}${tags}${d.keep ? `  (${d.reasons.join(', ')})` : ''}`);
  }
  const kept = r.decisions.filter((d) => d.keep).length;
  out.line(`${kept} snapshots kept, ${r.removed.length} ${dryRun ? 'would be removed' : 'removed'}`);
  out.line(describeGc(r.gc, dryRun));
  if (r.gc.damagedPacks.length > 0) return EXIT.PARTIAL;
  return EXIT.OK;
}
