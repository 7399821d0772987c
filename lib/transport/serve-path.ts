/**
 * Which store a server lets a client open (formats/wire.md §2, TOpen): the one its STORE
 * argument names, or one at or below its --restrict-to-path DIR, or (neither given) any.
 * Symbolic links in the existing part of the path are resolved before the comparison, so a
 * link inside DIR that points out of it opens nothing outside.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { ToolkitError } from '../errors/index.js';

export interface PathRules {
  /** `fxcp serve --stdio STORE`: only this store. */
  store?: string;
  /** `--restrict-to-path DIR`: only stores at or below DIR. */
  restrictTo?: string;
}

/** The resolved path of the store the client may open, or PATH_REFUSED naming both. */
export function allowedStorePath(requested: string, rules: PathRules, cwd = process.cwd()): string {
  if (requested.length === 0 || requested.includes('\0')) throw refused(requested, 'is not a usable path');
  const path = resolve(cwd, requested);
  const real = realExisting(path);
  if (rules.store !== undefined) {
    const store = resolve(cwd, rules.store);
    if (real !== realExisting(store)) throw refused(requested, `is not the store this server serves (${store})`);
  }
  if (rules.restrictTo !== undefined) {
    const dir = realExisting(resolve(cwd, rules.restrictTo));
    const rel = relative(dir, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw refused(requested, `is outside ${dir}, where this server is restricted (--restrict-to-path)`);
  }
  return path;
}

/** `path` with its longest existing prefix resolved through symbolic links, the rest appended. */
function realExisting(path: string): string {
  const rest: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    try {
      return join(realpathSync(at), ...rest.reverse());
    } catch {
      if (dirname(at) === at) return path;
      rest.push(basename(at));
    }
  }
}

function refused(path: string, why: string): ToolkitError {
  return new ToolkitError('PATH_REFUSED', `${JSON.stringify(path)} ${why}`, { path });
}
