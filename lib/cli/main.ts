/**
 * The command line: the only code that reads argv, prints, or exits. The grammar is in
 * command-table.ts; each command lives in its own file under commands/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, usageLine } from './arg-parser.js';
import { FXCP } from './command-table.js';
import { checkPathArguments } from './path-arguments.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { Output } from './output.js';
import { runOptionsFromEnv } from './run-options.js';
import { commandContext } from './command-context.js';
import { writeErr, writeOut } from './std-write.js';
import { endAllWorkers } from '../util/live-workers.js';
import { packageRoot } from '../util/package-paths.js';

export type { CommandContext } from './command-context.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(prog: 'fxcp' | 'foxingd', args: string[]): Promise<void> {
  // The shells' completion callback (the scripts of `fxcp completion`), answered before any
  // parsing; its code and foxingd's table are loaded only here.
  if (args[0] === '--get-yargs-completions') {
    const { completionReply } = await import('./shell-completion.js');
    const program = prog === 'fxcp' ? FXCP : (await import('./foxingd-table.js')).FOXINGD;
    writeOut(completionReply(program, args.slice(1), process.env.ZSH_NAME !== undefined));
    return;
  }
  const json = args.includes('--json');
  const out = new Output(prog, json);
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // The forced exit: at once, but the workers end first, each at a safe point: one torn down
    // inside a native call (an xz step) aborts the whole process (lib/util/live-workers.ts).
    if (++signals > 1) { void endAllWorkers().then(() => process.exit(EXIT.INTERRUPTED)); return; }
    writeErr(`\n${prog}: ${sig}: stopping (again to force)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A command that waits on a promise nothing will settle (a library that drops one) would let
  // the event loop drain and the process end with status 0, as if it had succeeded: never.
  let finished = false;
  process.once('beforeExit', () => {
    if (finished) return;
    writeErr(`${prog}: internal error: the command stopped before it finished (it waited on nothing); nothing it was doing is done\n`);
    process.exitCode = signals > 0 ? EXIT.INTERRUPTED : EXIT.FAILURE;
  });
  // Text goes out through std-write.ts (a reader of stdout that went away stops fxcp quietly
  // there); only a command streaming bytes to stdout (snap export) creates process.stdout, and
  // it reports a broken pipe itself.
  let code: number = EXIT.OK;
  try {
    const { commands } = prog === 'foxingd' ? (await import('./foxingd-table.js')).FOXINGD : FXCP;
    const parsed = parseCommandLine(prog, commands, args);
    if (parsed.kind === 'version') writeOut(`${version()}\n`);
    else if (parsed.kind === 'help') writeOut(parsed.text);
    else {
      const command = parsed.command;
      checkPathArguments(command, parsed.argv, usageLine(prog, command));
      const mod = await command.load();
      code = await mod.run(parsed.argv as never, commandContext([prog, ...command.path].join(' '), parsed.argv, out, ac.signal, runOptionsFromEnv()));
    }
  } catch (err) {
    out.error(err);
    code = exitCodeFor(err);
  }
  finished = true;
  process.exitCode = code;
}
