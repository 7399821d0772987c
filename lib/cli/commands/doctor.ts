/** `fxcp doctor`: which implementations are in use (native addon or fallbacks), and why. */
import { createChunker } from '../../chunker/index.js';
import { blake3 } from '../../hash/blake3.js';
import { directOpenFlag } from '../../fs/direct-io.js';
import { lmdbSource } from '../../index/load-lmdb.js';
import { native, nativeLoadError } from '../../native/load.js';
import { workersLoadedFrom } from '../../util/worker-bundles.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { availableParallelism } from 'node:os';

export async function run(_argv: ArgsFor<'doctor'>, { out, run: runOpts }: CommandContext): Promise<number> {
  const doc = {
    node: process.version,
    cli: (globalThis as { foxingCliLoad?: string }).foxingCliLoad ?? 'per-module build (started without bin/fxcp)',
    workers: workersLoadedFrom(),
    lmdb: lmdbSource(),
    cores: availableParallelism(),
    nativeAddon: native ? 'loaded' : `not loaded (${nativeLoadError})`,
    chunker: createChunker().impl,
    blake3: blake3().impl,
    xattrs: native ? 'native' : 'unavailable (not captured or restored)',
    holes: native ? 'SEEK_DATA/SEEK_HOLE' : 'unavailable (sparse files are read in full)',
    timestamps: native ? 'utimensat, exact nanoseconds' : 'lutimes, about microsecond precision',
    packWrites: directOpenFlag(runOpts.directPacks !== false) ? 'direct (O_DIRECT where the file system takes it; FOXING_DIRECT_PACKS=0 turns it off)'
      : `buffered (${native ? 'FOXING_DIRECT_PACKS=0' : 'direct writes need the native addon'})`,
  };
  out.result(doc);
  for (const [k, v] of Object.entries(doc)) out.line(`${k.padEnd(12)} ${v}`);
  return EXIT.OK;
}
