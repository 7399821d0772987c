// The start-up table of docs/BENCHMARKS.md (startup-bench.ts measures it): small commands spawned
// directly beside `node -e 0`, and with a baseline build (--baseline-fxcp) before / after / the
// difference per row, with the verdicts of issue 20's budget. Pure: it renders what it is given.
import type { DirectTimes, Measure } from './bench-measure.js';
import { pairedDiff } from './paired-stats.js';

/** Issue 20: every row within this many ms of the build before. */
export const WITHIN_MS = 10;

export interface StartupRow {
  /** The command as shown (paths abbreviated), e.g. `fxcp snap list STORE`. */
  command: string;
  t: DirectTimes;
  /** The row's own target in ms (the one-file restores of issues 2 and 3), if it has one. */
  targetMs?: number;
}

export interface StartupResult {
  date: string;
  /** One sentence: the store and archive the rows read, the restored file. */
  setup: string;
  /** The baseline build: its path and what it is (a commit, a version), or null. */
  baseline: { path: string; what: string } | null;
  /** What this build is (a commit, a version). */
  ours: string;
  rows: StartupRow[];
}

const ms = (secs: number): string => `${(secs * 1000).toFixed(0)} ms`;
/** "46 ms (43–65)", or why there is no figure. */
export function msCell(m: Measure | undefined): string {
  if (!m) return '';
  if (m.state !== 'ok') return `failed: ${(m.note ?? '').replace(/\|/g, '/')}`;
  return `${ms(m.secs!)} (${(m.min! * 1000).toFixed(0)}–${(m.max! * 1000).toFixed(0)})`;
}

/** A signed difference in ms: "+1.4 ms", "−0.6 ms" (typographic minus). */
export function signedMs(x: number): string {
  const v = Math.abs(x) < 0.05 ? 0 : x;
  return `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(1)} ms`;
}

/** The median of a's runs minus b's, round by round, in ms; undefined unless both ran in every round. */
export function diffMs(a: Measure | undefined, b: Measure | undefined): number | undefined {
  if (a?.state !== 'ok' || b?.state !== 'ok' || !a.samples || !b.samples) return undefined;
  const d = pairedDiff(a.samples, b.samples);
  return d === undefined ? undefined : d * 1000;
}

const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');

/** The row's target cell: within WITHIN_MS of the baseline (when there is one), and its own target. */
export function targetCell(row: StartupRow, withBaseline: boolean): string {
  const parts: string[] = [];
  if (withBaseline) {
    const d = diffMs(row.t.ours, row.t.base);
    parts.push(`within ${WITHIN_MS} ms: ${verdict(d === undefined ? undefined : d <= WITHIN_MS)}`);
  }
  if (row.targetMs !== undefined) {
    const ok = row.t.ours.state === 'ok' ? row.t.ours.secs! * 1000 < row.targetMs : undefined;
    parts.push(`< ${row.targetMs} ms: ${verdict(ok)}`);
  }
  return parts.join('; ') || '—';
}

export function renderStartup(r: StartupResult): string {
  const runs = r.rows[0]?.t.runs ?? 0;
  const base = r.baseline;
  const L = ['### Start-up of small commands', ''];
  L.push(`${r.date}. Each command spawned directly (no shell, no \`sync\`), median of ${runs} rounds (min–max) after 3 untimed ones; ` +
    'every round also runs `env -u NODE_EXTRA_CA_CERTS node -e 0`' +
    (base ? ', and the baseline build\'s command; odd rounds run the three in reverse order' : '') +
    '. Differences are the median of the round-by-round differences, so drift between rounds cancels.', '');
  L.push(`${r.setup}`, '');
  L.push(base ? `Before: \`${base.path}\` (${base.what}). After: this build (${r.ours}).` : `This build: ${r.ours}. No baseline (\`--baseline-fxcp\`): the rows are not compared with another build.`, '');
  const over = (m: Measure | undefined, node: Measure): string => { const d = diffMs(m, node); return d === undefined ? '' : signedMs(d); };
  if (base) {
    const hdr = ['command', 'before', 'after', 'after − before', '`node -e 0`', 'over `node -e 0`: before / after', 'targets'];
    L.push(`| ${hdr.join(' | ')} |`, `|${hdr.map(() => '---').join('|')}|`);
    for (const row of r.rows) {
      const { ours, node, base: b } = row.t;
      const d = diffMs(ours, b);
      L.push(`| ${[`\`${row.command}\``, msCell(b), msCell(ours), d === undefined ? '' : signedMs(d), msCell(node),
        `${over(b, node)} / ${over(ours, node)}`, targetCell(row, true)].join(' | ')} |`);
    }
  } else {
    const hdr = ['command', 'fxcp', '`node -e 0`', 'over `node -e 0`', 'target'];
    L.push(`| ${hdr.join(' | ')} |`, `|${hdr.map(() => '---').join('|')}|`);
    for (const row of r.rows) {
      const { ours, node } = row.t;
      L.push(`| ${[`\`${row.command}\``, msCell(ours), msCell(node), over(ours, node), targetCell(row, false)].join(' | ')} |`);
    }
  }
  L.push('', `Targets (issue 20): every row within ${WITHIN_MS} ms of the build before the yargs parser (needs \`--baseline-fxcp\`); ` +
    'and the one-file restores of issues 2 and 3 still under 150 ms from a store and under 100 ms from an archive.', '');
  return L.join('\n');
}
