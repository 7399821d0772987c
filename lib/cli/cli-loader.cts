/**
 * Starts the fxcp command line as quickly as Node allows. A small command (restoring one file)
 * should take well under 100 ms, and Node itself needs about 40 ms of that to boot, so how our
 * own code gets loaded matters:
 *
 *  - The CLI runs from one CommonJS bundle, build/fxcp-cli.cjs (made by bin/build.js with
 *    esbuild from the compiled modules). Loading ~60 separate ES modules cost 50-60 ms: the ESM
 *    loader's resolution and linking, one compilation per file. Modules a command does not use
 *    are still not run: esbuild keeps each command's module graph behind its lazy import.
 *  - V8's code cache: the bundle is compiled through vm.Script with the bytecode a previous run
 *    of the same command saved (build/v8-cache/, one file per command and V8 version). That
 *    turns ~15 ms of compiling into ~5 ms of reading. V8 checks the cache against the source and
 *    its own version and flags, and rejects a stale one; it is then rewritten (atomically, by
 *    rename). An unwritable build/ just means no cache, never an error.
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
const cacheDir = path.join(buildDir, 'v8-cache');

/** One cache per command (`snap restore`), so each holds the functions that command compiles. */
function cacheName(prog: string, args: string[]): string {
  const words = [prog];
  for (const a of args) {
    if (words.length === 3 || !/^[a-z][a-z-]{0,30}$/.test(a)) break;
    words.push(a);
  }
  return path.join(cacheDir, `${words.join('-')}-v8-${process.versions.v8}.bin`);
}

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

/** What `fxcp doctor` reports about how the CLI was loaded. */
export let loadedFrom = '';

export async function start(prog: 'fxcp' | 'foxingd', args: string[]): Promise<void> {
  const source = (() => { try { return fs.readFileSync(bundlePath, 'utf8'); } catch { return null; } })();
  if (source === null) {
    loadedFrom = `per-module build (${bundlePath} is missing: run npm run build; starts about 60 ms slower)`;
    (globalThis as { foxingCliLoad?: string }).foxingCliLoad = loadedFrom;
    const { main } = await import('./main.js') as { main: Main };
    return main(prog, args);
  }
  const cacheFile = cacheName(prog, args);
  const cachedData = readOrNull(cacheFile);
  const script = new vm.Script(nodeModule.wrap(source), { filename: bundlePath, cachedData });
  const cache = cachedData === undefined ? 'none yet' : script.cachedDataRejected ? 'rejected (stale)' : 'used';
  loadedFrom = `bundle ${bundlePath}, code cache ${cache}`;
  (globalThis as { foxingCliLoad?: string }).foxingCliLoad = loadedFrom;
  const mod = { exports: {} as { main: Main } };
  (script.runInThisContext() as (...a: unknown[]) => void)
    .call(mod.exports, mod.exports, nodeModule.createRequire(bundlePath), mod, bundlePath, buildDir);
  await mod.exports.main(prog, args);
  // Saved after the run, so the cache holds the functions this command compiled on the way.
  if (cache !== 'used') saveCache(script, cacheFile);
}
