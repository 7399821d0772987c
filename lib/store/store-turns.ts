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
 *
 * Two modes. Telling a use inside its own use from one beside it needs the call chain's
 * context, an AsyncLocalStorage; in Node 20 that turns on promise hooks for the whole process,
 * a JavaScript call at every promise made and every await resumed: ~5 % of the main thread's
 * CPU in a first snapshot of the real bench set (0.2 of 4.4 CPU-s). So:
 * - by default (fxcp's commands, which use a store once at a time: a second use of a store
 *   while one is running can only be a use inside it, or a bug) a second use is refused at once;
 * - a process whose parts use a store side by side (foxingd's versions and snapshot cutter)
 *   calls allowConcurrentStoreUses() first: uses then wait their turn, and the context finds a
 *   use inside its own use.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { UsageError } from '../errors/index.js';

/** The end of the last use queued for each store (a key as the caller names the store). */
const lastTurn = new Map<string, Promise<void>>();
/** The stores the running call chain is inside of. */
const inside = new AsyncLocalStorage<ReadonlySet<string>>();

let concurrent = false;

/** Lets uses of one store in this process run one after another instead of being refused (see the head of this file). */
export function allowConcurrentStoreUses(): void {
  concurrent = true;
}

/** Runs `fn` once no other use of `key` in this process is running; uses of `key` run in call order. */
export async function inStoreTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const held = concurrent ? inside.getStore() : undefined;
  const before = lastTurn.get(key);
  if (held?.has(key) || (before && !concurrent)) {
    throw new UsageError(`${key}: the store is already in use by this same command (one store cannot be both sides of an operation)`, { path: key });
  }
  let done!: () => void;
  const mine = new Promise<void>((resolve) => { done = resolve; });
  lastTurn.set(key, mine);
  try {
    if (before) await before;
    return concurrent ? await inside.run(new Set([...(held ?? []), key]), fn) : await fn();
  } finally {
    done();
    if (lastTurn.get(key) === mine) lastTurn.delete(key);
  }
}
