/**
 * `fxcp snap import FILE|- STORE`: adds an archive's snapshots to STORE (creating it), storing
 * only chunks it lacks. The kind of archive is told from its first bytes, not its name: FXAR v2
 * brings its snapshots; a tar (plain, or zstd/gzip/xz/lz4-compressed) becomes one new snapshot;
 * a Foxing (Rust) FXAR v2 archive brings its snapshots, its files re-chunked (../foxing-archive.ts).
 */
import { promises as fsp } from 'node:fs';
import { requireFreeSpace } from '../../fs/free-space.js';
import { archiveOpenError, openSource } from '../../fxar/archive-io.js';
import { peekStream } from '../../util/peek-stream.js';
import { isTarKind, requireKnown, SNIFF_BYTES, sniffArchiveKind } from '../../fxar/archive-kind.js';
import { ArchiveReader } from '../../fxar/archive-reader.js';
import { importArchive } from '../../fxar/import-archive.js';
import { shortId } from '../../snapshot/snapshot-catalogue.js';
import type { Store } from '../../store/index.js';
import { storeWriters } from '../../store/index.js';
import { importTar, MAX_WORKERS } from '../../tar/tar-import.js';
import { resolve } from 'node:path';
import { FormatError, UsageError } from '../../errors/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';

export async function run(argv: ArgsFor<'snap import'>, { out, signal, run: runOpts, openStore }: CommandContext): Promise<number> {
  const where = argv.archive === '-' ? '<stdin>' : argv.archive;
  if (argv.archive === '-' && process.stdin.isTTY) throw new UsageError("refusing to read an archive from a terminal; pipe one in or give FILE");
  let size: number | null = null;
  if (argv.archive !== '-') {
    const st = await fsp.stat(argv.archive).catch((err: NodeJS.ErrnoException) => {
      throw archiveOpenError(argv.archive, err, 'read');
    });
    if (st.isDirectory()) throw new FormatError(`${argv.archive}: is a directory, not an archive`, { path: argv.archive }, 'NOT_AN_ARCHIVE');
    size = st.size;
  }
  const source = openSource(argv.archive);
  const { head, stream } = await peekStream(source, SNIFF_BYTES);
  const kind = sniffArchiveKind(head);
  requireKnown(kind, where, head.length === 0);
  const counters = { files: 0, bytes: 0 };
  const bar = argv.progress ? new ProgressBar(counters, out.json, 'import').readFrom(source, size).start() : null;
  try {
    return await openStore({ create: true, lock: 'shared' }, async (store) => {
      const { storeSpaceGuard } = await storeWriters();
      if (isTarKind(kind)) {
        const r = await importTar(stream, store, {
          source: argv.archive === '-' ? '-' : resolve(argv.archive), tags: argv.tag, signal, onWarn: out.warn,
          spaceGuard: storeSpaceGuard(store, 'the import'),
          workers: runOpts.workers === undefined ? undefined : Math.min(runOpts.workers, MAX_WORKERS),
          onProgress: (p) => { counters.files = p.entries; counters.bytes = p.bytes; },
        });
        bar?.stop();
        const { record, ...rest } = r;
        out.result({ archive: where, store: store.root, ...rest, stats: record.stats });
        out.line(`imported ${r.compression === 'none' ? 'tar' : `${r.compression}-compressed tar`} ${where} into ${store.root} as snapshot ` +
          `${shortId(r.snapshotId)}: ${r.entries} entries, ${formatBytes(r.bytes)}${r.skipped ? `, ${r.skipped} skipped (named above)` : ''}`);
        return r.skipped > 0 ? EXIT.PARTIAL : EXIT.OK;
      }
      if (argv.tag.length > 0) throw new UsageError('--tag applies to a tar import; an FXAR archive brings its snapshots with their tags');
      if (kind === 'foxing-fxar') {
        const { importFoxingArchive } = await import('../foxing-archive.js');
        const code = await importFoxingArchive(argv.archive, stream, store, out, signal, { spaceGuard: storeSpaceGuard(store, 'the import'), progress: counters });
        bar?.stop();
        return code;
      }
      if (argv.archive !== '-') await preflight(argv.archive, store);
      // From a file the pre-flight sizes the whole import; the guard covers stdin, where the
      // size is unknown, and anything else filling the file system while the import runs.
      const r = await importArchive(stream, where, store, { signal, onWarn: out.warn, progress: counters, spaceGuard: storeSpaceGuard(store, 'the import') });
      bar?.stop();
      out.result({ archive: where, store: store.root, ...r });
      const added = r.snapshots.filter((s) => s.added);
      out.line(`imported ${added.length} of ${r.snapshots.length} snapshot${r.snapshots.length === 1 ? '' : 's'} ` +
        `(${r.snapshots.map((s) => shortId(s.id) + (s.added ? '' : ' already present')).join(', ')}) into ${store.root}: ` +
        `${r.newChunks} new chunks of ${r.chunks}, ${formatBytes(r.newStoredBytes)} stored`);
      return EXIT.OK;
    });
  } finally {
    bar?.stop();
  }
}

/** From a file the index says what the store lacks: check it fits before writing anything. */
async function preflight(path: string, store: Store): Promise<void> {
  if (!store.local) return; // the packs go to the bucket (storeSpaceGuard)
  const ar = ArchiveReader.openFile(path);
  try {
    let needed = 0;
    for (const e of ar.chunkEntries()) if (!store.index.hasChunk(e.id)) needed += e.storedLength;
    requireFreeSpace(store.localDir, needed, 'the imported chunks');
  } finally {
    ar.close();
  }
}
