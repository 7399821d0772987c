/**
 * lib/fxar/foxing-v2: reading archives written by Foxing, the Rust reference, in its own
 * "FXAR v2" format (magic "FXAR", u32 version 2): not our FXAR v2 (formats/fxar-v2.md), whose
 * magic starts 0x89 "FXN". What it accepts and must refuse: formats/foxing-fxar-v2.md.
 *
 * Nouns:
 * - **manifest**: the archive's one JSON document listing every file (path, size, mode, mtime,
 *   owner, whole-file BLAKE3, chunk indexes, `user.foxing*` xattrs) and the snapshot names.
 * - **chunk index**: 48 bytes a chunk (BLAKE3 id, sizes, offset), in first-seen order; files
 *   name chunks by their position in it.
 * - **form**: seekable (the header holds offsets) or streamed (a placeholder header, and an
 *   `FXAF` footer at the end); both are parsed front to back from byte 64.
 * - **snapshot**: the files under `<name>/tree/`; the reference's snapshot directory names.
 *
 * Files: foxing-layout (constants, bounds), foxing-header (header, footer), foxing-codec (the
 * codec quirks), foxing-manifest (JSON checks), foxing-paths (safe relative paths, snapshots),
 * foxing-reader (positional reads, verified chunks and files), foxing-entries (our metadata),
 * foxing-inspect, foxing-restore, foxing-import (the services), foxing-spool (stdin to a file).
 * The services are loaded by their users on demand (an inspect never loads the store's writers).
 */
export { FoxingReader, type FoxingIndexEntry } from './foxing-reader.js';
export { groupSnapshots, type FoxingEntry, type FoxingSnapshot, type PathProblem } from './foxing-paths.js';
export type { FoxingFile, FoxingManifest } from './foxing-manifest.js';
