/**
 * `fxcp serve --stdio [STORE]`: the server of `snap push` and `snap pull`, run by sshd (often as
 * the forced command of an authorized_keys line). Its stdout carries the wire protocol and
 * nothing else; errors and warnings go to stderr, which the client shows as `remote: ...`.
 */
import { UsageError } from '../../errors/index.js';
import { withStore } from '../../store/index.js';
import { FrameChannel } from '../../transport/frame-channel.js';
import { serveSession } from '../../transport/serve-session.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../command-context.js';
import type { ArgsFor } from '../command-table.js';
import { fxcpVersion } from '../fxcp-version.js';
import { parseLockWait } from '../lock-wait.js';

export async function run(argv: ArgsFor<'serve'>, { out, signal, run: runOpts }: CommandContext): Promise<number> {
  if (!argv.stdio) throw new UsageError('serve speaks only on stdin and stdout: give --stdio');
  if (process.stdout.isTTY) throw new UsageError('serve --stdio is run by ssh for fxcp snap push/pull, not on a terminal');
  const waitMs = parseLockWait(argv.lockWait);
  const channel = new FrameChannel(process.stdin, process.stdout, 'server', 'client');
  await serveSession(channel, {
    store: argv.store, restrictTo: argv.restrictToPath, appendOnly: argv.appendOnly, version: fxcpVersion(), signal, onWarn: out.warn, directPacks: runOpts.directPacks,
    openStore: (path, create, fn) => withStore(path, {
      create, lock: 'shared', access: create ? 'write' : 'read', command: 'fxcp serve', waitMs, signal, onWarn: out.warn, directPacks: runOpts.directPacks,
    }, fn),
  });
  return EXIT.OK;
}
