/**
 * The two assertions yargs' platform shim takes from node:assert, for the CLI bundle only
 * (bin/build.js aliases `assert` to this file there). Loading node:assert reads the colour
 * support of process.stderr, which creates that stream: on a pipe or socket that loads Node's
 * net stack and turns the descriptor non-blocking, for every command, before anything runs.
 * yargs uses these only for internal invariants, so a plain Error is all they need.
 */
export function strictEqual(actual: unknown, expected: unknown, message?: string): void {
  if (actual !== expected) throw new Error(message ?? `yargs: expected ${String(expected)}, got ${String(actual)}`);
}

export function notStrictEqual(actual: unknown, expected: unknown, message?: string): void {
  if (actual === expected) throw new Error(message ?? `yargs: unexpected ${String(actual)}`);
}
