/**
 * OpenSSH's known_hosts, pure: which keys a file lists for a host, whether a host key the
 * server showed is one of them, and the line that records a new one. Plain and hashed
 * (`|1|salt|hash`, HMAC-SHA1) host names, `[host]:port` for ports other than 22, several names
 * and `!negations` per line, `@revoked` (a listed key refused whatever else matches);
 * `@cert-authority` lines are skipped (host certificates are not checked here: --ssh-command
 * runs the system ssh, which does).
 */
import { createHash, createHmac } from 'node:crypto';
import { patternMatches } from './ssh-config.js';

export interface KnownKey { type: string; blob: Buffer }
export type HostKeyVerdict = 'known' | 'unknown' | 'changed' | 'revoked';

/** The name a host has in known_hosts: `host`, or `[host]:port` off port 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's fingerprint of a key blob: `SHA256:` and the unpadded base64 of its SHA-256. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type a blob names (its first string): `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return n <= blob.length - 4 ? blob.subarray(4, 4 + n).toString('latin1') : '';
}

function nameMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let hit = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) { if (patternMatches(p.slice(1), name)) return false; } else if (patternMatches(p, name)) hit = true;
  }
  return hit;
}

/** The keys `text` lists for `name`, and those it marks revoked. */
export function keysFor(text: string, name: string): { keys: KnownKey[]; revoked: Buffer[] } {
  const keys: KnownKey[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    let marker: string | null = null;
    if (f[0]!.startsWith('@')) marker = f.shift()!;
    if (f.length < 3 || marker === '@cert-authority') continue;
    if (!nameMatches(f[0]!, name)) continue;
    const blob = Buffer.from(f[2]!, 'base64');
    if (marker === '@revoked') revoked.push(blob); else keys.push({ type: f[1]!, blob });
  }
  return { keys, revoked };
}

export function verdict(known: { keys: KnownKey[]; revoked: Buffer[] }, blob: Buffer): HostKeyVerdict {
  if (known.revoked.some((k) => k.equals(blob))) return 'revoked';
  if (known.keys.some((k) => k.blob.equals(blob))) return 'known';
  return known.keys.length === 0 ? 'unknown' : 'changed';
}

/** The known_hosts line recording `blob` for `name` (plain name, as `ssh -o HashKnownHosts=no`). */
export function knownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${keyType(blob)} ${blob.toString('base64')}\n`;
}

/**
 * The host key algorithms to offer so the server shows a key the file knows (as OpenSSH
 * prefers the types known_hosts lists): the known keys' types, RSA as its SHA-2 signatures.
 */
export function preferredAlgorithms(keys: readonly KnownKey[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const algs = k.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [k.type];
    for (const a of algs) if (!out.includes(a)) out.push(a);
  }
  return out;
}
