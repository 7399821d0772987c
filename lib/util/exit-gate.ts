/**
 * Asynchronous native calls that must not be in flight when their thread is torn down.
 *
 * lzma-native (xz) runs each coding step on libuv's thread pool and then calls back into the
 * thread that started it. If that thread's Node environment is being torn down by then, the
 * callback can no longer enter JavaScript, and lzma-native's prebuilt binding (node-addon-api
 * with C++ exceptions, built without NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS) throws out of
 * its C callback: std::terminate, SIGABRT (issue 18, D8; gdb shows it in a chunk worker's
 * Worker::Run → FreeEnvironment → CleanupHandles → AsyncWorker::OnWorkComplete →
 * Error::ThrowAsJavaScriptException). We do not build lzma-native, so every xz call goes
 * through `gated` (compression in short steps, codec.ts xzCompress), and a worker that is
 * asked to end (live-workers.ts) first closes this thread's gate: no new call starts, and it
 * waits for those in flight.
 *
 * Per thread: each thread counts only its own calls. A gated call asked for after the gate
 * closed never starts and never settles: its thread is about to end.
 */
let inFlight = 0;
let closed = false;
const idle: Array<() => void> = [];

/** Runs `call`, an asynchronous native call that must not be in flight when this thread ends. */
export async function gated<T>(call: () => Promise<T>): Promise<T> {
  if (closed) return new Promise<T>(() => {});
  inFlight++;
  try {
    return await call();
  } finally {
    // Counted out on the next turn of the event loop, once the binding's completion callback
    // (which settled the call) has returned to Node.
    setImmediate(() => {
      if (--inFlight === 0) for (const wake of idle.splice(0)) wake();
    });
  }
}

/** Stops new gated calls on this thread; resolves once none is in flight. */
export function closeExitGate(): Promise<void> {
  closed = true;
  return inFlight === 0 ? Promise.resolve() : new Promise<void>((wake) => idle.push(wake));
}
