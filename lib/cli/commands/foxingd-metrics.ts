/** `foxingd metrics [--socket PATH]`: the running daemon's Prometheus metrics, as text. */
import { defaultStatusSocket, readMetrics } from '../../daemon/daemon-control.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';

export async function run(argv: FoxingdArgs<'metrics'>, { out }: CommandContext): Promise<number> {
  const path = argv.socket ?? defaultStatusSocket();
  const text = await readMetrics(path);
  out.result({ metrics: text });
  for (const line of text.replace(/\n$/, '').split('\n')) out.line(line);
  return EXIT.OK;
}
