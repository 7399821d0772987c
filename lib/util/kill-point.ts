/**
 * TEST-ONLY crash hook. When FOXING_TEST_KILL_AT names this point (e.g. `gc:after-index`),
 * the process kills itself with SIGKILL right here, so crash tests can stop prune and gc at
 * exact moments instead of hoping a timer lands between two steps. Unset (always, outside the
 * tests), it costs one environment lookup. Points are listed in docs/lifecycle.md.
 */
export function killPoint(name: string): void {
  if (process.env.FOXING_TEST_KILL_AT === name) process.kill(process.pid, 'SIGKILL');
}
