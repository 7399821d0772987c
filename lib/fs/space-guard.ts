/**
 * A running free-space guard for writes whose total is not known up front (an import from
 * stdin, a compressed tar): before each step (a pack, a few MiB of output) the writer asks
 * whether the step fits, and the guard answers with one statfs(2). When it does not fit the
 * guard throws NO_SPACE naming the path, the bytes the step needs and the bytes free, so the
 * command stops before the write that would fail with ENOSPC and can clean up in order.
 *
 * Limits: like requireFreeSpace (free-space.ts), the figure is f_bavail: other writers on the
 * same file system, quotas and compression make it an estimate. The guard makes ENOSPC in the
 * middle of a write unlikely, not impossible; the writers still clean up after a failed write.
 */
import { ToolkitError } from '../errors/index.js';
import { freeSpace } from './free-space.js';

export interface SpaceStep {
  /** Bytes the next write will add. */
  bytes: number;
  /** Bytes already handed to writers but not yet on disk (statfs does not see them yet). */
  pending?: number;
  /** What the write is, for the message ("the open pack's next chunk"). */
  step: string;
}

/**
 * Grants writes against the free space one statfs found, and looks again once `every` bytes
 * were granted: so a job of any size costs one statfs per `every` bytes, and a write is never
 * granted more than the last statfs showed free (less the margin and the pending bytes).
 */
export class SpaceGuard {
  /** statfs calls so far. */
  checks = 0;
  private allowance = 0;

  /**
   * `path` must exist (the store root, the output's directory); `what` names the whole job
   * ("the import"); `margin` bytes are always kept free (index commits, the final record).
   */
  constructor(readonly path: string, readonly what: string, readonly margin = 0, readonly every = 16 << 20) {}

  /** Throws NO_SPACE unless the file system can take the write, the pending bytes and the margin. */
  async reserve({ bytes, pending = 0, step }: SpaceStep): Promise<void> {
    if (bytes <= this.allowance) {
      this.allowance -= bytes;
      return;
    }
    this.checks++;
    const { available } = freeSpace(this.path);
    const usable = available - this.margin - pending;
    if (bytes > usable) {
      const needed = bytes + pending + this.margin;
      this.allowance = 0;
      throw new ToolkitError('NO_SPACE',
        `${this.path}: not enough free space to continue ${this.what}: ${step} needs ${needed} bytes${this.margin ? ` (${this.margin} of them kept in reserve)` : ''}, ` +
        `the file system has ${available} bytes free; stopped before writing it`,
        { path: this.path, needed, available });
    }
    this.allowance = Math.max(bytes, Math.min(this.every, usable)) - bytes;
  }
}
