/**
 * The command-line grammar: a table of commands (a path such as `snap create`, positionals,
 * options) parsed with Node's built-in util.parseArgs, plus generated help. Pure: argv in,
 * a parsed command or a UsageError out.
 *
 * Why not yargs: importing it costs most of the start-up budget for restoring one file
 * (docs/BENCHMARKS.md); util.parseArgs is built in and costs nothing to load.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors/index.js';

import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-spec.js';
export type { CommandSpec, OptionSpec };

export type Parsed =
  | { kind: 'run'; command: CommandSpec; argv: Record<string, any> }
  | { kind: 'help'; text: string }
  | { kind: 'version' };

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function parseCommandLine(prog: string, table: readonly CommandSpec[], args: string[]): Parsed {
  if (args[0] === '--version' || args[0] === '-V') return { kind: 'version' };
  const words: string[] = [];
  for (const a of args) { if (a.startsWith('-')) break; words.push(a); }
  // The longest command path that the leading words name.
  let command: CommandSpec | undefined;
  for (const c of table) {
    if (c.path.every((w, i) => words[i] === w) && (!command || c.path.length > command.path.length)) command = c;
  }
  const wantsHelp = args.includes('--help') || args.includes('-h');
  if (!command) {
    const prefix = words.filter((w, i) => table.some((c) => c.path[i] === w && c.path.slice(0, i).every((x, j) => x === words[j])));
    if (wantsHelp || words.length === prefix.length) return { kind: 'help', text: groupHelp(prog, table, prefix) };
    const known = [...new Set(table.filter((c) => c.path.slice(0, prefix.length).every((x, j) => x === prefix[j])).map((c) => c.path[prefix.length]))];
    throw new UsageError(`unknown command '${[...prefix, words[prefix.length]].join(' ')}'; try: ${known.map((k) => [prog, ...prefix, k].join(' ')).join(', ')}`);
  }
  if (wantsHelp) return { kind: 'help', text: commandHelp(prog, command) };
  const options: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: args.slice(command.path.length),
      // eslint-disable-next-line

      options: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, {
        type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}),
      }])),
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '')} (see '${prog} ${command.path.join(' ')} --help')`);
  }
  const usage = `usage: ${usageLine(prog, command)}`;
  if (parsed.positionals.length !== command.positionals.length) {
    const missing = command.positionals.slice(parsed.positionals.length).map((p) => p.name.toUpperCase());
    throw new UsageError(missing.length > 0 ? `missing ${missing.join(' ')}; ${usage}` : `unexpected argument '${parsed.positionals[command.positionals.length]}'; ${usage}`);
  }
  const argv: Record<string, any> = {};
  command.positionals.forEach((p, i) => { argv[p.name] = parsed.positionals[i]; });
  for (const [k, o] of Object.entries(options)) {
    let v = parsed.values[k];
    if (v === undefined) v = o.default ?? (o.multiple ? [] : o.type === 'boolean' ? false : undefined);
    if (o.required && v === undefined) throw new UsageError(`missing required option --${k}; ${usage}`);
    argv[k] = v;
    argv[camel(k)] = v;
  }
  for (const [a, b] of command.conflicts ?? []) {
    if (parsed.values[a] !== undefined && parsed.values[b] !== undefined) throw new UsageError(`--${a} and --${b} cannot be used together`);
  }
  return { kind: 'run', command, argv };
}

function usageLine(prog: string, c: CommandSpec): string {
  return [prog, ...c.path, ...c.positionals.map((p) => p.name.toUpperCase()), Object.keys(c.options).length ? '[options]' : ''].filter(Boolean).join(' ');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const extra = o.multiple ? ' (repeatable)' : o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    return `  ${flag.padEnd(26)} ${o.describe}${extra}`;
  });
}

export function commandHelp(prog: string, c: CommandSpec): string {
  const lines = [`usage: ${usageLine(prog, c)}`, '', c.describe, ''];
  if (c.positionals.length) lines.push('arguments:', ...c.positionals.map((p) => `  ${p.name.toUpperCase().padEnd(26)} ${p.describe}`), '');
  lines.push('options:', ...optionLines({ ...c.options, ...GLOBAL_OPTIONS }));
  if (c.examples?.length) lines.push('', 'examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function groupHelp(prog: string, table: readonly CommandSpec[], prefix: string[]): string {
  const cmds = table.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...cmds.map((c) => usageLine(prog, c).length));
  return [`usage: ${[prog, ...prefix].join(' ')} COMMAND [options]`, '', 'commands:',
    ...cmds.map((c) => `  ${usageLine(prog, c).padEnd(width)}  ${c.describe}`), '',
    `'${prog} COMMAND --help' shows a command's options; --json and --version work everywhere.`].join('\n') + '\n';
}
