// The chart files beside docs/BENCHMARKS.md: one SVG per block that compares fxcp with peers
// (docs/bench-KEY.svg, drawn by ratio-chart.ts from the figures bench-chart-rows.ts reads back from
// the block's table), and the link to it inside the block, before its first table.
//
// A run draws the charts of the blocks it measured and no others, so a run of one suite leaves
// the other suites' charts as they were, like their tables. `--charts-only` redraws every block's
// chart from the figures already in the file, measuring nothing.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { blocksOf, mergeDoc } from './bench-doc.js';
import { CHARTED_KINDS, chartOfBlock } from './bench-chart-rows.js';
import { renderRatioChart } from './ratio-chart.js';

/** The chart's file name for a block key: set:mixed@1 → bench-set-mixed-1.svg. */
export function chartFile(key: string): string { return `bench-${key.replace(/[^\w.-]+/g, '-')}.svg`; }

const LINK = /^!\[[^\]\n]*\]\(bench-[^)\n]*\.svg\)\n(\n|$)/m;

/** The block with the link to its chart before its first table, or with no chart link when `file` is null. */
export function linkChart(md: string, file: string | null, alt: string): string {
  const body = md.replace(LINK, '');
  if (!file) return body;
  const link = `![${alt}](${file})\n\n`;
  const at = body.search(/^\|/m);
  return at < 0 ? `${body.trimEnd()}\n\n${link}` : `${body.slice(0, at)}${link}${body.slice(at)}`;
}

/**
 * Writes the chart of each block into `dir` (through a temporary name, so a reader never sees half
 * a file) and returns the blocks with their links. A block that now draws no chart loses its link
 * and its old chart file, so no chart outlives the figures it showed.
 */
export function drawCharts(dir: string, blocks: Map<string, string>, log: (msg: string) => void): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, md] of blocks) {
    const chart = chartOfBlock(key, md);
    const path = join(dir, chartFile(key));
    if (chart) {
      writeFileSync(`${path}.tmp`, renderRatioChart(chart));
      renameSync(`${path}.tmp`, path);
      log(`drew ${path}`);
    } else {
      if (CHARTED_KINDS.includes(key.slice(0, key.indexOf(':')))) log(`${key}: no chart: its table does not read as one (lib/bench/bench-chart-rows.ts)`);
      if (existsSync(path)) { rmSync(path); log(`removed ${path}`); }
    }
    out.set(key, linkChart(md, chart ? chartFile(key) : null, chart ? `Chart: ${chart.title}` : ''));
  }
  return out;
}

/** A run's blocks merged into `docPath` (bench-doc.ts) with their charts drawn beside it. */
export function writeDoc(docPath: string, header: string | null, blocks: Map<string, string>, log: (msg: string) => void): void {
  mergeDoc(docPath, header, drawCharts(dirname(docPath), blocks, log));
}

/** `--charts-only`: every block's chart redrawn from the figures already in `docPath`. */
export function redrawCharts(docPath: string, log: (msg: string) => void): void {
  writeDoc(docPath, null, blocksOf(readFileSync(docPath, 'utf8')), log);
}
