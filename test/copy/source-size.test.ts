// The space pre-flight's sizing walk (lib/copy/source-size.ts): every regular file below each
// source counted by its size, at any depth and in wide directories; symlinks, fifos and
// directories add nothing; a single-file source counts itself; a vanished source counts nothing.
// The addon's walk (native/src/tree_bytes.cc) and the JavaScript one give the same figures; an
// interrupt stops either.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sourceBytes } from '../../lib/copy/source-size.js';
import { native } from '../../lib/native/load.js';
import type { CopyPlan, Transfer } from '../../lib/copy/copy-paths.js';
import { tempDir } from '../helpers/run-cli.js';

const plan = (...transfers: Array<{ source: string; isDir: boolean }>) =>
  ({ transfers: transfers.map((t) => ({ ...t, source: Buffer.from(t.source) }) as unknown as Transfer) }) as CopyPlan;

test('files at every depth and in a wide directory; links, fifos and directories add nothing', async () => {
  const t = tempDir();
  try {
    const src = join(t.path, 'src');
    let want = 0;
    let dir = src;
    for (let depth = 0; depth < 6; depth++) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f${depth}`), Buffer.alloc(1000 + depth));
      want += 1000 + depth;
      dir = join(dir, `d${depth}`);
    }
    mkdirSync(join(src, 'wide'));
    for (let i = 0; i < 300; i++) {
      mkdirSync(join(src, 'wide', `s${i}`));
      writeFileSync(join(src, 'wide', `s${i}`, 'x'), Buffer.alloc(i));
      want += i;
    }
    symlinkSync('f0', join(src, 'link'));
    if (spawnSync('mkfifo', [join(src, 'fifo')]).status !== 0) console.log('  (no mkfifo: fifo left out)');
    for (const useNative of [true, false]) {
      assert.is(await sourceBytes(plan({ source: src, isDir: true }), undefined, useNative), want);
      // Several sources add up; a file source counts itself, a missing one nothing, nor a missing directory.
      assert.is(await sourceBytes(plan({ source: src, isDir: true }, { source: join(src, 'f0'), isDir: false }, { source: join(t.path, 'gone'), isDir: false },
        { source: join(t.path, 'gone-dir'), isDir: true }), undefined, useNative), want + 1000);
    }
    if (native) {
      // The addon's walk answers -1 once its stop flag is set (checked before each directory).
      assert.is(await native.treeBytesAsync(Buffer.from(src), Int32Array.of(1)), -1);
      assert.is(await native.treeBytesAsync(Buffer.from(src), new Int32Array(1)), want);
    }
    // An interrupted sizing rejects as an interruption.
    const ac = new AbortController();
    ac.abort();
    for (const useNative of [true, false]) {
      await sourceBytes(plan({ source: src, isDir: true }), ac.signal, useNative).then(() => assert.unreachable('aborted'), (err: { code?: string }) => assert.is(err.code, 'ABORTED'));
    }
  } finally {
    t.cleanup();
  }
});

test.run();
