// The figures of a docs/BENCHMARKS.md block, read back from the block's own tables as chart rows
// (ratio-chart.ts). Reading the table a run has just written, rather than each suite's results,
// gives two things: a chart shows exactly the figures of the table beside it, and blocks measured
// before charts existed can be drawn without measuring again (`npm run bench -- --charts-only`).
// The price: this file knows each suite's table layout. A block whose table has changed shape
// draws no chart (the run says so) until its reader here follows; test/bench/bench-chart-rows.test.ts
// reads every block of docs/BENCHMARKS.md to catch that.
//
// Targets are the issues' own, cited where they are drawn. A chart only draws them; the tables'
// "Targets" lines judge them (some on figures measured another way, e.g. spawned directly).
// Pure: markdown in, chart figures out.
import type { ChartPeer, ChartRow, RatioChart } from './ratio-chart.js';

interface Table { header: string[]; rows: string[][] }
type Kind = 'time' | 'bytes' | 'memory' | 'cpu';
type Target = { value: number; label: string } | undefined;
/** A row's figures in seconds or bytes, before the unit of its chart row is chosen. */
interface Figures { label: string; kind: Kind; ours: number; peers: ChartPeer[]; cells: string[] }

/** The markdown tables of a block, cells trimmed, `\|` unescaped, separator rows dropped. */
export function tablesOf(md: string): Table[] {
  const out: Table[] = [];
  let cur: string[][] | null = null;
  for (const line of md.split('\n')) {
    if (!line.startsWith('|')) { cur = null; continue; }
    const cells = line.trim().split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    if (!cur) { cur = []; out.push({ header: cells, rows: cur }); continue; }
    cur.push(cells);
  }
  return out;
}

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
/** Seconds of a cell that starts with a time ("0.66 s (0.62–0.67)", "615 ms"). */
export function secondsOf(cell: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)\b/.exec(cell ?? '');
  return m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) : undefined;
}
/** Bytes of a cell that starts with a size ("2.7 MiB (1.43x)", "0 B"). */
export function bytesOf(cell: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)\b/.exec(cell ?? '');
  return m ? Number(m[1]) * UNIT_BYTES[m[2]!]! : undefined;
}
const cpuOf = (cell: string | undefined): number | undefined => { const m = /^(\d+(?:\.\d+)?) \/ \d/.exec(cell ?? ''); return m ? Number(m[1]) : undefined; };
const valueOf = (kind: Kind, cell: string | undefined): number | undefined =>
  (kind === 'time' ? secondsOf(cell) : kind === 'cpu' ? cpuOf(cell) : bytesOf(cell));
function kindOf(label: string, cell: string | undefined): Kind | undefined {
  if (secondsOf(cell) !== undefined) return 'time';
  if (bytesOf(cell) !== undefined) return /RSS/.test(label) ? 'memory' : 'bytes';
  return /CPU/.test(label) && cpuOf(cell) !== undefined ? 'cpu' : undefined;
}

/** A chart row in a unit that suits its largest figure: ms under a second, the binary prefix of sizes. */
function chartRow(f: Figures, target: Target): ChartRow {
  const max = Math.max(f.ours, ...f.peers.map((p) => p.value));
  let unit = 's';
  let scale = 1;
  let label = f.label;
  if (f.kind === 'time' && max < 1) { unit = 'ms'; scale = 1000; }
  if (f.kind === 'bytes' || f.kind === 'memory') {
    unit = ['TiB', 'GiB', 'MiB', 'KiB'].find((u) => max >= UNIT_BYTES[u]!) ?? 'B';
    scale = 1 / UNIT_BYTES[unit]!;
  }
  if (f.kind === 'cpu') { [label, unit] = [f.label.replace(/:.*/, ''), 's per 1,000 files']; }
  const words: [string, string] = f.kind === 'time' ? ['faster', 'slower'] : f.kind === 'bytes' ? ['smaller', 'larger'] : ['less', 'more'];
  return {
    label, unit, lowerIsBetter: true, words, ours: f.ours * scale,
    peers: f.peers.map((p) => ({ ...p, value: p.value * scale })),
    ...(target ? { target: { value: target.value * scale, label: target.label } } : {}),
  };
}

const peerValue = (f: Figures, name: string): number | undefined => f.peers.find((p) => p.name.startsWith(name))?.value;
const fastest = (f: Figures): number => Math.min(...f.peers.map((p) => p.value));

/**
 * A table with one column per tool (set, real, incremental, copy): `label` names each row,
 * `ours` is our column, each peer has its column and maybe a column of the table's ratio.
 */
function wideRows(t: Table, spec: { label: (cells: string[]) => string; ours: number; peers: { col: number; ratioCol?: number }[] }, target: (f: Figures) => Target): ChartRow[] {
  const out: ChartRow[] = [];
  for (const cells of t.rows) {
    const label = spec.label(cells);
    const kind = kindOf(label, cells[spec.ours]);
    if (!kind) continue;
    const peers: ChartPeer[] = [];
    for (const p of spec.peers) {
      const value = valueOf(kind, cells[p.col]);
      const ratio = p.ratioCol === undefined ? '' : cells[p.ratioCol] ?? '';
      if (value !== undefined) peers.push({ name: t.header[p.col]!, value, ...(/^\d/.test(ratio) ? { ratio } : {}) });
    }
    const f: Figures = { label, kind, ours: valueOf(kind, cells[spec.ours])!, peers, cells };
    if (peers.length) out.push(chartRow(f, target(f)));
  }
  return out;
}

/** Tables of the snap, real and incremental suites: a column per tool and "fxcp vs PEER" ratio columns. */
function versusRows(t: Table, target: (f: Figures) => Target): ChartRow[] {
  const ours = t.header.findIndex((h) => h.startsWith('fxcp') && !h.startsWith('fxcp vs'));
  const peers = t.header.flatMap((h, ratioCol) => {
    const name = /^fxcp vs (.+)$/.exec(h)?.[1];
    const col = name === undefined ? -1 : t.header.findIndex((x) => x.startsWith(name));
    return col > 0 ? [{ col, ratioCol }] : [];
  });
  return ours < 0 ? [] : wideRows(t, { label: (c) => c[0]!, ours, peers }, target);
}

/**
 * Tables with a row per tool and step (archive, lifecycle, ssh): our first row of each step beside
 * the peers' rows, by wall time, and by size where the table has a size column.
 */
function toolRows(t: Table, ours: string, target: (f: Figures) => Target): ChartRow[] {
  const col = (re: RegExp): number => t.header.findIndex((h) => re.test(h));
  const [step, tool, wall, vs, size, cmd] = [col(/^step$/), col(/^tool$/), col(/^wall$/), col(/^vs fxcp$/), col(/^(output|sent|stored after|repository)/), col(/^command$/)];
  if (step < 0 || tool < 0 || wall < 0) return [];
  const steps = [...new Set(t.rows.map((r) => r[step]!))];
  const out: ChartRow[] = [];
  for (const s of steps) {
    const rows = t.rows.filter((r) => r[step] === s);
    const mine = rows.find((r) => r[tool] === ours);
    const others = rows.filter((r) => r[tool] !== ours && !r[tool]!.startsWith('fxcp') && r[tool] !== 'node -e 0');
    if (!mine) continue;
    const sizeName = size < 0 ? '' : t.header[size]!.replace(/ \(.*/, '');
    // A tool with two rows in a step (borg export-tar to .tar and to .tar.zst) is told apart by the
    // last word of its command.
    const nameOf = (r: string[]): string => (others.filter((o) => o[tool] === r[tool]).length < 2 || cmd < 0 ? r[tool]!
      : `${r[tool]} ${r[cmd]!.replace(/`/g, '').trim().split(/\s+/).pop()}`);
    const timed = secondsOf(mine[wall]) !== undefined;
    for (const [kind, c, label] of [['time', wall, s], ['bytes', size, timed ? `${s}, ${sizeName}` : s]] as [Kind, number, string][]) {
      const v = c < 0 ? undefined : valueOf(kind, mine[c]);
      if (v === undefined) continue;
      const peers = others.flatMap((r): ChartPeer[] => {
        const value = valueOf(kind, r[c]);
        const ratio = kind === 'time' && vs >= 0 ? /^fxcp (\d.*)$/.exec(r[vs]!)?.[1] : undefined;
        return value === undefined ? [] : [{ name: nameOf(r), value, ...(ratio ? { ratio } : {}) }];
      });
      const f: Figures = { label, kind, ours: v, peers, cells: mine };
      if (peers.length) out.push(chartRow(f, target(f)));
    }
  }
  return out;
}

/** Per block kind (the key's part before ':'): how its rows are read and which targets are drawn. */
const READERS: Record<string, (tables: Table[], md: string) => ChartRow[]> = {
  // Issue 2's targets, as the block states them: nothing changed 3x faster than both, one file < 150 ms.
  set: ([t], md) => (t ? versusRows(t, (f) => (
    /^backup again/.test(f.label) && /target 3x/.test(md) ? { value: fastest(f) / 3, label: '3x faster than both' }
      : /^restore 1 file/.test(f.label) && /target < 150 ms/.test(md) ? { value: 0.15, label: 'under 150 ms' } : undefined)) : []),
  // Issue 25's targets.
  real: ([t]) => (t ? versusRows(t, (f) => {
    const restic = peerValue(f, 'restic');
    if (/^first snapshot/.test(f.label)) return { value: fastest(f) / 2, label: '2x faster than both' };
    if (/^unchanged second snapshot$/.test(f.label)) return { value: fastest(f) / 5, label: '5x faster than both' };
    if (/^stored after v1/.test(f.label) && restic) return { value: restic, label: 'no larger than restic' };
    if (/^v2 added/.test(f.label)) { const borg = peerValue(f, 'borg'); return borg ? { value: borg, label: 'no more than borg adds' } : undefined; }
    if (/^peak RSS, first snapshot/.test(f.label) && restic) return { value: restic, label: 'no more than restic' };
    if (/^restore everything/.test(f.label) && restic) return { value: restic / 2, label: '2x faster than restic' };
    return undefined;
  }) : []),
  // Issue 22's targets, from each row's target column.
  incremental: ([t]) => (t ? versusRows(t, (f) => {
    const want = f.cells[t.header.indexOf('target')] ?? '';
    const rsync = peerValue(f, 'rsync');
    const n = /at least (\d+)x faster than rsync/.exec(want)?.[1];
    if (rsync && n) return { value: rsync / Number(n), label: `${n}x faster than rsync` };
    return rsync && /faster than rsync/.test(want) ? { value: rsync, label: 'faster than rsync' } : undefined;
  }) : []),
  // Issue 21's targets: a cold copy within 1.1x of cp -a and (large, mixed, sparse) 3x faster than
  // rsync -a; the unchanged re-run of mixed faster than rsync's.
  copy: ([t]) => {
    if (!t) return [];
    let set = '';
    const label = (c: string[]): string => { if (c[0]) set = c[0].replace(/ .*/, ''); return `${set}: ${c[1]}`; };
    const at = (h: string): number => t.header.indexOf(h);
    return wideRows(t, { label, ours: at('fxcp -a'), peers: [{ col: at('cp -a') }, { col: at('rsync -a') }] }, (f) => {
      const cp = peerValue(f, 'cp -a');
      const rsync = peerValue(f, 'rsync -a');
      if (/: cold copy$/.test(f.label) && cp) {
        return /^small/.test(f.label) || !rsync ? { value: cp * 1.1, label: 'within 1.1x of cp -a' }
          : { value: Math.min(cp * 1.1, rsync / 3), label: 'within 1.1x of cp -a and 3x faster than rsync -a' };
      }
      return f.label === 'mixed: re-run, nothing changed' && rsync ? { value: rsync, label: 'faster than rsync -a' } : undefined;
    });
  },
  // Issue 3's targets: export at least as fast as tar | zstd -3; one file from an archive under 100 ms.
  archive: ([t]) => (t ? toolRows(t, 'fxcp', (f) => {
    const tar = peerValue(f, 'tar+zstd');
    if (f.label === 'export' && tar) return { value: tar, label: 'as fast as tar | zstd -3' };
    return /^restore 1 file/.test(f.label) && f.kind === 'time' ? { value: 0.1, label: 'under 100 ms' } : undefined;
  }) : []),
  // Issue 4's target: prune faster than both.
  lifecycle: ([t]) => (t ? toolRows(t, 'fxcp', (f) => (f.label === 'prune' ? { value: fastest(f), label: 'faster than both' } : undefined)) : []),
  // Issue 24's targets: v2 pushed faster than rsync sends it; a first push at 80 % of export | ssh import.
  ssh: ([t]) => (t ? toolRows(t, 'fxcp push', (f) => {
    const rsync = peerValue(f, 'rsync');
    const pipe = peerValue(f, 'export | ssh import');
    if (f.kind === 'time' && /^then: v2$/.test(f.label) && rsync) return { value: rsync, label: 'faster than rsync' };
    return f.kind === 'time' && /^first: v1$/.test(f.label) && pipe ? { value: pipe / 0.8, label: "80 % of export | ssh import's rate" } : undefined;
  }) : []),
  s3: ([t]) => (t ? s3Rows(t) : []),
};

/** The block kinds (a key's part before ':') that draw a chart. */
export const CHARTED_KINDS = Object.keys(READERS);

/** The S3 table has a row per command: ours and restic's paired by hand; issue 26's absolute targets. */
function s3Rows(t: Table): ChartRow[] {
  const PAIRS = [
    ['first snapshot', 'fxcp snap create (first)', 'restic backup (first)'],
    ['unchanged second snapshot', 'fxcp snap create (unchanged)', 'restic backup (unchanged)'],
    ['restore one file', 'fxcp snap restore --file (store)', 'restic restore --include (one file)'],
  ];
  const row = (step: string): string[] | undefined => t.rows.find((r) => r[0] === step);
  const [time, want] = [t.header.indexOf('time'), t.header.indexOf('target')];
  return PAIRS.flatMap(([label, a, b]): ChartRow[] => {
    const [mine, theirs] = [row(a!), row(b!)];
    const [ours, value] = [secondsOf(mine?.[time]), secondsOf(theirs?.[time])];
    if (ours === undefined || value === undefined) return [];
    const ms = /^target (\d+) ms$/.exec(mine![want] ?? '')?.[1];
    const f: Figures = { label: label!, kind: 'time', ours, peers: [{ name: 'restic', value }], cells: mine! };
    return [chartRow(f, ms ? { value: Number(ms) / 1000, label: `under ${ms} ms` } : undefined)];
  });
}

/** The chart of one block (key as in bench-doc.ts), or null when the block has no peers to chart. */
export function chartOfBlock(key: string, md: string): RatioChart | null {
  const read = READERS[key.slice(0, key.indexOf(':'))];
  const rows = read ? read(tablesOf(md), md) : [];
  if (!rows.length) return null;
  const title = /^### (.+)$/m.exec(md)?.[1] ?? key;
  return { id: `bench-${key.replace(/[^\w.-]+/g, '-')}`, title, ours: 'fxcp', rows };
}
