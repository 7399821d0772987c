/**
 * rsync's itemized changes (`-i`, `--itemize-changes`): an 11-character string `YXcstpoguax`
 * per entry, pure. Y is the update type, X the file type, then one letter per attribute that
 * changed, '.' for one that did not, '+' for all of them on a new entry:
 *
 *   Y: '>' a file's data is written; 'c' a non-file is created or replaced (a directory, a
 *      symlink, a device, a fifo or socket); 'h' a hard link to another entry of the copy;
 *      '.' only attributes change; '*deleting' for a removed entry (the whole string).
 *   X: 'f' file, 'd' directory, 'L' symlink, 'D' device, 'S' fifo or socket.
 *   c: the content differs by checksum (files under -c) or a symlink's target / device number
 *      changed; s: size; t: modification time; p: permissions; o: owner; g: group;
 *      u: (access time: not compared, as rsync without --atimes); a: ACL; x: other xattrs.
 *
 * Differences from rsync kept on purpose: rsync's 'c' on a regular file without -c means
 * "checksum to be computed" and is shown for every transferred file on some versions; here it
 * is shown only when a checksum was compared and differed. A local copy of rsync prints '>'
 * for received files, as here.
 */
import type { EntryType } from '../fs/file-meta.js';

export type ItemizeKind = 'write' | 'create' | 'hardlink' | 'attrs';

/** Which attributes differ between the source entry and the destination entry. */
export interface Changes {
  checksum?: boolean;
  size?: boolean;
  time?: boolean;
  perms?: boolean;
  owner?: boolean;
  group?: boolean;
  acl?: boolean;
  xattrs?: boolean;
}

export const DELETING = '*deleting  ';

export function typeLetter(type: EntryType): string {
  switch (type) {
    case 'file': return 'f';
    case 'dir': return 'd';
    case 'symlink': return 'L';
    case 'chardev': case 'blockdev': return 'D';
    default: return 'S';
  }
}

const KIND_LETTER: Record<ItemizeKind, string> = { write: '>', create: 'c', hardlink: 'h', attrs: '.' };

/** The string for an entry that is new at the destination (`isNew`) or updated with `changes`. */
export function itemize(kind: ItemizeKind, type: EntryType, isNew: boolean, changes: Changes = {}): string {
  const head = KIND_LETTER[kind] + typeLetter(type);
  if (isNew) return `${head}+++++++++`;
  const c = changes;
  return head + (c.checksum ? 'c' : '.') + (c.size ? 's' : '.') + (c.time ? 't' : '.') + (c.perms ? 'p' : '.') +
    (c.owner ? 'o' : '.') + (c.group ? 'g' : '.') + '.' + (c.acl ? 'a' : '.') + (c.xattrs ? 'x' : '.');
}

/** True when nothing about the entry changes (rsync prints such entries only under -ii). */
export function unchanged(s: string): boolean {
  return s[0] === '.' && /^..\.+$/.test(s);
}
