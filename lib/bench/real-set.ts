// The `real` benchmark set (issue 25): real files anyone can fetch again, not synthetic ones.
// v1 is pinned npm packages (`npm pack NAME@VERSION`, unpacked: JavaScript, TypeScript
// declarations, JSON, CSS, SVG, fonts, a few native binaries) and pinned Debian bookworm
// packages (`.deb` contents unpacked with `dpkg-deb -x`: a language's standard library, C
// headers, manual pages, time-zone data with its symlinks, coreutils' binaries). v2 is v1
// edited the same way every time (seeded): 2 % of the regular files get 64 bytes inserted in
// their middle, 0.5 % are removed, 20 files of random bytes are added.
//
// Downloads are cached in CACHE/downloads (CACHE: $FOXING_BENCH_CACHE, else
// $XDG_CACHE_HOME/foxing-bench, else ~/.cache/foxing-bench) and the unpacked v1 and v2 in
// CACHE/real-vN, so the set is fetched once per machine. Debian files are checked against the
// SHA-256 of the pinned version (npm checks its own tarballs' integrity); a version that left
// deb.debian.org is under the same pool path on snapshot.debian.org ($FOXING_BENCH_DEBIAN_MIRROR).
//
//   node build/lib/bench/real-set.js        fetch (if needed) and print where v1 and v2 are
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from './bench-content.js';

/** Bumped whenever the set's contents change (the package lists or the v2 edit). */
export const REAL_SET_VERSION = 1;

/** npm packages: text-heavy code and type declarations, locale tables, icon sets, fonts, binaries. */
export const NPM_PACKAGES = [
  'typescript@5.4.5', 'lodash@4.17.21', 'rxjs@7.8.1', 'date-fns@3.6.0', 'core-js@3.37.1', 'moment@2.30.1',
  'three@0.164.1', 'highlight.js@11.9.0', '@fortawesome/fontawesome-free@6.5.2', 'ramda@0.30.0',
  '@esbuild/linux-x64@0.21.4', 'eslint@8.57.0', 'webpack@5.91.0', '@babel/types@7.24.5', '@babel/parser@7.24.5',
  '@babel/core@7.24.5', 'ajv@8.14.0', 'caniuse-lite@1.0.30001620', 'es-abstract@1.23.3', '@types/node@20.12.12',
  'react-dom@18.3.1', 'vue@3.4.27', 'prettier@3.2.5', 'jquery@3.7.1', 'bootstrap@5.3.3',
  'express@4.19.2', 'axios@1.7.2', '@angular/core@17.3.10', 'svelte@4.2.17', 'terser@5.31.0', 'acorn@8.11.3',
  'yargs@17.7.2', 'commander@12.1.0', 'semver@7.6.2', 'luxon@3.4.4', 'immutable@4.3.6', 'sass@1.77.2',
  'less@4.2.0', 'postcss@8.4.38', 'graphql@16.8.1',
] as const;

/** Debian bookworm packages from the point release's pool (Filename and SHA256 of `apt-cache show`). */
export const DEBIAN_PACKAGES = [
  { file: 'pool/main/t/tzdata/tzdata_2026b-0+deb12u1_all.deb', sha256: '0edb49f4dffe0d5608069f7e4ba4d69544d3b9e86fc314dd8b75e9958d8e5e98' },
  { file: 'pool/main/p/python3.11/libpython3.11-stdlib_3.11.2-6+deb12u8_amd64.deb', sha256: '890b3540dad8a1ccc0deeca025db735bcc82629a76adacbe3b50fcc06ed528ca' },
  { file: 'pool/main/m/manpages/manpages_6.03-2_all.deb', sha256: 'efa1ba4cd19ad7baeae959c9209a7eb74be2ebb858bcabb412597bfc9f588c91' },
  { file: 'pool/main/m/manpages/manpages-dev_6.03-2_all.deb', sha256: '96f55cb5e26231d5567c89b692bced63825a14a2d5bd18fdf16ea2ed44eb9838' },
  { file: 'pool/main/p/perl/perl-modules-5.36_5.36.0-7+deb12u3_all.deb', sha256: '3d237ccb1ea32727b6573d43c67d78337aa928a81148d36cef54b369a07c240a' },
  { file: 'pool/main/c/coreutils/coreutils_9.1-1_amd64.deb', sha256: '61038f857e346e8500adf53a2a0a20859f4d3a3b51570cc876b153a2d51a3091' },
  { file: 'pool/main/g/glibc/libc6-dev_2.36-9+deb12u14_amd64.deb', sha256: '0218fc2befcd784c1b0c6292c0a137ce89fad054efaa579ad083bee0f2c01aae' },
  { file: 'pool/main/i/iso-codes/iso-codes_4.15.0-1_all.deb', sha256: 'b1beb869303229c38288d4ddacfd582c91f594759b5767c9cecebd87f16ff70e' },
] as const;

/** The v2 edit (see the file header). */
export const REAL_V2 = { seed: 25, editShare: 0.02, removeShare: 0.005, added: 20, insertBytes: 64 } as const;

export function benchCacheDir(): string {
  const env = process.env;
  return env.FOXING_BENCH_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'foxing-bench');
}

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop()}`);
  return r.stdout;
}

const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** The npm tarball of `spec` in `dir` (fetched once: `npm pack` checks the registry's integrity). */
function npmTarball(spec: string, dir: string, log: (m: string) => void): string {
  const name = `${spec.replace(/^@/, '').replace(/\//g, '-')}.tgz`;
  const path = join(dir, name);
  if (existsSync(path)) return path;
  log(`real set: npm pack ${spec}`);
  const tmp = join(dir, 'tmp');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run('npm', ['pack', spec, '--pack-destination', tmp, '--silent'], tmp);
  const [got] = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
  if (!got) throw new Error(`npm pack ${spec}: no tarball`);
  renameSync(join(tmp, got), path);
  return path;
}

/** The .deb `file` in `dir`, fetched once and checked against its SHA-256. */
function debianPackage(p: { file: string; sha256: string }, dir: string, log: (m: string) => void): string {
  const path = join(dir, p.file.split('/').pop()!);
  if (existsSync(path) && sha256(path) === p.sha256) return path;
  const mirror = process.env.FOXING_BENCH_DEBIAN_MIRROR || 'https://deb.debian.org/debian';
  log(`real set: fetch ${mirror}/${p.file}`);
  run('curl', ['-fsSL', '--retry', '3', '-o', `${path}.part`, `${mirror}/${p.file}`]);
  const got = sha256(`${path}.part`);
  if (got !== p.sha256) throw new Error(`${p.file}: SHA-256 ${got}, expected ${p.sha256}`);
  renameSync(`${path}.part`, path);
  return path;
}

/** Regular files under `root`, sorted by path (the bench's own trees: tens of thousands of names). */
function regularFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, r));
    if (st.isDirectory()) out.push(...regularFiles(root, r));
    else if (st.isFile()) out.push(r);
  }
  return out;
}

function buildV1(v1: string, downloads: string, log: (m: string) => void): void {
  for (const spec of NPM_PACKAGES) {
    const dest = join(v1, 'npm', spec.replace(/\//g, '+'));
    mkdirSync(dest, { recursive: true });
    run('tar', ['-xzf', npmTarball(spec, downloads, log), '-C', dest, '--no-same-owner']);
  }
  for (const p of DEBIAN_PACKAGES) {
    const dest = join(v1, 'debian', p.file.split('/').pop()!.replace(/_.*$/, ''));
    mkdirSync(dest, { recursive: true });
    run('dpkg-deb', ['-x', debianPackage(p, downloads, log), dest]);
  }
}

/** v2: a copy of v1 with the seeded edit of REAL_V2 (the same files and bytes every time). */
export function buildV2(v1: string, v2: string): void {
  run('cp', ['-a', v1, v2]);
  const files = regularFiles(v2);
  const r = new Rng(REAL_V2.seed);
  const pick = (share: number): string[] => {
    const out: string[] = [];
    for (const f of files) if (r.u32() / 2 ** 32 < share) out.push(f);
    return out;
  };
  const edited = pick(REAL_V2.editShare);
  const removed = pick(REAL_V2.removeShare).filter((f) => !edited.includes(f));
  for (const f of edited) {
    const p = join(v2, f);
    const data = readFileSync(p);
    const mid = data.length >> 1;
    writeFileSync(p, Buffer.concat([data.subarray(0, mid), r.bytes(REAL_V2.insertBytes), data.subarray(mid)]));
  }
  for (const f of removed) unlinkSync(join(v2, f));
  mkdirSync(join(v2, 'added'), { recursive: true });
  for (let i = 0; i < REAL_V2.added; i++) writeFileSync(join(v2, 'added', `random-${i}.bin`), r.bytes(4096 + (r.u32() % (1 << 20))));
}

/** Fetches (once) and unpacks the real set; returns the directories of v1 and v2. */
export function realSet(log: (m: string) => void = () => {}): { v1: string; v2: string } {
  const cache = benchCacheDir();
  const base = join(cache, `real-v${REAL_SET_VERSION}`);
  const stamp = join(base, '.complete');
  const v1 = join(base, 'v1');
  const v2 = join(base, 'v2');
  if (existsSync(stamp)) return { v1, v2 };
  const downloads = join(cache, 'downloads');
  mkdirSync(downloads, { recursive: true });
  rmSync(base, { recursive: true, force: true });
  mkdirSync(v1, { recursive: true });
  buildV1(v1, downloads, log);
  buildV2(v1, v2);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return { v1, v2 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { v1, v2 } = realSet((m) => process.stderr.write(`${m}\n`));
  process.stdout.write(`v1 ${v1}\nv2 ${v2}\n`);
}
