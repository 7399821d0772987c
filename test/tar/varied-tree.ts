/** A source tree with every kind of member a tar can carry, for the tar round-trip tests. */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, linkSync, mkdirSync, openSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../lib/native/load.js';
import { haveCommand } from '../helpers/run-cli.js';
import { seededBytes } from '../helpers/seeded.js';

export interface TreeOptions { nonUtf8?: boolean; sparse?: boolean; xattrs?: boolean }

/** Builds the tree; returns whether xattrs could be set (tmpfs without user xattrs cannot). */
export function makeVariedTree(src: string, opts: TreeOptions = {}): { xattrs: boolean } {
  mkdirSync(join(src, 'docs/deep/er'), { recursive: true });
  mkdirSync(join(src, 'empty'));
  mkdirSync(join(src, 'data'));
  writeFileSync(join(src, 'docs/readme.txt'), 'hello\n'.repeat(1000));
  writeFileSync(join(src, 'docs/deep/er/notes.md'), '# notes\n');
  writeFileSync(join(src, 'data/big.bin'), seededBytes(3 << 20, 7));
  writeFileSync(join(src, 'data/exact-block'), Buffer.alloc(1024, 3));
  writeFileSync(join(src, 'empty-file'), '');
  writeFileSync(join(src, 'setuid-bin'), '#!/bin/sh\n');
  chmodSync(join(src, 'setuid-bin'), 0o4755);
  mkdirSync(join(src, 'sticky'));
  chmodSync(join(src, 'sticky'), 0o1777);
  writeFileSync(join(src, 'private'), 'secret');
  chmodSync(join(src, 'private'), 0o600);
  symlinkSync('docs/readme.txt', join(src, 'link-to-readme'));
  symlinkSync('/nonexistent/target', join(src, 'dangling'));
  symlinkSync('x'.repeat(150), join(src, 'long-target-link'));
  linkSync(join(src, 'docs/readme.txt'), join(src, 'hardlink-to-readme'));
  linkSync(join(src, 'docs/readme.txt'), join(src, 'data/second-hardlink'));
  // Long names: a 120-byte name (pax path), and a path over 255 bytes through long dir names.
  writeFileSync(join(src, 'n'.repeat(120)), 'long name');
  const deep = join(src, 'd'.repeat(90), 'e'.repeat(90), 'f'.repeat(90));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'g'.repeat(100)), 'long path');
  writeFileSync(join(src, 'ünïcödé-名前.txt'), 'utf-8 name');
  if (opts.nonUtf8 !== false) writeFileSync(Buffer.concat([Buffer.from(src + '/'), Buffer.from([0x62, 0xff, 0x64])]), 'non-utf8 name');
  if (haveCommand('mkfifo')) spawnSync('mkfifo', [join(src, 'pipe')]);
  if (process.getuid?.() === 0 && haveCommand('mknod')) {
    spawnSync('mknod', [join(src, 'chardev'), 'c', '1', '3']);
    spawnSync('mknod', [join(src, 'blockdev'), 'b', '259', '70000']);
  }
  if (opts.sparse) {
    const fd = openSync(join(src, 'sparse.img'), 'w');
    // Holes before, between and after data extents (written as zeros by export).
    writeSync(fd, Buffer.alloc(8192, 1), 0, 8192, 1 << 20);
    writeSync(fd, Buffer.alloc(4096, 2), 0, 4096, 3 << 20);
    closeSync(fd);
    truncateSync(join(src, 'sparse.img'), 4 << 20);
  }
  let xattrs = false;
  if (native && opts.xattrs !== false) {
    try {
      native.xattrSet(join(src, 'docs/readme.txt'), 'user.origin', Buffer.from('test-suite'));
      native.xattrSet(join(src, 'empty'), 'user.bin', Buffer.from([0, 1, 2, 255, 10, 61]));
      xattrs = true;
    } catch { /* a file system without user xattrs */ }
    // POSIX ACLs travel as their system.posix_acl_* xattrs.
    if (xattrs && haveCommand('setfacl')) {
      spawnSync('setfacl', ['-m', 'u:nobody:r', join(src, 'private')]);
      spawnSync('setfacl', ['-d', '-m', 'u:nobody:rx', join(src, 'sticky')]);
    }
  }
  utimesSync(join(src, 'docs/deep/er/notes.md'), 1_000_000_000.123456, 1_500_000_000.987654);
  utimesSync(join(src, 'docs/deep/er'), 1_000_000_000, 1_400_000_000.5);
  return { xattrs };
}
