/**
 * Where a warning goes: something lost while the command went on (docs/errors.md, "Warning
 * codes"): a stable code, a one-line message naming the path, structured data. Library code
 * never prints; the CLI decides how a warning looks (lib/cli/output.ts). The one warning type:
 * lib/fs, the store and the snapshot code all take this.
 */
export type Warn = (code: string, message: string, data?: Record<string, unknown>) => void;
