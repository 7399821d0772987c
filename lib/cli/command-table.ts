/**
 * Every command of fxcp: its grammar (for the parser, help, completion and man pages) and the
 * module that runs it. Command modules are imported only when they run, so `fxcp snap restore`
 * of one file does not pay for loading the snapshot writer.
 *
 * Each spec is written `as const`, so its handler's arguments are typed from it (ArgsFor).
 * Commands that take a lock on the store take --lock-wait; `snap list` and `store stats` read
 * without one (lib/store/open-store.ts), so they have nothing to wait for.
 */
import type { ArgsOf, CommandSpec, ProgramSpec } from './command-spec.js';
import { GLOBAL_OPTIONS } from './command-spec.js';
import { LOCK_WAIT_OPTION } from './lock-wait.js';
import type { CommandContext } from './command-context.js';

const STORE = { name: 'store', describe: 'store directory, s3://BUCKET/PREFIX, or ssh://[USER@]HOST[:PORT]/PATH', path: true } as const;
/** Every command with a STORE argument takes it (added by `command` below). */
const S3_ENDPOINT_OPTION = { type: 'string', value: 'URL', describe: 'the S3 endpoint of an s3:// store (overrides AWS_ENDPOINT_URL and the profile\'s endpoint_url)' } as const;
const CODECS = ['zstd', 'lz4', 'gzip', 'xz', 'none'] as const;


const SSH_OPTIONS = {
  identity: { type: 'string', short: 'i', multiple: true, value: 'FILE', path: true, describe: 'private key to log in with (tried before the agent, SSH_AUTH_SOCK, and ~/.ssh/id_*); a key with a passphrase goes through the agent' },
  'known-hosts': { type: 'string', value: 'FILE', path: true, describe: 'check the host key against FILE instead of ~/.ssh/known_hosts' },
  'accept-new-host-key': { type: 'boolean', describe: 'trust a host seen for the first time and record its key (a changed key is refused all the same)' },
  'ssh-command': { type: 'string', value: 'CMD', describe: "use the system's ssh: CMD (e.g. 'ssh -J jump') is run with the port, user@host and the remote command appended" },
  'remote-fxcp': { type: 'string', default: 'fxcp', value: 'PATH', describe: 'the fxcp to run on the server (a forced command in authorized_keys overrides it)' },
  progress: { type: 'boolean', describe: 'show live progress on stderr' },
  'lock-wait': LOCK_WAIT_OPTION,
} as const;
const REMOTE = { name: 'remote', describe: 'ssh://[user@]host[:port]/path of the store on the server (/~/path: below its home)' } as const;

const SPECS = {
  'copy': {
    path: [], describe: 'copy SRC... to DEST like cp -a and rsync -a: only what differs is written, each file into a temporary renamed into place',
    positionals: [
      { name: 'src', describe: "file or directory to copy; with a trailing '/' a directory's contents, without it the directory itself", variadic: true, path: true },
      { name: 'dest', describe: 'where the copies go (made when missing); a single file may be copied to a new name', path: true },
    ],
    options: {
      archive: { type: 'boolean', short: 'a', describe: 'keep everything cp -a keeps: directories, symlinks as symlinks, hard links (-H is implied, unlike rsync), mode, times to the ns, xattrs and ACLs, fifos and sockets; owner, group and devices as root' },
      recursive: { type: 'boolean', short: 'r', describe: 'copy directories too, with data only (no attributes, links or special files)' },
      'hard-links': { type: 'boolean', short: 'H', describe: 'keep hard links within the copy (implied by -a)' },
      checksum: { type: 'boolean', short: 'c', describe: 'compare files by BLAKE3 of their contents, not by size and modification time' },
      inplace: { type: 'boolean', describe: 'write changed files in place instead of into a temporary renamed over them (a reader may see a half-written file)' },
      delete: { type: 'boolean', describe: 'delete destination entries the source does not have, in the directories copied (never after a source read error)' },
      'delete-excluded': { type: 'boolean', describe: 'also delete excluded entries at the destination (implies --delete, as in rsync)' },
      delta: { type: 'string', default: 'auto', value: 'WHEN', choices: ['auto', 'always', 'never'], describe: 'rebuild a changed file of 1 MiB or more from the unchanged chunks of the old one: auto (when it has a valid signature, see --generate-sigs), always (chunking the old file first when it has none), never' },
      cleanup: { type: 'string', value: 'DEST', path: true, describe: 'copy nothing: remove the temporaries a killed copy left anywhere below DEST (of processes that are gone), and print each one removed' },
      size: { type: 'string', value: 'BYTES', describe: "with SRC '-' (standard input): preallocate BYTES for the file (fallocate), so a stream that cannot fit fails at once" },
      decompress: { type: 'boolean', describe: "with SRC '-': decode zstd, gzip, xz or lz4 input (told by its magic) before writing it" },
      'checkpoint-interval': { type: 'string', value: 'SECONDS', describe: "with SRC '-': every SECONDS, a point-in-time copy of what has arrived (DEST.ckpt-TIME; a reflink where the file system allows)" },
      'checkpoint-keep': { type: 'string', value: 'N', describe: 'with --checkpoint-interval: keep the newest N checkpoints (default 3)' },
      throttle: { type: 'string', value: 'PCT', describe: 'yield to other work: slow down while the I/O or memory pressure (PSI, some avg10) is over PCT percent, never below a tenth of full speed' },
      verify: { type: 'boolean', describe: 're-read every file written and compare its BLAKE3 with the source\'s; a mismatch is named and the run is partial (exit 1)' },
      compare: { type: 'boolean', describe: 'write nothing: compare the trees SRC and DEST by Merkle hashes of names and contents (each side\'s valid signatures spare reading its files); exit 0 when the same, 1 when they differ' },
      snapshot: { type: 'boolean', describe: 'keep a history of DEST in DEST/.foxing/store: what the copy overwrites or deletes is recorded first, then DEST as it now stands (fxcp snap list|restore|prune DEST)' },
      'generate-sigs': { type: 'boolean', describe: 'record a signature of each destination file (identity, times, BLAKE3, chunk list) in DEST/.foxing/, which later copies compare with' },
      'max-delete': { type: 'string', value: 'N', describe: 'delete at most N entries (the run is then partial)' },
      'dry-run': { type: 'boolean', short: 'n', describe: 'decide everything, change nothing (show what with -i, -v or --json)' },
      'itemize-changes': { type: 'boolean', short: 'i', describe: "print each change as rsync's YXcstpoguax string and the path" },
      verbose: { type: 'boolean', short: 'v', describe: 'print the path of each entry written, made or deleted' },
      stats: { type: 'boolean', describe: 'print totals at the end: entries, bytes written, how, time' },
      progress: { type: 'boolean', describe: 'show live progress on stderr (a bar with a total on a terminal, JSON lines under --json)' },
      exclude: { type: 'string', short: 'e', multiple: true, value: 'PAT', describe: 'exclude paths matching PAT (rsync rules)' },
      include: { type: 'string', multiple: true, value: 'PAT', describe: 'include paths matching PAT (first matching rule wins)' },
      'exclude-from': { type: 'string', multiple: true, value: 'FILE', path: true, describe: 'read exclude patterns from FILE' },
      'include-from': { type: 'string', multiple: true, value: 'FILE', path: true, describe: 'read include patterns from FILE' },
      filter: { type: 'string', short: 'f', multiple: true, value: 'RULE', describe: "add a filter RULE: '- PAT', '+ PAT', 'P PAT', 'merge FILE', 'dir-merge .rsync-filter', ..." },
      'rsync-filter': { type: 'boolean', short: 'F', multiple: true, describe: "-F: --filter=': /.rsync-filter'; twice (-FF) also leaves out the .rsync-filter files" },
    },
    sequence: { name: 'filter-args', options: ['exclude', 'include', 'exclude-from', 'include-from', 'filter', 'rsync-filter'] },
    standalone: ['cleanup'],
    examples: [
      'fxcp -a /data /backup            # makes /backup/data',
      'fxcp -a /data/ /backup/data      # the contents of /data into /backup/data',
      "fxcp -a --delete --exclude '*.tmp' /home/ /mnt/home/",
      'fxcp -ain --delete /src/ /dst/   # what would change, rsync -i style, changing nothing',
      'fxcp -a -- snap /backup          # a directory named like a command: ./snap or --',
    ],
    details: "A first word that names a command (snap, store, doctor, completion) is that command: to copy a directory of that name, write ./snap, or put -- before the paths. Exit status: 0 when everything was copied; 1 when some entries failed or vanished (each is named on stderr), or --max-delete stopped deletion; 2 when nothing useful was done (bad usage, a missing source, an unusable destination).",
  },
  'snap create': {
    path: ['snap', 'create'], describe: 'snapshot SOURCE into STORE (creating the store if missing)',
    positionals: [{ name: 'source', describe: 'directory or file to snapshot', path: true }, STORE],
    options: {
      tag: { type: 'string', multiple: true, value: 'TAG', describe: 'tag the snapshot' },
      compress: { type: 'string', default: 'zstd', value: 'CODEC', completions: CODECS, describe: 'codec for new chunks: zstd[:auto|LEVEL] (auto: level 3 where it pays, else 1), lz4, gzip[:LEVEL], xz[:LEVEL], none' },
      exclude: { type: 'string', short: 'e', multiple: true, value: 'PAT', describe: 'leave out paths matching PAT (rsync pattern rules)' },
      'force-rehash': { type: 'boolean', describe: 'read every file, even those unchanged since the parent snapshot' },
      progress: { type: 'boolean', describe: 'show live progress on stderr' },
      'lock-wait': LOCK_WAIT_OPTION,
    },
    examples: ['fxcp snap create /data /backup/store --tag nightly --exclude "*.tmp"'],
  },
  'snap list': {
    path: ['snap', 'list'], describe: 'list the snapshots of STORE, oldest first',
    positionals: [STORE], options: {},
  },
  'snap restore': {
    path: ['snap', 'restore'], describe: 'restore a snapshot, or the files GLOB selects, from a store or an archive into DIR',
    positionals: [{ name: 'store', describe: "store directory, or an FXAR archive file (fxcp's, or Foxing's own)", path: true }],
    options: {
      'lock-wait': LOCK_WAIT_OPTION,
      output: { type: 'string', short: 'o', required: true, value: 'DIR', path: true, describe: 'target directory' },
      snapshot: { type: 'string', value: 'ID', describe: 'snapshot id (or a unique prefix)' },
      latest: { type: 'boolean', describe: 'the newest snapshot (the default)' },
      at: { type: 'string', value: 'DATE', describe: 'the newest snapshot at or before DATE (ISO 8601)' },
      file: { type: 'string', multiple: true, value: 'GLOB', describe: 'restore only paths matching GLOB, relative to the source' },
      progress: { type: 'boolean', describe: 'show live progress on stderr' },
    },
    conflicts: [['snapshot', 'latest'], ['snapshot', 'at'], ['latest', 'at']],
    examples: ["fxcp snap restore /backup/store -o /tmp/r --latest --file 'data/*.db'", "fxcp snap restore backup.fxar -o /tmp/r --file 'data/*.db'"],
  },
  'snap export': {
    path: ['snap', 'export'], describe: 'write snapshots of STORE as one FXAR v2 archive, or one as a tar (to a file or stdout)',
    positionals: [STORE],
    options: {
      'lock-wait': LOCK_WAIT_OPTION,
      output: { type: 'string', short: 'o', value: 'FILE', path: true, describe: 'archive file (default: stdout, which must not be a terminal)' },
      snapshot: { type: 'string', multiple: true, value: 'ID', describe: 'export this snapshot (id or unique prefix)' },
      latest: { type: 'boolean', describe: 'export only the newest snapshot' },
      all: { type: 'boolean', describe: 'export every snapshot (the default)' },
      compress: { type: 'string', value: 'CODEC', completions: CODECS, describe: 'recompress chunks: zstd[:LEVEL], lz4, gzip[:LEVEL], xz[:LEVEL], none (default: as stored)' },
      format: { type: 'string', value: 'FORMAT', choices: ['fxar', 'tar'], describe: 'fxar (default) or tar (one snapshot; also chosen by -o NAME.tar, .tar.zst, .tgz, .tar.xz, .tar.lz4)' },
      progress: { type: 'boolean', describe: 'show live progress on stderr' },
    },
    conflicts: [['snapshot', 'latest'], ['snapshot', 'all'], ['latest', 'all']],
    examples: ['fxcp snap export /backup/store -o backup.fxar', 'fxcp snap export /backup/store | ssh host fxcp snap import - /restore/store', 'fxcp snap export /backup/store --latest -o data.tar.zst'],
  },
  'snap import': {
    path: ['snap', 'import'], describe: 'add the snapshots of an FXAR archive, or a tar as a new snapshot (a file, or - for stdin) to STORE, creating it',
    positionals: [{ name: 'archive', describe: "FXAR v2 (fxcp's, or Foxing's own), or tar (plain, zstd, gzip, xz, lz4) file, or '-' for stdin", path: true }, STORE],
    options: {
      'lock-wait': LOCK_WAIT_OPTION,
      tag: { type: 'string', multiple: true, value: 'TAG', describe: 'tag the snapshot a tar becomes' },
      progress: { type: 'boolean', describe: 'show live progress on stderr' },
    },
    examples: ['fxcp snap import backup.fxar /restore/store', 'ssh host fxcp snap export /backup/store | fxcp snap import - /restore/store'],
  },
  'snap push': {
    path: ['snap', 'push'], describe: 'send snapshots of STORE to a store over SSH: only the chunks it lacks cross the wire',
    positionals: [STORE, REMOTE],
    options: {
      snapshot: { type: 'string', multiple: true, value: 'ID', describe: 'push this snapshot (id or unique prefix)' },
      latest: { type: 'boolean', describe: 'push only the newest snapshot' },
      all: { type: 'boolean', describe: 'push every snapshot (the default)' },
      ...SSH_OPTIONS,
    },
    conflicts: [['snapshot', 'latest'], ['snapshot', 'all'], ['latest', 'all']],
    examples: ['fxcp snap push /backup/store ssh://backup@vault/srv/stores/laptop --latest', "fxcp snap push /backup/store ssh://vault/~/store --ssh-command 'ssh -J bastion'"],
    details: 'The server runs fxcp serve --stdio (see that command, and docs/ssh.md for an authorized_keys line that restricts a key to appending to one directory). A snapshot is listed on the server only once every chunk and tree it needs is durable there: an interrupted push lists nothing, and running it again sends only what is still missing.',
  },
  'snap pull': {
    path: ['snap', 'pull'], describe: 'fetch snapshots of a store over SSH into STORE (creating it): only the chunks STORE lacks cross the wire',
    positionals: [REMOTE, STORE],
    options: {
      snapshot: { type: 'string', multiple: true, value: 'ID', describe: 'pull this snapshot (id or unique prefix)' },
      latest: { type: 'boolean', describe: 'pull only the newest snapshot' },
      all: { type: 'boolean', describe: 'pull every snapshot (the default)' },
      ...SSH_OPTIONS,
    },
    conflicts: [['snapshot', 'latest'], ['snapshot', 'all'], ['latest', 'all']],
    examples: ['fxcp snap pull ssh://backup@vault/srv/stores/laptop /restore/store --latest'],
  },
  'serve': {
    path: ['serve'], describe: 'serve a store to fxcp snap push/pull over stdin and stdout (the remote end of SSH)',
    positionals: [{ name: 'store', describe: 'serve only this store (the client must name it); without it, the store the client names', path: true, optional: true }],
    options: {
      stdio: { type: 'boolean', required: true, describe: 'speak the wire protocol on stdin and stdout (the only mode)' },
      'append-only': { type: 'boolean', describe: 'let clients add snapshots, never delete or rewrite any (prune on the server)' },
      'restrict-to-path': { type: 'string', value: 'DIR', path: true, describe: 'open only stores at or below DIR (symbolic links resolved)' },
      'lock-wait': LOCK_WAIT_OPTION,
    },
    examples: ['command="fxcp serve --stdio --append-only --restrict-to-path /srv/stores/laptop",restrict ssh-ed25519 AAAA... laptop   # in ~/.ssh/authorized_keys'],
    details: 'Started by sshd for fxcp snap push and snap pull (formats/wire.md). It prints nothing on stdout but the protocol; errors go to stderr, which the client shows prefixed with remote:. With --append-only a client can add chunks and snapshots but a request to forget one is refused (APPEND_ONLY), so a stolen client key cannot destroy backups.',
  },
  'snap inspect': {
    path: ['snap', 'inspect'], describe: "an archive's snapshots, sizes, dedup ratio and codecs; its files; a full verification",
    positionals: [{ name: 'archive', describe: "archive file (fxcp's FXAR v2, or Foxing's own)", path: true }],
    options: {
      list: { type: 'boolean', describe: 'list every file of every snapshot' },
      verify: { type: 'boolean', describe: 'read and verify every chunk, the index and the trees; name damaged chunks and affected files' },
    },
    examples: ['fxcp snap inspect backup.fxar --verify'],
  },
  'store stats': {
    path: ['store', 'stats'], describe: 'logical, unique and stored bytes, chunks, dedup ratio',
    positionals: [STORE], options: {},
  },
  'store init': {
    path: ['store', 'init'], describe: 'create an empty store (a directory, s3://BUCKET/PREFIX or ssh://HOST/PATH)',
    positionals: [STORE],
    options: { 'create-bucket': { type: 'boolean', describe: 'with s3://: create the bucket when it does not exist' } },
    examples: ['fxcp store init /backup/store', 'fxcp store init s3://backups/host1 --create-bucket --s3-endpoint http://ceph:7480'],
  },
  'store rebuild-index': {
    path: ['store', 'rebuild-index'], describe: 'rebuild the index (a cache) from packs and snapshot records',
    positionals: [STORE], options: { 'lock-wait': LOCK_WAIT_OPTION },
  },
  'snap prune': {
    path: ['snap', 'prune'], describe: 'remove the snapshots a retention policy does not keep, then free their space (gc)',
    positionals: [STORE],
    options: {
      'keep-last': { type: 'string', value: 'N', describe: 'keep the N newest snapshots (-1 or unlimited: all)' },
      'keep-hourly': { type: 'string', value: 'N', describe: 'keep the newest snapshot of each of the last N hours that have one' },
      'keep-daily': { type: 'string', value: 'N', describe: '... of the last N days' },
      'keep-weekly': { type: 'string', value: 'N', describe: '... of the last N ISO weeks' },
      'keep-monthly': { type: 'string', value: 'N', describe: '... of the last N months' },
      'keep-yearly': { type: 'string', value: 'N', describe: '... of the last N years' },
      'keep-tag': { type: 'string', multiple: true, value: 'TAG', describe: 'keep every snapshot tagged TAG' },
      'older-than': { type: 'string', value: 'AGE', describe: 'remove only snapshots older than AGE (e.g. 30d, 12h, 2w, 6m, 1y); newer ones are kept' },
      tag: { type: 'string', multiple: true, value: 'TAG', describe: 'consider only snapshots tagged TAG (others are left alone)' },
      'group-by': { type: 'string', default: 'host-source', value: 'KEY', choices: ['host-source', 'host', 'source', 'none'], describe: 'apply the policy per host-source, host, source, or none' },
      timezone: { type: 'string', value: 'ZONE', describe: 'time zone of the calendar rules (default: the local zone)' },
      'repack-threshold': { type: 'string', default: '25%', value: 'PCT', describe: 'repack packs with at least PCT garbage' },
      'dry-run': { type: 'boolean', short: 'n', describe: 'print what would be removed and freed; change nothing' },
      progress: { type: 'boolean', describe: 'show live progress on stderr' },
      'lock-wait': LOCK_WAIT_OPTION,
    },
    examples: ['fxcp snap prune --older-than 30d --keep-last 10 /backup', 'fxcp snap prune /backup --keep-daily 7 --keep-weekly 5 --keep-monthly 12 -n'],
  },
  'store gc': {
    path: ['store', 'gc'], describe: 'delete chunks no snapshot references; repack packs that are mostly garbage',
    positionals: [STORE],
    options: {
      'repack-threshold': { type: 'string', default: '25%', value: 'PCT', describe: 'repack packs with at least PCT garbage' },
      'dry-run': { type: 'boolean', short: 'n', describe: 'print what would be freed; change nothing' },
      'forget-quarantined': { type: 'boolean', describe: 'delete the snapshot records repair quarantined (gc deletes nothing while they are there), then free what only they named' },
      progress: { type: 'boolean', describe: 'show live progress on stderr' },
      'lock-wait': LOCK_WAIT_OPTION,
    },
  },
  'store check': {
    path: ['store', 'check'], describe: 'check packs, index and snapshots (exit 1 when problems are found)',
    positionals: [STORE],
    options: {
      'read-data': { type: 'boolean', describe: 're-read and re-hash every chunk' },
      'read-data-subset': { type: 'string', value: 'SUBSET', describe: 're-read a deterministic subset of packs: PCT% or n/m' },
      progress: { type: 'boolean', describe: 'show live progress on stderr' },
      'lock-wait': LOCK_WAIT_OPTION,
    },
    conflicts: [['read-data', 'read-data-subset']],
    examples: ['fxcp store check /backup --read-data-subset 1/7'],
  },
  'store repair': {
    path: ['store', 'repair'], describe: 'rebuild the index, salvage intact chunks of damaged packs, quarantine the rest',
    positionals: [STORE],
    options: { 'lock-wait': LOCK_WAIT_OPTION },
  },
  'store upgrade': {
    path: ['store', 'upgrade'], describe: "raise STORE's format version to this fxcp's, so new snapshots may use what it adds (version 2: bundles of small chunks)",
    positionals: [STORE],
    options: {
      'dry-run': { type: 'boolean', short: 'n', describe: 'say what would change; change nothing' },
      'lock-wait': LOCK_WAIT_OPTION,
    },
    examples: ['fxcp store upgrade /backup/store -n', 'fxcp store upgrade s3://backups/host1'],
    details: 'Only the config changes: what is stored stays as it is, and chunks already stored one by one are not bundled again. An fxcp that predates the new version refuses the store afterwards (NEWER_VERSION, exit 2): upgrade fxcp on every host that uses the store first. Exit status: 0 when the store is at this version (upgraded now, or already); 2 when it cannot be upgraded.',
  },
  'doctor': {
    path: ['doctor'], describe: 'show which native parts and fallbacks are in use',
    positionals: [], options: {},
  },
  'snap stats': {
    path: ['snap', 'stats'], describe: 'per snapshot and in total: referenced, unique (freed if deleted) and stored bytes',
    positionals: [STORE], options: { 'lock-wait': LOCK_WAIT_OPTION },
  },
  'snap diff': {
    path: ['snap', 'diff'], describe: 'files added, removed and modified from snapshot A to B (trees only, no file data read)',
    positionals: [STORE, { name: 'a', describe: "older snapshot: id, unique id prefix, or 'latest'" }, { name: 'b', describe: "newer snapshot: id, unique id prefix, or 'latest'" }],
    options: { 'lock-wait': LOCK_WAIT_OPTION },
    examples: ['fxcp snap diff /backup/store 3f2a9c latest', 'fxcp snap diff /backup/store 3f2a9c 8d01e7 --json   # JSON Lines: a line per change, then a summary'],
  },
  'completion': {
    path: ['completion'], describe: 'print a completion script for bash, zsh or fish',
    positionals: [{ name: 'shell', describe: 'bash, zsh or fish', choices: ['bash', 'zsh', 'fish'] }], options: {},
    examples: ['source <(fxcp completion bash)   # in ~/.bashrc', 'fxcp completion fish > ~/.config/fish/completions/fxcp.fish'],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof SPECS;
/** The arguments the handler of command N receives. */
export type ArgsFor<N extends CommandName> = ArgsOf<(typeof SPECS)[N]>;

export interface CommandEntry extends CommandSpec {
  load: () => Promise<{ run: (argv: never, ctx: CommandContext) => Promise<number> }>;
}

/** Pairs a spec with its module; the module's run must take exactly that spec's arguments. */
function command<N extends CommandName>(name: N, load: () => Promise<{ run: (argv: ArgsFor<N>, ctx: CommandContext) => Promise<number> }>): CommandEntry {
  const spec: CommandSpec = SPECS[name];
  // `serve` opens the store a client names over the wire, on its own side: a local directory.
  const takesStore = name !== 'serve' && spec.positionals.some((p) => p.name === 'store');
  return { ...spec, ...(takesStore ? { options: { ...spec.options, 's3-endpoint': S3_ENDPOINT_OPTION } } : {}), load };
}

export const FXCP_COMMANDS: CommandEntry[] = [
  command('copy', () => import('./commands/copy.js')),
  command('snap create', () => import('./commands/snap-create.js')),
  command('snap list', () => import('./commands/snap-list.js')),
  command('snap restore', () => import('./commands/snap-restore.js')),
  command('snap export', () => import('./commands/snap-export.js')),
  command('snap import', () => import('./commands/snap-import.js')),
  command('snap push', () => import('./commands/snap-push.js')),
  command('snap pull', () => import('./commands/snap-pull.js')),
  command('serve', () => import('./commands/serve.js')),
  command('snap inspect', () => import('./commands/snap-inspect.js')),
  command('store stats', () => import('./commands/store-stats.js')),
  command('store init', () => import('./commands/store-init.js')),
  command('store rebuild-index', () => import('./commands/store-rebuild-index.js')),
  command('snap prune', () => import('./commands/snap-prune.js')),
  command('store gc', () => import('./commands/store-gc.js')),
  command('store check', () => import('./commands/store-check.js')),
  command('store repair', () => import('./commands/store-repair.js')),
  command('store upgrade', () => import('./commands/store-upgrade.js')),
  command('doctor', () => import('./commands/doctor.js')),
  command('snap stats', () => import('./commands/snap-stats.js')),
  command('snap diff', () => import('./commands/snap-diff.js')),
  command('completion', () => import('./commands/completion.js')),
];

/** A program with the modules of its commands. */
export interface Program extends ProgramSpec {
  commands: readonly CommandEntry[];
}

export const FXCP: Program = {
  name: 'fxcp', section: 1, summary: 'copy, snapshot, archive and restore file trees, through a deduplicating chunk store',
  commands: FXCP_COMMANDS, globalOptions: GLOBAL_OPTIONS,
};
