// Benchmark ratios as a standalone SVG bar chart: one group per measured step, our bar above each
// peer's, the ratio written beside every peer's bar and a dashed line where the step has a target.
// The steps of one chart have different units (seconds, MiB), so each group is drawn to its own
// scale: its largest figure (target included) is a full-width bar, and within a group a figure
// twice as large draws a bar twice as long.
//
// Pure: figures in, text out. The same figures always give the same bytes (fixed decimals, rows
// and peers in the order given, no dates), so a chart changes in git only when its numbers do.
// Nothing is fetched: no external fonts, styles or scripts, which GitHub's image proxy would drop
// anyway. A white background keeps it readable on a dark page. Limits: text widths are estimated
// from character counts (a pure module has no font metrics), so callers keep labels short.

export interface ChartPeer {
  name: string;
  value: number;
  /** The ratio as the table words it (e.g. "16x faster"); computed from the figures when absent. */
  ratio?: string;
}

export interface ChartRow {
  /** The step, e.g. "first snapshot, warm cache". */
  label: string;
  /** The unit every figure of this row is in, as printed after it ("s", "MiB"). */
  unit: string;
  lowerIsBetter: boolean;
  /** How ours compares when better / worse (default faster / slower). */
  words?: [string, string];
  ours: number;
  peers: ChartPeer[];
  /** A figure ours should reach, in the row's unit; drawn as a dashed line across the group. */
  target?: { value: number; label: string };
}

export interface RatioChart {
  /** Prefix of the ids inside the SVG (title, desc), unique per chart. */
  id: string;
  title: string;
  /** Our tool's name, as in the tables. */
  ours: string;
  rows: ChartRow[];
}

const WIDTH = 760;
const PAD = 16;
const CHAR_W = 6.6; // average advance of a 12 px sans-serif character, for column widths
const BAR_H = 14;
const BAR_STEP = 18;
const FIGURES_W = 250; // the column right of the bars: figure and ratio
const OURS_COLOR = '#d9480f';
const PEER_COLORS = ['#3b5bdb', '#0c8599', '#5f3dc4', '#868e96', '#e67700'];
const BETTER_COLOR = '#2b8a3e';
const WORSE_COLOR = '#c92a2a';
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** A figure with 3 significant digits at most, never in exponent form. */
export function formatFigure(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  return v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

/** "fxcp 3.8x faster" or "fxcp 1.2x slower": how ours compares with one peer ('' when either is 0). */
export function ratioText(ours: string, row: ChartRow, peer: ChartPeer): string {
  if (peer.ratio) return `${ours} ${peer.ratio}`;
  if (!(row.ours > 0) || !(peer.value > 0)) return '';
  const [better, worse] = row.words ?? ['faster', 'slower'];
  const r = row.lowerIsBetter ? peer.value / row.ours : row.ours / peer.value;
  const x = (n: number): string => n.toFixed(n >= 10 ? 0 : 1);
  return r >= 1 ? `${ours} ${x(r)}x ${better}` : `${ours} ${x(1 / r)}x ${worse}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
const n1 = (v: number): string => v.toFixed(1);
const figure = (v: number, unit: string): string => `${formatFigure(v)} ${unit}`;

/** "under 150 ms", or "2x faster than both (8.45 s)" when the label does not give the figure. */
function targetText(r: ChartRow): string {
  const f = figure(r.target!.value, r.unit);
  return r.target!.label.includes(f) ? r.target!.label : `${r.target!.label} (${f})`;
}

/** The chart's text for screen readers (its desc): every figure, ratio and target. */
function describe(c: RatioChart): string {
  const rows = c.rows.map((r) => {
    const peers = r.peers.map((p) => { const t = ratioText(c.ours, r, p); return `${p.name} ${figure(p.value, r.unit)}${t ? ` (${t})` : ''}`; });
    const target = r.target ? `; target: ${targetText(r)}` : '';
    return `${r.label}: ${c.ours} ${figure(r.ours, r.unit)}, ${peers.join(', ')}${target}.`;
  });
  return `${c.ours} beside its peers, ${betterWay(c)} is better. ${rows.join(' ')}`;
}
const betterWay = (c: RatioChart): string => (c.rows.every((r) => r.lowerIsBetter) ? 'lower' : c.rows.every((r) => !r.lowerIsBetter) ? 'higher' : 'lower or higher as marked');

export function renderRatioChart(c: RatioChart): string {
  const names = [c.ours, ...c.rows.flatMap((r) => r.peers.map((p) => p.name))];
  // One color per tool, by the first word of its name ("borg a.tar" and "borg a.tar.zst" are both borg).
  const tool = (name: string): string => name.split(' ')[0]!;
  const peerTools = [...new Set(names.slice(1).map(tool))];
  const color = (name: string): string => (name === c.ours ? OURS_COLOR : PEER_COLORS[peerTools.indexOf(tool(name)) % PEER_COLORS.length]!);
  const nameW = Math.max(...names.map((s) => s.length)) * CHAR_W + 10;
  const barX = PAD + nameW;
  const barW = WIDTH - barX - FIGURES_W - PAD;
  const figX = barX + barW + 10;
  const body: string[] = [];
  let y = 28;
  body.push(`<text x="${PAD}" y="${y}" font-size="16" font-weight="bold">${esc(c.title)}</text>`);
  y += 20;
  const way = betterWay(c);
  const better = way === 'lower' ? 'shorter bars are better' : way === 'higher' ? 'longer bars are better' : 'each step says which way is better';
  body.push(`<text x="${PAD}" y="${y}" font-size="12" fill="#495057">Each step is drawn to its own scale; ${better}. Ratios compare ${esc(c.ours)} with each peer.</text>`);
  y += 14;
  for (const r of c.rows) {
    y += 22;
    const direction = r.lowerIsBetter ? 'lower is better' : 'higher is better';
    body.push(`<text x="${PAD}" y="${y}" font-size="13" font-weight="bold">${esc(r.label)}<tspan dx="6" font-weight="normal" fill="#495057">(${esc(r.unit)}, ${direction})</tspan></text>`);
    y += 8;
    const max = Math.max(r.ours, ...r.peers.map((p) => p.value), r.target?.value ?? 0);
    const len = (v: number): number => (max > 0 && v > 0 ? Math.max(1, (v / max) * barW) : 0);
    const top = y;
    const bars: [string, number, string][] = [[c.ours, r.ours, ''], ...r.peers.map((p): [string, number, string] => [p.name, p.value, ratioText(c.ours, r, p)])];
    for (const [name, value, ratio] of bars) {
      const mid = y + BAR_H / 2 + 4;
      body.push(`<text x="${n1(barX - 6)}" y="${n1(mid)}" font-size="12" text-anchor="end">${esc(name)}</text>`);
      body.push(`<rect x="${n1(barX)}" y="${n1(y)}" width="${n1(len(value))}" height="${BAR_H}" fill="${color(name)}"/>`);
      const good = ratio.endsWith(` ${(r.words ?? ['faster'])[0]}`);
      const rt = ratio ? `<tspan dx="8" fill="${good ? BETTER_COLOR : WORSE_COLOR}">${esc(ratio)}</tspan>` : '';
      body.push(`<text x="${n1(figX)}" y="${n1(mid)}" font-size="12">${esc(figure(value, r.unit))}${rt}</text>`);
      y += BAR_STEP;
    }
    if (r.target) {
      const tx = barX + len(r.target.value);
      body.push(`<line x1="${n1(tx)}" y1="${n1(top - 3)}" x2="${n1(tx)}" y2="${n1(y + 1)}" stroke="#212529" stroke-width="1.5" stroke-dasharray="4 3"/>`);
      y += 11;
      const anchor = tx > barX + barW / 2 ? 'end' : 'start';
      body.push(`<text x="${n1(tx)}" y="${n1(y)}" font-size="11" text-anchor="${anchor}" fill="#212529">target: ${esc(targetText(r))}</text>`);
      y += 2;
    }
  }
  const height = Math.ceil(y + PAD);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="${esc(c.id)}-title ${esc(c.id)}-desc" font-family="${FONT}" fill="#212529">`,
    `<title id="${esc(c.id)}-title">${esc(c.title)}</title>`,
    `<desc id="${esc(c.id)}-desc">${esc(describe(c))}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
