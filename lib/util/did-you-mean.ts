/**
 * The suggestion after an unknown command or option: the known name at the smallest edit
 * distance, when that distance is small for the word's length (a typo, not another word).
 * Pure.
 */

/** Damerau-Levenshtein distance (optimal string alignment): a swapped pair counts as one edit. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The closest of `known` to `word`, or undefined when none is close: at most 1 edit for words
 * of up to 4 letters, 2 up to 8, 3 beyond; a known name that starts with the word (an
 * abbreviation) counts as close too.
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const dist = word.length >= 2 && k.startsWith(word) ? 1 : editDistance(word, k);
    if (dist < bestDistance) { best = k; bestDistance = dist; }
  }
  return bestDistance <= limit ? best : undefined;
}
