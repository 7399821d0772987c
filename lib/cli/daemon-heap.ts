/**
 * The V8 heap policy of a long-lived foxingd process (`daemon`, `sync --watch`), set before any
 * worker thread starts (V8 flags are per process, and the chunk workers' heaps follow them too).
 *
 * V8 lets a heap grow to up to four times what the last full collection left live before it
 * collects again. A daemon's first cut of a 1,000,000-file source allocates tree entries,
 * promises and worker results by the million, most of them garbage a moment later, and with the
 * default the main heap reached 250-320 MiB around ~40 MiB live; it stays that size after
 * the cut (V8 gives pages back slowly). Growing by 20 % at most keeps it near 90-110 MiB
 * (docs/daemon.md, "Memory") for more frequent collections: +19 % CPU in a synthetic test of
 * the same shape; the daemon's first cut of 100,000 files took ~10 % more CPU with this and the
 * index releases together (A/B beside the previous build, load 13-17). The short
 * commands (fxcp) keep V8's default, which favours speed.
 *
 * The young generation is capped too, but not here: V8 sizes it when the isolate starts, so
 * bin/foxingd.js's first line passes --max-semi-space-size (a flag set now would change nothing
 * for the main thread). V8's default grows it to 2 x 16 MiB, all of it resident during a cut;
 * capped, a first cut of 100,000 files peaked ~20 MiB lower for ~9 % more CPU (two A/B pairs,
 * load 13-14). Limits: `node bin/foxingd.js` (not through its first line) runs without the cap;
 * the flag also sets the chunk workers' young generation (their resourceLimits give way to it).
 */
import { setFlagsFromString } from 'node:v8';

const DAEMON_HEAP_GROWING_PERCENT = 20;

export function useDaemonHeapPolicy(): void {
  setFlagsFromString(`--heap-growing-percent=${DAEMON_HEAP_GROWING_PERCENT}`);
}
