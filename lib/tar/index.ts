/**
 * tar: the legacy interchange format, on both sides of the store (docs/tar.md).
 *
 *   member   one entry of a tar: a header (plus pax or GNU long-name headers) and its data
 *   export   snapshot → tar (exportTar), optionally compressed as a whole
 *   import   tar → snapshot (importTar), compression detected by content
 *
 * Pure cores: tar-header (512-byte ustar blocks), pax-records, tar-path (member path rules).
 * Streams: tar-reader (parser over AsyncIterable<Uint8Array>), tar-writer (to a ByteSink, lib/util/byte-sink.ts),
 * tar-compress (detection, decompression, frame-parallel compression in compress-worker).
 */
export { exportTar, tarCodecForPath, type ExportTarOptions, type ExportTarResult, type TarCompression } from './tar-export.js';
export { importTar, type ImportTarOptions, type ImportTarResult } from './tar-import.js';
export { detectCompression, decompress, compressingSink } from './tar-compress.js';
export { readTar, type TarEntry, type TarEntryType } from './tar-reader.js';
export { TarWriter, type TarMember, type TarMemberType } from './tar-writer.js';
