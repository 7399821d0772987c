/** `fxcp completion bash|zsh|fish`: prints the shell's completion script (shell-completion.ts). */
import { completionScript } from '../shell-completion.js';
import { FXCP, type ArgsFor } from '../command-table.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';

export async function run(argv: ArgsFor<'completion'>, { out }: CommandContext): Promise<number> {
  const script = completionScript(FXCP, argv.shell);
  out.result({ shell: argv.shell, script });
  out.line(script.trimEnd());
  return EXIT.OK;
}
