/**
 * foxingd's configuration file (TOML, parsed by smol-toml): what `foxingd daemon --config`
 * runs and `foxingd check --config` checks. Pure: the text in, the configuration or the
 * problems out, each with its line and a hint; where paths are checked against the file system
 * (checkPaths), the lookups are a parameter.
 *
 * Strict on purpose: an unknown key or section is an error with the nearest known name (the
 * reference's own example file used a section name its parser silently ignored, so a mirror
 * the user asked for was never made), and so is a key that would do nothing (max_versions
 * without enable_versioning): a configuration is never half obeyed in silence.
 *
 *   worker_count = 4            # copy batches at once (default: one per core)
 *   queue_max = 100000          # operations queued per mirror before one full comparison
 *   events = "auto"             # auto | fanotify | inotify
 *   [[sources]]
 *   path = "/data"
 *   store = "/backup/store"     # continuous snapshots (optional)
 *   snapshot_interval = "5m"    # seconds, or a number with s, m, h, d
 *   exclude = ["*.tmp", "cache/"]
 *     [[sources.targets]]
 *     path = "/mirror/data"
 *     enable_versioning = true  # each version of each file written, kept (version-policy.ts)
 */
import { parse, TomlError } from 'smol-toml';
import { isS3Url, parseS3Url } from '../store/index.js';
import { closest } from '../util/did-you-mean.js';
import type { EventsChoice } from './change-source.js';
import { MAX_ITEMS } from './change-queue.js';
import { DEFAULT_POLICY, type VersionPolicy } from './version-policy.js';

const MB = 1024 * 1024;

/** `versions`: enable_versioning's policy (version-policy.ts); null when not versioned. */
export interface TargetConfig { path: string; versions: VersionPolicy | null }
export interface SourceConfig { path: string; store: string | null; snapshotIntervalS: number; exclude: string[]; targets: TargetConfig[] }
export interface DaemonConfig {
  workerCount: number | null; queueMax: number; events: EventsChoice;
  /** "HOST:PORT" of the metrics endpoint; null: none. */
  metrics: string | null;
  /** The status socket; null: the default (daemon-control.ts). */
  statusSocket: string | null;
  sources: SourceConfig[];
}
export interface ConfigProblem { line: number | null; message: string; hint?: string }

type Kind = 'int' | 'string' | 'strings' | 'events' | 'interval' | 'path' | 'store' | 'bool' | 'number' | 'tables' | 'listen';
interface KeySpec { kind: Kind; describe: string; default?: string; example?: string }

/** The keys of each table: the one schema that parsing, `check` and `explain` read. */
export const SCHEMA: Record<'top' | 'sources' | 'targets', Record<string, KeySpec>> = {
  top: {
    worker_count: { kind: 'int', describe: 'copy batches at once, per mirror', default: 'one per core' },
    queue_max: { kind: 'int', example: '100000', describe: 'operations queued per mirror; past it they give way to one full comparison', default: String(MAX_ITEMS) },
    events: { kind: 'events', describe: 'how sources are watched: auto, fanotify (root) or inotify', default: 'auto' },
    metrics: { kind: 'listen', example: '"127.0.0.1:9100"', describe: 'where Prometheus metrics are served (GET /metrics); "" for none', default: '127.0.0.1:9100' },
    status_socket: { kind: 'path', describe: 'the Unix socket foxingd status reads', default: '/run/foxingd.sock as root, else $XDG_RUNTIME_DIR/foxingd.sock' },
    sources: { kind: 'tables', describe: '[[sources]]: a directory to mirror and/or snapshot' },
  },
  sources: {
    path: { kind: 'path', describe: 'the directory watched (required)' },
    store: { kind: 'store', example: '"/backup/store"', describe: 'a chunk store for continuous snapshots (made when missing): a directory, or s3://BUCKET/PREFIX (AWS_* settings from the environment)' },
    snapshot_interval: { kind: 'interval', describe: 'seconds between snapshots (or 30s, 5m, 2h, 1d)', default: '60' },
    exclude: { kind: 'strings', describe: 'rsync exclude patterns, anchored at path: neither mirrored nor snapshotted' },
    targets: { kind: 'tables', describe: '[[sources.targets]]: a mirror of this source' },
  },
  targets: {
    path: { kind: 'path', describe: 'the mirror (required; made when missing)' },
    enable_versioning: { kind: 'bool', describe: 'keep each version of each file the mirror writes, in TARGET/.foxing/versions (foxingd versions list FILE)', default: 'false' },
    max_versions: { kind: 'int', describe: 'with enable_versioning: versions kept per file (forced ones aside)', default: String(DEFAULT_POLICY.maxVersions) },
    max_versions_size_mb: { kind: 'number', describe: 'with enable_versioning: MB of versions kept per file (the newest is kept whatever its size)', default: String(DEFAULT_POLICY.maxBytes / MB) },
  },
};

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * The configuration of `text` and its problems. The configuration is returned even when there
 * are problems (bad values read as their defaults), so that its paths can be checked too; it
 * must not be run unless `problems` is empty.
 */
export function parseDaemonConfig(text: string): { config: DaemonConfig | null; problems: ConfigProblem[] } {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    const e = err as TomlError;
    return { config: null, problems: [{ line: e instanceof TomlError ? e.line : null, message: `not valid TOML: ${e.message.split('\n')[0]}` }] };
  }
  const problems: ConfigProblem[] = [];
  const lines = new LineIndex(text);
  const at = (table: TablePath, key: string | null) => lines.of(table, key);
  const check = (obj: Record<string, unknown>, table: 'top' | 'sources' | 'targets', path: TablePath): void => {
    const spec = SCHEMA[table];
    for (const [key, value] of Object.entries(obj)) {
      const s = spec[key];
      const line = at(path, key);
      if (!s) {
        const near = closest(key, Object.keys(spec));
        problems.push({ line, message: `unknown key '${key}'${where(path)}`, hint: near ? `did you mean '${near}'?` : `known here: ${Object.keys(spec).join(', ')}` });
        continue;
      }
      const bad = badValue(s.kind, value);
      if (bad) problems.push({ line, message: `${key}${where(path)}: ${bad}` });
    }
  };
  check(doc, 'top', []);
  const sources = Array.isArray(doc.sources) ? doc.sources as Record<string, unknown>[] : [];
  if (sources.length === 0 && !problems.some((p) => p.message.startsWith('sources'))) problems.push({ line: null, message: 'no [[sources]]: nothing to watch', hint: 'add a [[sources]] table with a path' });
  const config: DaemonConfig = {
    workerCount: typeof doc.worker_count === 'number' ? doc.worker_count : null,
    queueMax: typeof doc.queue_max === 'number' ? doc.queue_max : MAX_ITEMS,
    events: (doc.events as EventsChoice | undefined) ?? 'auto',
    metrics: doc.metrics === undefined ? '127.0.0.1:9100' : doc.metrics === '' ? null : String(doc.metrics),
    statusSocket: typeof doc.status_socket === 'string' ? doc.status_socket : null,
    sources: [],
  };
  sources.forEach((src, i) => {
    const path: TablePath = [['sources', i]];
    check(src, 'sources', path);
    const targets = Array.isArray(src.targets) ? src.targets as Record<string, unknown>[] : [];
    targets.forEach((t, j) => {
      const tp: TablePath = [['sources', i], ['targets', j]];
      check(t, 'targets', tp);
      if (typeof t.path !== 'string') problems.push({ line: at(tp, null), message: `targets[${j}] of sources[${i}]: path is missing` });
      if (typeof t.max_versions === 'number' && t.max_versions < 1) problems.push({ line: at(tp, 'max_versions'), message: `max_versions${where(tp)}: at least 1` });
      if (typeof t.max_versions_size_mb === 'number' && !(t.max_versions_size_mb > 0)) problems.push({ line: at(tp, 'max_versions_size_mb'), message: `max_versions_size_mb${where(tp)}: more than 0` });
      for (const key of ['max_versions', 'max_versions_size_mb']) {
        if (t[key] !== undefined && t.enable_versioning !== true) problems.push({ line: at(tp, key), message: `${key}${where(tp)}: has no effect without enable_versioning`, hint: 'add enable_versioning = true, or remove it' });
      }
    });
    if (typeof src.path !== 'string') problems.push({ line: at(path, null), message: `sources[${i}]: path is missing` });
    if (src.store === undefined && targets.length === 0) problems.push({ line: at(path, null), message: `sources[${i}]: neither a store nor a [[sources.targets]]: nothing to do with it` });
    config.sources.push({
      path: String(src.path ?? ''), store: typeof src.store === 'string' ? src.store : null,
      snapshotIntervalS: src.snapshot_interval === undefined ? 60 : intervalSeconds(src.snapshot_interval) ?? 60,
      exclude: Array.isArray(src.exclude) ? src.exclude.map(String) : [],
      targets: targets.map((t) => ({
        path: String(t.path ?? ''),
        versions: t.enable_versioning !== true ? null : {
          maxVersions: typeof t.max_versions === 'number' ? t.max_versions : DEFAULT_POLICY.maxVersions,
          maxBytes: typeof t.max_versions_size_mb === 'number' ? Math.round(t.max_versions_size_mb * MB) : DEFAULT_POLICY.maxBytes,
        },
      })),
    });
  });
  if (config.workerCount !== null && (config.workerCount < 1 || config.workerCount > 256)) problems.push({ line: at([], 'worker_count'), message: 'worker_count: between 1 and 256' });
  if (config.queueMax < 100) problems.push({ line: at([], 'queue_max'), message: 'queue_max: at least 100' });
  return { config, problems };
}

/** The file system as checkPaths sees it. */
export interface PathLookups {
  /** A directory, something else, or nothing, at `p` (following symlinks). */
  kind(p: string): 'dir' | 'other' | null;
  /** `p` with its existing part resolved (symlinks, '..'). */
  real(p: string): string;
}

/**
 * The problems of a configuration that only the file system can tell: a source that is not a
 * directory; a target or a store inside its source, or a source inside them (the daemon would
 * copy its own writes); one target for two mirrors.
 */
export function checkPaths(c: DaemonConfig, text: string, fs: PathLookups): ConfigProblem[] {
  const lines = new LineIndex(text);
  const problems: ConfigProblem[] = [];
  const inside = (a: string, b: string) => a === b || a.startsWith(b.endsWith('/') ? b : `${b}/`);
  const seen = new Map<string, string>();
  c.sources.forEach((src, i) => {
    const line = lines.of([['sources', i]], 'path');
    if (!src.path.startsWith('/')) return;  // reported already
    const kind = fs.kind(src.path);
    if (kind !== 'dir') problems.push({ line, message: `sources[${i}]: ${src.path}: ${kind === null ? 'no such directory' : 'not a directory'}` });
    const real = fs.real(src.path);
    const places: Array<[string, string, number | null]> = [
      ...src.targets.map((t, j): [string, string, number | null] => [`targets[${j}]`, t.path, lines.of([['sources', i], ['targets', j]], 'path')]),
      ...(src.store ? [['store', src.store, lines.of([['sources', i]], 'store')] as [string, string, number | null]] : []),
    ];
    for (const [what, p, at] of places) {
      if (!p.startsWith('/')) continue;
      const r = fs.real(p);
      if (inside(r, real) || inside(real, r)) problems.push({ line: at, message: `sources[${i}].${what}: ${p} and the source ${src.path} lie inside one another`, hint: 'the daemon would see its own writes; put it elsewhere' });
      const other = seen.get(r);
      if (other) problems.push({ line: at, message: `sources[${i}].${what}: ${p} is also ${other}`, hint: 'each mirror and store needs a place of its own' });
      else if (what !== 'store') seen.set(r, `sources[${i}].${what}`);
    }
  });
  return problems;
}

/** What is wrong with a value of kind `kind`, or null. */
function badValue(kind: Kind, v: unknown): string | null {
  switch (kind) {
    case 'int': return Number.isInteger(v) ? null : `a whole number, not ${show(v)}`;
    case 'number': return typeof v === 'number' && v > 0 ? null : `a number above 0, not ${show(v)}`;
    case 'bool': return typeof v === 'boolean' ? null : `true or false, not ${show(v)}`;
    case 'string': return typeof v === 'string' ? null : `a string, not ${show(v)}`;
    case 'path': return typeof v === 'string' && v.startsWith('/') ? null : `an absolute path, not ${show(v)}`;
    case 'store': return typeof v === 'string' && v.startsWith('/') ? null : typeof v === 'string' && isS3Url(v) ? s3Problem(v) : `an absolute path or s3://BUCKET/PREFIX, not ${show(v)}`;
    case 'strings': return Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '' && x !== '/') ? null : `a list of patterns ("*.tmp", "cache/"), not ${show(v)}`;
    case 'events': return v === 'auto' || v === 'fanotify' || v === 'inotify' ? null : `auto, fanotify or inotify, not ${show(v)}`;
    case 'interval': return intervalSeconds(v) !== null ? null : `seconds above 0, or a number with s, m, h or d ("5m"), not ${show(v)}`;
    case 'listen': return v === '' || (typeof v === 'string' && /^[\w.:[\]-]+:\d{1,5}$/.test(v) && Number(v.slice(v.lastIndexOf(':') + 1)) < 65536) ? null : `"HOST:PORT" or "", not ${show(v)}`;
    case 'tables': return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x)) ? null : 'a list of tables: write [[…]] (two brackets), one per entry';
  }
}

/** What parseS3Url says is wrong with an s3:// store, or null (its endpoint and keys are the environment's). */
function s3Problem(v: string): string | null {
  try {
    parseS3Url(v);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function intervalSeconds(v: unknown): number | null {
  if (typeof v === 'number') return v > 0 ? v : null;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*([smhd])?$/.exec(v.trim()) : null;
  if (!m) return null;
  const s = Number(m[1]) * UNITS[m[2] ?? 's'];
  return s > 0 ? s : null;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : typeof v === 'object' && v !== null ? 'a table' : String(v);
}

type TablePath = Array<[string, number]>;

function where(path: TablePath): string {
  return path.length === 0 ? '' : ` in ${path.map(([n, i]) => `${n}[${i}]`).join('.')}`;
}

/**
 * Where a key is: the line of `key =` in the table `path` (the i-th [[sources]], its j-th
 * [[sources.targets]]), or of the table's header when `key` is null. Null when it cannot be
 * told (an inline table, a dotted key, a table of another name).
 */
class LineIndex {
  private readonly tables = new Map<string, { header: number; keys: Map<string, number> }>();

  constructor(text: string) {
    let sources = -1, targets = -1;
    let current = { header: 0, keys: new Map<string, number>() };
    this.tables.set('', current);
    text.split('\n').forEach((raw, n) => {
      const line = raw.trim();
      const header = /^\[\[?\s*([\w.-]+)\s*\]/.exec(line);
      if (header) {
        let name = header[1];
        // A section names a key of the table around it: a misspelt one is found at its header.
        const [first, second] = name.split('.');
        const around = second === undefined ? this.tables.get('')! : this.tables.get(`sources[${sources}]`);
        const own = second ?? first;
        if (around && !around.keys.has(own)) around.keys.set(own, n + 1);
        if (name === 'sources') { sources++; targets = -1; name = `sources[${sources}]`; }
        else if (name === 'sources.targets') { targets++; name = `sources[${sources}].targets[${targets}]`; }
        current = { header: n + 1, keys: new Map() };
        if (!this.tables.has(name)) this.tables.set(name, current);
        return;
      }
      const key = /^([A-Za-z0-9_-]+)\s*=/.exec(line);
      if (key && !current.keys.has(key[1])) current.keys.set(key[1], n + 1);
    });
  }

  of(path: TablePath, key: string | null): number | null {
    const table = this.tables.get(path.map(([n, i]) => `${n}[${i}]`).join('.'));
    if (!table) return null;
    return key === null ? table.header || null : table.keys.get(key) ?? null;
  }
}
