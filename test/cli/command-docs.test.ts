/**
 * Every command of every program has what a user looks for: a description, help naming each of
 * its options and arguments, a section of the man page naming them, and completion entries (its
 * words, each option, each fixed value), in the callback answers and in fish's static script.
 * The walk names each gap; it is itself checked on a table with gaps made on purpose.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandHelp } from '../../lib/cli/arg-parser.js';
import type { CommandSpec, ProgramSpec } from '../../lib/cli/command-spec.js';
import { FXCP } from '../../lib/cli/command-table.js';
import { FOXINGD } from '../../lib/cli/foxingd-table.js';
import { commandList, LIST_BEGIN, LIST_END } from '../../lib/cli/command-list.js';
import { manPage, roffCode } from '../../lib/cli/man-page.js';
import { fxcpManExtras } from '../../lib/cli/man-texts.js';
import { completeWords, completionScript } from '../../lib/cli/shell-completion.js';
import { ROOT } from '../helpers/run-cli.js';

interface Docs { help: (c: CommandSpec) => string; page: string; fish: string }

function docsOf(program: ProgramSpec): Docs {
  return { help: (c) => commandHelp(program.name, c), page: manPage(program, fxcpManExtras('0')), fish: completionScript(program, 'fish') };
}

/** The man page's subsection of command c: from its .SS to the next .SS or .SH. */
function manSection(program: ProgramSpec, page: string, c: CommandSpec): string | undefined {
  const start = page.indexOf(`.SS "${[program.name, ...c.path].join(' ')}"\n`);
  if (start < 0) return undefined;
  const end = page.slice(start + 1).search(/^\.S[SH] /m);
  return end < 0 ? page.slice(start) : page.slice(start, start + 1 + end);
}

/** Each gap in the help, man page and completion of `program`'s commands, as a sentence. */
function gaps(program: ProgramSpec, docs: Docs): string[] {
  const found: string[] = [];
  for (const c of program.commands) {
    const name = [program.name, ...c.path].join(' ');
    const gap = (what: string) => found.push(`${name}: ${what}`);
    if (!c.describe.trim()) gap('no description');
    const help = docs.help(c);
    const section = manSection(program, docs.page, c);
    if (!section) gap('no section in the man page');
    for (const p of c.positionals) {
      if (!p.describe.trim()) gap(`argument ${p.name} has no description`);
      if (!help.includes(p.name.toUpperCase())) gap(`help does not name argument ${p.name.toUpperCase()}`);
      if (section && !section.includes(roffCode(p.name.toUpperCase()))) gap(`man section does not name argument ${p.name.toUpperCase()}`);
    }
    // Its words complete at each level.
    for (let i = 0; i < c.path.length; i++) {
      if (!completeWords(program, [...c.path.slice(0, i), c.path[i].slice(0, 1)]).includes(c.path[i])) gap(`'${c.path[i]}' does not complete after '${c.path.slice(0, i).join(' ')}'`);
    }
    const fishIn = c.path.length > 0 ? `-n '__${program.name}_in ${c.path.join(' ')}'` : `-n '__${program.name}_default'`;
    for (const [k, o] of Object.entries(c.options)) {
      if (!o.describe.trim()) gap(`--${k} has no description`);
      // A line of its own (an example naming it does not count): `  -e, --exclude PAT  ...`.
      if (!new RegExp(`^\\s*(?:-\\w,\\s*)?--${k}(?=\\s|$)`, 'm').test(help)) gap(`help does not name --${k}`);
      if (o.short && !new RegExp(`^\\s*-${o.short},\\s*--${k}(?=\\s|$)`, 'm').test(help)) gap(`help does not name -${o.short}`);
      if (section && !section.includes(`\\fB${roffCode(`--${k}`)}\\fR`)) gap(`man section does not name --${k}`);
      if (section && o.short && !section.includes(`\\fB${roffCode(`-${o.short}`)}\\fR`)) gap(`man section does not name -${o.short}`);
      if (!completeWords(program, [...c.path, `--${k}`]).includes(`--${k}`)) gap(`--${k} does not complete`);
      if (o.short && !completeWords(program, [...c.path, `-${o.short}`]).includes(`-${o.short}`)) gap(`-${o.short} does not complete`);
      if (!docs.fish.split('\n').some((l) => l.includes(fishIn) && l.includes(` -l ${k} `))) gap(`--${k} is not in the fish script`);
      for (const v of o.choices ?? o.completions ?? []) {
        if (!completeWords(program, [...c.path, `--${k}`, '']).includes(v)) gap(`--${k} value '${v}' does not complete`);
        if (!docs.fish.split('\n').some((l) => l.includes(fishIn) && l.includes(` -l ${k} `) && l.includes(` -a '`) && l.split(` -a '`)[1].split("'")[0].split(' ').includes(v))) gap(`--${k} value '${v}' is not in the fish script`);
      }
    }
    c.positionals.forEach((p, i) => {
      for (const v of p.choices ?? []) {
        if (!completeWords(program, [...c.path, ...c.positionals.slice(0, i).map(() => 'x'), '']).includes(v)) gap(`${p.name.toUpperCase()} value '${v}' does not complete`);
      }
    });
  }
  return found;
}

for (const program of [FXCP, FOXINGD]) {
  test(`${program.name}: every command has a description, help, a man section and completions`, () => {
    const found = gaps(program, docsOf(program));
    assert.ok(found.length === 0, `gaps:\n  ${found.join('\n  ')}`);
  });
}

test('the walk names the gaps of a table whose help, man page and completions miss things', () => {
  const create = FXCP.commands.find((c) => c.path.join(' ') === 'snap create')!;
  const complete = FXCP.commands.find((c) => c.path.join(' ') === 'completion')!;
  // The documents of a table that lacks --tag and -e, and the completion command's section.
  const { tag: _tag, ...fewer } = create.options;
  const lesser: ProgramSpec = { ...FXCP, commands: FXCP.commands.filter((c) => c !== complete).map((c) => (c === create ? { ...c, options: { ...fewer, exclude: { ...fewer.exclude, short: undefined } } } : c)) };
  const docs = docsOf(lesser);
  const found = gaps(FXCP, { ...docs, help: (c) => commandHelp('fxcp', lesser.commands.find((d) => d.path === c.path) ?? c) });
  assert.equal(found.sort(), [
    'fxcp completion: no section in the man page',
    'fxcp snap create: --tag is not in the fish script',
    'fxcp snap create: help does not name --tag',
    'fxcp snap create: help does not name -e',
    'fxcp snap create: man section does not name --tag',
    'fxcp snap create: man section does not name -e',
  ]);
  // And a command without a description.
  const mute: ProgramSpec = { ...FXCP, commands: [...FXCP.commands, { ...create, path: ['snap', 'mute'], describe: ' ' }] };
  assert.equal(gaps(mute, docsOf(mute)), ['fxcp snap mute: no description']);
});

test('README.md lists the commands of the table (the block the build writes)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const begin = readme.indexOf(LIST_BEGIN);
  const end = readme.indexOf(LIST_END);
  assert.ok(begin >= 0 && end > begin, 'README.md has no list of commands between the marker comments');
  assert.ok(readme.slice(begin, end + LIST_END.length) === commandList(FXCP), 'the list of commands in README.md is stale: run the build (node bin/build.js) and commit it');
});

test.run();
