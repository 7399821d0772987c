/**
 * Runs `fn` over `items` with at most `limit` calls in flight, in order of start; rejects with
 * the first failure once the calls already started have settled (none is left running behind
 * the caller's back). For many small independent I/O calls (gc and prune unlink thousands of
 * packs and records), where one thread-pool round trip at a time leaves the disk idle.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw (failure as { err: unknown }).err;
}
