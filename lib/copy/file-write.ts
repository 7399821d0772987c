/**
 * Writing one regular file of a copy: its data (lib/fs/copy-data.ts) into a temporary renamed
 * into place (or the file itself, --inplace), its attributes onto the temporary before the
 * rename. It writes what the addon's batches (write-batcher.ts, lib/fs/copy-files-native.ts)
 * leave out, and every file without the addon; the batches follow the same rules.
 *
 * The source is opened with O_NOFOLLOW and O_NONBLOCK and checked to be the regular file the
 * listing saw (same inode): an entry swapped for a symlink or a FIFO since is neither followed
 * nor waited on (CHANGED).
 */
import { chmodSync, closeSync, fstatSync } from 'node:fs';
import { ToolkitError, type Warn } from '../errors/index.js';
import { copyFileData, type CopyDataResult } from '../fs/copy-data.js';
import type { FileMeta } from '../fs/file-meta.js';
import { openForRead } from '../fs/open-read.js';
import type { ContentSource, Materializer } from '../fs/materialize.js';

export interface FileWrite {
  src: Buffer;
  dst: Buffer;
  meta: FileMeta;
  /** The destination directory's device (the data copier's fast paths depend on it). */
  dev: bigint;
  /** Write into the existing file at `dst` (--inplace) instead of a temporary. */
  inplace: boolean;
  /** -a: apply mode, owner (Materializer's choice), xattrs and times. */
  archive: boolean;
  /** Without -a: the mode to give the file (the old file's bits, or the source's less the umask). */
  plainMode: number;
  /** Nothing was at `dst` when its directory was listed (lets a batch write it unnamed first). */
  fresh?: boolean;
}

/** What sets `w`'s attributes on its temporary (or on the file itself, --inplace). */
export function attributesOf(out: Materializer, w: FileWrite): (at: Buffer) => Promise<void> {
  return async (at) => {
    if (w.archive) await out.applyMeta(at, w.meta);
    else chmodSync(at, w.plainMode);
  };
}

export async function writeFileCopy(out: Materializer, w: FileWrite, onWarn: Warn, signal?: AbortSignal): Promise<CopyDataResult> {
  const attributes = attributesOf(out, w);
  const fd = openForRead(w.src);
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile() || st.ino !== w.meta.ino) {
      throw new ToolkitError('CHANGED', 'changed while it was copied (no longer the regular file that was listed); not copied');
    }
    let copied: CopyDataResult = { strategy: 'read-write', bytes: 0, endedEarly: false };
    const content: ContentSource<FileMeta> = {
      fill: async (to) => {
        copied = await copyFileData({ fd, size: w.meta.size, dev: w.meta.dev, blocks: w.meta.blocks, path: w.src }, { fd: to, dev: w.dev, path: w.dst }, { signal, onWarn });
        // Truncated to its listed size, it would end in zeros the source never held.
        if (copied.endedEarly) throw new ToolkitError('CHANGED', 'shrank while it was copied; not copied');
      },
    };
    if (w.inplace) {
      await out.fileInPlace(w.dst, w.meta, content);
      await attributes(w.dst);
    } else {
      await out.file(w.dst, { ...w.meta, nlink: 1 }, content, attributes);
    }
    return copied;
  } finally {
    closeSync(fd);
  }
}
