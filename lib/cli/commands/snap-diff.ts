/**
 * `fxcp snap diff STORE A B`: what changed from snapshot A to snapshot B.
 * Text: one line per change (`+ path`, `- path`, `M path (content, mtime)`; directories end in
 * '/'), then a summary line. JSON: JSON Lines, one change object per line and a last
 * `{"summary": …}` line, so a diff of millions of entries streams. Exit 0 whether or not the
 * snapshots differ: in this toolkit 1 means "partial", so a difference is not signalled by the
 * exit code; count the lines or read the summary.
 */
import { diffSnapshots } from '../../snapshot/snapshot-diff.js';
import { selectSnapshot, shortId } from '../../snapshot/snapshot-catalogue.js';
import type { Store } from '../../store/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';

const MARK = { added: '+', removed: '-', modified: 'M' } as const;

export async function run(argv: ArgsFor<'snap diff'>, { out, signal, openStore }: CommandContext): Promise<number> {
  return openStore({ lock: 'shared', access: 'read' }, async (store) => {
    const a = pick(store, argv.a), b = pick(store, argv.b);
    const sum = { from: a.id, to: b.id, added: 0, removed: 0, modified: 0, addedBytes: 0, removedBytes: 0 };
    for await (const c of diffSnapshots(store, a.record, b.record, { signal })) {
      sum[c.kind]++;
      if (c.kind === 'added') sum.addedBytes += c.size;
      if (c.kind === 'removed') sum.removedBytes += c.size;
      out.record(c);
      out.line(`${MARK[c.kind]} ${c.path}${c.type === 'dir' && c.path !== '.' ? '/' : ''}${c.what.length > 0 ? ` (${c.what.join(', ')})` : ''}`);
    }
    out.record({ summary: sum });
    out.line(`${shortId(a.id)} → ${shortId(b.id)}: ${sum.added} added (${formatBytes(sum.addedBytes)}), ` +
      `${sum.removed} removed (${formatBytes(sum.removedBytes)}), ${sum.modified} modified`);
    return EXIT.OK;
  });
}

/** A snapshot by id or unique prefix; 'latest' is the newest. */
function pick(store: Store, which: string) {
  return which === 'latest' ? selectSnapshot(store, { latest: true }) : selectSnapshot(store, { snapshot: which });
}
