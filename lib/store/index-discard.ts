/**
 * Throwing an index away before it is rebuilt, without opening it (a damaged one could crash
 * LMDB). The directory is renamed to `index.discarded-<pid>-<tag>`, which takes it out of the
 * way of every process that opens the store from then on in one step, and then removed. The
 * index is a cache, so nothing is kept: a copy per damage would only grow the store. A removal
 * cut short by a kill leaves a renamed directory of a dead process; the next discard removes it.
 */
import { promises as fsp, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomTag } from '../util/random-tag.js';

function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function discardIndexDir(dir: string): Promise<void> {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.discarded-`;
  for (const e of readdirSync(parent)) {
    const pid = e.startsWith(prefix) ? Number(/^(\d+)-/.exec(e.slice(prefix.length))?.[1]) : 0;
    if (pid && pid !== process.pid && isDead(pid)) await fsp.rm(join(parent, e), { recursive: true, force: true });
  }
  const aside = join(parent, `${prefix}${process.pid}-${randomTag()}`);
  try {
    renameSync(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await fsp.rm(aside, { recursive: true, force: true });
}
