/** `foxingd explain`: the configuration file's keys, from the one schema that parsing reads (lib/daemon/daemon-config.ts). */
import { SCHEMA } from '../../daemon/daemon-config.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import type { FoxingdArgs } from '../foxingd-table.js';

const TABLES = [['top', '# foxingd configuration (TOML): foxingd daemon --config FILE; foxingd check --config FILE'], ['sources', '[[sources]]'], ['targets', '  [[sources.targets]]']] as const;

export async function run(_argv: FoxingdArgs<'explain'>, { out }: CommandContext): Promise<number> {
  out.result(SCHEMA);
  for (const [table, heading] of TABLES) {
    out.line(heading);
    const indent = table === 'targets' ? '  ' : '';
    for (const [key, s] of Object.entries(SCHEMA[table])) {
      if (s.kind === 'tables') continue;
      const notes = [s.describe, s.default ? `default: ${s.default}` : ''].filter(Boolean).join('; ');
      out.line(`${indent}# ${key} = ${s.example ?? EXAMPLES[s.kind]}    # ${notes}`);
    }
    out.line();
  }
  out.line('# Example:');
  for (const l of ['[[sources]]', 'path = "/data"', 'store = "/backup/store"', 'snapshot_interval = "5m"', 'exclude = ["*.tmp", "cache/"]', '  [[sources.targets]]', '  path = "/mirror/data"']) out.line(l);
  return EXIT.OK;
}

const EXAMPLES: Record<string, string> = {
  int: '4', number: '100', bool: 'false', string: '"…"', path: '"/absolute/path"', strings: '["*.tmp", "cache/"]', events: '"auto"', interval: '"5m"', listen: '"127.0.0.1:9100"', tables: '',
};
