/**
 * `snap create --exclude PAT` on the filter engine: each pattern is an rsync --exclude (so
 * '- ' / '+ ' prefixes and a lone '!' mean what they mean to rsync), tested against the path
 * from the snapshot root; see docs/filters.md. Pure.
 *   - a pattern without '/' matches the last path component at any depth ('*.tmp');
 *   - a leading '/' anchors it at the snapshot root ('/cache');
 *   - a pattern with an inner '/' matches that many trailing components ('a/STAR/c' excludes
 *     'x/a/b/c'); with '**' it may match after any '/';
 *   - a trailing '/' matches directories only ('build/');
 *   - '*' and '?' do not cross '/', '**' does.
 * An excluded directory is not descended.
 */
import { UsageError } from '../errors/index.js';
import { compileFilterArgs } from './filter-args.js';
import { checkList } from './filter-list.js';

export type ExcludeTest = (relPath: string, isDir: boolean) => boolean;

const ASCII = /^[\x00-\x7f]*$/;

export function compileExcludes(patterns: readonly string[]): ExcludeTest {
  for (const p of patterns) {
    if (p === '' || p === '/') throw new UsageError(`empty exclude pattern '${p}'`);
  }
  const rules = compileFilterArgs(patterns.map((value) => ({ option: 'exclude' as const, value })), {
    readFile: () => { throw new UsageError('--exclude reads no files'); },
  });
  if (rules.list.length === 0) return () => false;
  return (relPath, isDir) => {
    // The engine matches bytes (latin1 strings); an ASCII path is already its own bytes.
    const path = ASCII.test(relPath) ? relPath : Buffer.from(relPath, 'utf8').toString('latin1');
    const cut = path.lastIndexOf('/');
    return checkList(rules.list, [], 'sender', cut < 0 ? '' : path.slice(0, cut), path.slice(cut + 1), isDir, '', false) < 0;
  };
}
