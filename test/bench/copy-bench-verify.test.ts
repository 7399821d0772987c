// The copy suite's check of each copy (lib/bench/copy-verify.ts) on real trees: a right copy
// passes, and each kind of wrong copy (a byte, a byte past the first MiB, mode, mtime to the
// nanosecond, a missing or an extra entry, a symlink's target, the top directory's mtime) is
// named, for that copy only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, writeSync, lutimesSync } from 'node:fs';
import { join } from 'node:path';
import { compareCopies } from '../../lib/bench/copy-verify.js';
import { tempDir } from '../helpers/run-cli.js';

function makeTree(root: string): void {
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  writeFileSync(join(root, 'a', 'small.txt'), 'hello\n');
  writeFileSync(join(root, 'a', 'b', 'big.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  writeFileSync(join(root, 'empty'), '');
  symlinkSync('a/small.txt', join(root, 'link'));
  lutimesSync(join(root, 'link'), 1_700_000_000, 1_700_000_000);
  // Sparse: data at 1 MiB, a hole before it.
  const fd = openSync(join(root, 'sparse'), 'w');
  writeSync(fd, Buffer.from('data'), 0, 4, 1024 * 1024);
  closeSync(fd);
  for (const p of ['a/small.txt', 'a/b/big.bin', 'empty', 'sparse', 'a/b', 'a', '.']) utimesSync(join(root, p), 1_700_000_000.123456, 1_700_000_000.123456);
}

/** Changes a file's bytes in place and puts its times back, as a quick check would not see. */
function poke(p: string, at: number): void {
  const st = statSync(p, { bigint: true });
  const fd = openSync(p, 'r+');
  writeSync(fd, Buffer.from([0x55]), 0, 1, at);
  closeSync(fd);
  utimesSync(p, Number(st.atimeNs) / 1e9, Number(st.mtimeNs) / 1e9);
  execFileSync('touch', ['-m', '-d', `@${st.mtimeNs / 1_000_000_000n}.${String(st.mtimeNs % 1_000_000_000n).padStart(9, '0')}`, p]);
}

test('right copies pass; each wrong one is named with its first difference, the others still pass', () => {
  const t = tempDir('fxcopyverify-');
  try {
    const src = join(t.path, 'src');
    mkdirSync(src);
    makeTree(src);
    const copies = Array.from({ length: 9 }, (_, k) => join(t.path, `c${k}`));
    for (const c of copies) execFileSync('cp', ['-a', src, c]);
    assert.equal(compareCopies(src, copies), copies.map(() => null));
    poke(join(copies[1]!, 'a', 'small.txt'), 0);
    poke(join(copies[2]!, 'a', 'b', 'big.bin'), 3 * 1024 * 1024 + 3);
    chmodSync(join(copies[3]!, 'empty'), 0o600);
    const st = statSync(join(src, 'sparse'), { bigint: true });
    execFileSync('touch', ['-m', '-d', `@${st.mtimeNs / 1_000_000_000n}.${String(st.mtimeNs % 1_000_000_000n + 1n).padStart(9, '0')}`, join(copies[4]!, 'sparse')]);
    unlinkSync(join(copies[5]!, 'empty'));
    utimesSync(copies[5]!, 1_700_000_000.123456, 1_700_000_000.123456);
    writeFileSync(join(copies[6]!, 'a', 'extra'), 'x');
    utimesSync(join(copies[6]!, 'a'), 1_700_000_000.123456, 1_700_000_000.123456);
    unlinkSync(join(copies[7]!, 'link'));
    symlinkSync('a/b', join(copies[7]!, 'link'));
    lutimesSync(join(copies[7]!, 'link'), 1_700_000_000, 1_700_000_000);
    utimesSync(copies[7]!, 1_700_000_000.123456, 1_700_000_000.123456);
    utimesSync(copies[8]!, 1_700_000_001, 1_700_000_001);
    const got = compareCopies(src, copies);
    assert.is(got[0], null);
    assert.is(got[1], 'a/small.txt: contents differ');
    assert.is(got[2], 'a/b/big.bin: contents differ');
    assert.is(got[3], 'empty: mode 644 != 600');
    assert.match(got[4]!, /^sparse: mtime \d+ != \d+ ns$/);
    assert.is(got[5], '.: entries differ (4 in the source, 3 in the copy)');
    assert.is(got[6], 'a: entries differ (2 in the source, 3 in the copy)');
    assert.is(got[7], 'link: symlink target differs');
    assert.match(got[8]!, /^\.: mtime \d+ != \d+ ns \(the top directory\)$/);
  } finally { t.cleanup(); }
});

test.run();
