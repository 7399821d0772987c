/**
 * Where this package's own files are at run time: the compiled modules that worker threads run,
 * the native addon, package.json.
 *
 * Why not `new URL(<a module>, import.meta.url)` in each module: the CLI normally runs from one
 * bundled file (build/fxcp-cli.cjs, made by bin/build.js because loading ~60 separate ES modules
 * cost about 60 ms per run), and inside the bundle every module's import.meta.url is the
 * bundle's. Both layouts keep package.json at the package root, so the root is found by walking
 * up from wherever this code runs: one to three existsSync calls, once per process.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`foxing: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const packageRoot: string = findRoot();

/** A compiled module under build/lib, e.g. `libModule('store/chunk-worker.js')` (worker scripts). */
export function libModule(relative: string): string {
  return join(packageRoot, 'build', 'lib', relative);
}
