/**
 * What a command is, as data: its words, positionals, options, conflicts and examples. One table
 * of these (command-table.ts) drives the parser (yargs, arg-parser.ts), help, shell completion
 * (shell-completion.ts) and the man pages (man-page.ts), so none of them can drift from another.
 *
 * The types also give each command's handler exactly the arguments it declared: ArgsOf turns a
 * spec written `as const` into the handler's argument type (camelCase keys, string[] for a
 * repeatable option, `string | undefined` for an optional one), so a misspelt option or a
 * forgotten default is a compile error, not an undefined at run time.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-letter alias, e.g. 'o' for --output. */
  short?: string;
  /** May be given more than once; the value is then a list (empty when not given). */
  multiple?: boolean;
  default?: string | boolean;
  describe: string;
  required?: boolean;
  /** Shown in help instead of the type, e.g. 'PAT'. */
  value?: string;
  /** The only values the option takes: the parser refuses others; shells complete them. */
  choices?: readonly string[];
  /** Values the shells offer, without refusing others (a codec also takes ':LEVEL'). */
  completions?: readonly string[];
  /** The value names a file or directory: completed as one, and checked for names that were not valid UTF-8. */
  path?: boolean;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  /** Takes one or more values (only the first positional of a command may; `SRC... DEST`). */
  variadic?: boolean;
  /** Names a file or directory (see OptionSpec.path). */
  path?: boolean;
  /** Fixed values it takes (`completion bash|zsh|fish`). */
  choices?: readonly string[];
  /** May be left out (only the last positional, of a command with no variadic one; `serve [STORE]`). */
  optional?: boolean;
}

/** How a positional is written in usage lines: `SRC...`, `[STORE]`, `DEST`. */
export function positionalUsage(p: PositionalSpec): string {
  const name = p.name.toUpperCase() + (p.variadic ? '...' : '');
  return p.optional ? `[${name}]` : name;
}

export interface CommandSpec {
  /** The words that name it (`['snap', 'create']`); [] for the default command (`fxcp SRC... DEST`). */
  path: readonly string[];
  describe: string;
  positionals: readonly PositionalSpec[];
  options: Readonly<Record<string, OptionSpec>>;
  /** Pairs of options that cannot be given together. */
  conflicts?: readonly (readonly [string, string])[];
  examples?: readonly string[];
  /** Longer text for the man page (paragraphs separated by blank lines). */
  details?: string;
  /**
   * Options whose order across each other matters (rsync's filter rules: `--include` before
   * `--exclude`): every occurrence of them, in command-line order, is also given as the list
   * `name` of {option, value} (a boolean's value is '').
   */
  sequence?: { readonly name: string; readonly options: readonly string[] };
  /** Options that are a task of their own, given instead of the positionals (`fxcp --cleanup DEST`). */
  standalone?: readonly string[];
}

/** One occurrence of an option of a command's `sequence`. */
export interface OptionOccurrence { option: string; value: string }

/** A program (fxcp, foxingd): its commands and what every command of it takes. */
export interface ProgramSpec {
  name: 'fxcp' | 'foxingd';
  /** man section: 1 for a user command, 8 for a daemon. */
  section: 1 | 8;
  summary: string;
  commands: readonly CommandSpec[];
  globalOptions: Readonly<Record<string, OptionSpec>>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  json: { type: 'boolean', describe: 'print one JSON document on stdout (errors as one JSON object on stderr)' },
  help: { type: 'boolean', short: 'h', describe: 'show help' },
} as const satisfies Record<string, OptionSpec>;

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

type OptionValue<O extends OptionSpec> =
  O['type'] extends 'boolean' ? boolean
    : O['multiple'] extends true ? string[]
      : O extends { choices: readonly (infer C)[] } ? (O extends { default: string } | { required: true } ? C : C | undefined)
        : O extends { default: string } | { required: true } ? string : string | undefined;

type PositionalValue<P extends PositionalSpec> =
  P['variadic'] extends true ? string[] : P extends { choices: readonly (infer C)[] } ? C : P extends { optional: true } ? string | undefined : string;

/** The arguments a command's handler receives. */
export type ArgsOf<C extends CommandSpec> =
  { readonly [K in keyof C['options'] & string as Camel<K>]: OptionValue<C['options'][K]> }
  & { readonly [P in C['positionals'][number] as Camel<P['name']>]: PositionalValue<P> }
  & { readonly json: boolean }
  & (C extends { sequence: { name: infer N extends string } } ? { readonly [K in Camel<N>]: OptionOccurrence[] } : unknown);
