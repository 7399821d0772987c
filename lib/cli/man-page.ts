/**
 * A program's manual page, man(7) roff, from its command table: NAME, SYNOPSIS, DESCRIPTION,
 * COMMANDS (a subsection per command: usage, description, arguments, options, examples), OPTIONS
 * (those every command takes), EXIT STATUS, ENVIRONMENT, SEE ALSO. Pure: the table and the texts
 * that are not in it (ManExtras, man-texts.ts) in, the page out; bin/build.js writes it to
 * docs/man/.
 *
 * Escaping: table text is plain text, so every backslash is written \e, a line that would start
 * with '.' or "'" gets \& before it (it would be read as a request), and in what a user types
 * (option names, commands, examples) '-' is \- and quotes are \(aq and \(ga, so a page copied
 * from the terminal runs. No date: the page is a function of the table, so the committed copy
 * can be checked against the generator (test/cli/man-page.test.ts).
 */
import { type CommandSpec, type OptionSpec, positionalUsage, type ProgramSpec } from './command-spec.js';
import { commandsInOrder } from './command-list.js';

export interface ManExtras {
  /** The .TH source field, e.g. 'foxing-node 0.1.0'. */
  source: string;
  /** DESCRIPTION paragraphs. */
  description: readonly string[];
  /** Options the program takes outside any command (--version): flags as typed, and what they do. */
  programOptions?: readonly (readonly [flags: string, describe: string])[];
  exitStatus: readonly (readonly [code: number, describe: string])[];
  environment: readonly (readonly [name: string, describe: string])[];
  /** Pages, as 'name(section)'. */
  seeAlso: readonly string[];
}

/** Plain text on a line of its own (or several): requests are not started by accident. */
export function roffText(s: string): string {
  return s.replace(/\\/g, '\\e').split('\n').map((line) => (/^[.']/.test(line) ? `\\&${line}` : line)).join('\n');
}

/** Text a user types: as roffText, with minus signs and straight quotes kept as such. */
export function roffCode(s: string): string {
  return roffText(s).replace(/-/g, '\\-').replace(/'/g, '\\(aq').replace(/`/g, '\\(ga').replace(/~/g, '\\(ti').replace(/\^/g, '\\(ha');
}

/** A macro argument in double quotes. */
const quoted = (s: string) => `"${roffText(s).replace(/"/g, '\\(dq')}"`;

const bold = (s: string) => `\\fB${roffCode(s)}\\fR`;
const italic = (s: string) => `\\fI${roffCode(s)}\\fR`;

function positionalName(p: CommandSpec['positionals'][number]): string {
  return positionalUsage(p);
}

/** `fxcp snap create SOURCE STORE [options]`, in bold and italics. */
export function usageRoff(program: ProgramSpec, c: CommandSpec): string {
  const words = [bold([program.name, ...c.path].join(' ')), ...c.positionals.map((p) => italic(positionalName(p)))];
  if (Object.keys(c.options).length) words.push(`[${italic('options')}]`);
  return words.join(' ');
}

function optionFlags(name: string, o: OptionSpec): string {
  const flags = [o.short ? bold(`-${o.short}`) : '', bold(`--${name}`)].filter(Boolean).join(', ');
  return o.type === 'string' ? `${flags} ${italic(o.value ?? 'VALUE')}` : flags;
}

function optionText(o: OptionSpec): string {
  const notes: string[] = [];
  if (o.choices) notes.push(`One of: ${o.choices.join(', ')}.`);
  if (o.default !== undefined && o.default !== false) notes.push(`Default: ${String(o.default)}.`);
  if (o.multiple) notes.push('May be given more than once.');
  if (o.required) notes.push('Required.');
  return roffText([sentence(o.describe), ...notes].join(' '));
}

/** The table's descriptions are phrases; the page prints them as sentences. */
function sentence(s: string): string {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function options(entries: [string, OptionSpec][]): string[] {
  return entries.flatMap(([k, o]) => ['.TP', optionFlags(k, o), optionText(o)]);
}

function commandSection(program: ProgramSpec, c: CommandSpec): string[] {
  const lines = ['.SS ' + quoted([program.name, ...c.path].join(' ')), usageRoff(program, c), '.PP', roffText(sentence(c.describe))];
  for (const para of (c.details ?? '').split(/\n\s*\n/).filter((p) => p.trim())) lines.push('.PP', roffText(para.trim()));
  if (c.positionals.length) {
    lines.push('.PP', 'Arguments:', '.RS 4');
    for (const p of c.positionals) {
      const choices = p.choices ? ` One of: ${p.choices.join(', ')}.` : '';
      lines.push('.TP', italic(positionalName(p)), roffText(sentence(p.describe) + choices));
    }
    lines.push('.RE');
  }
  const opts = Object.entries(c.options);
  if (opts.length) lines.push('.PP', 'Options:', '.RS 4', ...options(opts), '.RE');
  if (c.conflicts?.length) lines.push('.PP', `Not together: ${c.conflicts.map(([a, b]) => `${bold(`--${a}`)} and ${bold(`--${b}`)}`).join('; ')}.`);
  if (c.examples?.length) lines.push('.PP', 'Examples:', '.RS 4', '.EX', ...c.examples.map(roffCode), '.EE', '.RE');
  return lines;
}

export function manPage(program: ProgramSpec, extra: ManExtras): string {
  const name = program.name;
  const lines = [
    `.\\" Generated by bin/build.js (lib/cli/man-page.ts) from lib/cli/command-table.ts; edit those, not this file.`,
    `.TH ${name.toUpperCase()} ${program.section} "" ${quoted(extra.source)} "Foxing for Node"`,
    '.SH NAME',
    `${roffCode(name)} \\- ${roffText(program.summary)}`,
    '.SH SYNOPSIS',
  ];
  const commands = commandsInOrder(program);
  const synopsis = commands.length ? commands.map((c) => usageRoff(program, c)) : [`${bold(name)} [${italic('options')}]`];
  for (const [flags] of extra.programOptions ?? []) synopsis.push(`${bold(name)} ${bold(flags.split(', ').at(-1)!)}`);
  lines.push(synopsis.join('\n.br\n'));
  lines.push('.SH DESCRIPTION');
  for (const para of extra.description) lines.push('.PP', roffText(para));
  lines.push('.SH COMMANDS');
  for (const c of commands) lines.push(...commandSection(program, c));
  lines.push('.SH OPTIONS', 'Every command takes:', ...options(Object.entries(program.globalOptions)));
  if (extra.programOptions?.length) lines.push('.PP', 'Without a command:');
  for (const [flags, describe] of extra.programOptions ?? []) lines.push('.TP', flags.split(', ').map((f) => bold(f)).join(', '), roffText(describe));
  lines.push('.SH "EXIT STATUS"');
  for (const [code, describe] of extra.exitStatus) lines.push('.TP', bold(String(code)), roffText(describe));
  if (extra.environment.length) {
    lines.push('.SH ENVIRONMENT');
    for (const [env, describe] of extra.environment) lines.push('.TP', bold(env), roffText(describe));
  }
  if (extra.seeAlso.length) {
    lines.push('.SH "SEE ALSO"');
    lines.push(extra.seeAlso.map((ref, i) => {
      const [, page, section] = /^(.+)\((\w+)\)$/.exec(ref) ?? [ref, ref, ''];
      return `.BR ${roffCode(page)} (${section})${i < extra.seeAlso.length - 1 ? ' ,' : ''}`;
    }).join('\n'));
  }
  return lines.join('\n') + '\n';
}
