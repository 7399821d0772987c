// makeDirs / makeDirsSync: mkdir -p that ends on every error it cannot fix (issue 18, D7), and
// reports the top directory it created.
import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeDirs, makeDirsSync } from '../../lib/fs/make-dirs.js';
import { tempDir } from '../helpers/run-cli.js';

const t = tempDir('fx-mkdirs-');
test.after(() => t.cleanup());

for (const [name, make] of [['makeDirsSync', async (p: string) => makeDirsSync(p)], ['makeDirs', makeDirs]] as const) {
  test(`${name}: creates the missing parents and returns the top one created`, async () => {
    const base = join(t.path, name);
    mkdirSync(base);
    assert.is(await make(join(base, 'a/b/c')), join(base, 'a'));
    assert.ok(statSync(join(base, 'a/b/c')).isDirectory());
    assert.is(await make(join(base, 'a/b/c')), undefined, 'an existing directory: nothing created');
    assert.is(await make(join(base, 'a/b/d')), join(base, 'a/b/d'));
  });

  test(`${name}: a file in the way is an error, not a retry`, async () => {
    const base = join(t.path, `${name}-file`);
    mkdirSync(base);
    writeFileSync(join(base, 'f'), 'x');
    for (const [p, code] of [['f', 'EEXIST'], ['f/sub', 'ENOTDIR'], ['f/sub/deeper', 'ENOTDIR']]) {
      try {
        await make(join(base, p));
        assert.unreachable(p);
      } catch (err) {
        assert.is((err as NodeJS.ErrnoException).code, code, p);
      }
    }
  });

  test(`${name}: below a dangling symlink it ends with ENOENT`, async () => {
    const base = join(t.path, `${name}-dangling`);
    mkdirSync(base);
    symlinkSync(join(base, 'nowhere'), join(base, 'link'));
    try {
      await make(join(base, 'link/store'));
      assert.unreachable();
    } catch (err) {
      assert.ok(['ENOENT', 'EEXIST'].includes((err as NodeJS.ErrnoException).code!), String(err));
    }
  });

  // Node's own recursive mkdir spins for ever here: /proc/self exists, and mkdir of any new
  // name in it fails with ENOENT.
  test(`${name}: under /proc it ends with ENOENT at once`, async () => {
    if (!existsSync('/proc/self')) { console.log('  (skipped: no /proc)'); return; }
    try {
      await make('/proc/self/fx-store');
      assert.unreachable();
    } catch (err) {
      assert.is((err as NodeJS.ErrnoException).code, 'ENOENT');
      assert.match(String(err), '/proc/self/fx-store');
    }
  });
}

test.run();
