/**
 * The command-line grammar: the command table (command-spec.ts) parsed with yargs, plus help
 * generated from the same table. Pure: argv in, a parsed command or a UsageError out.
 *
 * The words that name the command (`snap restore`) are matched against the table here, so that
 * only that one command's options are given to yargs (a yargs instance with every command's
 * options costs start-up time that a one-file restore does not have), and so that an unknown
 * word gets the table's own suggestion. yargs then does the rest: tokens, short aliases,
 * repeated options, booleans, defaults, `--`, a missing value at the end, required options,
 * conflicting pairs, unknown options. Positionals, unknown options, repeats of a single-value
 * option and choices are checked first, from the table, so that their messages name the
 * argument and the value. The parser settings are fixed below (no number parsing: a snapshot
 * id of digits stays a string; no --no-X negation or dot notation: the grammar is the table's
 * and nothing else), yargs' messages are reworded into ours, and it never prints or exits.
 */
import yargs from 'yargs';
import { UsageError } from '../errors/index.js';
import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-spec.js';
import { closest } from './did-you-mean.js';

export type { CommandSpec, OptionSpec };

export type Parsed<C extends CommandSpec = CommandSpec> =
  | { kind: 'run'; command: C; argv: Record<string, any> }
  | { kind: 'help'; text: string }
  | { kind: 'version' };

const PARSER_CONFIGURATION = {
  'boolean-negation': false,
  'camel-case-expansion': true,
  'dot-notation': false,
  'duplicate-arguments-array': true,
  'greedy-arrays': false,
  'nargs-eats-options': false,
  'parse-numbers': false,
  'parse-positional-numbers': false,
  'populate--': false,
  'short-option-groups': true,
  'strip-aliased': true,
  'unknown-options-as-args': false,
} as const;

/** yargs' messages in our words (y18n format strings; %s in yargs' order). */
const MESSAGES = {
  'Missing required argument: %s': { one: 'missing required option --%s', other: 'missing required options %s' },
  'Arguments %s and %s are mutually exclusive': '--%s and --%s cannot be used together',
  'Unknown argument: %s': { one: 'unknown option %s', other: 'unknown options %s' },
};

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function parseCommandLine<C extends CommandSpec>(prog: string, table: readonly C[], args: string[]): Parsed<C> {
  if (args[0] === '--version' || args[0] === '-V') return { kind: 'version' };
  const end = args.indexOf('--');
  const options = end < 0 ? args : args.slice(0, end);
  const wantsHelp = options.includes('--help') || options.includes('-h');
  const words: string[] = [];
  for (const a of args) { if (a.startsWith('-')) break; words.push(a); }
  // The longest command path that the leading words name.
  let command: C | undefined;
  for (const c of table) {
    if (c.path.length > 0 && c.path.every((w, i) => words[i] === w) && (!command || c.path.length > command.path.length)) command = c;
  }
  if (!command) {
    const prefix = words.filter((w, i) => table.some((c) => c.path[i] === w && c.path.slice(0, i).every((x, j) => x === words[j])));
    const fallback = table.find((c) => c.path.length === 0);
    const isGroup = prefix.length > 0 && words.length === prefix.length;
    if (fallback && prefix.length === 0 && !(wantsHelp && args.length === 1)) command = fallback;
    else if (wantsHelp || isGroup || args.length === 0) return { kind: 'help', text: groupHelp(prog, table, prefix) };
    else throw unknownCommand(prog, table, prefix, words[prefix.length] ?? args[prefix.length]);
  }
  if (wantsHelp) return { kind: 'help', text: commandHelp(prog, command) };
  return { kind: 'run', command, argv: parseCommand(prog, command, args.slice(command.path.length)) };
}

function unknownCommand(prog: string, table: readonly CommandSpec[], prefix: string[], word: string): UsageError {
  const known = [...new Set(table.filter((c) => c.path.length > prefix.length && prefix.every((x, j) => c.path[j] === x)).map((c) => c.path[prefix.length]))];
  const near = word.startsWith('-') ? undefined : closest(word, known);
  const what = word.startsWith('-') ? `option '${word}' before a command` : `command '${[...prefix, word].join(' ')}'`;
  const tryThese = known.length > 0 ? `try: ${known.map((k) => [prog, ...prefix, k].join(' ')).join(', ')}` : `${prog} has no commands in this build`;
  return new UsageError(`unknown ${what}; ${near ? `did you mean '${[prog, ...prefix, near].join(' ')}'? ` : ''}${tryThese}`,
    { usage: `${[prog, ...prefix].join(' ')} COMMAND [options]` });
}

/** The arguments after the command's words, checked against its spec. */
function parseCommand(prog: string, command: CommandSpec, rest: string[]): Record<string, any> {
  const usage = usageLine(prog, command);
  const problem = (message: string) => new UsageError(message, { usage });
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...command.options };
  const known = new Set<string>(['_', '$0', '--']);
  for (const [k, o] of Object.entries(all)) { known.add(k); known.add(camel(k)); if (o.short) known.add(o.short); }
  const y = yargs(rest)
    .parserConfiguration(PARSER_CONFIGURATION)
    .locale('en').updateStrings(MESSAGES as never)
    .help(false).version(false).exitProcess(false)
    .strictOptions()
    .fail((msg: string | null, err: Error | undefined) => {
      if (err instanceof UsageError) throw err;
      // yargs-parser's own error (a value missing at the end) names the option as typed.
      const missing = /^Not enough arguments following: (.*)$/.exec(err?.message ?? '');
      if (missing) throw problem(`--${longName(all, missing[1])} needs a value`);
      throw problem((err?.message ?? msg ?? 'bad arguments').replace(/:\n\s*/g, ': '));
    });
  for (const [k, o] of Object.entries(all)) {
    y.option(k, {
      type: o.type, ...(o.short ? { alias: o.short } : {}), ...(o.type === 'string' ? { requiresArg: true } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
      ...(o.required ? { demandOption: true } : {}),
    });
  }
  for (const [a, b] of command.conflicts ?? []) y.conflicts(a, b);
  // Before yargs' own checks, so that the positionals and unknown options get our messages.
  y.middleware((argv) => {
    // yargs keeps what follows `--` apart until after the middleware, whatever populate-- says.
    checkPositionals(command, [...argv._, ...((argv['--'] as string[] | undefined) ?? [])].map(String), problem);
    for (const key of Object.keys(argv)) {
      if (known.has(key)) continue;
      const flag = key.length === 1 ? `-${key}` : `--${key}`;
      const near = closest(key, Object.keys(all));
      throw problem(`Unknown option '${flag}'${near ? `; did you mean '--${near}'?` : ''}`);
    }
    for (const [k, o] of Object.entries(all)) {
      const v = argv[k];
      if (!o.multiple && Array.isArray(v)) throw problem(`--${k} given more than once (it takes one value)`);
      // Choices are checked here rather than by yargs, for a message that names the option's value.
      if (o.choices && v !== undefined && !o.choices.includes(String(v))) throw problem(`unknown ${o.value?.toLowerCase() ?? k} '${String(v)}' for --${k}: use ${o.choices.join(', ')}`);
    }
  }, true);
  const parsed = y.parseSync() as Record<string, any>;
  const argv: Record<string, any> = {};
  const values = parsed._.map(String);
  const variadic = command.positionals.findIndex((p) => p.variadic);
  command.positionals.forEach((p, i) => {
    const v = i === variadic ? values.slice(i, i + values.length - command.positionals.length + 1)
      : values[variadic >= 0 && i > variadic ? values.length - (command.positionals.length - i) : i];
    argv[p.name] = v;
    argv[camel(p.name)] = v;
  });
  for (const [k, o] of Object.entries(all)) {
    let v = parsed[k];
    if (o.multiple) v = v === undefined ? [] : Array.isArray(v) ? v : [v];
    else if (v === undefined && o.type === 'boolean') v = false;
    if (o.type === 'string' && o.path && (v === '' || (Array.isArray(v) && v.includes('')))) throw problem(`--${k}: the path is empty`);
    argv[k] = v;
    argv[camel(k)] = v;
  }
  return argv;
}

function longName(options: Record<string, OptionSpec>, name: string): string {
  return Object.entries(options).find(([, o]) => o.short === name)?.[0] ?? name;
}

function checkPositionals(command: CommandSpec, values: string[], problem: (m: string) => UsageError): void {
  const ps = command.positionals;
  const variadic = ps.some((p) => p.variadic);
  if (values.length < ps.length) {
    throw problem(`missing ${ps.slice(values.length).map((p) => p.name.toUpperCase() + (p.variadic ? '...' : '')).join(' ')}`);
  }
  if (!variadic && values.length > ps.length) throw problem(`unexpected argument '${values[ps.length]}'`);
  const at = values.indexOf('');
  if (at >= 0) {
    const p = ps[variadic ? Math.min(at, ps.length - 1) : at];
    throw problem(`${p.name.toUpperCase()} is an empty string`);
  }
  ps.forEach((p, i) => {
    if (p.choices && !p.choices.includes(values[i])) throw problem(`${p.name.toUpperCase()} '${values[i]}' is not one of ${p.choices.join(', ')}`);
  });
}

export function usageLine(prog: string, c: CommandSpec): string {
  return [prog, ...c.path, ...c.positionals.map((p) => p.name.toUpperCase() + (p.variadic ? '...' : '')), Object.keys(c.options).length ? '[options]' : '']
    .filter(Boolean).join(' ');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const extra = (o.required ? ' (required)' : '') + (o.choices ? ` (one of: ${o.choices.join(', ')})` : '') +
      (o.multiple ? ' (repeatable)' : o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '');
    return `  ${flag.padEnd(26)} ${o.describe}${extra}`;
  });
}

export function commandHelp(prog: string, c: CommandSpec): string {
  const lines = [`usage: ${usageLine(prog, c)}`, '', c.describe, ''];
  if (c.positionals.length) {
    lines.push('arguments:', ...c.positionals.map((p) => `  ${(p.name.toUpperCase() + (p.variadic ? '...' : '')).padEnd(26)} ${p.describe}`), '');
  }
  lines.push('options:', ...optionLines({ ...c.options, ...GLOBAL_OPTIONS }));
  if (c.examples?.length) lines.push('', 'examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function groupHelp(prog: string, table: readonly CommandSpec[], prefix: string[]): string {
  const cmds = table.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(0, ...cmds.map((c) => usageLine(prog, c).length));
  const fallback = prefix.length === 0 && cmds.some((c) => c.path.length === 0);
  return [`usage: ${[prog, ...prefix].join(' ')} COMMAND [options]`, ...(fallback ? [`       ${usageLine(prog, cmds.find((c) => c.path.length === 0)!)}`] : []), '', 'commands:',
    ...cmds.filter((c) => c.path.length > 0).map((c) => `  ${usageLine(prog, c).padEnd(width)}  ${c.describe}`),
    ...(cmds.length === 0 ? ['  (none in this build)'] : []), '',
    `'${prog} COMMAND --help' shows a command's options; --json and --version work everywhere.`,
    ...(fallback ? [`A first word that names a command runs that command: to name a path called so, write ./NAME or put -- first.`] : [])].join('\n') + '\n';
}
