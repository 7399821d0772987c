/** `fxcp store check STORE [--read-data | --read-data-subset 10%|n/m]`: exit 0 clean, 1 problems found. */
import { UsageError } from '../../errors/index.js';
import { shortId } from '../../snapshot/snapshot-catalogue.js';
import { checkStore, type DataSubset } from '../../snapshot/store-check.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';
import { progressFor } from '../progress-bar.js';

export function parseSubset(text: string | undefined): DataSubset | undefined {
  if (text === undefined) return undefined;
  let m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (m && Number(m[1]) > 0 && Number(m[1]) <= 100) return { fraction: Number(m[1]) / 100 };
  m = /^(\d+)\/(\d+)$/.exec(text);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= Number(m[2])) return { n: Number(m[1]), m: Number(m[2]) };
  throw new UsageError(`--read-data-subset must be a percentage (e.g. 10%) or n/m with 1 <= n <= m (e.g. 2/5); got '${text}'`);
}

export async function run(argv: ArgsFor<'store check'>, { out, signal, run: runOpts, openStore }: CommandContext): Promise<number> {
  const subset = parseSubset(argv.readDataSubset);
  const readData = argv.readData || subset !== undefined;
  const started = process.hrtime.bigint();
  const bar = progressFor(argv.progress, out.json, 'check');
  const r = await openStore({ lock: 'shared', access: 'read', reportIndexDamage: true },
    (store) => checkStore(store, { readData, subset, signal, workers: runOpts.workers, onNote: (code, message, data) => out.warn(code, message, data), progress: bar?.counters }))
    .finally(() => bar?.stop());
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  out.result({ clean: r.problems.length === 0, ...r, seconds });
  for (const p of r.problems) {
    out.line(`problem ${p.code}: ${p.message}`);
    for (const a of p.affects ?? []) out.line(`    affects snapshot ${shortId(a.snapshot)}: ${a.path}`);
  }
  const data = readData ? `; read ${r.chunksVerified} chunks in ${r.packsRead} packs (${formatBytes(r.bytesRead)}, ${(r.bytesRead / 2 ** 20 / Math.max(seconds, 1e-3)).toFixed(1)} MiB/s)` : '';
  out.line(`checked ${r.snapshots} snapshots, ${r.trees} trees, ${r.packs} packs, ${r.chunks} indexed chunks${data}: ` +
    (r.problems.length === 0 ? 'no problems' : `${r.problems.length} problems`) +
    (r.duplicateRecords > 0 ? `; ${r.duplicateRecords} duplicate records (${formatBytes(r.duplicateBytes)}), which gc drops` : ''));
  return r.problems.length === 0 ? EXIT.OK : EXIT.PARTIAL;
}
