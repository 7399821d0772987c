/**
 * `fxcp snap restore STORE|ARCHIVE -o DIR`: a snapshot, or the files a glob selects, into DIR.
 * A regular file is read as an archive (seekably: one file's restore reads only its chunks);
 * a directory as a store; a Foxing (Rust) archive goes to ../foxing-archive.ts. The store path is imported only when used, so restoring from an
 * archive never loads LMDB.
 */
import { statSync } from 'node:fs';
import { NotFoundError, ToolkitError } from '../../errors/index.js';
import { requireFreeSpace } from '../../fs/free-space.js';
import { chooseSnapshot, shortId, type SnapshotSelector } from '../../snapshot/snapshot-catalogue.js';
import type { ChunkSource } from '../../snapshot/chunk-source.js';
import { planRestore, type RestorePlan } from '../../snapshot/restore-plan.js';
import { restore } from '../../snapshot/restorer.js';
import type { SnapshotRecord } from '../../snapshot/snapshot-record.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { formatBytes } from '../output.js';
import { ProgressBar } from '../progress-bar.js';

export async function run(argv: ArgsFor<'snap restore'>, ctx: CommandContext): Promise<number> {
  const counters = { files: 0, bytes: 0 };
  const bar = argv.progress ? new ProgressBar(counters, ctx.out.json, 'restore').start() : null;
  const sel: SnapshotSelector = { snapshot: argv.snapshot, at: argv.at, latest: argv.latest };
  try {
    if (statSync(argv.store, { throwIfNoEntry: false })?.isFile()) {
      const { ArchiveReader } = await import('../../fxar/archive-reader.js');
      const { readFileHead } = await import('../../fxar/archive-io.js');
      const { requireFxar, sniffArchiveKind, SNIFF_BYTES } = await import('../../fxar/archive-kind.js');
      const head = readFileHead(argv.store, SNIFF_BYTES);
      const kind = sniffArchiveKind(head);
      if (kind === 'foxing-fxar') {
        const { restoreFoxingArchive } = await import('../foxing-archive.js');
        return await restoreFoxingArchive(argv.store, argv, sel, ctx.out, ctx.signal, counters);
      }
      requireFxar(kind, argv.store, head.length === 0);
      const ar = ArchiveReader.openFile(argv.store);
      try {
        const snap = chooseSnapshot(ar.listSnapshots(), sel, ar.path, 'archive');
        return await restoreFrom(ar, snap.id, snap.record, argv, ctx, counters, bar);
      } finally {
        ar.close();
      }
    }
    const fromStore = async (): Promise<number> => {
      const { selectSnapshot, warnDamagedRecords } = await import('../../snapshot/snapshot-catalogue.js');
      return await ctx.openStore({ lock: 'shared', access: 'read' }, async (store) => {
        const snap = selectSnapshot(store, sel);
        // The record file's check (a GET, for a store in a bucket) runs beside the restore, which
        // takes the record from the index either way.
        const [code] = await Promise.all([restoreFrom(store, snap.id, snap.record, argv, ctx, counters, bar), warnDamagedRecords(store, [snap.id], ctx.out.warn)]);
        // A store in a bucket or over ssh says what the restore fetched (S3Storage counts GET
        // bodies, SshStorage blob reads), in how many requests.
        const remote = store.storage as { bytesFetched?: number; requests?: number; client?: { requests: number } };
        if (remote.bytesFetched !== undefined) ctx.out.note(`fetched ${formatBytes(remote.bytesFetched)} from ${store.root} in ${remote.requests ?? remote.client?.requests} requests`);
        return code;
      });
    };
    if (!argv.store.startsWith('s3://')) return await fromStore();
    // An object of that name is an archive, read by ranged GETs; otherwise a store's prefix. A
    // name ending in .fxar is most likely an archive: it is looked for first, and a store opened
    // only when there is no such object. Any other name is most likely a store's: the archive's
    // first GETs go beside the store's config (one round trip, not two), and the archive is used
    // only when the prefix holds no store.
    const { openS3Archive } = await import('../../store/index.js');
    const probe = openS3Archive(argv.store, { s3Endpoint: (argv as { s3Endpoint?: string }).s3Endpoint });
    probe.catch(() => {});
    if (/\.fxar$/i.test(argv.store)) {
      const reader = await probe;
      return reader ? await restoreFromS3Archive(reader, argv, sel, ctx, counters, bar) : await fromStore();
    }
    let archive = false;
    try {
      return await fromStore();
    } catch (err) {
      if (!(err instanceof ToolkitError && NO_STORE_CODES.has(err.code))) throw err;
      const reader = await probe.catch(() => null);
      if (!reader) throw err;
      archive = true;
      return await restoreFromS3Archive(reader, argv, sel, ctx, counters, bar);
    } finally {
      if (!archive) (await probe.catch(() => null))?.close();
    }
  } finally {
    bar?.stop();
  }
}

type S3ArchiveReader = NonNullable<Awaited<ReturnType<typeof import('../../store/index.js').openS3Archive>>>;

/** What opening a prefix that holds no store throws (it may name an archive object instead). */
const NO_STORE_CODES = new Set(['NO_STORE', 'NOT_A_STORE']);

/** A restore from an archive object in a bucket (`reader`: opened by openS3Archive). */
async function restoreFromS3Archive(reader: S3ArchiveReader, argv: ArgsFor<'snap restore'>, sel: SnapshotSelector, ctx: CommandContext,
  counters: { files: number; bytes: number }, bar: ProgressBar | null): Promise<number> {
  const { ArchiveReader } = await import('../../fxar/archive-reader.js');
  const { requireFxar, sniffArchiveKind, SNIFF_BYTES } = await import('../../fxar/archive-kind.js');
  let ar;
  try {
    const head = reader.read(0, Math.min(SNIFF_BYTES, reader.size));
    requireFxar(sniffArchiveKind(head), argv.store, head.length === 0);
    ar = ArchiveReader.open(reader);
  } catch (err) {
    reader.close();
    throw err;
  }
  try {
    const snap = chooseSnapshot(ar.listSnapshots(), sel, ar.path, 'archive');
    const code = await restoreFrom(ar, snap.id, snap.record, argv, ctx, counters, bar);
    ctx.out.note(`fetched ${formatBytes(reader.bytesRead)} of ${formatBytes(reader.size)} from ${argv.store} in ${reader.requests} requests`);
    return code;
  } finally {
    ar.close();
  }
}

async function restoreFrom(source: ChunkSource, id: string, record: SnapshotRecord, argv: ArgsFor<'snap restore'>, { out, signal, run: runOpts }: CommandContext,
  counters: { files: number; bytes: number }, bar: ProgressBar | null): Promise<number> {
  // Check the restore fits before writing anything: a full one writes the snapshot's bytes; a
  // selective one is sized by a walk of the trees it selects, which the restore then reuses.
  let plan: RestorePlan | undefined;
  if (argv.file.length === 0) {
    requireFreeSpace(argv.output, record.stats.bytes, 'the restore');
  } else {
    plan = await planRestore(source, record, argv.file, signal);
    requireFreeSpace(argv.output, plan.bytes, 'the restore');
  }
  bar?.setTotals(plan ? { files: plan.files, bytes: plan.fileBytes } : record.stats);
  const r = await restore(source, record, { target: argv.output, files: argv.file, onWarn: out.warn, signal, progress: counters, plan,
    workers: runOpts.workers, poolFromBytes: runOpts.restorePoolBytes });
  bar?.stop();
  out.result({ snapshot: id, target: argv.output, ...r });
  if (argv.file.length > 0 && r.files + r.links + r.others + r.dirs === 0) {
    throw new NotFoundError(`no entry of snapshot ${shortId(id)} matches ${argv.file.map((f) => `'${f}'`).join(', ')}`,
      { snapshot: id, patterns: argv.file }, 'NO_MATCH');
  }
  out.line(`restored snapshot ${shortId(id)} to ${argv.output}: ${r.files} files, ${r.dirs} dirs, ${r.links} symlinks, ` +
    `${r.others} special, ${formatBytes(r.bytes)}`);
  return r.problems.length > 0 ? EXIT.PARTIAL : EXIT.OK;
}
