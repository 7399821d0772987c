/**
 * `--throttle PCT`: a copy that yields to the machine's other work. Before each entry the walk
 * asks `pace()`; when the pressure (lib/util/pressure.ts: the larger of I/O's and memory's
 * "some avg10", in percent) is above PCT, it pauses, the longer the higher the pressure, in
 * proportion to the work done since the last pause, so that the copy keeps at least FLOOR of
 * its speed whatever the pressure: it always finishes. The pressure is read at most every
 * READ_EVERY_MS; the time paused is counted (reported as `throttledSeconds`).
 *
 * The share paused: 0 at PCT, rising linearly to 1 - FLOOR at 100 %. A pause is never longer
 * than MAX_PAUSE_MS, so an interrupt is seen within that.
 */
import type { PressureSource } from '../util/pressure.js';

export const FLOOR = 0.1;
const READ_EVERY_MS = 100;
const MAX_PAUSE_MS = 250;

export interface ThrottleClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL: ThrottleClock = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export class Throttle {
  /** Milliseconds paused in all. */
  paused = 0;
  private readAt = -Infinity;
  private pressure = 0;
  private since: number;

  constructor(private readonly threshold: number, private readonly source: PressureSource, private readonly clock: ThrottleClock = REAL) {
    this.since = clock.now();
  }

  /** The share of time to pause at pressure `p` (percent). */
  share(p: number): number {
    if (p <= this.threshold) return 0;
    return Math.min(1 - FLOOR, ((p - this.threshold) / (100 - this.threshold)) * (1 - FLOOR));
  }

  /** Pauses when the pressure says so; resolves at once (without a timer) otherwise. */
  pace(): Promise<void> | undefined {
    const now = this.clock.now();
    if (now - this.readAt >= READ_EVERY_MS) {
      this.pressure = this.source();
      this.readAt = now;
    }
    const share = this.share(this.pressure);
    if (share === 0) { this.since = now; return undefined; }
    // Work for w ms, then pause w * s / (1 - s): paused is then s of the time.
    const worked = now - this.since;
    const pause = Math.min(MAX_PAUSE_MS, (worked * share) / (1 - share));
    if (pause < 1) return undefined;
    return this.clock.sleep(pause).then(() => {
      this.paused += pause;
      this.since = this.clock.now();
    });
  }
}
