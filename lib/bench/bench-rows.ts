// What the archive and lifecycle suites share: their options and environment, peer availability,
// and their table shape. Unlike the snap suite (one column per tool), these suites compare
// different commands per step, so their tables have one row per command:
//   | step | tool | command | wall | MB/s | output | peak RSS | vs fxcp |
// where "vs fxcp" compares a peer's row with the first fxcp row of the same step.
import { statSync } from 'node:fs';
import {
  cellTime, fmtBytes, mbps, NA, ratio, rssCell, timed, verifyRestored, type Ctx, type Measure, type TimingOptions,
} from './bench-measure.js';
import { du } from './bench-proc.js';
import type { SetName } from './gen-dataset.js';
import type { PeerInfo, PeerName } from './peers.js';

/** What the suites read from the harness options (run-bench's Options has all of it). */
export interface SuiteOptions extends TimingOptions {
  factor: number;
  fxcp: string;
  keep: boolean;
  /** Tools to run: fxcp, restic, borg, tar. */
  tools: ReadonlySet<string>;
}

export interface SuiteEnv {
  ctx: Ctx<SuiteOptions>;
  /** The directory holding a generated data set (DIR/mixed, DIR/series/v1 …), generated on first use;
   *  at the run's --factor unless another factor is given. */
  dataFor: (set: SetName, factor?: number) => string;
  peers: Map<PeerName, PeerInfo>;
}

/** null when every peer is installed, else the "not available (…)" note of the missing ones. */
export function missingPeers(env: SuiteEnv, ...names: PeerName[]): string | null {
  const miss = names.filter((p) => !env.peers.get(p)?.path);
  return miss.length ? `not available (${miss.map((p) => env.peers.get(p)?.reason ?? p).join('; ')})` : null;
}

export interface Row {
  step: string;
  tool: string;
  /** Shown in the table (short form, paths abbreviated). */
  command: string;
  m: Measure;
  /** Bytes the step processed, for MB/s (the raw tree bytes unless the suite says otherwise). */
  bytes?: number;
  /** Size of what the step produced (archive, store, repository). */
  out?: number;
  /** Free text for the last column (e.g. "10 of 1000 snapshots left"). */
  extra?: string;
}

/** Bytes of a file (apparent size) or, for a directory, `du --block-size=1`; undefined when absent. */
export async function sizeOf(p: string): Promise<number | undefined> {
  try {
    const st = statSync(p);
    return st.isDirectory() ? await du(p) : st.size;
  } catch { return undefined; }
}

/** The table's lines; the MB/s column only when `mbLabel` is given. */
export function renderRows(rows: Row[], o: { mbLabel?: string; outLabel: string; extraLabel?: string }): string[] {
  const hdr = ['step', 'tool', 'command', 'wall', ...(o.mbLabel ? [o.mbLabel] : []), o.outLabel, 'peak RSS', 'vs fxcp'];
  if (o.extraLabel) hdr.push(o.extraLabel);
  const L = [`| ${hdr.join(' | ')} |`, `|${hdr.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const ref = rows.find((x) => x.step === r.step && x.tool === 'fxcp');
    const ok = (m: Measure | undefined): number | undefined => (m?.state === 'ok' ? m.secs : undefined);
    const vs = r.tool === 'fxcp' || !ref ? '' : ratio(ok(ref.m), ok(r.m), 'faster', 'slower');
    const cells = [
      r.step, r.tool, `\`${r.command.replace(/\|/g, '\\|')}\``, cellTime(r.m),
      ...(o.mbLabel ? [r.bytes !== undefined ? mbps(r.bytes, r.m) : ''] : []),
      r.out !== undefined ? fmtBytes(r.out) : '',
      rssCell(r.m), vs ? `fxcp ${vs}` : '',
    ];
    if (o.extraLabel) cells.push(r.extra ?? '');
    L.push(`| ${cells.join(' | ')} |`);
  }
  return L;
}

/** "met" / "**not met**" / "not measured" for a target line. */
export function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'not measured' : ok ? 'met' : '**not met**';
}

/** The measure of a row that does not run: '—' (tool not selected), "not available (…)", or failed. */
export function blockedMeasure(why: string): Measure {
  return why === '—' ? NA('—') : why.startsWith('not available') ? NA(why) : { state: 'failed', note: why };
}

/** null when the step a row depends on succeeded, else why the row does not run. */
export function blockedBy(m: Measure, what: string): string | null {
  return m.state === 'ok' ? null : m.state === 'na' ? m.note! : `skipped: ${what} failed`;
}

export interface RowStep {
  row: Omit<Row, 'm'>;
  /** File-name friendly step name (scripts and stderr kept under the work dir's cmd/). */
  name: string;
  /** Why the row does not run (see blockedMeasure), or null. */
  blocked: string | null;
  cwd: string;
  body: string;
  prep?: () => Promise<void>;
  /** What the step produced: their sizes summed are the row's output (only when it succeeded). */
  outPaths?: string[];
  /** A restored file to compare with its source (cmp). */
  verify?: { want: string; got: string; shown: string };
}

/** Runs one row's step (or records why not) and appends the row. */
export async function runRow(ctx: Ctx, rows: Row[], s: RowStep): Promise<Row> {
  let m = s.blocked ? blockedMeasure(s.blocked) : await timed(ctx, { name: s.name, cwd: s.cwd, body: () => s.body, prep: s.prep });
  if (s.verify) m = await verifyRestored(m, s.verify.want, s.verify.got, s.verify.shown);
  let out = s.row.out;
  if (m.state === 'ok' && s.outPaths) {
    const sizes = await Promise.all(s.outPaths.map(sizeOf));
    out = sizes.every((x) => x !== undefined) ? sizes.reduce((a, b) => a! + b!, 0) : undefined;
  }
  const row: Row = { ...s.row, m, out };
  rows.push(row);
  return row;
}
