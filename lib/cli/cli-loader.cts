/**
 * Starts the fxcp command line as quickly as Node allows. A small command (restoring one file)
 * should take well under 100 ms, and Node itself needs about 40 ms of that to boot, so how our
 * own code gets loaded matters:
 *
 *  - The CLI runs from one CommonJS bundle, build/fxcp-cli.cjs (made by bin/build.js with
 *    esbuild from the compiled modules). Loading ~60 separate ES modules cost most of a small
 *    command's start-up (docs/BENCHMARKS.md): the ESM loader's resolution and linking, one
 *    compilation per file. Modules a command does not use
 *    are still not run: esbuild keeps each command's module graph behind its lazy import.
 *  - V8's code cache: the bundle is compiled through vm.Script with the bytecode a previous run
 *    of the same command saved (build/v8-cache/, or the user's cache directory where the
 *    install is not writable: codeCacheDir; one file per command and V8 version), a read
 *    much shorter than the compile (docs/BENCHMARKS.md). V8 checks the cache against the source and
 *    its own version and flags, and rejects a stale one; it is then rewritten (atomically, by
 *    rename). An unwritable build/ just means no cache, never an error.
 *  - The CommonJS files of our dependencies (the codec and hash loaders, and lmdb, which comes
 *    bundled with its own dependencies as build/lmdb.cjs: lib/index/load-lmdb.ts) get the same
 *    treatment: while the command runs, Module's compile step is wrapped to use a per-file
 *    cache named by the file's path, size and mtime (V8 itself only checks the source length).
 *    lmdb's ~170 KB of JavaScript is the bulk of it: about 6 ms of every store command.
 *  - When the bundle is missing (a build without esbuild), the per-module build runs instead;
 *    `fxcp doctor` shows which one is in use.
 */
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import nodeModule = require('node:module');

type Main = (prog: 'fxcp' | 'foxingd', args: string[]) => Promise<void>;

const buildDir = path.join(__dirname, '..', '..');
const bundlePath = path.join(buildDir, 'fxcp-cli.cjs');
const cacheDir = codeCacheDir();

/**
 * Where the code caches live: build/v8-cache beside the bundle when this user can write there
 * (a checkout, a user's own install); otherwise, as after a global install by root, under
 * $XDG_CACHE_HOME (or ~/.cache) in foxing/, one directory per install (its path hashed), so two
 * installs never read each other's caches. With neither writable there is no cache, never an
 * error. One access() call decides.
 */
function codeCacheDir(): string {
  const own = path.join(buildDir, 'v8-cache');
  try {
    fs.accessSync(fs.existsSync(own) ? own : buildDir, fs.constants.W_OK);
    return own;
  } catch { /* the install is not ours to write */ }
  const home = process.env.HOME;
  const base = process.env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : null);
  return base === null ? own : path.join(base, 'foxing', `v8-cache-${hashPath(buildDir)}`);
}

/** FNV-1a of the install path, in hex: a directory name, not a security boundary. */
function hashPath(p: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * One cache per command (`snap restore`), so each holds the functions that command compiles.
 * fxcp's default command, the copy (`fxcp -a SRC DEST`), names no command: it gets `copy`, apart
 * from --version and --help; sharing one cache with them, it ran with their few functions
 * cached when one of them had run first, and compiled the copy's at every start.
 */
function cacheName(prog: string, args: string[]): string {
  return path.join(cacheDir, `${commandWords(prog, args).join('-')}-v8-${process.versions.v8}.bin`);
}

/** The program and its command's words (`fxcp snap restore`); `fxcp copy` for the default command. */
function commandWords(prog: string, args: string[]): string[] {
  const words = [prog];
  for (const a of args) {
    if (words.length === 3 || !/^[a-z][a-z-]{0,30}$/.test(a)) break;
    words.push(a);
  }
  if (prog === 'fxcp' && words.length === 1 && args.length > 0 && !/^(--version|--help|-h|-V)$/.test(args[0])) words.push('copy');
  return words;
}

/**
 * The old-generation growth of the commands that allocate by the file for a whole tree
 * (lib/cli/heap-policy.ts: the same value; test/cli/code-cache.test.ts checks they agree), set
 * here before anything is compiled. Why here: V8 checks a code cache against a hash of every
 * flag set so far, run-time ones included, so the flag set by the command itself went into the
 * cache written at its exit and made it unusable at the next start: every `snap create`
 * compiled the whole CLI again (~40 ms of CPU, and the cache rewritten each time). The commands
 * set it too (the same value changes nothing), for runs that do not come through here. Their
 * dependencies' caches, shared with other commands, get names of their own (dependencyCacheTag).
 */
export const LOW_HEAP_GROWING_PERCENT = 20;

export function usesLowHeapGrowth(prog: string, args: readonly string[]): boolean {
  const words = commandWords(prog, [...args]);
  const command = (n: number) => words.slice(0, n).join(' ');
  return command(3) === 'fxcp snap create' || command(2) === 'foxingd daemon' || (command(2) === 'foxingd sync' && args.includes('--watch'));
}

/** Set by run: '-hg20' while the heap flag is set, '' otherwise. */
let dependencyCacheTag = '';

function readOrNull(file: string): Buffer | undefined {
  try { return fs.readFileSync(file); } catch { return undefined; }
}

function saveCache(script: vm.Script, file: string): void {
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, file);
  } catch { /* read-only install: run without a cache */ }
}

type CompileFn = (this: nodeModule, content: string, filename: string) => unknown;
interface PendingCache { script: vm.Script; file: string }

/** The cache file's name part for a dependency's file: its path below node_modules, or build/. */
function dependencyName(filename: string): string | null {
  const at = filename.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (at >= 0) return filename.slice(at + 14);
  if (path.dirname(filename) === buildDir && filename.endsWith('.cjs')) return `build/${path.basename(filename)}`;
  return null;
}

/**
 * Wraps Module.prototype._compile so that dependencies' CommonJS files compile with a code
 * cache. Only files under node_modules and bundles in build/ are touched, and only plain ones:
 * anything unusual (a compile error, a file that is not a script) goes through Node's own
 * compile unchanged. Returns the scripts whose cache should be written once the command has run.
 */
function cacheDependencies(): PendingCache[] {
  const pending: PendingCache[] = [];
  const proto = nodeModule.prototype as unknown as { _compile: CompileFn; require(id: string): unknown };
  const original = proto._compile;
  proto._compile = function (this: nodeModule, content: string, filename: string): unknown {
    const name = dependencyName(filename);
    if (name === null) return original.call(this, content, filename);
    let file: string;
    let script: vm.Script;
    let used: boolean;
    try {
      const st = fs.statSync(filename);
      const rel = name.replace(/[^A-Za-z0-9._-]/g, '~');
      file = path.join(cacheDir, `dep-${rel}-${st.size}-${Math.trunc(st.mtimeMs)}-v8-${process.versions.v8}${dependencyCacheTag}.bin`);
      const cachedData = readOrNull(file);
      script = new vm.Script(nodeModule.wrap(content), { filename, cachedData });
      used = cachedData !== undefined && !script.cachedDataRejected;
    } catch {
      return original.call(this, content, filename);
    }
    if (!used) pending.push({ script, file });
    const self = this as unknown as { exports: unknown; require(id: string): unknown };
    const plain = nodeModule.createRequire(filename);
    const req = Object.assign((id: string) => self.require(id), { resolve: plain.resolve, cache: plain.cache, main: require.main });
    return (script.runInThisContext() as (...a: unknown[]) => unknown)
      .call(self.exports, self.exports, req, this, filename, path.dirname(filename));
  };
  return pending;
}

/**
 * Where `fxcp [FLAGS] SRC DEST` will start its two walks, guessed from the words alone, or null
 * when this cannot tell for sure: a copy's directory listings can then start on the addon's
 * scan-ahead thread (native/src/scan_ahead.cc) while Node compiles the CLI and the copy opens
 * its state, ~25-40 ms of one core that the second core spent idle. Only the plain forms are
 * guessed: every other word one of the flags below (none changes what is listed, or how), two
 * paths that are directories (`isDir`: following symlinks, as the copy's plan does for DEST),
 * -a or -r. The roots are the copy plan's (lib/copy/copy-paths.ts): SRC without its trailing
 * slashes, and DEST for SRC/ or DEST/NAME for SRC; test/cli/copy-walks-ahead.test.ts checks the
 * two agree. A wrong guess costs listings nobody takes, never a wrong one: a walk takes over
 * only a walk started at its own root with its own options, once, within a second.
 * `xattrSizes`: the source is listed with its xattr lists sized, as copy-engine.ts does it
 * (-a, unless --generate-sigs into an existing DEST leaves them for later).
 */
export function copyWalkRoots(args: readonly string[], isDir: (p: string) => boolean): { src: string; dest: string; xattrSizes: boolean } | null {
  const paths: string[] = [];
  const flags = new Set<string>();
  for (const a of args) {
    if (!a.startsWith('-')) paths.push(a);
    else if (WALK_FLAGS.has(a)) flags.add(WALK_FLAGS.get(a)!);
    else if (/^-[a-zA-Z]{2,}$/.test(a) && [...a.slice(1)].every((c) => WALK_FLAGS.has(`-${c}`))) for (const c of a.slice(1)) flags.add(WALK_FLAGS.get(`-${c}`)!);
    else return null;
  }
  if (paths.length !== 2 || !(flags.has('a') || flags.has('r'))) return null;
  const [src, dest] = paths;
  if (src === '-' || /(^|\/)\.{1,2}\/*$/.test(src) || /(^|\/)\.{1,2}\/*$/.test(dest) || !isDir(src) || !isDir(dest)) return null;
  const strip = (p: string) => p.replace(/\/+$/, '') || '/';
  const name = strip(src).split('/').pop()!;
  return {
    src: strip(src), dest: src.endsWith('/') ? strip(dest) : `${strip(dest)}/${name}`.replace(/^\/\//, '/'),
    xattrSizes: flags.has('a') && !(flags.has('s') && !flags.has('n')),
  };
}

/** The flags copyWalkRoots knows, each to a letter of its own (a: -a, r: -r, s: --generate-sigs, n: -n; the rest change nothing listed). */
const WALK_FLAGS = new Map<string, string>([
  ['-a', 'a'], ['--archive', 'a'], ['-r', 'r'], ['--recursive', 'r'], ['--generate-sigs', 's'], ['-n', 'n'], ['--dry-run', 'n'],
  ['-H', '-'], ['--hard-links', '-'], ['-c', '-'], ['--checksum', '-'], ['--delete', '-'], ['-i', '-'], ['--itemize-changes', '-'],
  ['-v', '-'], ['--verbose', '-'], ['--stats', '-'], ['--json', '-'], ['--verify', '-'], ['--progress', '-'], ['--inplace', '-'],
]);

/**
 * fxcp's copy: its walks started now (copyWalkRoots), through the addon as lib/native/load.ts
 * loads it (the same file, so the same module), unless FOXING_NO_NATIVE=1. Anything unusual
 * (no addon, an unreadable path) just means no early start.
 */
function startCopyWalks(prog: string, args: string[]): void {
  if (prog !== 'fxcp' || process.env.FOXING_NO_NATIVE === '1') return;
  try {
    const isDir = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
    const roots = copyWalkRoots(args, isDir);
    if (!roots) return;
    const addon = require(path.join(buildDir, '..', 'native', 'build', 'Release', 'foxing_native.node')) as {
      scanAhead?: (p: Buffer, xattrSizes: boolean) => number;
    };
    if (typeof addon.scanAhead !== 'function') return;
    addon.scanAhead(Buffer.from(roots.src), roots.xattrSizes);
    if (isDir(roots.dest)) addon.scanAhead(Buffer.from(roots.dest), false);
  } catch { /* no early start */ }
}

/** What `fxcp doctor` reports about how the CLI was loaded. */
export let loadedFrom = '';

export async function start(prog: 'fxcp' | 'foxingd', args: string[]): Promise<void> {
  await run(prog, args);
  // The command is done (main set process.exitCode): exit now, not through Node's own teardown.
  // That teardown closes the signal handlers before the process ends, so a Ctrl-C arriving
  // then (a second one racing the end of an interrupted command) ended fxcp by the signal
  // instead of 130; process.exit keeps them to the end. Output is already written: std-write.ts
  // writes synchronously, and stdout is a synchronous pipe or file on Linux.
  process.exit();
}

async function run(prog: 'fxcp' | 'foxingd', args: string[]): Promise<void> {
  startCopyWalks(prog, args);
  const source = (() => { try { return fs.readFileSync(bundlePath, 'utf8'); } catch { return null; } })();
  if (source === null) {
    loadedFrom = `per-module build (${bundlePath} is missing: run npm run build; starts about 60 ms slower)`;
    (globalThis as { foxingCliLoad?: string }).foxingCliLoad = loadedFrom;
    const { main } = await import('./main.js') as { main: Main };
    return main(prog, args);
  }
  if (usesLowHeapGrowth(prog, args)) {
    (require('node:v8') as typeof import('node:v8')).setFlagsFromString(`--heap-growing-percent=${LOW_HEAP_GROWING_PERCENT}`);
    dependencyCacheTag = `-hg${LOW_HEAP_GROWING_PERCENT}`;
  }
  // Worker threads started from their bundles use the same directory (lib/util/worker-bundles.ts CODE_CACHE).
  (globalThis as Record<symbol, unknown>)[Symbol.for('foxing.codeCache')] = { dir: cacheDir, tag: dependencyCacheTag };
  const cacheFile = cacheName(prog, args);
  const cachedData = readOrNull(cacheFile);
  const script = new vm.Script(nodeModule.wrap(source), { filename: bundlePath, cachedData });
  const cache = cachedData === undefined ? 'none yet' : script.cachedDataRejected ? 'rejected (stale)' : 'used';
  loadedFrom = `bundle ${bundlePath}, code cache ${cache} (${cacheDir})`;
  (globalThis as { foxingCliLoad?: string }).foxingCliLoad = loadedFrom;
  const pending = cacheDependencies();
  const mod = { exports: {} as { main: Main } };
  (script.runInThisContext() as (...a: unknown[]) => void)
    .call(mod.exports, mod.exports, nodeModule.createRequire(bundlePath), mod, bundlePath, buildDir);
  await mod.exports.main(prog, args);
  // Saved after the run, so the cache holds the functions this command compiled on the way;
  // only after a run that succeeded: a usage error's run compiles little beyond the parser, and
  // its cache, used from then on, left the rest of the command to compile at every start.
  if (cache !== 'used' && !process.exitCode) saveCache(script, cacheFile);
  for (const p of pending) saveCache(p.script, p.file);
}
