/**
 * A temporary, disk-backed sorted map of bytes → bytes (an LMDB environment in a scratch
 * directory, removed on close). Importers that meet entries in arbitrary order (a tar) spill
 * them here keyed by path and read them back in key order, so memory does not grow with the
 * number of entries. Durability is not wanted (noSync): the spill dies with the process.
 *
 * The directory is named `spill-<pid>-…` so that, put in a store's tmp/, a spill left by a
 * killed process is removed by the store's next cleanTmp (a live process's is left alone).
 *
 * Limit: LMDB keys are at most MAX_KEY_BYTES; longer keys are refused by the caller.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { lmdb } from './load-lmdb.js';
import { PendingPuts } from './pending-puts.js';

/** lmdb-js's largest key (it builds LMDB with a 1978-byte key limit); kept a little below. */
export const MAX_KEY_BYTES = 1900;

const PENDING_MAX = 4096;

export class EntrySpill {
  private constructor(private readonly dir: string, private readonly env: RootDatabase<Buffer, Buffer>) {}

  static open(parent: string): EntrySpill {
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(join(parent, `spill-${process.pid}-`));
    const env = lmdb().open<Buffer, Buffer>({
      path: join(dir, 'spill.mdb'), keyEncoding: 'binary', encoding: 'binary', noSync: true, noMemInit: true,
      // A spill is read back once in order: no read cache worth keeping.
      cache: false,
    });
    return new EntrySpill(dir, env);
  }

  /** Puts not yet written: one LMDB transaction per PENDING_MAX puts instead of one each. */
  private readonly pending = new PendingPuts();

  /** Sets a key (a later put of the same key replaces the value). Visible to get() at once. */
  put(key: Buffer, value: Buffer): void {
    this.pending.set(key, value);
    if (this.pending.size >= PENDING_MAX) this.flush();
  }

  get(key: Buffer): Buffer | undefined {
    return this.pending.get(key) ?? this.env.get(key);
  }

  private flush(): void {
    this.pending.flushTo(this.env);
  }

  /** Every entry in key byte order. */
  *entries(): Generator<[Buffer, Buffer]> {
    this.flush();
    for (const { key, value } of this.env.getRange({})) yield [key, value];
  }

  async close(): Promise<void> {
    try {
      await this.env.close();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
