/**
 * Exclude patterns for `snap create --exclude PAT`, with rsync's pattern rules (pure):
 *   - a pattern without '/' matches the last path component at any depth ('*.tmp');
 *   - a leading '/' anchors it at the snapshot root ('/cache');
 *   - a pattern with an inner '/' or '**' matches whole path components: anchored ones from
 *     the root, unanchored ones at any depth (so 'a/STAR/c' excludes 'x/a/b/c', as in rsync);
 *   - a trailing '/' matches directories only ('build/');
 *   - '*' and '?' do not cross '/', '**' does.
 * An excluded directory is not descended. (The full rsync filter grammar, with includes and
 * merge files, belongs to lib/filter's rule engine for fxcp copies.)
 */
import { createRequire } from 'node:module';
import { UsageError } from '../errors/index.js';

interface Rule { test: (path: string) => boolean; dirOnly: boolean; basename: boolean; anchored: boolean }

export type ExcludeTest = (relPath: string, isDir: boolean) => boolean;

export function compileExcludes(patterns: readonly string[]): ExcludeTest {
  const rules: Rule[] = patterns.map((raw) => {
    if (raw === '' || raw === '/') throw new UsageError(`empty exclude pattern '${raw}'`);
    let p = raw;
    const dirOnly = p.endsWith('/');
    if (dirOnly) p = p.slice(0, -1);
    const anchored = p.startsWith('/');
    if (anchored) p = p.slice(1);
    const basename = !anchored && !p.includes('/') && !p.includes('**');
    // Loaded only when there are patterns: most snapshots have none, and every module costs start-up.
    const picomatch = createRequire(import.meta.url)('picomatch') as typeof import('picomatch');
    const m = picomatch(p, { dot: true, nonegate: true, noextglob: true });
    return { test: m, dirOnly, basename, anchored };
  });
  if (rules.length === 0) return () => false;
  return (relPath, isDir) => {
    for (const r of rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.basename) {
        if (r.test(relPath.slice(relPath.lastIndexOf('/') + 1))) return true;
        continue;
      }
      if (r.test(relPath)) return true;
      if (r.anchored) continue;
      for (let i = relPath.indexOf('/'); i >= 0; i = relPath.indexOf('/', i + 1)) {
        if (r.test(relPath.slice(i + 1))) return true;
      }
    }
    return false;
  };
}
