/** `foxingd status [--socket PATH]`: what the running daemon says of each of its mirrors and stores. */
import { defaultStatusSocket, readStatus } from '../../daemon/daemon-control.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';
import { formatBytes } from '../output.js';

interface MirrorStatus {
  source: string; target: string | null; paused: boolean; queue: number; running: number; lagSeconds: number;
  operations: number; written: number; deleted: number; renamed: number; rescans: number; failures: number; bytes: number;
  store?: string; snapshots?: { cuts: number; failures: number; lastCutMs: number; lastId: string | null };
}

export async function run(argv: FoxingdArgs<'status'>, { out }: CommandContext): Promise<number> {
  const path = argv.socket ?? defaultStatusSocket();
  const doc = await readStatus(path) as { pid: number; uptimeSeconds: number; mirrors: MirrorStatus[] };
  out.result(doc);
  out.line(`foxingd ${doc.pid}, up ${doc.uptimeSeconds} s`);
  for (const m of doc.mirrors) {
    out.line(`${m.source}${m.target ? ` -> ${m.target}` : ''}: ${m.paused ? 'PAUSED, ' : ''}${m.queue} queued (${m.running} running), lag ${m.lagSeconds.toFixed(2)} s; ` +
      `${m.operations} operations, ${m.written} written (${formatBytes(m.bytes)}), ${m.deleted} deleted, ${m.renamed} renamed, ${m.rescans} rescans, ${m.failures} failed` +
      (m.snapshots ? `; ${m.snapshots.cuts} snapshots into ${m.store}${m.snapshots.lastId ? `, last ${m.snapshots.lastId.slice(0, 12)} in ${m.snapshots.lastCutMs.toFixed(0)} ms` : ''}` : ''));
  }
  return EXIT.OK;
}
