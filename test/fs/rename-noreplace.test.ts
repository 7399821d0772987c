// renameNoReplace: renameat2(RENAME_NOREPLACE) with the addon, link+unlink without it (a child
// process with FOXING_NO_NATIVE=1); never replaces, names both paths in its errors, and says
// "not supported here" for a directory when only the fallback is there.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native, nativeLoadError } from '../../lib/native/load.js';
import { renameNoReplace } from '../../lib/fs/rename-noreplace.js';
import { errnoOf, FsError } from '../../lib/fs/index.js';
import { ROOT } from '../helpers/run-cli.js';

let dir = '';
test.before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foxing-rename-nr-')); });
test.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const b = (p: string): Buffer => Buffer.from(p);

function thrown(fn: () => unknown): unknown {
  try { fn(); } catch (e) { return e; }
  throw new Error('expected an error');
}

test('with the addon: renames files and directories, refuses to replace (EEXIST), both names kept', () => {
  if (!native) { console.log(`  skip: addon not loaded (${nativeLoadError})`); return; }
  const a = path.join(dir, 'a');
  fs.writeFileSync(a, 'A');
  assert.is(renameNoReplace(b(a), b(path.join(dir, 'b'))), 'renameat2');
  assert.is(fs.readFileSync(path.join(dir, 'b'), 'utf8'), 'A');
  fs.writeFileSync(a, 'A2');
  const e = thrown(() => renameNoReplace(b(a), b(path.join(dir, 'b'))));
  assert.instance(e, FsError);
  assert.is(errnoOf(e), 'EEXIST');
  assert.match((e as Error).message, /^cannot rename .*\/a to .*\/b: file already exists/);
  assert.is(fs.readFileSync(a, 'utf8'), 'A2');
  assert.is(fs.readFileSync(path.join(dir, 'b'), 'utf8'), 'A');
  fs.mkdirSync(path.join(dir, 'd'));
  assert.is(renameNoReplace(b(path.join(dir, 'd')), b(path.join(dir, 'd2'))), 'renameat2');
  assert.ok(fs.statSync(path.join(dir, 'd2')).isDirectory());
  assert.is(errnoOf(thrown(() => renameNoReplace(b(path.join(dir, 'none')), b(path.join(dir, 'x'))))), 'ENOENT');
});

test('without the addon: link then unlink for files; EEXIST kept; a directory is "not supported here"', () => {
  const sub = fs.mkdtempSync(path.join(dir, 'fallback-'));
  fs.writeFileSync(path.join(sub, 'f'), 'F');
  fs.writeFileSync(path.join(sub, 'taken'), 'T');
  fs.writeFileSync(path.join(sub, 'g'), 'G');
  fs.mkdirSync(path.join(sub, 'dir'));
  const script = path.join(sub, 'child.mjs');
  fs.writeFileSync(script, `
const { renameNoReplace } = await import(${JSON.stringify(path.join(ROOT, 'build', 'lib', 'fs', 'rename-noreplace.js'))});
const [dir] = process.argv.slice(2);
const out = {};
const attempt = (k, from, to) => { try { out[k] = renameNoReplace(Buffer.from(dir + '/' + from), Buffer.from(dir + '/' + to)); } catch (e) { out[k] = { errno: e.data?.errno, message: e.message }; } };
attempt('file', 'f', 'f2');
attempt('taken', 'g', 'taken');
attempt('dir', 'dir', 'dir2');
console.log(JSON.stringify(out));
`);
  const r = spawnSync(process.execPath, [script, sub], { encoding: 'utf8', env: { ...process.env, FOXING_NO_NATIVE: '1' } });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, string | { errno: string; message: string }>;
  assert.is(out.file, 'link-unlink');
  assert.not.ok(fs.existsSync(path.join(sub, 'f')));
  assert.is(fs.readFileSync(path.join(sub, 'f2'), 'utf8'), 'F');
  assert.equal((out.taken as { errno: string }).errno, 'EEXIST');
  assert.is(fs.readFileSync(path.join(sub, 'taken'), 'utf8'), 'T');
  assert.is(fs.readFileSync(path.join(sub, 'g'), 'utf8'), 'G');
  assert.match((out.dir as { message: string }).message, /^cannot rename .*\/dir to .*\/dir2 without replacing: not supported here \(a directory/);
  assert.ok(fs.statSync(path.join(sub, 'dir')).isDirectory());
  assert.not.ok(fs.existsSync(path.join(sub, 'dir2')));
});

test.run();
