/**
 * Shell completion from the command table: what to offer for the word under the cursor
 * (completeWords), the answer to the shells' callback, and the scripts `fxcp completion SHELL`
 * prints. Pure: a ProgramSpec and words in, text out.
 *
 * bash and zsh call back into the program with yargs' protocol, `fxcp --get-yargs-completions
 * WORD...` (the words as the shell split them, the program's name first, the last one the word
 * under the cursor), answered one candidate a line, `value:description` for zsh (yargs marks a
 * zsh caller with ZSH_NAME). An empty answer lets the shell complete file names, which is what a
 * path argument wants. fish gets a static script generated from the table, as it needs no
 * callback for fixed words.
 *
 * Limits: `--option=VALUE` is not completed (bash splits the word at '='; give the value after
 * a space); a value that is not a fixed list (a snapshot id, a tag) is not completed.
 */
import type { CommandSpec, OptionSpec, ProgramSpec } from './command-spec.js';

export interface Candidate { value: string; describe: string }
export type Shell = 'bash' | 'zsh' | 'fish';

const startsWith = (path: readonly string[], prefix: readonly string[]) => prefix.every((w, i) => path[i] === w);
const sameWords = (a: readonly string[], b: readonly string[]) => a.length === b.length && startsWith(a, b);

/** The command words after `prefix` (`snap` -> create, list, ...), each once, in table order. */
function nextWords(program: ProgramSpec, prefix: readonly string[]): Candidate[] {
  const seen = new Map<string, Candidate>();
  for (const c of program.commands) {
    if (c.path.length <= prefix.length || !startsWith(c.path, prefix)) continue;
    const word = c.path[prefix.length];
    const leaf = c.path.length === prefix.length + 1;
    if (!seen.has(word) || leaf) seen.set(word, { value: word, describe: leaf ? c.describe : `${[...prefix, word].join(' ')} commands` });
  }
  return [...seen.values()];
}

function optionsOf(program: ProgramSpec, command: CommandSpec): [string, OptionSpec][] {
  return Object.entries({ ...command.options, ...program.globalOptions });
}

/** The option a word names (`--output`, `-o`), or undefined. */
function optionNamed(options: [string, OptionSpec][], word: string): OptionSpec | undefined {
  if (word.startsWith('--')) return options.find(([k]) => k === word.slice(2))?.[1];
  if (/^-[^-]$/.test(word)) return options.find(([, o]) => o.short === word[1])?.[1];
  return undefined;
}

/** The values a word after `option` may take; none for a path or a free value. */
function valuesOf(option: OptionSpec): Candidate[] {
  if (option.path) return [];
  return (option.choices ?? option.completions ?? []).map((v) => ({ value: v, describe: option.describe }));
}

/** Candidates for the last of `words` (the words after the program name), with descriptions. */
export function completionCandidates(program: ProgramSpec, words: readonly string[]): Candidate[] {
  const cur = words.length ? words[words.length - 1] : '';
  const before = words.slice(0, -1);
  // The command words typed: the leading words that go on naming a command of the table.
  const path: string[] = [];
  for (const w of before) {
    if (!program.commands.some((c) => startsWith(c.path, [...path, w]))) break;
    path.push(w);
  }
  const rest = before.slice(path.length);
  const command = program.commands.find((c) => sameWords(c.path, path));
  const found: Candidate[] = [];
  if (rest.length === 0 && !cur.startsWith('-')) found.push(...nextWords(program, path));
  if (!command) {
    // A group (`fxcp snap`): its words, or the options every command takes.
    if (rest.length === 0 && cur.startsWith('-')) found.push(...optionCandidates(optionsOf(program, { options: {} } as CommandSpec), []));
    return found.filter((c) => c.value.startsWith(cur));
  }
  const options = optionsOf(program, command);
  // After an option that takes a value, only its values (none: the shell completes a file name).
  const prev = rest[rest.length - 1];
  const wanting = prev !== undefined ? optionNamed(options, prev) : undefined;
  if (wanting?.type === 'string') return valuesOf(wanting).filter((c) => c.value.startsWith(cur));
  const endOfOptions = rest.includes('--');
  if (cur.startsWith('-') && !endOfOptions) {
    found.push(...optionCandidates(options, rest));
  } else {
    const positional = command.positionals[Math.min(positionalIndex(options, rest), command.positionals.length - 1)];
    if (positional?.choices && !positional.path) found.push(...positional.choices.map((v) => ({ value: v, describe: positional.describe })));
  }
  return found.filter((c) => c.value.startsWith(cur));
}

/** The options not given yet (or repeatable), long and short. */
function optionCandidates(options: [string, OptionSpec][], given: readonly string[]): Candidate[] {
  const out: Candidate[] = [];
  for (const [name, o] of options) {
    const used = given.some((w) => w === `--${name}` || w.startsWith(`--${name}=`) || (o.short !== undefined && w === `-${o.short}`));
    if (used && !o.multiple) continue;
    out.push({ value: `--${name}`, describe: o.describe });
    if (o.short) out.push({ value: `-${o.short}`, describe: o.describe });
  }
  return out;
}

/** How many positionals `rest` holds: words that are neither an option nor an option's value. */
function positionalIndex(options: [string, OptionSpec][], rest: readonly string[]): number {
  let n = 0;
  let endOfOptions = false;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (endOfOptions || !w.startsWith('-') || w === '-') { n++; continue; }
    if (w === '--') { endOfOptions = true; continue; }
    if (optionNamed(options, w)?.type === 'string') i++;
  }
  return n;
}

/** The values completing the last of `words` (the words after the program name). */
export function completeWords(program: ProgramSpec, words: readonly string[]): string[] {
  return completionCandidates(program, words).map((c) => c.value);
}

/**
 * The answer to `PROG --get-yargs-completions WORD...`: `shellWords` as the shell passes them,
 * the program's name first. One candidate a line; for zsh `value:description` (':' in a value
 * escaped, as _describe wants).
 */
export function completionReply(program: ProgramSpec, shellWords: readonly string[], zsh: boolean): string {
  const found = completionCandidates(program, shellWords.length > 1 ? shellWords.slice(1) : ['']);
  return found.map((c) => (zsh ? `${c.value.replace(/:/g, '\\:')}:${c.describe}` : c.value) + '\n').join('');
}

export function completionScript(program: ProgramSpec, shell: Shell): string {
  return shell === 'bash' ? bashScript(program) : shell === 'zsh' ? zshScript(program) : fishScript(program);
}

function bashScript({ name }: ProgramSpec): string {
  const fn = `_${name}_completions`;
  return `###-begin-${name}-completions-###
# bash completion for ${name}, printed by \`${name} completion bash\` from its command table.
# Install: \`source <(${name} completion bash)\` in ~/.bashrc, or write it to
# ~/.local/share/bash-completion/completions/${name}.
# ${name} answers \`${name} --get-yargs-completions WORD...\` one candidate a line; when it has
# none (a path), bash completes file names.
${fn}()
{
    local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n'
    COMPREPLY=($(compgen -W "$(command ${name} --get-yargs-completions "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F ${fn} ${name}
###-end-${name}-completions-###
`;
}

function zshScript({ name }: ProgramSpec): string {
  const fn = `_${name}_completions`;
  return `#compdef ${name}
###-begin-${name}-completions-###
# zsh completion for ${name}, printed by \`${name} completion zsh\` from its command table.
# Install: \`${name} completion zsh > "\${fpath[1]}/_${name}"\`, or
# \`source <(${name} completion zsh)\` in ~/.zshrc after compinit.
# ${name} answers \`${name} --get-yargs-completions WORD...\` one \`value:description\` a line;
# when it has none (a path), zsh completes file names.
${fn}()
{
  local -a reply
  local IFS=$'\\n'
  reply=($(ZSH_NAME=zsh command ${name} --get-yargs-completions "\${(@)words[1,CURRENT]}" 2>/dev/null))
  if (( \${#reply} > 0 )); then
    _describe 'values' reply
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
###-end-${name}-completions-###
`;
}

/** A fish single-quoted string ('\\' and '\'' are its only escapes). */
const fishQuote = (s: string) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

function fishScript(program: ProgramSpec): string {
  const { name } = program;
  const lines = [
    `# fish completion for ${name}, printed by \`${name} completion fish\` from its command table.`,
    `# Install: ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    '',
    '# The command words typed so far: the words after the program name up to the first option.',
    `function __${name}_words`,
    '    for w in (commandline -opc)[2..-1]',
    "        string match -q -- '-*' $w; and break",
    '        echo $w',
    '    end',
    'end',
    '# True when the command words typed so far start with the arguments (inside that command).',
    `function __${name}_in`,
    `    set -l w (__${name}_words)`,
    '    set -l n (count $argv)',
    '    test $n -eq 0; and return 0',
    '    test (count $w) -ge $n; or return 1',
    '    test "$w[1..$n]" = "$argv"',
    'end',
    '# True when the first word typed names no command: the default command (`fxcp SRC... DEST`) runs.',
    `function __${name}_default`,
    `    set -l w (__${name}_words)`,
    '    test (count $w) -eq 0; and return 0',
    `    not contains -- $w[1] ${[...new Set(program.commands.filter((c) => c.path.length > 0).map((c) => c.path[0]))].join(' ')}`,
    'end',
    '# True when the command words typed so far are exactly the arguments (a command word is next).',
    `function __${name}_at`,
    `    set -l w (__${name}_words)`,
    '    test "$w" = "$argv"',
    'end',
    '',
  ];
  const complete = (cond: string, rest: string) => lines.push(`complete -c ${name}${cond ? ` -n ${fishQuote(cond)}` : ''} ${rest}`);
  // Command words, level by level; a group's words are all its level offers, so no file names.
  const groups = new Set(['']);
  for (const c of program.commands) for (let i = 1; i < c.path.length; i++) groups.add(c.path.slice(0, i).join(' '));
  for (const g of groups) {
    const prefix = g ? g.split(' ') : [];
    const isCommand = program.commands.some((c) => sameWords(c.path, prefix));
    for (const w of nextWords(program, prefix)) complete(`__${name}_at ${g}`.trimEnd(), `${isCommand ? '' : '-f '}-a ${fishQuote(w.value)} -d ${fishQuote(w.describe)}`);
  }
  for (const c of program.commands) {
    const cond = c.path.length > 0 ? `__${name}_in ${c.path.join(' ')}` : `__${name}_default`;
    lines.push('', `# ${[name, ...c.path].join(' ')}`);
    if (!c.positionals.some((p) => p.path)) complete(cond, '-f');
    for (const p of c.positionals) if (p.choices) complete(cond, `-f -a ${fishQuote(p.choices.join(' '))} -d ${fishQuote(p.describe)}`);
    for (const [k, o] of Object.entries(c.options)) complete(cond, fishOption(k, o));
  }
  lines.push('', '# Options every command takes.');
  for (const [k, o] of Object.entries(program.globalOptions)) complete('', fishOption(k, o));
  return lines.join('\n') + '\n';
}

function fishOption(name: string, o: OptionSpec): string {
  const values = o.choices ?? o.completions;
  const takes = o.type === 'string' ? (o.path ? ' -r -F' : values ? ` -x -a ${fishQuote(values.join(' '))}` : ' -x') : '';
  return `${o.short ? `-s ${o.short} ` : ''}-l ${name}${takes} -d ${fishQuote(o.describe)}`;
}
