/**
 * The command line: the only code that reads argv, prints, or exits. Each command lives in
 * its own file under commands/ and is imported only when it runs, so `fxcp snap restore` of
 * one file does not pay for loading the snapshot writer.
 */
import yargs, { type Argv } from 'yargs';
import { UsageError } from '../errors/index.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { Output } from './output.js';

export interface CommandContext {
  out: Output;
  signal: AbortSignal;
}

type Handler = (argv: Record<string, any>, ctx: CommandContext) => Promise<number>;

const lazy = (load: () => Promise<{ run: Handler }>): Handler => async (argv, ctx) => (await load()).run(argv, ctx);

const snapCreate = lazy(() => import('./commands/snap-create.js'));
const snapList = lazy(() => import('./commands/snap-list.js'));
const snapRestore = lazy(() => import('./commands/snap-restore.js'));
const storeStats = lazy(() => import('./commands/store-stats.js'));
const storeRebuild = lazy(() => import('./commands/store-rebuild-index.js'));
const doctor = lazy(() => import('./commands/doctor.js'));

function fxcp(y: Argv, run: (h: Handler) => (a: any) => Promise<void>): Argv {
  return y
    .command('snap', 'snapshots: create, list, restore', (s) => s
      .command('create <source> <store>', 'snapshot SOURCE into STORE (creating the store if missing)', (c) => c
        .positional('source', { type: 'string', describe: 'directory or file to snapshot' })
        .positional('store', { type: 'string', describe: 'store directory' })
        .option('tag', { type: 'string', array: true, default: [], describe: 'tag the snapshot (repeatable)' })
        .option('compress', { type: 'string', default: 'zstd', describe: 'codec for new chunks: zstd[:LEVEL], lz4, gzip[:LEVEL], xz[:LEVEL], none' })
        .option('exclude', { alias: 'e', type: 'string', array: true, default: [], describe: 'exclude paths matching PAT (rsync pattern rules; repeatable)' })
        .option('force-rehash', { type: 'boolean', default: false, describe: 'read every file, even those unchanged since the parent snapshot' })
        .option('progress', { type: 'boolean', default: false, describe: 'show live progress on stderr' }), run(snapCreate))
      .command('list <store>', 'list the snapshots of STORE', (c) => c
        .positional('store', { type: 'string' }), run(snapList))
      .command('restore <store>', 'restore a snapshot (or some of its files) into a directory', (c) => c
        .positional('store', { type: 'string' })
        .option('o', { alias: 'output', type: 'string', demandOption: true, describe: 'target directory' })
        .option('snapshot', { type: 'string', describe: 'snapshot id (or a unique prefix)' })
        .option('latest', { type: 'boolean', describe: 'the newest snapshot (the default)' })
        .option('at', { type: 'string', describe: 'the newest snapshot at or before DATE' })
        .option('file', { type: 'string', array: true, default: [], describe: 'restore only paths matching GLOB (relative to the source; repeatable)' })
        .option('progress', { type: 'boolean', default: false })
        .conflicts('snapshot', ['latest', 'at'])
        .conflicts('latest', 'at'), run(snapRestore))
      .demandCommand(1, 'name a snap command: create, list or restore'))
    .command('store', 'the chunk store: stats, rebuild-index', (s) => s
      .command('stats <store>', 'logical and stored bytes, chunks, dedup ratio', (c) => c.positional('store', { type: 'string' }), run(storeStats))
      .command('rebuild-index <store>', 'rebuild the index from packs and snapshot records', (c) => c.positional('store', { type: 'string' }), run(storeRebuild))
      .demandCommand(1, 'name a store command: stats or rebuild-index'))
    .command('doctor', 'show which native and fallback implementations are in use', (c) => c, run(doctor));
}

function foxingd(y: Argv): Argv {
  return y.epilogue('The replication daemon (foxingd daemon/sync/status) is planned; this build has no daemon commands yet.')
    .demandCommand(1, 'foxingd has no commands in this build yet; use fxcp');
}

export async function main(prog: 'fxcp' | 'foxingd', args: string[]): Promise<void> {
  const json = args.includes('--json');
  const out = new Output(prog, json);
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(EXIT.INTERRUPTED);
    process.stderr.write(`\n${prog}: ${sig}: stopping (again to force)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: CommandContext = { out, signal: ac.signal };
  let code: number = EXIT.OK;
  const run = (h: Handler) => async (argv: any) => { code = await h(argv, ctx); };
  const base = yargs(args)
    .scriptName(prog)
    .option('json', { type: 'boolean', default: false, global: true, describe: 'print one JSON document on stdout (errors as JSON on stderr)' })
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .fail((msg, err) => { throw err ?? new UsageError(msg); });
  try {
    await (prog === 'fxcp' ? fxcp(base, run) : foxingd(base)).parseAsync();
  } catch (err) {
    out.error(err);
    code = exitCodeFor(err);
  }
  process.exitCode = code;
}
