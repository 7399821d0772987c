// The snap suite's markdown block: one table per data set with fxcp's ratios to restic and borg,
// the directly spawned rows below it, and a throughput bar chart.
import { cellTime, directFigures, fmtBytes, ratio, type Measure } from './bench-measure.js';
import { TOOL_LABEL, type Tool } from './bench-options.js';
import { DIRECT_RUNS, type SetResult, type Workload } from './snap-bench.js';

const MiB = 1024 * 1024;
const COLS: Tool[] = ['fxcp', 'restic', 'borg', 'tar', 'ref'];

/** The directly spawned nothing-changed backups, with fxcp's ratios and the 3x target's verdict. */
function directSecondFigures(d: Partial<Record<Tool, Measure>>): string {
  const span = (m: Measure): string => (m.secs! < 1
    ? `${(m.secs! * 1000).toFixed(0)} ms (${(m.min! * 1000).toFixed(0)}–${(m.max! * 1000).toFixed(0)})`
    : `${m.secs!.toFixed(2)} s (${m.min!.toFixed(2)}–${m.max!.toFixed(2)})`);
  const cell = (t: Tool): string => { const m = d[t]; return m?.state === 'ok' ? `${t} ${span(m)}` : `${t} ${m?.note ?? 'failed'}`; };
  const ours = d.fxcp?.state === 'ok' ? d.fxcp.secs! : undefined;
  const peers = (['restic', 'borg'] as Tool[]).map((t) => ({ t, r: ours && d[t]?.state === 'ok' ? d[t]!.secs! / ours : undefined }));
  const verdict = peers.every((p) => p.r !== undefined && p.r >= 3) ? 'met' : '**not met**';
  return `each tool spawned directly (no shell, no sync; median of ${DIRECT_RUNS}, the three tools in rounds): ` +
    `${(['fxcp', 'restic', 'borg'] as Tool[]).map(cell).join(', ')}; fxcp ` +
    `${peers.map((p) => `${p.r === undefined ? '?' : p.r.toFixed(1)}x faster than ${p.t}`).join(', ')}; target 3x: ${verdict}`;
}

export function blockKey(r: SetResult): string { return `set:${r.set}@${r.factor}`; }

export function renderSet(r: SetResult, tools: Set<Tool>): string {
  const cols = COLS.filter((t) => tools.has(t));
  const L: string[] = [];
  const inMiB = (r.input.bytes / MiB).toFixed(1);
  L.push(`### ${r.set} (factor ${r.factor})`, '');
  L.push(`${r.date}, median of ${r.runs} run${r.runs > 1 ? 's' : ''} (min–max)${r.warmup ? ` after ${r.warmup} untimed warm-up run${r.warmup > 1 ? 's' : ''}` : ''}. Input: ${r.input.files} files, ${inMiB} MiB`
    + (r.inputV2 ? `; v2: ${r.inputV2.files} files, ${(r.inputV2.bytes / MiB).toFixed(1)} MiB` : '') + '.', '');
  const hdr = ['workload', ...cols.map((t) => TOOL_LABEL[t])];
  const ratios = (['restic', 'borg'] as Tool[]).filter((t) => tools.has(t) && tools.has('fxcp'));
  hdr.push(...ratios.map((t) => `fxcp vs ${t}`));
  L.push(`| ${hdr.join(' | ')} |`, `|${hdr.map(() => '---').join('|')}|`);
  const row = (name: string, cell: (t: Tool) => string, val: (t: Tool) => number | undefined, better: string, worse: string): void => {
    const cells = cols.map(cell);
    const rs = ratios.map((t) => ratio(val('fxcp'), val(t), better, worse));
    L.push(`| ${[name, ...cells, ...rs].join(' | ')} |`);
  };
  const secs = (w: Workload) => (t: Tool): number | undefined => (r.m[w][t]?.state === 'ok' ? r.m[w][t]!.secs : undefined);
  const rss = (w: Workload) => (t: Tool): number | undefined => (r.m[w][t]?.state === 'ok' ? r.m[w][t]!.rssKiB : undefined);
  const secondName = r.series ? 'backup v2 (after v1)' : 'backup again, nothing changed';
  const refLabel = (w: Workload): string => (w === 'initial' ? 'cp -a' : r.series ? 'rsync -a --delete v1→v2' : 'rsync -a, nothing changed');
  row('backup initial', (t) => cellTime(r.m.initial[t]) + (t === 'ref' && r.m.initial[t]?.state === 'ok' ? ` (${refLabel('initial')})` : ''), secs('initial'), 'faster', 'slower');
  row(secondName, (t) => cellTime(r.m.second[t]) + (t === 'ref' && r.m.second[t]?.state === 'ok' ? ` (${refLabel('second')})` : '') + (t === 'tar' && r.m.second[t]?.state === 'ok' ? ' (full archive again)' : ''), secs('second'), 'faster', 'slower');
  const inBytes = r.input.bytes;
  row('stored after initial', (t) => {
    const s = r.stored[t];
    if (s === undefined) return r.m.initial[t]?.state === 'ok' ? '?' : '';
    return `${fmtBytes(s)} (${(inBytes / s).toFixed(2)}x)`;
  }, (t) => r.stored[t], 'smaller', 'larger');
  if (r.series) {
    row('v2 added to store', (t) => {
      const a = r.added[t];
      if (a === undefined) return '';
      return t === 'tar' ? `${fmtBytes(a)} (whole new archive)` : fmtBytes(a);
    }, (t) => r.added[t], 'smaller', 'larger');
  }
  const rf = r.restoreFile;
  row(`restore 1 file${rf ? ` (${fmtBytes(rf.size)})` : ''}`, (t) => {
    const m = r.m.restore[t];
    const why = t === 'tar' ? ' (scans whole stream)' : t === 'ref' ? ' (node -e 0: Node starting alone)' : '';
    return cellTime(m) + (m?.state === 'ok' ? why : '');
  }, secs('restore'), 'faster', 'slower');
  row('restore everything', (t) => cellTime(r.m.restoreAll[t]) + (t === 'ref' && r.m.restoreAll[t]?.state === 'ok' ? ' (cp -a)' : ''), secs('restoreAll'), 'faster', 'slower');
  const rssCell = (w: Workload) => (t: Tool): string => {
    const m = r.m[w][t];
    if (!m || m.state === 'na') return m?.note === '—' ? '—' : '';
    return m.rssKiB ? `${(m.rssKiB / 1024).toFixed(0)} MiB` : '';
  };
  row('peak RSS, initial', rssCell('initial'), rss('initial'), 'less', 'more');
  row(`peak RSS, ${r.series ? 'v2' : 'nothing changed'}`, rssCell('second'), rss('second'), 'less', 'more');
  row('peak RSS, restore 1 file', rssCell('restore'), rss('restore'), 'less', 'more');
  row('peak RSS, restore everything', rssCell('restoreAll'), rss('restoreAll'), 'less', 'more');
  L.push('');
  if (rf) L.push(`Restored file: \`${rf.rel}\` (${rf.size} B), checked with cmp. Stored = \`du --block-size=1\` of the store / repository / archive / copy; (Nx) = input ÷ stored.`);
  if (r.directSecond) L.push('', `- Backup again, nothing changed, ${directSecondFigures(r.directSecond)}`);
  if (r.direct) L.push('', `- Restore one file from the store, ${directFigures(r.direct, 150)}`);
  for (const n of r.notes) L.push('', `${n}.`);
  // bar chart: initial throughput
  const bars = cols.map((t) => ({ t, s: secs('initial')(t) })).filter((b) => b.s !== undefined) as { t: Tool; s: number }[];
  if (bars.length) {
    const mbs = bars.map((b) => ({ ...b, v: inBytes / b.s / 1e6 }));
    const max = Math.max(...mbs.map((b) => b.v));
    L.push('', '```', `initial backup throughput, MB/s (input ÷ median wall, incl. sync)`);
    for (const b of mbs) L.push(`${TOOL_LABEL[b.t].padEnd(17)} ${'#'.repeat(Math.max(1, Math.round((b.v / max) * 40))).padEnd(40)} ${b.v.toFixed(b.v < 10 ? 1 : 0)}`);
    L.push('```');
  }
  L.push('');
  return L.join('\n');
}
