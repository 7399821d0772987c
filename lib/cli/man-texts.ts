/**
 * What the manual pages say that the command table does not: the description, exit status and
 * environment. The exit codes are lib/cli/exit-codes.ts's and docs/errors.md's; the variables
 * are those lib/cli/run-options.ts reads and those it names as read where they act
 * (lib/native/load.ts, lib/hash/blake3.ts). The test-only hooks are left out on purpose.
 */
import type { ManExtras } from './man-page.js';

const EXIT_STATUS: ManExtras['exitStatus'] = [
  [0, 'Success: everything was done (warnings may have been printed).'],
  [1, 'Partial: the command finished, but some items failed, each named on stderr (a file that could not be read or restored; store check or repair found problems).'],
  [2, 'Failure: bad usage, no store, a lock held by another process, damaged data, or any other error that stopped the command; nothing was done. The error is one line on stderr naming the path and the problem, and its stable code with --json (docs/errors.md).'],
  [130, 'Interrupted by SIGINT or SIGTERM; nothing half-done is visible (an interrupted snapshot leaves no snapshot). A second signal ends the command at once.'],
];

const ENVIRONMENT: ManExtras['environment'] = [
  ['FOXING_WORKERS', 'Worker threads of each pool (chunking, restoring, verifying, compressing): a positive integer. Default: one per core.'],
  ['FOXING_RESTORE_POOL_BYTES', 'A restore writing at most this many bytes runs on the main thread alone, without starting workers; 0 always uses the workers.'],
  ['FOXING_DIRECT_PACKS', 'Set to 0 to write packs through the page cache instead of with O_DIRECT (the default where the native addon is loaded and the file system takes it).'],
  ['FOXING_NO_NATIVE', 'Set to 1 to use the pure TypeScript fallbacks instead of the native addon (slower chunking, no extended attributes, holes found by scanning for zeros); fxcp doctor shows which is in use. The build reads it too: with 1 it does not build the addon.'],
  ['FOXING_BLAKE3', 'Set to wasm to hash with the WebAssembly BLAKE3 instead of the native one.'],
];

export function fxcpManExtras(version: string): ManExtras {
  return {
    source: `foxing-node ${version}`,
    description: [
      'fxcp snapshots directory trees into a content-addressed chunk store and restores any file of any snapshot byte for byte with its metadata. Files are cut into chunks of about 64 KiB by content (a gear hash), each named by its BLAKE3 hash and stored once, compressed, in pack files; an LMDB index of the chunks is only a cache, rebuilt from the packs when it is missing or damaged. Unchanged files are not read again.',
      'Snapshots move between stores as FXAR archives (one file, each chunk once, seekable) or as tar files, and a store is pruned by a retention policy, checked and repaired in place.',
      'Results go to stdout, as text or, with --json, as one JSON document; warnings and errors go to stderr, one line each.',
    ],
    programOptions: [['-V, --version', 'Print the version and exit.']],
    exitStatus: EXIT_STATUS,
    environment: ENVIRONMENT,
    seeAlso: ['foxingd(8)', 'tar(1)', 'crontab(5)'],
  };
}

export function foxingdManExtras(version: string): ManExtras {
  return {
    source: `foxing-node ${version}`,
    description: [
      'foxingd is the replication daemon of Foxing for Node: it keeps a mirror of a directory current as the directory changes, with the copy engine of fxcp(1) doing every write (a temporary file renamed into place, reflinks where the file system has them, metadata after data).',
      'foxingd sync first compares the whole source with the mirror and copies what differs, deleting what the source no longer has (like fxcp -a --delete --generate-sigs SRC/ DEST). With --watch it then watches the source (as root with fanotify, one filesystem mark; otherwise with inotify, a watch per directory, each new directory watched before it is listed; --events chooses) and mirrors each change as it happens: a closed file at once, a file still being written after 50 ms of quiet (at most a second), a rename as a rename, a removal as a removal. A lost event (the kernel queue overflowed, the watch limit) starts a full comparison, logged. If the mirror or the source root goes away (an unmounted disk), foxingd pauses, keeps the changes, and compares in full when it is back; it never mirrors an empty mount point as a deletion.',
      'With --store, it also cuts a snapshot of the source into a chunk store every --snapshot-interval seconds in which something changed, built from the previous one: only the directories the watch named are listed, the others keep their trees. They are ordinary snapshots for fxcp snap list, restore, diff and prune. foxingd daemon runs the sources, mirrors and stores of a TOML configuration file; foxingd check checks one (each problem as FILE:LINE, with the nearest known key for a misspelt one) and foxingd explain prints its keys. foxingd status reads the status socket of the running daemon; Prometheus metrics are served at http://127.0.0.1:9100/metrics; under systemd (Type=notify) it reports READY=1, and SIGHUP reloads a configuration that checks sound. Per-file versions are not in this build yet (docs/daemon.md).',
    ],
    exitStatus: EXIT_STATUS,
    environment: [],
    seeAlso: ['fxcp(1)'],
  };
}
