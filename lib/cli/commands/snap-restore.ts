/** `fxcp snap restore STORE -o DIR`: a snapshot, or the files a glob selects, into DIR. */
import { NotFoundError } from '../../errors/index.js';
import { selectSnapshot, shortId } from '../../snapshot/snapshot-catalogue.js';
import { restore } from '../../snapshot/restorer.js';
import { withStore } from '../../store/open-store.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../main.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';

export async function run(argv: Record<string, any>, { out, signal }: CommandContext): Promise<number> {
  const counters = { files: 0, bytes: 0 };
  const bar = argv.progress ? new ProgressBar(counters, out.json, 'restore').start() : null;
  try {
    return await withStore(argv.store, { lock: 'shared', command: 'fxcp snap restore', onWarn: out.warn }, async (store) => {
      const snap = selectSnapshot(store, { snapshot: argv.snapshot, at: argv.at, latest: argv.latest });
      const r = await restore(store, snap.record, { target: argv.output, files: argv.file, onWarn: out.warn, signal, progress: counters });
      bar?.stop();
      out.result({ snapshot: snap.id, target: argv.output, ...r });
      if (argv.file.length > 0 && r.files + r.links + r.others + r.dirs === 0) {
        throw new NotFoundError(`no entry of snapshot ${shortId(snap.id)} matches ${argv.file.map((f: string) => `'${f}'`).join(', ')}`,
          { snapshot: snap.id, patterns: argv.file }, 'NO_MATCH');
      }
      out.line(`restored snapshot ${shortId(snap.id)} to ${argv.output}: ${r.files} files, ${r.dirs} dirs, ${r.links} symlinks, ` +
        `${r.others} special, ${formatBytes(r.bytes)}`);
      return r.problems.length > 0 ? EXIT.PARTIAL : EXIT.OK;
    });
  } finally {
    bar?.stop();
  }
}
