/**
 * Opening a file to read its data when it was found in a listing: O_NOFOLLOW, so a symlink put
 * in its place since is refused (ELOOP), never followed; O_NONBLOCK, so a FIFO put there is not
 * waited on (the caller checks the type with fstat). A failure is an FsError "cannot read PATH".
 */
import { constants, openSync } from 'node:fs';
import { fsError } from './fs-error.js';

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export function openForRead(path: Buffer | string): number {
  try {
    return openSync(path, FLAGS);
  } catch (err) {
    throw fsError(err, 'read', path, 'open');
  }
}
