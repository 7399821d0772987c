/**
 * `npm run demo`: the main job on a generated sample, with the real `fxcp` binary, printing
 * each command as it runs: make a small tree, snapshot it, edit a file, snapshot again (the
 * second snapshot stores only what changed), list, show dedup stats, restore one file and
 * verify it byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FXCP = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'fxcp');

function sh(args: string[]): void {
  process.stdout.write(`\n$ fxcp ${args.join(' ')}\n`);
  const r = spawnSync(FXCP, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`fxcp ${args[0]} ${args[1]} exited ${r.status}`);
}

/** Deterministic sample content: text-like files and a few binary ones. */
function makeSample(root: string): void {
  const words = 'the quick brown fox jumps over the lazy dog archive chunk store snapshot pack tree'.split(' ');
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let d = 0; d < 8; d++) {
    const dir = join(root, `project-${d}`, 'src');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 12; f++) {
      const lines: string[] = [];
      for (let l = 0; l < 40 + (next() % 400); l++) lines.push(Array.from({ length: 8 }, () => words[next() % words.length]).join(' '));
      writeFileSync(join(dir, `file-${f}.txt`), lines.join('\n') + '\n');
    }
    const bin = Buffer.alloc(256 * 1024 + (next() % 65536));
    for (let i = 0; i < bin.length; i += 4) bin.writeUInt32LE(next(), Math.min(i, bin.length - 4));
    writeFileSync(join(root, `project-${d}`, 'blob.bin'), bin);
  }
}

export async function runDemo(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'fxcp-demo-'));
  const src = join(work, 'sample');
  const store = join(work, 'store');
  const out = join(work, 'restored');
  try {
    process.stdout.write(`Foxing for Node demo: sample tree in ${src}\n`);
    makeSample(src);
    sh(['snap', 'create', src, store, '--tag', 'first']);
    const edited = join(src, 'project-3', 'src', 'file-5.txt');
    writeFileSync(edited, readFileSync(edited, 'utf8').replace(/fox/g, 'FOX') + 'one more line\n');
    process.stdout.write(`\n(edited ${edited})\n`);
    sh(['snap', 'create', src, store, '--tag', 'second']);
    sh(['snap', 'list', store]);
    sh(['store', 'stats', store]);
    sh(['snap', 'restore', store, '-o', out, '--latest', '--file', 'project-3/src/file-5.txt']);
    const a = createHash('sha256').update(readFileSync(edited)).digest('hex');
    const b = createHash('sha256').update(readFileSync(join(out, 'project-3', 'src', 'file-5.txt'))).digest('hex');
    if (a !== b) {
      process.stdout.write(`\nverification FAILED: restored file differs (${a} != ${b})\n`);
      return 1;
    }
    process.stdout.write(`\nverified: the restored file is byte-identical (sha256 ${a.slice(0, 16)}…)\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
