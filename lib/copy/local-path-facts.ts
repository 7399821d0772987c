/**
 * PathFacts (copy-paths.ts) of the local file system: what planCopy asks of the paths it is
 * given, answered by lstat/stat and realpath. Shared by `fxcp` and `foxingd sync`.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { joinPath, splitPath, toBuffer } from '../fs/fs-path.js';
import type { PathFacts } from './copy-paths.js';

export const PATH_FACTS: PathFacts = {
  kind(p, follow) {
    const st = (follow ? statSync : lstatSync)(p, { throwIfNoEntry: false });
    return st === undefined ? null : st.isDirectory() ? 'dir' : 'other';
  },
  real(p) {
    // The longest existing prefix resolved (symlinks, '..'), the rest appended as given.
    const rest: Buffer[] = [];
    let at: Buffer = p[0] === 0x2f ? p : joinPath(toBuffer(process.cwd()), p);
    for (;;) {
      try {
        let real: Buffer = realpathSync(at, { encoding: 'buffer' });
        for (const name of rest.reverse()) real = joinPath(real, name);
        return real;
      } catch {
        const [dir, name] = splitPath(at);
        if (dir.equals(at)) return at;
        rest.push(name);
        at = dir;
      }
    }
  },
};
