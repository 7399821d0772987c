/**
 * The V8 heap policy of the commands that allocate by the file for a whole tree: foxingd's
 * long-lived processes (`daemon`, `sync --watch`) and `fxcp snap create`. Set before any worker
 * thread starts (V8 flags are per process, and the chunk workers' heaps follow them too).
 *
 * V8 lets a heap grow to up to four times what the last full collection left live before it
 * collects again. A daemon's first cut of a 1,000,000-file source allocates tree entries,
 * promises and worker results by the million, most of them garbage a moment later, and with the
 * default the main heap reached 250-320 MiB around ~40 MiB live; it stays that size after
 * the cut (V8 gives pages back slowly). Growing by 20 % at most keeps it near 90-110 MiB
 * (docs/daemon.md, "Memory") for more frequent collections: +19 % CPU in a synthetic test of
 * the same shape; the daemon's first cut of 100,000 files took ~10 % more CPU with this and the
 * index releases together (A/B beside the previous build, load 13-17).
 *
 * `snap create` (issue 25, peak RSS against restic's): a first snapshot of the bench's real set
 * (29,784 files) peaked at 208-226 MiB with V8's default and 192-200 MiB with 20 % (five
 * interleaved pairs); its main isolate ran 9-11 full collections instead of 5, ~30 ms more of
 * pauses in a run of ~5 CPU-s, within the noise of the wall and CPU times. 990,000 small text
 * files (the scale set): 326 -> 281 MiB, 96.5 -> 92.1 CPU-s, 57.6 -> 56.5 s (one pair).
 * A restore keeps the default: its peak (~140 MiB) is the isolates' young generations and the
 * node binary, not old-space garbage, and did not move. The other short commands (copies) keep
 * V8's default too, which favours speed.
 *
 * The young generation is capped too, but not here: V8 sizes it when the isolate starts, so
 * bin/foxingd.js's first line passes --max-semi-space-size (a flag set now would change nothing
 * for the main thread). V8's default grows it to 2 x 16 MiB, all of it resident during a cut;
 * capped, a first cut of 100,000 files peaked ~20 MiB lower for ~9 % more CPU (two A/B pairs,
 * load 13-14). Limits: `node bin/foxingd.js` (not through its first line) runs without the cap;
 * the flag also sets the chunk workers' young generation (their resourceLimits give way to it).
 *
 * The CLI's loader (cli-loader.cts, usesLowHeapGrowth) sets the same flag for these commands
 * before it compiles anything: a flag first set here, at run time, went into the hash V8 checks
 * code caches against and made every `snap create` compile the whole CLI again. Setting it here
 * too changes nothing then, and covers runs that do not go through the loader.
 */
import { setFlagsFromString } from 'node:v8';

/** The loader's LOW_HEAP_GROWING_PERCENT (test/cli/code-cache.test.ts checks they agree). */
export const HEAP_GROWING_PERCENT = 20;

/** Collects the old generation once it grows by HEAP_GROWING_PERCENT over what the last collection left. */
export function useLowHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
