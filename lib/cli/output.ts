/**
 * Everything a command prints goes through here: results on stdout (one JSON document with
 * --json, text otherwise), warnings and errors on stderr, one line each, prefixed with the
 * program name. With --json, warnings are JSON lines on stderr too. All of it is written
 * synchronously, in order (std-write.ts).
 */
import { describeError } from './exit-codes.js';
import { writeErr, writeOut } from './std-write.js';

export class Output {
  warnings = 0;

  constructor(readonly prog: string, readonly json: boolean, private readonly quiet = false) {}

  /** Result text (non-JSON mode). */
  line(text = ''): void {
    if (!this.json) writeOut(text + '\n');
  }

  /**
   * A summary line for a person when stdout carries data (an archive to a pipe): on stderr,
   * prefixed like a warning; nothing under --json, where the result document says it.
   */
  note(text: string): void {
    if (!this.json && !this.quiet) writeErr(`${this.prog}: ${text}\n`);
  }

  /** The result document (JSON mode). */
  result(doc: unknown): void {
    if (this.json) writeOut(JSON.stringify(doc, bigintJson, 2) + '\n');
  }

  /**
   * One compact JSON document per line (JSON mode), for results too long for one document
   * (`snap diff` of millions of entries). Writes are synchronous (std-write.ts), so this cannot
   * outrun the reader.
   */
  record(doc: unknown): void {
    if (this.json) writeOut(JSON.stringify(doc, bigintJson) + '\n');
  }

  warn = (code: string, message: string, data: Record<string, unknown> = {}): void => {
    this.warnings++;
    if (this.quiet) return;
    if (this.json) writeErr(JSON.stringify({ warning: code, message, ...data }, bigintJson) + '\n');
    else writeErr(`${this.prog}: ${code === 'FILE_ERROR' || code === 'VANISHED' || code === 'RESTORE_ERROR' || code === 'CONFIG' ? 'error' : 'warning'}: ${message}\n`);
  };

  error(err: unknown): void {
    const { line, json } = describeError(err);
    if (this.json) writeErr(JSON.stringify(json, bigintJson) + '\n');
    // A usage error: the problem, then the command's usage on a line of its own.
    else writeErr(`${this.prog}: ${line}\n${typeof json.usage === 'string' ? `usage: ${json.usage}\n` : ''}`);
  }
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/**
 * A whole number with a comma every three digits (12,345), as toLocaleString('en-US') prints it;
 * that call loads ICU's locale data on first use, 20-50 ms measured on the bench VM, more than
 * the rest of a re-run's report.
 */
export function formatCount(n: number): string {
  const s = String(Math.abs(Math.trunc(n)));
  let out = s.slice(0, ((s.length - 1) % 3) + 1);
  for (let i = out.length; i < s.length; i += 3) out += ',' + s.slice(i, i + 3);
  return n < 0 ? '-' + out : out;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
