/**
 * lmdb's native addon, found without searching. This module only runs inside build/lmdb.cjs:
 * bin/build.js bundles lmdb's JavaScript with its pure JavaScript dependencies into that one
 * file (why: load-lmdb.ts) and puts this module where lmdb asks node-gyp-build-optional-packages
 * for its addon.
 *
 * The loader would search at every start (package.json reads, build/Release and prebuild
 * directories, the platform package's resolution); bin/build.js asks it once, at build time,
 * and records the file it chose and where lmdb lives, both relative to the bundle. At run
 * time that file is loaded directly. Whenever the answer may have changed, the real loader runs
 * instead, on lmdb's real directory: LMDB_PREBUILD names another addon, or the recorded file is
 * gone or will not load (Node was upgraded since the build: another ABI).
 */
import path = require('node:path');
import nodeModule = require('node:module');

/** Both set by bin/build.js (esbuild `define`), relative to the bundle's directory. */
declare const FOXING_LMDB_DIR: string;
declare const FOXING_LMDB_ADDON: string;

function searchingLoader(lmdbDir: string): (dir: string) => unknown {
  return nodeModule.createRequire(path.join(lmdbDir, 'package.json'))('node-gyp-build-optional-packages') as (dir: string) => unknown;
}

export = function loadLmdbAddon(): unknown {
  const lmdbDir = path.join(__dirname, FOXING_LMDB_DIR);
  if (!process.env.LMDB_PREBUILD) {
    const runtimeRequire = nodeModule.createRequire(__filename);
    try {
      return runtimeRequire(path.join(__dirname, FOXING_LMDB_ADDON));
    } catch { /* moved or another ABI: search as lmdb itself would */ }
  }
  return searchingLoader(lmdbDir)(lmdbDir);
};
