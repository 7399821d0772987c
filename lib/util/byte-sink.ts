/**
 * Where bytes go: a file, a pipe, memory, a compressor. The one sink type of the archive
 * writers (FXAR and tar). `write` resolves when the sink can take more and is done with the
 * bytes: the writer may then reuse the buffer, and awaiting it is the writer's backpressure.
 * `writev`, when present, takes several pieces at once (a file: one writev, no copy).
 */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  writev?(parts: Uint8Array[]): Promise<void>;
}

/** A sink whose bytes show under their name only once committed (a temporary file renamed, an upload completed). */
export interface CommittedSink extends ByteSink {
  commit(): Promise<void>;
  /** Leaves nothing under the name (after a failure). */
  discard(): Promise<void>;
}

/** Runs `write` into `sink`, then commits it; on a failure discards it, so nothing torn is left under the name. */
export async function writeCommitted<T>(sink: CommittedSink, write: (sink: ByteSink) => Promise<T>): Promise<T> {
  try {
    const result = await write(sink);
    await sink.commit();
    return result;
  } catch (err) {
    await sink.discard();
    throw err;
  }
}
