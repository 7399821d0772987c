/**
 * TEST-ONLY crash hook. When FOXING_TEST_KILL_AT names this point (e.g. `gc:after-index`),
 * the process kills itself with SIGKILL right here, so crash tests can stop prune and gc at
 * exact moments instead of hoping a timer lands between two steps. Unset (always, outside the
 * tests), it costs one environment lookup. Points are listed in docs/lifecycle.md.
 */
import { existsSync, writeSync } from 'node:fs';

export function killPoint(name: string): void {
  if (process.env.FOXING_TEST_KILL_AT === name) process.kill(process.pid, 'SIGKILL');
}

/**
 * TEST-ONLY interrupt hook. FOXING_TEST_PAUSE_CHECK=`N:FILE` holds the Nth abort check of the
 * process (lib/errors/abort.ts, the checks made with a signal) until FILE exists: the check
 * writes `paused at abort check N` to stderr and waits there. The SIGINT test sends its signal
 * then creates FILE, so every command is interrupted mid-way, at a known point, and not where a
 * timer happened to land. The wait blocks the thread; the signal is queued meanwhile and is seen
 * at the next turn of the event loop (the next abort point gives one, lib/errors/abort.ts), so
 * the command stops at its next check. Returns whether it held the check. Read once at load:
 * null (always, outside the tests) costs the checks one comparison.
 */
export const abortCheckHook: (() => boolean) | null = pauseHook(process.env.FOXING_TEST_PAUSE_CHECK);

function pauseHook(spec: string | undefined): (() => boolean) | null {
  const m = spec ? /^(\d+):(.+)$/.exec(spec) : null;
  if (!m) return null;
  const at = Number(m[1]);
  const file = m[2]!;
  let n = 0;
  return () => {
    if (++n !== at) return false;
    writeSync(2, `paused at abort check ${at}\n`);
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (let waited = 0; waited < 60_000 && !existsSync(file); waited += 5) Atomics.wait(cell, 0, 0, 5);
    return true;
  };
}
