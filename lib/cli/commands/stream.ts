/**
 * `fxcp - DEST`: standard input written to the file DEST (lib/copy/stream-write.ts): into a
 * temporary renamed onto DEST at the end of the stream, zero blocks left as holes; --size,
 * --decompress, --checkpoint-interval and --checkpoint-keep as the help says. Prints what was
 * written (a summary record under --json). Exit 0; 2 on an error (nothing under DEST then);
 * 130 when interrupted (nothing under DEST either).
 */
import { statSync } from 'node:fs';
import { processUmask } from '../../fs/umask.js';
import { UsageError } from '../../errors/index.js';
import { writeStream } from '../../copy/stream-write.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount, type Output } from '../output.js';

export interface StreamArgs {
  dest: string;
  size?: string;
  decompress: boolean;
  checkpointInterval?: string;
  checkpointKeep?: string;
}

function whole(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} takes a whole number${min > 0 ? ` of at least ${min}` : ''}, not '${v}'`);
  return Number(v);
}

export async function runStream(a: StreamArgs, out: Output, signal: AbortSignal | undefined): Promise<number> {
  if (statSync(a.dest, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`${a.dest}: is a directory; the standard input is written to a file: name it (${a.dest}/NAME)`, { path: a.dest });
  }
  const interval = whole('checkpoint-interval', a.checkpointInterval, 1);
  const keep = whole('checkpoint-keep', a.checkpointKeep, 1) ?? 3;
  if (a.checkpointKeep !== undefined && interval === undefined) throw new UsageError('--checkpoint-keep needs --checkpoint-interval');
  const started = process.hrtime.bigint();
  const r = await writeStream(process.stdin, a.dest, {
    size: whole('size', a.size, 0), decompress: a.decompress, mode: 0o666 & ~processUmask(), signal, onWarn: out.warn,
    checkpoint: interval !== undefined ? { intervalSec: interval, keep } : undefined,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  out.record({ summary: { ...r, path: a.dest, seconds } });
  out.line(`${a.dest}: ${formatCount(r.bytes)} bytes (${formatBytes(r.bytes)})${r.compression !== 'none' ? ` decoded from ${r.compression}` : ''}, ${formatBytes(r.holes)} left as holes${r.checkpoints.length ? `, ${r.checkpoints.length} checkpoints` : ''}`);
  return EXIT.OK;
}
