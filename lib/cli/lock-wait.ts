/**
 * --lock-wait DURATION: how long a command waits for a conflicting lock before it fails with
 * LOCKED (exit 2). "0" (the default) fails at once; "30s", "10m", "1h"; a bare number is seconds.
 */
import { UsageError } from '../errors/index.js';
import type { OptionSpec } from './command-spec.js';

export const LOCK_WAIT_OPTION = {
  type: 'string', default: '0', value: 'DURATION',
  describe: 'wait up to DURATION (e.g. 30s, 10m, 1h) for a conflicting lock instead of failing at once',
} as const satisfies OptionSpec;

export function parseLockWait(text: string | undefined): number {
  if (text === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`cannot read --lock-wait '${text}' (use e.g. 0, 30s, 10m or 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
