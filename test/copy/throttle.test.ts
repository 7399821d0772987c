// --throttle (lib/copy/throttle.ts) on a synthetic pressure source and clock: no pause at or
// below the threshold; above it, pauses in proportion to the work done, the paused share rising
// with the pressure and never above 1 - FLOOR (a copy always finishes); the pressure read at most
// every 100 ms; the time paused counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FLOOR, Throttle, type ThrottleClock } from '../../lib/copy/throttle.js';

/** A clock whose time moves only by work (`work(ms)`) and sleeps. */
function fakeClock(): ThrottleClock & { t: number; work(ms: number): void; slept: number[] } {
  const c = { t: 0, slept: [] as number[], now: () => c.t, sleep: async (ms: number) => { c.slept.push(ms); c.t += ms; }, work: (ms: number) => { c.t += ms; } };
  return c;
}

/** Runs `steps` entries of `workMs` each under `pressure`; the share of the time spent paused. */
async function pausedShare(pressure: number, steps = 200, workMs = 5): Promise<{ share: number; paused: number; reads: number }> {
  const clock = fakeClock();
  let reads = 0;
  const t = new Throttle(20, () => { reads++; return pressure; }, clock);
  for (let i = 0; i < steps; i++) {
    const p = t.pace();
    if (p) await p;
    clock.work(workMs);
  }
  return { share: t.paused / clock.t, paused: t.paused, reads };
}

test('at or below the threshold: no pause, no timer', async () => {
  for (const p of [0, 5, 20]) {
    const r = await pausedShare(p);
    assert.is(r.paused, 0, `pressure ${p}`);
  }
});

test('above it: the paused share rises with the pressure, and stays under 1 - FLOOR', async () => {
  const shares = [];
  for (const p of [30, 60, 90, 100]) shares.push((await pausedShare(p)).share);
  for (let i = 1; i < shares.length; i++) assert.ok(shares[i] > shares[i - 1], `${shares}`);
  assert.ok(shares[3] <= 1 - FLOOR + 0.01, `at 100 %: ${shares[3]}`);
  assert.ok(shares[3] > 1 - FLOOR - 0.05, `at 100 %, close to the cap: ${shares[3]}`);
  const t = new Throttle(20, () => 0);
  assert.is(t.share(60), (40 / 80) * (1 - FLOOR));
});

test('the pressure is read at most every 100 ms', async () => {
  const r = await pausedShare(0, 200, 5);
  assert.ok(r.reads <= 11 && r.reads >= 9, `${r.reads} reads over 1 s of work`);
});

test.run();
