/**
 * Short random tags for temporary names (`.NAME.tmp-PID-TAG`, lock files). A tag only has to keep
 * two processes, or two calls, from choosing the same name, and the pid beside it already
 * separates processes on one host, so Math.random's bits (V8 seeds it per process) are enough.
 * Not node:crypto: loading that module costs about 5 ms at start-up, on every command, for a
 * name nobody needs to be unguessable.
 */
export function randomTag(hexDigits = 8): string {
  let s = '';
  while (s.length < hexDigits) s += Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return s.slice(0, hexDigits);
}
