// fxcp's launcher starts a copy's two walks before the CLI is loaded (lib/cli/cli-loader.cts,
// copyWalkRoots): its guess from the command's words must name exactly the roots the copy plan
// (lib/copy/copy-paths.ts) walks, or the copy cannot take the walks over; anything it cannot
// tell for sure is no guess at all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyWalkRoots } from '../../lib/cli/cli-loader.cjs';
import { planCopy } from '../../lib/copy/copy-paths.js';
import { PATH_FACTS } from '../../lib/copy/local-path-facts.js';

let dir = '';
const cwd = process.cwd();
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fx-walks-ahead-'));
  for (const d of ['src/sub', 'dst/src', 'other']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'file'), 'x');
  process.chdir(dir);
});
test.after(() => { process.chdir(cwd); rmSync(dir, { recursive: true, force: true }); });

const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;

test('the roots guessed are the copy plan\'s own, for every plain form', () => {
  const forms: string[][] = [
    ['-a', 'src/', 'dst/'], ['-a', 'src/', 'dst'], ['-a', 'src', 'dst'], ['-a', 'src//', 'dst//'], ['-r', 'src/', 'other'],
    ['-av', '--delete', 'src/', 'dst/'], ['-a', '--generate-sigs', '--stats', 'src', 'dst/'], [`${dir}/src/`, '-a', `${dir}/dst`],
    ['-a', 'src/sub', 'other/'],
  ];
  for (const args of forms) {
    const roots = copyWalkRoots(args, isDir);
    assert.ok(roots, args.join(' '));
    const paths = args.filter((a) => !a.startsWith('-'));
    const plan = planCopy([Buffer.from(paths[0])], Buffer.from(paths[1]), PATH_FACTS);
    assert.is(plan.transfers.length, 1);
    assert.is(roots!.src, plan.transfers[0].source.toString(), `source of ${args.join(' ')}`);
    assert.is(roots!.dest, plan.transfers[0].target.toString(), `target of ${args.join(' ')}`);
  }
});

test('the source is listed with xattr sizes exactly where the copy lists it so', () => {
  // -a sizes them while listing, unless --generate-sigs (into an existing DEST) leaves them for
  // later; -r never reads xattrs; a dry run signs nothing (copy-engine.ts, xattrsLater).
  const sizes = (...flags: string[]) => copyWalkRoots([...flags, 'src/', 'dst/'], isDir)!.xattrSizes;
  assert.is(sizes('-a'), true);
  assert.is(sizes('-a', '--generate-sigs'), false);
  assert.is(sizes('-an', '--generate-sigs'), true);
  assert.is(sizes('-r'), false);
});

test('no guess where the words could mean anything else', () => {
  const none: string[][] = [
    ['-a', 'src/'], ['-a', 'src/', 'other/', 'dst/'], ['src/', 'dst/'], ['-a', '--exclude', '*.o', 'src/', 'dst/'], ['-a', '--exclude=x', 'src/', 'dst/'],
    ['-a', '-e', 'x', 'src/', 'dst/'], ['-a', '--', 'src/', 'dst/'], ['-ax', 'src/', 'dst/'], ['-a', '-', 'dst/'], ['-a', 'file', 'dst/'],
    ['-a', 'src/', 'missing/'], ['-a', '.', 'dst/'], ['-a', 'src/.', 'dst/'], ['-a', 'src/', '..'], ['snap', 'list'], ['-a', '--snapshot', 'src/', 'dst/'],
  ];
  for (const args of none) assert.is(copyWalkRoots(args, isDir), null, args.join(' '));
});

test.run();
