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
