/**
 * Puts to an LMDB environment held back and written together: one transaction per batch
 * instead of one per put (each of lmdb-js's own commits costs a flush). What is pending is
 * visible to `get` at once, so a caller reads its own writes. A later put of a key replaces the
 * pending value.
 */
import type { RootDatabase } from 'lmdb';

export class PendingPuts {
  private pending = new Map<string, [Buffer, Buffer]>();

  get size(): number { return this.pending.size; }

  set(key: Buffer, value: Buffer): void {
    this.pending.set(key.toString('latin1'), [key, value]);
  }

  /** The pending value of `key`, or undefined when none is pending. */
  get(key: Buffer): Buffer | undefined {
    return this.pending.get(key.toString('latin1'))?.[1];
  }

  /** Writes everything pending to `env` in one transaction. */
  flushTo(env: RootDatabase<Buffer, Buffer>): void {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    env.transactionSync(() => {
      for (const [k, v] of batch.values()) env.putSync(k, v);
    });
  }
}
