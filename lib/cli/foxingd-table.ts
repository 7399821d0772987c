/**
 * The command table of foxingd, the replication daemon: the same machinery as fxcp's
 * (command-spec.ts) drives its parsing, help, completion and man page, so its commands are rows
 * here and need no parser of their own.
 */
import type { CommandContext } from './command-context.js';
import { type ArgsOf, type CommandSpec, GLOBAL_OPTIONS } from './command-spec.js';
import type { CommandEntry, Program } from './command-table.js';

const VERSIONED_FILE = { name: 'file', describe: 'a file on a mirror with enable_versioning (it may have been deleted since)', path: true } as const;
const VERSION_ID = { name: 'version', describe: 'the version\'s id (or a unique prefix), as versions list shows it' } as const;

export const FOXINGD_SPECS = {
  'sync': {
    path: ['sync'], describe: 'make DEST a mirror of SRC (a full comparison, --delete, signatures); with --watch, then keep it one live',
    positionals: [
      { name: 'src', describe: 'the directory to mirror', path: true },
      { name: 'dest', describe: 'the mirror (made when missing); must not lie inside SRC, nor SRC inside it', path: true },
    ],
    options: {
      archive: { type: 'boolean', short: 'a', describe: 'keep everything (as fxcp -a); the only mode, accepted for the habit' },
      watch: { type: 'boolean', short: 'w', describe: 'after the first comparison, watch SRC (inotify) and mirror every change as it happens, until SIGINT or SIGTERM' },
      verbose: { type: 'boolean', short: 'v', describe: 'log each operation (sync, move, rescan) with what it wrote' },
      concurrency: { type: 'string', value: 'N', describe: 'operations on different paths at once (default 4)' },
      events: { type: 'string', default: 'auto', value: 'HOW', choices: ['auto', 'fanotify', 'inotify'], describe: 'how SRC is watched: fanotify (one filesystem mark; root only), inotify (a watch per directory), auto (fanotify where it can be had)' },
      store: { type: 'string', value: 'STORE', path: true, describe: 'with --watch: also keep snapshots of SRC in the chunk store STORE (a directory or s3://BUCKET/PREFIX; made when missing), one per interval in which something changed, each costing only the directories that changed (fxcp snap list|restore|prune STORE)' },
      'snapshot-interval': { type: 'string', value: 'SECONDS', describe: 'with --store: seconds between snapshots (default 60)' },
      exclude: { type: 'string', short: 'e', multiple: true, value: 'PAT', describe: 'leave out paths matching PAT (rsync rules, anchored at SRC): neither mirrored nor deleted at DEST, nor snapshotted' },
      'queue-max': { type: 'string', value: 'N', describe: 'with --watch: operations queued at most; past it they give way to one full comparison (default 100000)' },
    },
    examples: [
      'foxingd sync -a /data /mirror            # once: like fxcp -a --delete --generate-sigs /data/ /mirror',
      'foxingd sync -a --watch /data /mirror    # then live, until stopped',
      'foxingd sync -a --watch --store /backup/store --snapshot-interval 300 /data /mirror   # and a snapshot every 5 minutes of change',
    ],
  },
  'daemon': {
    path: ['daemon'], describe: 'run what a configuration file asks: each source watched, its mirrors kept live, its snapshots cut; metrics and a status socket; SIGHUP reloads; until SIGINT or SIGTERM',
    positionals: [],
    options: {
      config: { type: 'string', required: true, value: 'FILE', path: true, describe: 'the configuration (TOML; foxingd explain shows its keys, foxingd check checks it)' },
      verbose: { type: 'boolean', short: 'v', describe: 'log each operation' },
      tui: { type: 'boolean', describe: 'draw a live view on the terminal instead of the log: each mirror\'s state, queue, lag and totals, and the newest log lines' },
    },
    examples: ['foxingd daemon --config /etc/foxingd.toml', 'foxingd daemon --config ./foxingd.toml --tui -v', 'foxingd check --config /etc/foxingd.toml && systemctl restart foxingd'],
  },
  'check': {
    path: ['check'], describe: 'check a configuration file: syntax, unknown keys (with the nearest known one), values, paths; exit 0 when it is sound, 2 with each problem on a line FILE:LINE: PROBLEM otherwise',
    positionals: [],
    options: {
      config: { type: 'string', required: true, value: 'FILE', path: true, describe: 'the configuration to check' },
    },
    examples: ['foxingd check --config /etc/foxingd.toml'],
  },
  'status': {
    path: ['status'], describe: 'what the running daemon says of each mirror and store: queue, lag, operations, snapshots (from its status socket)',
    positionals: [],
    options: {
      socket: { type: 'string', value: 'PATH', path: true, describe: 'the daemon\'s status_socket (default: /run/foxingd.sock as root, else $XDG_RUNTIME_DIR/foxingd.sock)' },
    },
    examples: ['foxingd status', 'foxingd status --json | jq .mirrors'],
  },
  'metrics': {
    path: ['metrics'], describe: 'print the running daemon\'s metrics in Prometheus\' text format (from its status socket, so also where no metrics address is served)',
    positionals: [],
    options: {
      socket: { type: 'string', value: 'PATH', path: true, describe: 'the daemon\'s status_socket (default: /run/foxingd.sock as root, else $XDG_RUNTIME_DIR/foxingd.sock)' },
    },
    examples: ['foxingd metrics', 'foxingd metrics | grep foxingd_replication_lag'],
  },
  'versions list': {
    path: ['versions', 'list'], describe: 'list the versions a versioned mirror (enable_versioning) keeps of FILE, oldest first',
    positionals: [VERSIONED_FILE], options: {},
    examples: ['foxingd versions list /mirror/data/db.sqlite'],
  },
  'versions copy': {
    path: ['versions', 'copy'], describe: 'write version VERSION of FILE to OUT, a new file (an existing OUT is refused)',
    positionals: [VERSIONED_FILE, VERSION_ID, { name: 'out', describe: 'where the version is written (must not exist)', path: true }],
    options: {},
    examples: ['foxingd versions copy /mirror/data/db.sqlite 3f2a9c /tmp/db.sqlite', 'foxingd versions copy /mirror/data/report.odt 3f2a9c /data/report.odt.old   # back to the source, beside the file'],
  },
  'versions revert': {
    path: ['versions', 'revert'], describe: 'put version VERSION of FILE back in place on the mirror, atomically (the mirror follows its source again at the source file\'s next change)',
    positionals: [VERSIONED_FILE, VERSION_ID], options: {},
    examples: ['foxingd versions revert /mirror/data/db.sqlite 3f2a9c'],
  },
  'versions cleanup': {
    path: ['versions', 'cleanup'], describe: 'apply the versions policy to FILE now (the daemon\'s max_versions and max_versions_size_mb, or the options), then free what it dropped',
    positionals: [VERSIONED_FILE],
    options: {
      'dry-run': { type: 'boolean', short: 'n', describe: 'print what would be dropped; change nothing' },
      'max-versions': { type: 'string', value: 'N', describe: 'versions to keep (default: what the daemon runs the mirror with)' },
      'max-size-mb': { type: 'string', value: 'MB', describe: 'MB of versions to keep (default: what the daemon runs the mirror with)' },
      'include-forced': { type: 'boolean', describe: 'count forced (tagged) versions like the others, so they can be dropped too' },
    },
    examples: ['foxingd versions cleanup /mirror/data/db.sqlite --dry-run', 'foxingd versions cleanup /mirror/data/big.log --max-versions 2'],
  },
  'versions force': {
    path: ['versions', 'force'], describe: 'record FILE as it is now as a version tagged TAG, kept outside the policy\'s limits until forgotten by hand',
    positionals: [VERSIONED_FILE],
    options: {
      tag: { type: 'string', required: true, value: 'TAG', describe: 'the tag the version carries' },
    },
    examples: ['foxingd versions force /mirror/data/db.sqlite --tag pre-migration'],
  },
  'explain': {
    path: ['explain'], describe: 'print a cheat sheet of the configuration file: every key, what it takes, its default',
    positionals: [], options: {},
    examples: ['foxingd explain > /etc/foxingd.toml.example'],
  },
} as const satisfies Record<string, CommandSpec>;

export type FoxingdCommand = keyof typeof FOXINGD_SPECS;
export type FoxingdArgs<N extends FoxingdCommand> = ArgsOf<(typeof FOXINGD_SPECS)[N]>;

function command<N extends FoxingdCommand>(name: N, load: () => Promise<{ run: (argv: FoxingdArgs<N>, ctx: CommandContext) => Promise<number> }>): CommandEntry {
  return { ...FOXINGD_SPECS[name], load };
}

export const FOXINGD_COMMANDS: CommandEntry[] = [
  command('sync', () => import('./commands/foxingd-sync.js')),
  command('daemon', () => import('./commands/foxingd-daemon.js')),
  command('check', () => import('./commands/foxingd-check.js')),
  command('status', () => import('./commands/foxingd-status.js')),
  command('metrics', () => import('./commands/foxingd-metrics.js')),
  command('versions list', () => import('./commands/foxingd-versions-list.js')),
  command('versions copy', () => import('./commands/foxingd-versions-copy.js')),
  command('versions revert', () => import('./commands/foxingd-versions-revert.js')),
  command('versions cleanup', () => import('./commands/foxingd-versions-cleanup.js')),
  command('versions force', () => import('./commands/foxingd-versions-force.js')),
  command('explain', () => import('./commands/foxingd-explain.js')),
];

export const FOXINGD: Program = {
  name: 'foxingd', section: 8, summary: 'the replication daemon of Foxing for Node',
  commands: FOXINGD_COMMANDS, globalOptions: GLOBAL_OPTIONS,
};
