/**
 * `fxcp --cleanup DEST`: what a killed copy left in a destination tree, removed. A run killed
 * with SIGKILL (or a crash) can leave temporaries (`.fxtmp-PID-XXXXXXXX`, lib/fs/temp-name.ts)
 * beside the files it was replacing; new files written unnamed (O_TMPFILE) leave nothing. A
 * later copy into a directory removes that directory's leftovers as it goes; this removes them
 * everywhere below DEST at once, without copying.
 *
 * Only temporaries of processes that are gone are removed (a running copy's are its own), and
 * only files (a temporary is never a directory). The state directory `.foxing` at the top is
 * walked too. Memory: one directory's listing per level of the path being walked.
 */
import { joinPath } from '../fs/fs-path.js';
import { scanDir } from '../fs/scan-dir.js';
import { removeStaleTemps, TEMP_PREFIX } from '../fs/temp-name.js';

const TEMP = Buffer.from(TEMP_PREFIX);

export interface CleanupResult {
  /** Directories looked at, temporaries removed. */
  dirs: number;
  removed: number;
}

/** Removes the stale temporaries below `dest`, reporting each removed path and each directory it could not read. */
export function cleanupTree(dest: Buffer, onRemoved: (path: Buffer) => void, onProblem: (path: Buffer, err: unknown) => void): CleanupResult {
  const result: CleanupResult = { dirs: 0, removed: 0 };
  const stack: Buffer[] = [dest];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let scan;
    try {
      scan = scanDir(dir);
    } catch (err) {
      onProblem(dir, err);
      continue;
    }
    result.dirs++;
    let temps = false;
    for (let i = scan.count - 1; i >= 0; i--) {
      const name = scan.name(i);
      if (scan.type(i) === 'dir') stack.push(joinPath(dir, name));
      else if (name.length > TEMP.length && name.compare(TEMP, 0, TEMP.length, 0, TEMP.length) === 0) temps = true;
    }
    if (temps) result.removed += removeStaleTemps(dir, onRemoved);
  }
  return result;
}
