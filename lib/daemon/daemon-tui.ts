/**
 * `foxingd daemon --tui`: the live terminal view, drawn from the same status document as
 * `foxingd status` (daemon-metrics.ts) and the newest log lines. Pure: a screen of text for a
 * width and a height; lib/cli draws it (about twice a second, only on a terminal).
 */
export interface TuiMirror {
  source: string; target: string | null; paused: boolean; queue: number; running: number; lagSeconds: number;
  operations: number; written: number; deleted: number; renamed: number; rescans: number; failures: number; bytes: number;
  store?: string; snapshots?: { cuts: number; failures: number; lastCutMs: number };
}

export function renderTui(doc: { pid: number; uptimeSeconds: number; mirrors: TuiMirror[] }, recent: readonly string[], width: number, height: number): string {
  const fit = (s: string) => (s.length > width ? `${s.slice(0, Math.max(0, width - 1))}…` : s.padEnd(width));
  const lines = [
    fit(`foxingd ${doc.pid}  up ${clock(doc.uptimeSeconds)}  ${doc.mirrors.length} watch${doc.mirrors.length === 1 ? '' : 'es'}   (Ctrl-C stops)`),
    fit(''),
    fit(`${'STATE'.padEnd(7)}${'QUEUE'.padStart(7)}${'RUN'.padStart(5)}${'LAG'.padStart(8)}${'OPS'.padStart(8)}${'WRITTEN'.padStart(9)}${'DEL'.padStart(6)}${'REN'.padStart(6)}${'RESCAN'.padStart(8)}${'FAIL'.padStart(6)}  MIRROR`),
  ];
  for (const m of doc.mirrors) {
    const state = m.paused ? 'PAUSED' : m.queue > 0 ? 'busy' : 'idle';
    lines.push(fit(`${state.padEnd(7)}${String(m.queue).padStart(7)}${String(m.running).padStart(5)}${`${m.lagSeconds.toFixed(1)}s`.padStart(8)}` +
      `${String(m.operations).padStart(8)}${String(m.written).padStart(9)}${String(m.deleted).padStart(6)}${String(m.renamed).padStart(6)}${String(m.rescans).padStart(8)}${String(m.failures).padStart(6)}  ` +
      `${m.source}${m.target ? ` -> ${m.target}` : ''}${m.snapshots ? `  [${m.snapshots.cuts} snapshots, last ${m.snapshots.lastCutMs.toFixed(0)} ms]` : ''}`));
  }
  lines.push(fit(''), fit('RECENT'));
  const room = Math.max(0, height - lines.length);
  for (const r of recent.slice(-room)) lines.push(fit(r));
  while (lines.length < height) lines.push(fit(''));
  return lines.slice(0, height).join('\n');
}

function clock(s: number): string {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
