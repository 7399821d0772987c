// The copy benchmark's block of docs/BENCHMARKS.md (copy-bench.ts measures it): per file system,
// `fxcp -a` beside `cp -a` and `rsync -a` on each set, cold and re-run; the bytes each copy uses,
// peak RSS, how fxcp copied the files, and issue 21's targets marked met or not met. Pure: it
// renders what it is given.
import { cellTime, fmtBytes, rssCell, type Measure } from './bench-measure.js';

export const COPY_TOOLS = ['fxcp', 'cp', 'rsync'] as const;
export type CopyTool = (typeof COPY_TOOLS)[number];
export const COPY_TOOL_LABEL: Record<CopyTool, string> = { fxcp: 'fxcp -a', cp: 'cp -a', rsync: 'rsync -a' };

/** Issue 21's targets. */
export const WITHIN_CP = 1.1;
export const FASTER_THAN_RSYNC = 3;
export const RSYNC_TARGET_SETS: readonly string[] = ['large', 'mixed', 'sparse'];

export interface ToolResult {
  /** Copy into an empty destination. */
  cold: Measure;
  /** The same command again into the copy it made, nothing changed. */
  rerun: Measure;
  /** `du --block-size=1` of the copy (allocated blocks; shared reflinked extents count in full). */
  used?: number;
  /** What the copy took from the file system (statfs before and after; loop mounts only). */
  newSpace?: number;
}

export interface CopySetResult {
  set: string;
  files: number;
  /** Apparent bytes of the regular files. */
  bytes: number;
  /** `du --block-size=1` of the source. */
  srcUsed?: number;
  tools: Partial<Record<CopyTool, ToolResult>>;
  /** fxcp's own count of files per strategy (its --stats "Copied by"), from the last cold run. */
  copiedBy?: Record<string, number> | null;
  /** `node -e 0` timed in the cold rounds: the start any Node program pays before it copies. */
  nodeStart?: Measure;
}

export interface CopyFsResult {
  /** ext4, xfs, btrfs. */
  fs: string;
  label: string;
  /** A copy-on-write file system, where the large-files-by-reflink target applies. */
  cow: boolean;
  date: string;
  factor: number;
  runs: number;
  warmup: number;
  sets: CopySetResult[];
  /** Why this file system was not measured (then `sets` is empty). */
  skipped: string | null;
  notes: string[];
}

/** `a ÷ b` with two decimals ("0.95"), or '' when either is missing. */
export function timeRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) return '';
  const r = a / b;
  return r >= 10 ? r.toFixed(0) : r.toFixed(2);
}

/** "Copied by: read-write 1, reflink 9" (fxcp --stats) as counts, or null when the line is absent. */
export function parseCopiedBy(stats: string): Record<string, number> | null {
  const m = /^Copied by: (.+)$/m.exec(stats);
  if (!m) return null;
  const out: Record<string, number> = {};
  // Counts carry thousands separators ("reflink 4,990, read-write 10"): a name, then digits in groups.
  for (const p of m[1]!.matchAll(/([a-z][\w-]*) (\d+(?:,\d{3})*)/g)) out[p[1]!] = Number(p[2]!.replace(/,/g, ''));
  return out;
}

const secs = (m: Measure | undefined): number | undefined => (m?.state === 'ok' ? m.secs : undefined);

export type Verdict = boolean | undefined;
const verdict = (ok: Verdict): string => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');

/** fxcp's cold copy within WITHIN_CP of cp -a's (or faster). */
export function withinCp(s: CopySetResult): Verdict {
  const a = secs(s.tools.fxcp?.cold);
  const b = secs(s.tools.cp?.cold);
  return a === undefined || b === undefined ? undefined : a <= b * WITHIN_CP;
}

/** fxcp's cold copy at least FASTER_THAN_RSYNC times faster than rsync -a's. */
export function fasterThanRsync(s: CopySetResult): Verdict {
  const a = secs(s.tools.fxcp?.cold);
  const b = secs(s.tools.rsync?.cold);
  return a === undefined || b === undefined ? undefined : b >= a * FASTER_THAN_RSYNC;
}

/** Every file of the set copied by reflink, by fxcp's own count. */
export function allReflinked(s: CopySetResult): Verdict {
  if (secs(s.tools.fxcp?.cold) === undefined || !s.copiedBy) return undefined;
  return (s.copiedBy.reflink ?? 0) === s.files && s.files > 0;
}

/** fxcp's unchanged re-run faster than rsync -a's. */
export function rerunFaster(s: CopySetResult): Verdict {
  const a = secs(s.tools.fxcp?.rerun);
  const b = secs(s.tools.rsync?.rerun);
  return a === undefined || b === undefined ? undefined : a < b;
}

/** Bytes per second as "850 MB/s" or "3.2 GB/s" (10^6, 10^9). */
export function rate(bytes: number, secs: number): string {
  const v = bytes / secs;
  return v >= 1e9 ? `${(v / 1e9).toFixed(1)} GB/s` : `${(v / 1e6).toFixed(v < 1e7 ? 1 : 0)} MB/s`;
}

function copiedByCell(c: Record<string, number> | null | undefined): string {
  if (!c) return '';
  return Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ');
}

function usedCell(t: ToolResult | undefined, cow: boolean): string {
  if (!t || t.cold.state !== 'ok' || t.used === undefined) return '';
  return cow && t.newSpace !== undefined ? `${fmtBytes(t.used)} (new: ${fmtBytes(Math.max(0, t.newSpace))})` : fmtBytes(t.used);
}

/** The targets' lines for one file system. */
export function targetLines(r: CopyFsResult): string[] {
  const L: string[] = [];
  const list = (sets: CopySetResult[], f: (s: CopySetResult) => Verdict, figure: (s: CopySetResult) => string): string =>
    sets.map((s) => `${s.set} ${figure(s) ? `${figure(s)} ` : ''}${verdict(f(s))}`).join('; ') || 'not measured (no such set in this run)';
  const cold = (s: CopySetResult, t: CopyTool): number | undefined => secs(s.tools[t]?.cold);
  L.push(`- within ${WITHIN_CP}x of \`cp -a\` (fxcp/cp ≤ ${WITHIN_CP}) on every set: ${list(r.sets, withinCp, (s) => timeRatio(cold(s, 'fxcp'), cold(s, 'cp')))}`);
  L.push(`- at least ${FASTER_THAN_RSYNC}x faster than \`rsync -a\` (fxcp/rsync ≤ ${(1 / FASTER_THAN_RSYNC).toFixed(2)}) on ${RSYNC_TARGET_SETS.join(', ')}: ` +
    list(r.sets.filter((s) => RSYNC_TARGET_SETS.includes(s.set)), fasterThanRsync, (s) => timeRatio(cold(s, 'fxcp'), cold(s, 'rsync'))));
  if (r.cow) {
    const large = r.sets.filter((s) => s.set === 'large');
    L.push(`- large files by reflink in near-constant time: ${list(large, allReflinked, (s) => {
      const t = cold(s, 'fxcp');
      const by = s.copiedBy ? `${s.copiedBy.reflink ?? 0} of ${s.files} files by reflink` : 'no strategy count from fxcp';
      return t === undefined ? by : `${by}, ${fmtBytes(s.bytes)} in ${t.toFixed(2)} s (${rate(s.bytes, t)} apparent)`;
    })}`);
  }
  const floors = r.sets.filter((s) => secs(s.nodeStart) !== undefined && cold(s, 'cp') !== undefined);
  if (floors.length) {
    L.push(`- what ${WITHIN_CP}x \`cp -a\` leaves, beside Node's own start (\`env -u NODE_EXTRA_CA_CERTS node -e 0\`, timed in the same rounds): ` + floors.map((s) => {
      const left = WITHIN_CP * cold(s, 'cp')!, node = secs(s.nodeStart)!;
      return `${s.set} ${left.toFixed(3)} s / ${node.toFixed(3)} s${node >= left ? ' (under Node\'s start: no Node program can meet it)' : ''}`;
    }).join('; '));
  }
  L.push(`- unchanged re-run of mixed faster than rsync's: ${list(r.sets.filter((s) => s.set === 'mixed'), rerunFaster, (s) => {
    const [a, b] = [secs(s.tools.fxcp?.rerun), secs(s.tools.rsync?.rerun)];
    return a === undefined || b === undefined ? '' : `${a.toFixed(2)} s vs ${b.toFixed(2)} s`;
  })}`);
  return L;
}

export function renderCopyFs(r: CopyFsResult, tools: readonly CopyTool[] = COPY_TOOLS): string {
  const L = [`### ${r.label}, factor ${r.factor}`, ''];
  if (r.skipped) {
    L.push(`${r.date}: not measured: ${r.skipped}.`, '');
    return L.join('\n');
  }
  L.push(`${r.date}, median of ${r.runs} run${r.runs > 1 ? 's' : ''} (min–max)${r.warmup ? ` after ${r.warmup} untimed warm-up run${r.warmup > 1 ? 's' : ''}` : ''}, ` +
    'the three tools interleaved run by run. Ratios: fxcp\'s time ÷ the other tool\'s (below 1: fxcp faster).', '');
  const hdr = ['set', 'step', ...tools.map((t) => COPY_TOOL_LABEL[t]), 'fxcp/cp', 'fxcp/rsync'];
  L.push(`| ${hdr.join(' | ')} |`, `|${hdr.map(() => '---').join('|')}|`);
  for (const s of r.sets) {
    const input = `${s.set} (${s.files} files, ${fmtBytes(s.bytes)})`;
    for (const step of ['cold', 'rerun'] as const) {
      const m = (t: CopyTool): Measure | undefined => s.tools[t]?.[step];
      const cells = tools.map((t) => cellTime(m(t)) + (step === 'rerun' && t === 'cp' && m(t)?.state === 'ok' ? ' (copies all again)' : ''));
      L.push(`| ${[step === 'cold' ? input : '', step === 'cold' ? 'cold copy' : 're-run, nothing changed', ...cells,
        timeRatio(secs(m('fxcp')), secs(m('cp'))), timeRatio(secs(m('fxcp')), secs(m('rsync')))].join(' | ')} |`);
    }
  }
  L.push('');
  const hdr2 = ['set', 'source used', ...tools.map((t) => `${COPY_TOOL_LABEL[t]} used`), ...tools.map((t) => `peak RSS ${COPY_TOOL_LABEL[t]}`), 'fxcp copied by'];
  L.push(`| ${hdr2.join(' | ')} |`, `|${hdr2.map(() => '---').join('|')}|`);
  for (const s of r.sets) {
    L.push(`| ${[s.set, s.srcUsed !== undefined ? fmtBytes(s.srcUsed) : '', ...tools.map((t) => usedCell(s.tools[t], r.cow)),
      ...tools.map((t) => rssCell(s.tools[t]?.cold)), copiedByCell(s.copiedBy)].join(' | ')} |`);
  }
  L.push('', `Used: \`du --block-size=1\` of the copy after the cold runs (allocated blocks: kept holes are not counted${r.cow ? '; reflinked extents count in full, "new" is what the last cold run took from the file system by statfs' : ''}). Peak RSS: of the cold copy (GNU time %M, the largest process).`, '');
  L.push(`Targets (issue 21${r.factor < 1 ? `; they are for factor 1, this is factor ${r.factor}` : ''}):`, '', ...targetLines(r), '');
  for (const n of r.notes) L.push(`${n}.`, '');
  const bars = r.sets.flatMap((s) => tools.map((t) => ({ label: `${s.set} ${COPY_TOOL_LABEL[t]}`, s: secs(s.tools[t]?.cold), bytes: s.bytes })))
    .filter((b): b is { label: string; s: number; bytes: number } => b.s !== undefined).map((b) => ({ ...b, v: b.bytes / b.s / 1e6 }));
  if (bars.length) {
    const max = Math.max(...bars.map((b) => b.v));
    const w = Math.max(...bars.map((b) => b.label.length));
    L.push('```', 'cold copy, MB/s (apparent bytes ÷ median wall, incl. sync)');
    for (const b of bars) L.push(`${b.label.padEnd(w)} ${'#'.repeat(Math.max(1, Math.round((b.v / max) * 40))).padEnd(40)} ${b.v.toFixed(b.v < 10 ? 1 : 0)}`);
    L.push('```', '');
  }
  return L.join('\n');
}
