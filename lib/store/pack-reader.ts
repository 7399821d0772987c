/**
 * Reads a pack's trailer (to rebuild the index or check a pack) and single records.
 */
import { FormatError, rewordError, ToolkitError } from '../errors/index.js';
import type { BlobStorage } from './blob-storage.js';
import { checkPackHeader, decodeTrailerEntries, decodeTrailerTail, type PackEntry } from './pack-codec.js';
import { PACK_HEADER_BYTES, TRAILER_ENTRY_BYTES, TRAILER_TAIL_BYTES } from './store-layout.js';

/** Lists a pack's records from its trailer; throws FormatError naming the pack when damaged. */
export async function readPackEntries(storage: BlobStorage, packId: string): Promise<PackEntry[]> {
  const where = storage.describe('pack', packId);
  try {
    // Local packs are read with synchronous preads: gc and rebuild-index read thousands of
    // trailers, and a thread-pool round trip per call costs more than the read itself.
    const sync = storage.readRangeSync && storage.sizeSync ? storage : null;
    const read = async (offset: number, length: number) => sync ? sync.readRangeSync!('pack', packId, offset, length) : storage.readRange('pack', packId, offset, length);
    const size = sync ? sync.sizeSync!('pack', packId) : await storage.size('pack', packId);
    if (size < PACK_HEADER_BYTES + TRAILER_TAIL_BYTES) throw new FormatError('truncated (smaller than header and trailer)', {}, 'TRUNCATED');
    checkPackHeader(await read(0, PACK_HEADER_BYTES));
    const tail = decodeTrailerTail(await read(size - TRAILER_TAIL_BYTES, TRAILER_TAIL_BYTES), size);
    const body = await read(tail.entriesOffset, tail.count * TRAILER_ENTRY_BYTES);
    return decodeTrailerEntries(body, tail);
  } catch (err) {
    if (err instanceof ToolkitError && !err.message.startsWith(where)) {
      throw rewordError(err, `${where}: ${err.message}`, { ...err.data, path: where });
    }
    throw err;
  }
}
