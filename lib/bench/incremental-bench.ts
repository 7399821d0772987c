// Incremental suite (issue 22, `--suite incremental`): repeated copies into a destination that
// already holds the previous one, fxcp (`-a --generate-sigs`, the steady-state use) beside
// `rsync -a` (its delta, `--no-whole-file`, where data changed), on the work dir's own file
// system. Cases: an unchanged resync of 10,000 files in 100 directories and of 100,000 in 1,000;
// one file changed in the 10,000; a 64 MiB file with 8 KiB inserted in the middle (bytes written
// and reused); the series set, v2 copied over v1 (bytes written against v2's size). Each case's
// copies are compared with the source after its timed runs: a wrong copy fails its row.
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cellTime, fmtBytes, fmtSecs, isoNow, ratio, rssCell, timedRounds, type Measure, type Step } from './bench-measure.js';
import { log, q, readText, scanTree, sh, workDir } from './bench-proc.js';
import { missingPeers, type SuiteEnv } from './bench-rows.js';
import { compareCopies } from './copy-verify.js';

export const INCREMENTAL_METHOD = [
  '- Incremental suite (`--suite incremental`, issue 22): on the work dir\'s file system, each tool keeps its own destination. Untimed first copies: `fxcp -a --generate-sigs SRC/ DST/` and `rsync -a SRC/ DST/`. Timed, interleaved run by run: the same command again with nothing changed (trees of 10,000 files of 1–4 KiB in 100 directories and of 100,000 in 1,000); one file of the 10,000 rewritten before each round (same size, new mtime); a 64 MiB file with 8 KiB of new bytes inserted in the middle before each round (`rsync -a --no-whole-file --stats`, whose "Literal data" is what it sent; fxcp\'s `--json` gives the bytes it wrote and reused); the series set, v1 copied untimed before each run and v2 copied over it with `--delete` (fxcp\'s "Total bytes written", rsync\'s "Literal data"). After the timed runs each destination is compared with its source (names, types, modes, sizes, mtimes in ns, every byte). The unchanged rows also time, in the same rounds, two floors that no comparing tool written in Node can go under here: `env -u NODE_EXTRA_CA_CERTS node -e 0` (Node\'s start), and `find SRC -printf \'%s %T@\\n\' & find DST … & wait` (both trees listed and every entry stat\'ed, in C, side by side on two cores, nothing compared); the target column gives what 3x rsync leaves.',
];

type Tool = 'fxcp' | 'rsync';
const TOOLS: readonly Tool[] = ['fxcp', 'rsync'];

interface CaseResult {
  name: string; detail: string; times: Partial<Record<Tool, Measure>>; bytes?: Partial<Record<Tool, string>>; target: string;
  /** Unchanged trees: what any tool pays before it compares anything (FLOORS). */
  floors?: Measure[];
}

/**
 * The floors of an unchanged resync on this machine, timed in the same rounds as the tools:
 * Node's own start (what any fxcp run pays first), and both trees listed and every entry
 * stat'ed by two `find` processes side by side (what any tool that compares them pays, in C,
 * on two cores, comparing nothing). A target under either cannot be met by fxcp here.
 */
const FLOORS = [
  { name: 'node', label: '`node -e 0`', body: () => 'env -u NODE_EXTRA_CA_CERTS node -e 0' },
  { name: 'find', label: 'both trees stat\'ed (two `find` side by side)', body: (src: string, dst: string) => `find ${q(src)} -printf '%s %T@\\n' >/dev/null & find ${q(dst)} -printf '%s %T@\\n' >/dev/null & wait` },
] as const;

/** A tree of `files` small files (1–4 KiB, seeded) in `dirs` directories. */
function makeTree(root: string, files: number, dirs: number): void {
  let seed = files;
  const next = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${String(d).padStart(4, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < files / dirs; f++) {
      const b = Buffer.allocUnsafe(1024 + (next() % 3072));
      for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(next(), Math.min(i, b.length - 4));
      writeFileSync(join(dir, `f${String(f).padStart(5, '0')}`), b);
    }
  }
}

export async function runIncrementalSuite(env: SuiteEnv): Promise<{ key: string; md: string }> {
  const { ctx } = env;
  const fx = ctx.opts.fxcp;
  const key = `incremental:ext4@${ctx.opts.factor}`;
  const missing = missingPeers(env, 'rsync');
  const W = join(workDir(), 'incremental');
  rmSync(W, { recursive: true, force: true });
  mkdirSync(W, { recursive: true });
  const results: CaseResult[] = [];
  const dst = (c: string, t: Tool): string => join(W, `${c}-dst-${t}`);
  const out = (c: string, t: Tool): string => join(ctx.cmdDir, `incr-${c}-${t}.out`);
  const cmd = (t: Tool, src: string, d: string, extra: string): string => t === 'fxcp'
    ? `${q(fx)} -a --generate-sigs ${extra} ${q(src)}/ ${q(d)}/` : `rsync -a ${extra} ${q(src)}/ ${q(d)}/`;
  // fxcp's destination holds its state at the top (.foxing), which is not data.
  const verify = (src: string, c: string): string[] => compareCopies(src, TOOLS.map((t) => dst(c, t)), ['.foxing']).map((v) => v ?? '');
  const tools = missing ? ['fxcp' as Tool] : TOOLS;

  /** Timed rounds of each tool's step (and, with `floors`, of FLOORS, last); wrong copies fail their rows. */
  const rounds = async (c: string, src: string, steps: (t: Tool) => Partial<Step>, extra: Record<Tool, string>, label = c, floors = false): Promise<{ times: Partial<Record<Tool, Measure>>; floors: Measure[] }> => {
    const ms = await timedRounds(ctx, [
      ...tools.map((t) => ({ name: `incr-${label}-${t}`, cwd: W, body: () => cmd(t, src, dst(c, t), extra[t]), stdoutFile: out(label, t), ...steps(t) })),
      ...(floors ? FLOORS.map((f) => ({ name: `incr-${label}-floor-${f.name}`, cwd: W, body: () => f.body(src, dst(c, 'fxcp')) })) : []),
    ]);
    const verdicts = missing ? [] : verify(src, c);
    const times: Partial<Record<Tool, Measure>> = {};
    tools.forEach((t, k) => { times[t] = verdicts[k] ? { ...ms[k]!, state: 'failed', note: `wrong copy: ${verdicts[k]}` } : ms[k]!; });
    return { times, floors: ms.slice(tools.length) };
  };

  for (const [files, dirs] of [[10_000, 100], [100_000, 1_000]] as const) {
    const c = `tree${files / 1000}k`;
    const src = join(W, `${c}-src`);
    log(`incremental ${c}: making ${files} files in ${dirs} directories`);
    makeTree(src, files, dirs);
    for (const t of tools) await sh(`${cmd(t, src, dst(c, t), '')}\nsync`);
    const { times, floors } = await rounds(c, src, () => ({}), { fxcp: '', rsync: '' }, c, true);
    results.push({ name: `unchanged, ${files.toLocaleString('en-US')} files in ${dirs.toLocaleString('en-US')} directories`, detail: '', times, floors, target: 'at least 3x faster than rsync' });
    if (files === 10_000) {
      const one = join(src, 'd0042', 'f00042');
      // Into the same destinations.
      const { times: times1 } = await rounds(c, src, (t) => t === 'fxcp' ? {
        // A time of its own each round: rsync's quick check compares whole seconds only, and
        // would miss a second change within the same second (fxcp compares ns).
        prep: async (i) => { const b = readFileSync(one); b[i % b.length] ^= 0xff; writeFileSync(one, b); utimesSync(one, 1_700_000_000 + i * 10, 1_700_000_000 + i * 10); },
      } : {}, { fxcp: '', rsync: '' }, `${c}-one`);
      results.push({ name: 'one file changed in the 10,000', detail: '', times: times1, target: 'at least 3x faster than rsync' });
    }
    rmSync(src, { recursive: true, force: true });
    for (const t of tools) rmSync(dst(c, t), { recursive: true, force: true });
  }

  {
    const c = 'insert64';
    const src = join(W, `${c}-src`);
    mkdirSync(src);
    const file = join(src, 'big');
    await sh(`head -c ${64 << 20} /dev/urandom > ${q(file)}`);
    for (const t of tools) await sh(`${cmd(t, src, dst(c, t), '')}\nsync`);
    const { times } = await rounds(c, src, (t) => t === 'fxcp' ? {
      prep: async (i) => { const b = readFileSync(file); const at = (b.length >> 1) + i * 65536; writeFileSync(file, Buffer.concat([b.subarray(0, at), Buffer.alloc(8192, i + 1), b.subarray(at)])); },
    } : {}, { fxcp: '--json', rsync: '--no-whole-file --stats' });
    const rec = readText(out(c, 'fxcp')).split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((x) => x.action === 'write');
    const literal = /Literal data: ([\d,]+)/.exec(readText(out(c, 'rsync')))?.[1]?.replace(/,/g, '');
    results.push({
      name: '64 MiB file, 8 KiB inserted in the middle', detail: '', times,
      bytes: { fxcp: rec ? `${fmtBytes(rec.bytes)} written, ${fmtBytes(rec.reused ?? 0)} reused (${rec.strategy})` : '?', rsync: literal ? `${fmtBytes(Number(literal))} literal` : '' },
      target: 'at least 50 MB reused, every byte right',
    });
    rmSync(src, { recursive: true, force: true });
    for (const t of tools) rmSync(dst(c, t), { recursive: true, force: true });
  }

  {
    const c = 'series';
    const data = join(env.dataFor('series'), 'series');
    const v1 = join(data, 'v1'), v2 = join(data, 'v2');
    const v2Bytes = scanTree(v2).bytes;
    const { times } = await rounds(c, v2, (t) => ({
      prep: async () => { rmSync(dst(c, t), { recursive: true, force: true }); await sh(`${cmd(t, v1, dst(c, t), '')}\nsync`); },
    }), { fxcp: '--delete --stats', rsync: '--delete --no-whole-file --stats' });
    const written = /Total bytes written: ([\d,]+)/.exec(readText(out(c, 'fxcp')))?.[1]?.replace(/,/g, '');
    const literal = /Literal data: ([\d,]+)/.exec(readText(out(c, 'rsync')))?.[1]?.replace(/,/g, '');
    const pct = (n: string | undefined) => (n ? `${fmtBytes(Number(n))} (${((Number(n) / v2Bytes) * 100).toFixed(1)} % of v2)` : '');
    results.push({ name: `series v2 over v1 (v2: ${fmtBytes(v2Bytes)})`, detail: '', times, bytes: { fxcp: `${pct(written)} written`, rsync: literal ? `${pct(literal)} literal` : '' }, target: 'under 10 % of v2 written, faster than rsync --no-whole-file' });
    for (const t of tools) rmSync(dst(c, t), { recursive: true, force: true });
  }
  rmSync(W, { recursive: true, force: true });
  return { key, md: render(results, ctx.opts.runs, ctx.opts.factor, missing) };
}

function render(results: CaseResult[], runs: number, factor: number, missing: string | null): string {
  const lines = [
    `### Incremental copies (the work dir's file system), series at factor ${factor}`, '',
    `${isoNow()}, median of ${runs} runs (min–max), fxcp and rsync interleaved run by run.${missing ? ` rsync: ${missing}.` : ''}`, '',
    '| case | fxcp -a --generate-sigs | rsync -a | fxcp vs rsync | peak RSS fxcp / rsync | data | target | floors (same rounds) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const f = r.times.fxcp, s = r.times.rsync;
    const data = r.bytes ? `fxcp: ${r.bytes.fxcp ?? ''}; rsync: ${r.bytes.rsync ?? ''}` : '';
    // With the floors: what the 3x target leaves, beside what the floors take.
    const target = r.floors && s?.secs ? `${r.target} (${fmtSecs(s.secs / 3)} s)` : r.target;
    const floors = (r.floors ?? []).map((m, k) => `${FLOORS[k].label} ${cellTime(m)}`).join('; ');
    lines.push(`| ${r.name} | ${cellTime(f)} | ${cellTime(s)} | ${ratio(f?.secs, s?.secs, 'faster', 'slower')} | ${rssCell(f)} / ${rssCell(s)} | ${data} | ${target} | ${floors} |`);
  }
  return lines.join('\n');
}
