// Peer tools for the side-by-side benchmark: find them, install the missing ones from Debian's
// packages when we can (root + apt-get), and report what is usable. A peer that cannot be had is
// reported as unavailable; its rows say "not available", never a made-up number.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { pathToFileURL } from 'node:url';

export type PeerName = 'rsync' | 'restic' | 'borg' | 'zstd' | 'time' | 'tar' | 'cp' | 'sshd' | 'ssh';

export interface PeerInfo {
  name: PeerName;
  /** Absolute path of the executable, or null when unavailable. */
  path: string | null;
  /** One-line version string ('' when unknown). */
  version: string;
  /** Debian package that provides it. */
  pkg: string;
  /** Why it is unavailable (when path is null). */
  reason?: string;
}

interface PeerSpec {
  name: PeerName;
  exe: string;
  pkg: string;
  versionArgs: string[];
  /** Picks the version line out of the output. */
  pick?: (out: string) => string;
}

const SPECS: PeerSpec[] = [
  { name: 'rsync', exe: 'rsync', pkg: 'rsync', versionArgs: ['--version'] },
  { name: 'restic', exe: 'restic', pkg: 'restic', versionArgs: ['version'] },
  { name: 'borg', exe: 'borg', pkg: 'borgbackup', versionArgs: ['--version'] },
  { name: 'zstd', exe: 'zstd', pkg: 'zstd', versionArgs: ['--version'] },
  // GNU time must be the binary, not the shell keyword.
  { name: 'time', exe: '/usr/bin/time', pkg: 'time', versionArgs: ['--version'] },
  { name: 'tar', exe: 'tar', pkg: 'tar', versionArgs: ['--version'] },
  { name: 'cp', exe: 'cp', pkg: 'coreutils', versionArgs: ['--version'] },
  // The ssh suite's loopback server and the system client (ssh -V prints on stderr).
  { name: 'sshd', exe: '/usr/sbin/sshd', pkg: 'openssh-server', versionArgs: ['-V'] },
  { name: 'ssh', exe: 'ssh', pkg: 'openssh-client', versionArgs: ['-V'] },
];

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

function which(exe: string): string | null {
  if (exe.startsWith('/')) {
    try { accessSync(exe, constants.X_OK); return exe; } catch { return null; }
  }
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const p = `${dir}/${exe}`;
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

function probe(spec: PeerSpec): PeerInfo {
  const path = which(spec.exe);
  if (!path) return { name: spec.name, path: null, version: '', pkg: spec.pkg, reason: `${spec.exe} not found` };
  const r = spawnSync(path, spec.versionArgs, { encoding: 'utf8', timeout: 20_000 });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return { name: spec.name, path, version: spec.pick ? spec.pick(out) : firstLine(out), pkg: spec.pkg };
}

export interface EnsureOptions {
  /** Try apt-get for missing tools (default true). */
  install?: boolean;
  /** Progress sink (default: stderr). */
  log?: (msg: string) => void;
}

/**
 * Finds the peers; installs the missing ones with apt-get when running as root
 * (`apt-get update` once, then `apt-get install -y --no-install-recommends`).
 */
export function ensurePeers(wanted: PeerName[] = SPECS.map((s) => s.name), opts: EnsureOptions = {}): Map<PeerName, PeerInfo> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const specs = SPECS.filter((s) => wanted.includes(s.name));
  const result = new Map<PeerName, PeerInfo>();
  for (const s of specs) result.set(s.name, probe(s));
  const missing = specs.filter((s) => result.get(s.name)!.path === null);
  if (missing.length === 0 || opts.install === false) return result;

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = which('apt-get');
  if (!isRoot || !apt) {
    const why = !isRoot ? 'not root, cannot apt-get install' : 'apt-get not found';
    for (const s of missing) result.get(s.name)!.reason += `; ${why}`;
    log(`bench: missing peers ${missing.map((s) => s.exe).join(', ')} (${why}); their rows will say "not available"`);
    return result;
  }
  const pkgs = [...new Set(missing.map((s) => s.pkg))];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`bench: installing missing peers with apt-get: ${pkgs.join(' ')}`);
  const up = spawnSync(apt, ['update'], { stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8', timeout: 600_000 });
  if (up.status !== 0) log(`bench: apt-get update failed (${firstLine(up.stderr ?? '')}); trying the install anyway`);
  const inst = spawnSync(apt, ['install', '-y', '--no-install-recommends', ...pkgs], {
    stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8', timeout: 1_200_000,
  });
  if (inst.status !== 0) {
    // One package without a candidate makes the whole command fail: try them one by one.
    for (const p of pkgs) {
      spawnSync(apt, ['install', '-y', '--no-install-recommends', p], { stdio: 'ignore', env, timeout: 600_000 });
    }
  }
  for (const s of missing) {
    const again = probe(s);
    if (again.path === null) again.reason = `${s.exe} not found after apt-get install ${s.pkg}`;
    result.set(s.name, again);
    log(`bench: ${s.exe}: ${again.path ? `installed (${again.version})` : 'not available'}`);
  }
  return result;
}

// CLI: node build/lib/bench/peers.js  → prints what is available (installs missing ones as root).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const peers = ensurePeers();
  for (const p of peers.values()) {
    process.stdout.write(`${p.name.padEnd(7)} ${p.path ? `${p.path}  ${p.version}` : `not available (${p.reason})`}\n`);
  }
}
