/**
 * Looking at the first bytes of a byte stream (to tell what it holds) without losing them: the
 * head, and the whole stream again with those bytes included. Used where the kind of input is
 * read from its content, never from its name (snap import: FXAR or tar; tar: which compression).
 * `close` releases the source when the stream will not be read (a refused input).
 */
export async function peekStream(source: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Buffer; stream: AsyncIterable<Uint8Array>; close(): Promise<void> }> {
  const it = source[Symbol.asyncIterator]();
  const got: Uint8Array[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    got.push(r.value);
    len += r.value.length;
  }
  const head = Buffer.concat(got).subarray(0, n);
  const stream = (async function* () {
    try {
      yield* got;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  })();
  return { head, stream, close: async () => { await it.return?.(); } };
}

