/**
 * A small reader of OpenSSH's client configuration (~/.ssh/config), pure: what `snap push`
 * and `snap pull` take from it for a host. `Host` blocks with patterns (`*`, `?`, `!negation`,
 * several per line), and of their keywords HostName, User, Port, IdentityFile (each may be given
 * more than once; all are tried), UserKnownHostsFile and ProxyJump/ProxyCommand (only to refuse
 * them: `--ssh-command` runs the system ssh, which handles those). As in ssh, the first value
 * found for a keyword wins, so specific blocks go before `Host *`.
 *
 * Limits, said plainly: `Match` blocks are skipped (their conditions are not evaluated),
 * `Include` is not followed, and of the `%` tokens only %h, %u, %p, %d (home) and %% are
 * expanded. A setup that needs more is what `--ssh-command 'ssh ...'` is for.
 */

export interface HostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  knownHostsFiles: string[];
  /** ProxyJump or ProxyCommand was set: this client cannot honour it. */
  proxy?: string;
}

interface Block { patterns: string[]; lines: Array<[string, string]> }

function parse(text: string): Block[] {
  const blocks: Block[] = [{ patterns: ['*'], lines: [] }];
  let skipping = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    if (key === 'host') {
      blocks.push({ patterns: words(value), lines: [] });
      skipping = false;
    } else if (key === 'match') {
      skipping = true;
    } else if (!skipping) {
      blocks[blocks.length - 1]!.lines.push([key, unquote(value)]);
    }
  }
  return blocks;
}

function words(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** ssh's pattern match: `*` any run, `?` one character, whole string, case-insensitive. */
export function patternMatches(pattern: string, host: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(host);
}

/** A Host line's patterns match when one positive pattern matches and no negated one does. */
function blockMatches(patterns: string[], host: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) { if (patternMatches(p.slice(1), host)) return false; } else if (patternMatches(p, host)) hit = true;
  }
  return hit;
}

/** What the config says for `host` (the name as typed: an alias or a real name). */
export function hostConfig(text: string, host: string, home: string): HostConfig {
  const out: HostConfig = { identityFiles: [], knownHostsFiles: [] };
  const seen = new Set<string>();
  for (const b of parse(text)) {
    if (!blockMatches(b.patterns, host)) continue;
    for (const [key, value] of b.lines) {
      const multi = key === 'identityfile' || key === 'userknownhostsfile';
      if (!multi && seen.has(key)) continue;
      seen.add(key);
      switch (key) {
        case 'hostname': out.hostName = value; break;
        case 'user': out.user = value; break;
        case 'port': { const p = Number(value); if (Number.isInteger(p) && p > 0 && p < 65536) out.port = p; break; }
        case 'identityfile': out.identityFiles.push(value); break;
        case 'userknownhostsfile': out.knownHostsFiles.push(...words(value)); break;
        case 'proxyjump': case 'proxycommand': if (value.toLowerCase() !== 'none') out.proxy = `${key === 'proxyjump' ? 'ProxyJump' : 'ProxyCommand'} ${value}`; break;
        default: break;
      }
    }
  }
  const tokens = (s: string) => expandTokens(s, { h: out.hostName ?? host, u: out.user ?? '', p: String(out.port ?? 22), d: home });
  out.identityFiles = out.identityFiles.map(tokens);
  out.knownHostsFiles = out.knownHostsFiles.map(tokens);
  return out;
}

/** `~/` and the few % tokens this reader knows. */
function expandTokens(s: string, t: Record<string, string>): string {
  const withHome = s.startsWith('~/') ? t.d + s.slice(1) : s;
  return withHome.replace(/%([%hupd])/g, (_, c: string) => (c === '%' ? '%' : t[c]!));
}
