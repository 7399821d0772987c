/**
 * Node decodes argv as UTF-8 and turns bytes that are not UTF-8 into U+FFFD, so a file name
 * in another encoding (Latin-1 from an old system) arrives as a different name. Opening that
 * other name could read or write another file than the one meant, so a path argument holding
 * U+FFFD that does not exist is refused, naming the problem; one that exists under exactly that
 * name (a file really named with U+FFFD) is used. Limit: such a name cannot be given on the
 * command line at all; the parent directory can, and the tree walk reads names as bytes.
 */
import { lstatSync } from 'node:fs';
import { UsageError } from '../errors/index.js';
import type { CommandSpec } from './command-spec.js';

const REPLACEMENT = '\uFFFD';

export function checkPathArguments(command: CommandSpec, argv: Record<string, unknown>, usage: string): void {
  const values: string[] = [];
  for (const p of command.positionals) if (p.path) values.push(...[argv[p.name]].flat() as string[]);
  for (const [k, o] of Object.entries(command.options)) if (o.path && argv[k] !== undefined) values.push(...[argv[k]].flat() as string[]);
  for (const v of values) {
    if (typeof v !== 'string' || !v.includes(REPLACEMENT)) continue;
    if (lstatSync(v, { throwIfNoEntry: false }) !== undefined) continue;
    throw new UsageError(`${JSON.stringify(v).slice(1, -1)}: the name was not valid UTF-8 (Node replaced its bytes with U+FFFD), so it cannot be used as given; ` +
      'rename it, or name its directory instead', { path: v, usage });
  }
}
