/**
 * A rename that never replaces: moves `from` to `to` and fails with EEXIST when something is at
 * `to`, with no window in which a check could be outrun by another process. The copy engine uses
 * it to put a file in place where nothing may be overwritten.
 *
 * renameat2(RENAME_NOREPLACE) through the native addon where the file system supports it (ext4,
 * XFS, btrfs, tmpfs, ...). Otherwise (no addon, or EINVAL from a file system without the flag)
 * a file, symlink or special file is hard-linked to `to` (link(2) fails with EEXIST, atomically)
 * and `from` is then unlinked. Limits of the fallback: between the two steps both names exist,
 * and a crash there leaves both (the data is safe under `to`); a directory cannot be moved that
 * way (nor onto a file system without hard links), which is an FsError "not supported here".
 */
import { linkSync, lstatSync, unlinkSync } from 'node:fs';
import { FsError } from '../errors/index.js';
import { native } from '../native/load.js';
import { displayPath } from './fs-path.js';
import { errnoOf, fsError } from './fs-error.js';

/** How the last successful call did it (tests, diagnostics). */
export type RenameWay = 'renameat2' | 'link-unlink';

/** Renames `from` to `to` unless `to` exists (then an FsError with errno EEXIST). Returns how. */
export function renameNoReplace(from: Buffer, to: Buffer): RenameWay {
  if (native) {
    try {
      native.renameNoReplace(from, to);
      return 'renameat2';
    } catch (e) {
      if (errnoOf(e) !== 'EINVAL') throw fsError(e, `rename ${displayPath(from)} to`, to, 'renameat2');
      // EINVAL: the file system lacks RENAME_NOREPLACE (or `to` lies inside `from`, which the
      // fallback refuses too: a directory is not linked).
    }
  }
  return linkThenUnlink(from, to);
}

function linkThenUnlink(from: Buffer, to: Buffer): RenameWay {
  let isDir: boolean;
  try {
    isDir = lstatSync(from).isDirectory();
  } catch (e) {
    throw fsError(e, 'rename', from, 'lstat');
  }
  if (isDir) {
    throw new FsError(`cannot rename ${displayPath(from)} to ${displayPath(to)} without replacing: not supported here (a directory, and no renameat2 RENAME_NOREPLACE)`,
      { path: displayPath(from), syscall: 'renameat2', errno: 'ENOTSUP' });
  }
  try {
    linkSync(from, to);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
      throw new FsError(`cannot rename ${displayPath(from)} to ${displayPath(to)} without replacing: not supported here (no renameat2 RENAME_NOREPLACE, no hard links)`,
        { path: displayPath(from), syscall: 'link', errno: code });
    }
    throw fsError(e, `rename ${displayPath(from)} to`, to, 'link');
  }
  try {
    unlinkSync(from);
  } catch (e) {
    throw fsError(e, 'remove the old name after linking', from, 'unlink');
  }
  return 'link-unlink';
}
