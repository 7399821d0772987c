/**
 * The list of commands in README.md, from the command table: a Markdown table of each command's
 * usage and description between two marker comments. bin/build.js rewrites the block;
 * test/cli/command-docs.test.ts fails when the committed README differs. Pure.
 */
import { type CommandSpec, positionalUsage, type ProgramSpec } from './command-spec.js';

export const LIST_BEGIN = '<!-- commands: generated from lib/cli/command-table.ts by bin/build.js; edit the table, not this list -->';
export const LIST_END = '<!-- end of commands -->';

/** The commands grouped by their first word (all of `snap`, then all of `store`, ...), else in table order. */
export function commandsInOrder(program: ProgramSpec): CommandSpec[] {
  const firstSeen = (c: CommandSpec) => program.commands.findIndex((d) => d.path[0] === c.path[0]);
  return program.commands.map((c, i) => ({ c, i })).sort((x, y) => firstSeen(x.c) - firstSeen(y.c) || x.i - y.i).map(({ c }) => c);
}

/** The block, markers included. */
export function commandList(program: ProgramSpec): string {
  const rows = commandsInOrder(program).map((c) => {
    const usage = [program.name, ...c.path, ...c.positionals.map(positionalUsage)].join(' ');
    return `| \`${usage}\` | ${c.describe.replace(/\|/g, '\\|')} |`;
  });
  return [LIST_BEGIN, '| command | what it does |', '|---|---|', ...rows, LIST_END].join('\n');
}

/** `text` (a README) with its block replaced by `block`; unchanged when it has no markers. */
export function withCommandList(text: string, block: string): string {
  const begin = text.indexOf(LIST_BEGIN);
  const end = text.indexOf(LIST_END, begin);
  if (begin < 0 || end < 0) return text;
  return text.slice(0, begin) + block + text.slice(end + LIST_END.length);
}
