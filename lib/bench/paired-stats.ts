// Statistics of interleaved timings. This VM's start-up times drift by a third within minutes, so
// two builds (or a command and `node -e 0`) are only compared on runs made in the same rounds:
// round i runs every step once, and the difference of two steps is taken round by round before
// the median, which cancels a drift that a difference of two medians would keep.
// Pure: no processes, no files.

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The order in which `n` steps run in round `i` (negative: warm-up). With `alternate`, odd rounds
 * run them backwards, so no step always runs right after the same other one (the one after a
 * process that left the disk or the page cache busy pays for it); without, always in order.
 */
export function roundOrder(n: number, i: number, alternate: boolean): number[] {
  const order = Array.from({ length: n }, (_, k) => k);
  return alternate && (i & 1) ? order.reverse() : order;
}

/**
 * The median of the round-by-round differences `a[i] - b[i]` (same unit as the samples), or
 * undefined when the two did not run in the same rounds (different counts, or none).
 */
export function pairedDiff(a: readonly number[], b: readonly number[]): number | undefined {
  if (!a.length || a.length !== b.length) return undefined;
  return median(a.map((x, i) => x - b[i]!));
}
