// `npm run bench -- --memory-test [N]`: peak RSS of one first snapshot of N small text files
// (the scale suite's tree), the bound issue 25 sets at 3M files.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmtSecs, timed, type Ctx } from './bench-measure.js';
import { log, q, sh, workDir } from './bench-proc.js';
import type { Options } from './bench-options.js';
import { scaleTree } from './scale-set.js';

export async function memoryTest(ctx: Ctx<Options>, n: number): Promise<string> {
  const root = join(workDir(), 'memtest');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  // The scale suite's small text files, in its place (scale-set.ts; kept with --keep, so the two
  // share one tree): empty files put nothing into the index, so a memory test of those could
  // not see what the index costs (issue 25).
  const tree = join(workDir(), 'scale', 'tree');
  scaleTree(tree, n, log);
  const store = join(root, 'store');
  const saveRuns = ctx.opts.runs;
  const saveWarmup = ctx.opts.warmup;
  ctx.opts.runs = 1;
  ctx.opts.warmup = 0;
  await sh(`find ${q(tree)} -type d > /dev/null`);
  const m = await timed(ctx, { name: 'memtest-fxcp-create', cwd: root, body: () => `${q(ctx.opts.fxcp)} snap create ${q(tree)} ${q(store)} --json`, stdoutFile: join(ctx.cmdDir, 'memtest.json') });
  ctx.opts.runs = saveRuns;
  ctx.opts.warmup = saveWarmup;
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const L = ['## Memory test', '', `${date}: \`fxcp snap create\` over ${n.toLocaleString('en-US')} small text files of 100 to 4,000 bytes in up to 10,000 directories (the scale suite's tree, \`lib/bench/scale-set.ts\`). Target: peak RSS < 512 MiB (issue 25's bound at 3M files).`, ''];
  if (m.state !== 'ok') L.push(`Result: failed: ${m.note}`);
  else {
    const mib = m.rssKiB ? m.rssKiB / 1024 : undefined;
    L.push(`| files | wall | CPU | peak RSS | target < 512 MiB |`, `|---|---|---|---|---|`,
      `| ${n.toLocaleString('en-US')} | ${fmtSecs(m.secs!)} s | ${m.cpuSecs === undefined ? '?' : `${fmtSecs(m.cpuSecs)} s`} | ${mib !== undefined ? `${mib.toFixed(0)} MiB` : 'unknown (no GNU time)'} | ${mib === undefined ? '?' : mib < 512 ? 'met' : '**missed**'} |`);
  }
  rmSync(root, { recursive: true, force: true });
  if (!ctx.opts.keep) rmSync(tree, { recursive: true, force: true });
  return `${L.join('\n')}\n`;
}
