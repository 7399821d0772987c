/** `fxcp snap create SOURCE STORE`: snapshot a tree into the store. */
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCodec } from '../../codec/codec.js';
import { NotFoundError, ToolkitError } from '../../errors/index.js';
import { compileExcludes } from '../../filter/exclude-rules.js';
import { archive } from '../../snapshot/archiver.js';
import { scanTotals } from '../../snapshot/scan-totals.js';
import { shortId } from '../../snapshot/snapshot-catalogue.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { useLowHeapGrowth } from '../heap-policy.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';

export async function run(argv: ArgsFor<'snap create'>, { out, signal, run: runOpts, openStore }: CommandContext): Promise<number> {
  const codec = parseCodec(argv.compress);
  // Check the source before touching the store, so a typo never creates an empty store.
  const source = resolve(argv.source);
  // Synchronous: nothing else runs yet, and fs.promises costs 2.5 ms of Node modules to load.
  try {
    lstatSync(source);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new NotFoundError(`${source}: no such file or directory`, { path: source });
    throw new ToolkitError('SOURCE', `${source}: cannot read source: ${err.message}`, { path: source });
  }
  const exclude = compileExcludes(argv.exclude);
  // Before the chunk workers start: lower peak RSS for a few more collections (heap-policy.ts).
  useLowHeapGrowth();
  const counters = { files: 0, bytes: 0, readBytes: 0 };
  let bar: ProgressBar | null = null;
  if (argv.progress) {
    bar = new ProgressBar(counters, out.json, 'snapshot').start()
      .totalsFrom((stop) => scanTotals(source, { exclude, signal: stop, skip: resolve(argv.store) }));
  }
  try {
    const r = await openStore({ create: true, lock: 'shared', compactIndex: true },
      (store) => archive(store, {
        source: argv.source, tags: argv.tag, codec, exclude, forceRehash: argv.forceRehash,
        signal, onWarn: out.warn, progress: counters, workers: runOpts.workers,
      }));
    bar?.stop();
    const s = r.record.stats;
    out.result({ snapshot: { id: r.id, ...r.record }, stats: s, problems: r.problems });
    out.line(`snapshot ${shortId(r.id)} saved: ${s.files} files, ${s.dirs} dirs, ${formatBytes(s.bytes)} ` +
      `(${s.reusedFiles} unchanged files not read; ${formatBytes(s.readBytes)} read; ${formatBytes(s.newBytes)} new, ${formatBytes(s.storedBytes)} stored) ` +
      `in ${(s.durationMs / 1000).toFixed(2)}s`);
    if (r.problems.length > 0) {
      out.line(`${r.problems.length} entries could not be read (named above); the snapshot holds everything else`);
      return EXIT.PARTIAL;
    }
    return EXIT.OK;
  } finally {
    bar?.stop();
  }
}
