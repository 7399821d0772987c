/**
 * Creating special files on restore: FIFOs (named pipes), character and block devices.
 *
 * With the native addon every kind goes through mknod(2). Without it, FIFOs are made by running
 * `mkfifo` (coreutils) and devices cannot be made at all (Node has no mknod). Devices also need
 * root (CAP_MKNOD), which a rootless container usually lacks even as uid 0; both cases throw a
 * ToolkitError naming the path, so the caller can record the entry as failed and go on.
 *
 * Sockets: a socket file is only a rendezvous name for a process that is listening on it,
 * meaningless without that process, so a restore skips them (as tar does). The copy engine
 * keeps them as `cp -a` does: mknod(S_IFSOCK) makes the name, with the native addon only (no
 * command makes one; without the addon it throws, naming the path).
 *
 * The entry is created with `meta.mode & 0o777` (reduced by the umask) and nothing else: call
 * applyMeta afterwards for the exact mode, owner, xattrs and times. An existing entry at `path`
 * is an error (EEXIST), as with mknod, never silently replaced.
 */
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import { NativeError, ToolkitError } from '../errors/index.js';
import { native, nativeLoadError } from '../native/load.js';
import type { FileMeta } from './file-meta.js';
import { modeTypeBits } from './capture-meta.js';
import { FsError, errnoOf, fsError } from './fs-error.js';
import { displayPath, isUtf8Path, splitPath } from './fs-path.js';
import { TempEntry } from './temp-name.js';

/** Creates the FIFO or device node described by `meta` at `path`. */
export async function makeSpecial(path: Buffer, meta: Pick<FileMeta, 'type' | 'mode' | 'rdev'>): Promise<void> {
  const shown = displayPath(path);
  const perm = meta.mode & 0o777;
  switch (meta.type) {
    case 'fifo':
      if (native) return nativeMknod(path, modeTypeBits('fifo') | perm, 0);
      return mkfifoCommand(path, perm);
    case 'chardev':
    case 'blockdev':
      if (!native) {
        throw new NativeError(`cannot create device ${shown}: device nodes need the native addon (${nativeLoadError ?? 'not loaded'})`,
          { path: shown, type: meta.type, loadError: nativeLoadError });
      }
      return nativeMknod(path, modeTypeBits(meta.type) | perm, meta.rdev);
    case 'socket':
      if (!native) {
        throw new NativeError(`cannot create socket ${shown}: sockets need the native addon (${nativeLoadError ?? 'not loaded'})`,
          { path: shown, type: meta.type, loadError: nativeLoadError });
      }
      return nativeMknod(path, modeTypeBits('socket') | perm, 0);
    default:
      throw new ToolkitError('UNSUPPORTED_TYPE', `cannot create ${shown}: makeSpecial does not create entries of type ${meta.type}`,
        { path: shown, type: meta.type });
  }
}

function nativeMknod(path: Buffer, mode: number, dev: number): void {
  try {
    native!.mknod(path, mode, dev);
  } catch (e) {
    if (errnoOf(e) === 'EPERM') {
      const shown = displayPath(path);
      throw new ToolkitError('NOT_PERMITTED', `cannot create device ${shown}: creating device nodes needs root (CAP_MKNOD)`,
        { path: shown, errno: 'EPERM', syscall: 'mknod' });
    }
    throw fsError(e, 'create', path, 'mknod');
  }
}

/**
 * The fallback: runs `mkfifo -m MODE -- PATH`. Process arguments are strings, so a path that is
 * not valid UTF-8 cannot be passed as one; then the parent directory is opened here, handed to
 * the child as fd 3, the FIFO is made under a temporary ASCII name (temp-name.ts) through
 * /proc/self/fd/3, and linked to its real name from here (link, not rename, so an existing entry
 * still gives EEXIST).
 * Exported for tests.
 */
export async function mkfifoCommand(path: Buffer, perm: number): Promise<void> {
  const modeArg = (perm & 0o777).toString(8);
  if (isUtf8Path(path)) {
    await run(['-m', modeArg, '--', path.toString('utf8')], path, undefined);
    return;
  }
  const [dir] = splitPath(path);
  let dirHandle;
  try {
    dirHandle = await fsp.open(dir, 'r');
  } catch (e) {
    throw fsError(e, 'open the directory of', path, 'open');
  }
  try {
    const fd = dirHandle.fd;
    const { temp } = await TempEntry.create(dir, (tmp) => run(['-m', modeArg, '--', `/proc/self/fd/3/${splitPath(tmp)[1].toString('latin1')}`], path, fd));
    try {
      await fsp.link(temp.path, path);
    } catch (e) {
      throw fsError(e, 'create FIFO', path, 'link');
    } finally {
      temp.discard();
    }
  } finally {
    await dirHandle.close();
  }
}

function run(args: string[], path: Buffer, dirFd: number | undefined): Promise<void> {
  const shown = displayPath(path);
  return new Promise((resolve, reject) => {
    const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'ignore', 'pipe'];
    if (dirFd !== undefined) stdio.push(dirFd);
    // node:child_process loads here, on this rare path, not at every start-up.
    const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    const child = spawn('mkfifo', args, { stdio });
    let err = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { if (err.length < 4096) err += d; });
    child.on('error', (e) => reject(new NativeError(
      `cannot create FIFO ${shown}: the native addon is not loaded and mkfifo could not run (${e.message})`,
      { path: shown, loadError: nativeLoadError })));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      // mkfifo reports strerror text; recover the common errno so errnoOf() works as for mknod.
      const errno = /File exists/i.test(err) ? 'EEXIST' : /No such file/i.test(err) ? 'ENOENT'
        : /Permission denied/i.test(err) ? 'EACCES' : undefined;
      reject(new FsError(`cannot create FIFO ${shown}: mkfifo failed: ${err.trim() || `exit code ${code}`}`,
        { path: shown, errno, syscall: 'mkfifo', stderr: err.trim() }));
    });
  });
}
