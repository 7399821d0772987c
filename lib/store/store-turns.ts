/**
 * One use of a store at a time in this process: withStore (open-store.ts) takes its turn here
 * before it opens the store, and gives it back after the store is closed.
 *
 * Why: lmdb-js coordinates a synchronous write transaction with its own asynchronous write
 * batch only within one environment handle. Two handles on one index in one process can
 * deadlock. The first handle's write thread holds LMDB's write mutex while it waits for the
 * main thread to run a batched callback. The main thread, through the second handle, begins a
 * synchronous write (opening the store creates its tables) and blocks on that mutex. Neither
 * moves again, and no signal handler can run. foxingd did exactly this: with its versioned
 * target full, the "make room" pass opened the versions store while a batch of versions was
 * being recorded, and the daemon no longer stopped on SIGTERM. Other processes are not
 * affected: LMDB's mutex is shared between processes, and a writer elsewhere only waits.
 *
 * A store used again inside its own use (the same store as source and destination of one
 * command) would wait for itself for ever: that is an error, not a wait.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { UsageError } from '../errors/index.js';

/** The end of the last use queued for each store (a key as the caller names the store). */
const lastTurn = new Map<string, Promise<void>>();
/** The stores the running call chain is inside of. */
const inside = new AsyncLocalStorage<ReadonlySet<string>>();

/** Runs `fn` once no other use of `key` in this process is running; uses of `key` run in call order. */
export async function inStoreTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const held = inside.getStore();
  if (held?.has(key)) throw new UsageError(`${key}: the store is already in use by this same command (one store cannot be both sides of an operation)`, { path: key });
  const before = lastTurn.get(key);
  let done!: () => void;
  const mine = new Promise<void>((resolve) => { done = resolve; });
  lastTurn.set(key, mine);
  try {
    if (before) await before;
    return await inside.run(new Set([...(held ?? []), key]), fn);
  } finally {
    done();
    if (lastTurn.get(key) === mine) lastTurn.delete(key);
  }
}
