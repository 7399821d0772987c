/**
 * Whether this process may write to a store, asked once when the store is opened. A store on
 * read-only media (a write-protected disk, a read-only mount, a file system snapshot), or one
 * this user may not write, is still read by every command that only reads (Store.open with
 * access 'read'); a command that writes is refused at once with one line (READ_ONLY), before
 * it has done anything.
 */
import { accessSync, constants } from 'node:fs';
import { ToolkitError } from '../errors/index.js';

/**
 * Null when the store's root and its index directory (when there is one) are writable;
 * otherwise why not ("read-only file system"). Root passes access(2) checks of permissions,
 * but not EROFS.
 */
export function writeProblem(root: string, indexDir: string): string | null {
  for (const dir of [root, indexDir]) {
    try {
      accessSync(dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && dir === indexDir) continue;
      if (code === 'EROFS') return 'read-only file system';
      if (code === 'EACCES' || code === 'EPERM') return `no write permission on ${dir}`;
      return `${dir}: ${(err as Error).message}`;
    }
  }
  return null;
}

/** What a command that writes gets on a store it cannot write. */
export function readOnlyStoreError(root: string, problem: string, command?: string): ToolkitError {
  return new ToolkitError('READ_ONLY', `${root}: the store is read-only (${problem})${command ? `; ${command} writes to it` : ''}`, { path: root });
}
