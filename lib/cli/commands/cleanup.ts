/**
 * `fxcp --cleanup DEST`: the temporaries a killed copy left below DEST removed
 * (lib/copy/dest-cleanup.ts), each one printed ("removed PATH"; a record under --json), then a
 * count. Exit 0; 1 when a directory could not be read (named); 2 when DEST is not a directory.
 */
import { statSync } from 'node:fs';
import { UsageError } from '../../errors/index.js';
import { cleanupTree } from '../../copy/dest-cleanup.js';
import { displayPath, toBuffer } from '../../fs/fs-path.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export function runCleanup(dest: string, out: Output): number {
  if (!statSync(dest, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${dest}: --cleanup takes a directory`, { path: dest });
  let problems = 0;
  const r = cleanupTree(toBuffer(dest), (path) => {
    out.record({ removed: displayPath(path) });
    out.line(`removed ${displayPath(path)}`);
  }, (path, err) => {
    problems++;
    out.warn('FILE_ERROR', `${displayPath(path)}: ${(err as Error).message}`, { path: displayPath(path) });
  });
  out.record({ summary: { dirs: r.dirs, removed: r.removed, problems } });
  out.line(`${r.removed} temporar${r.removed === 1 ? 'y' : 'ies'} removed in ${r.dirs} director${r.dirs === 1 ? 'y' : 'ies'}`);
  return problems > 0 ? EXIT.PARTIAL : EXIT.OK;
}
