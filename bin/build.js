#!/usr/bin/env node
// Build step run by `npm install` (the `prepare` script): the native addon, then TypeScript.
// The addon is optional: when it cannot build, every caller uses its pure TypeScript twin and
// says so (`fxcp doctor` shows which one is in use), so a failed addon build is a warning here.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function nodeGyp() {
  for (const id of ['node-gyp/bin/node-gyp.js', 'npm/node_modules/node-gyp/bin/node-gyp.js']) {
    try { return [process.execPath, require.resolve(id)]; } catch { /* try the next */ }
  }
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

if (existsSync(join(root, 'native', 'binding.gyp')) && process.env.FOXING_NO_NATIVE !== '1') {
  const [cmd, ...pre] = nodeGyp();
  const args = [...pre, 'rebuild', '--directory', join(root, 'native')];
  // Headers come from the installed Node (npm sets nodedir on this machine kind); never download them.
  if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) args.push('--nodedir=/usr');
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.warn('foxing: native addon did not build; the pure TypeScript fallbacks will be used (slower chunking, no xattrs, holes found by zero scan)');
  }
}
const tsc = require.resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
process.exit(r.status ?? 1);
