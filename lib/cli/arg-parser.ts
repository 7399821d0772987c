/**
 * The command-line grammar: the command table (command-spec.ts) parsed with yargs' parser, plus
 * help generated from the same table. Pure: argv in, a parsed command or a UsageError out.
 *
 * The words that name the command (`snap restore`) are matched against the table here, so that
 * only that one command's options are parsed, and so that an unknown word gets the table's own
 * suggestion. yargs' parser (`Parser` of yargs/helpers: yargs-parser, the engine inside every
 * yargs instance) then reads the tokens: short aliases and `-abc` groups, `--opt=value`,
 * repeated options, booleans, defaults, `--`, a value missing at the end. The checks are the
 * table's, here, with messages that name the argument and the value: positionals, unknown
 * options (with a suggestion), repeats of a single-value option, choices, required options,
 * conflicting pairs. A yargs instance around the parser would add its own help, completion,
 * validation and locale files, all of which the table already gives, for about 5 ms of every
 * start (docs/BENCHMARKS.md, "The start-up budget"). The parser settings are fixed below (no
 * number parsing: a snapshot id of digits stays a string; no --no-X negation or dot notation:
 * the grammar is the table's and nothing else); it never prints or exits.
 */
import { Parser } from 'yargs/helpers';
import { UsageError } from '../errors/index.js';
import { GLOBAL_OPTIONS, type CommandSpec, type OptionOccurrence, type OptionSpec, positionalUsage } from './command-spec.js';
import { closest } from '../util/did-you-mean.js';

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
    if (fallback && prefix.length === 0 && args.length > 0 && !(wantsHelp && args.length === 1)) command = fallback;
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
  const known = new Set<string>(['_']);
  const hints = { alias: {} as Record<string, string>, boolean: [] as string[], string: [] as string[], default: {} as Record<string, unknown>, narg: {} as Record<string, number> };
  for (const [k, o] of Object.entries(all)) {
    known.add(k); known.add(camel(k));
    if (o.short) { known.add(o.short); hints.alias[k] = o.short; }
    (o.type === 'boolean' ? hints.boolean : hints.string).push(k);
    // narg 1 on a string option: a value missing at the end, or an option where the value
    // should be (`--tag -x`), is an error rather than an empty string.
    if (o.type === 'string') hints.narg[k] = 1;
    if (o.default !== undefined) hints.default[k] = o.default;
  }
  const { argv: parsed, error } = Parser.detailed(valuesJoined(rest, all), { ...hints, configuration: PARSER_CONFIGURATION });
  // yargs-parser's own error (a value missing) names the option as typed.
  const missing = /^Not enough arguments following: (.*)$/.exec(error?.message ?? '');
  if (missing) throw problem(`--${longName(all, missing[1])} needs a value`);
  if (error) throw problem(error.message);
  // Unknown options first: one that was meant to take a value leaves that value as a positional.
  for (const key of Object.keys(parsed)) {
    if (known.has(key)) continue;
    const flag = key.length === 1 ? `-${key}` : `--${key}`;
    const near = closest(key, Object.keys(all));
    throw problem(`Unknown option '${flag}'${near ? `; did you mean '--${near}'?` : ''}`);
  }
  // An option that is a whole task of its own (`fxcp --cleanup DEST`) takes the place of the positionals.
  const alone = (command.standalone ?? []).find((k) => parsed[k] !== undefined);
  if (alone && parsed._.length > 0) throw problem(`--${alone} takes no other paths (unexpected argument '${String(parsed._[0])}')`);
  if (!alone) checkPositionals(command, parsed._.map(String), problem);
  for (const [k, o] of Object.entries(all)) {
    const v = parsed[k];
    if (!o.multiple && Array.isArray(v)) throw problem(`--${k} given more than once (it takes one value)`);
    // Choices are checked here, for a message that names the option's value.
    if (o.choices && v !== undefined && !o.choices.includes(String(v))) throw problem(`unknown ${o.value?.toLowerCase() ?? k} '${String(v)}' for --${k}: use ${o.choices.join(', ')}`);
  }
  const required = Object.keys(all).filter((k) => all[k].required && parsed[k] === undefined);
  if (required.length === 1) throw problem(`missing required option --${required[0]}`);
  if (required.length > 1) throw problem(`missing required options ${required.map((k) => `--${k}`).join(', ')}`);
  for (const [a, b] of command.conflicts ?? []) {
    if (parsed[a] !== undefined && parsed[b] !== undefined) throw problem(`--${a} and --${b} cannot be used together`);
  }
  const argv: Record<string, any> = {};
  const values = parsed._.map(String);
  const variadic = command.positionals.findIndex((p) => p.variadic);
  command.positionals.forEach((p, i) => {
    const v = i === variadic ? values.slice(i, i + values.length - command.positionals.length + 1)
      : values[variadic >= 0 && i > variadic ? values.length - (command.positionals.length - i) : i];
    argv[p.name] = v;
    argv[camel(p.name)] = v;
  });
  if (command.sequence) argv[camel(command.sequence.name)] = occurrences(rest, all, command.sequence.options);
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

/**
 * `--opt VALUE` as `--opt=VALUE` where VALUE starts with '-' but cannot be an option (a dash
 * then a space: rsync's filter rules, `-f '- *.o'`), which the parser would otherwise take for
 * one and call the value missing.
 */
function valuesJoined(args: readonly string[], all: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i], next = args[i + 1];
    if (a === '--') { out.push(...args.slice(i)); break; }
    const key = a.startsWith('--') ? a.slice(2) : /^-[^-]$/.test(a) ? longName(all, a[1]) : null;
    if (key !== null && all[key]?.type === 'string' && next !== undefined && /^-\s/.test(next)) {
      out.push(`--${key}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Every occurrence of the options `names` in `args` (up to `--`), in order, read as the parser
 * reads them (`--opt=v`, `--opt v`, `-o v`, `-ov`, `-abo v`): yargs-parser keeps each option's
 * values but not their order across options, which rsync's filter rules need.
 */
function occurrences(args: readonly string[], all: Record<string, OptionSpec>, names: readonly string[]): OptionOccurrence[] {
  const byShort = new Map(Object.entries(all).filter(([, o]) => o.short).map(([k, o]) => [o.short!, k]));
  const wanted = new Set(names);
  const out: OptionOccurrence[] = [];
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = a.slice(2, eq < 0 ? undefined : eq);
      if (all[key]?.type !== 'string') { if (wanted.has(key)) out.push({ option: key, value: '' }); continue; }
      const value = eq < 0 ? args[++i] ?? '' : a.slice(eq + 1);
      if (wanted.has(key)) out.push({ option: key, value });
    } else if (a.length > 1 && a.startsWith('-')) {
      for (let k = 1; k < a.length; k++) {
        const key = byShort.get(a[k]);
        if (key === undefined) break;
        if (all[key].type === 'string') {
          const value = k + 1 < a.length ? a.slice(a[k + 1] === '=' ? k + 2 : k + 1) : args[++i] ?? '';
          if (wanted.has(key)) out.push({ option: key, value });
          break;
        }
        if (wanted.has(key)) out.push({ option: key, value: '' });
      }
    }
  }
  return out;
}

function longName(options: Record<string, OptionSpec>, name: string): string {
  return Object.entries(options).find(([, o]) => o.short === name)?.[0] ?? name;
}

function checkPositionals(command: CommandSpec, values: string[], problem: (m: string) => UsageError): void {
  const ps = command.positionals;
  const variadic = ps.some((p) => p.variadic);
  const required = ps.filter((p) => !p.optional).length;
  if (values.length < required) {
    throw problem(`missing ${ps.slice(values.length, required).map((p) => p.name.toUpperCase() + (p.variadic ? '...' : '')).join(' ')}`);
  }
  if (!variadic && values.length > ps.length) throw problem(`unexpected argument '${values[ps.length]}'`);
  const at = values.indexOf('');
  if (at >= 0) {
    const p = ps[variadic ? Math.min(at, ps.length - 1) : at];
    throw problem(`${p.name.toUpperCase()} is an empty string`);
  }
  ps.forEach((p, i) => {
    if (p.choices && i < values.length && !p.choices.includes(values[i])) throw problem(`${p.name.toUpperCase()} '${values[i]}' is not one of ${p.choices.join(', ')}`);
  });
}

export function usageLine(prog: string, c: CommandSpec): string {
  return [prog, ...c.path, ...c.positionals.map(positionalUsage), Object.keys(c.options).length ? '[options]' : '']
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
    lines.push('arguments:', ...c.positionals.map((p) => `  ${positionalUsage(p).padEnd(26)} ${p.describe}`), '');
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
