/**
 * The one module that loads the native addon (native/build/Release/foxing_native.node).
 *
 * `native` is the binding, or null when it is unavailable: not built (no compiler at install),
 * built for another Node ABI, missing a function this code expects, or disabled with
 * FOXING_NO_NATIVE=1 (used to test the pure TypeScript fallbacks). `nativeLoadError` then says
 * why, for `fxcp doctor` and one-time fallback warnings. Importing this module never throws.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../util/package-paths.js';
import type { NativeBinding } from './binding.js';

export type { NativeBinding, NativePath, Statx } from './binding.js';

/** Every function NativeBinding declares; a stale build lacking one is treated as absent. */
const REQUIRED: ReadonlyArray<keyof NativeBinding> = [
  'gearChunkLengths', 'xattrList', 'xattrGet', 'xattrSet', 'seekData', 'seekHole', 'utimens', 'mknod', 'addressOffset', 'statDir', 'scanAhead', 'claimScanAhead', 'pairScans', 'sizeXattrs', 'treeBytesAsync', 'blake3Into',
  'ficlone', 'ficloneAsync', 'ficloneRange', 'copyFileRange', 'copyFileRangeAsync', 'sendFile', 'sendFileAsync', 'fallocate', 'statx', 'renameNoReplace', 'copyBatchAsync',
  'inotifyInit', 'inotifyAddWatch', 'inotifyRmWatch', 'readAvailable', 'FdPoll', 'fanotifyInit', 'fanotifyMark', 'pathOfHandle', 'fanotifyMarkHandle', 'handleUnder', 'sendUnixDatagram', 'releaseFileMaps', 'fileMapsResident', 'readFiles', 'prefetchFiles', 'futimens', 'writeNewFiles',
];

/** Where node-gyp puts the addon, under the package root. */
export const nativeAddonPath: string = join(packageRoot, 'native', 'build', 'Release', 'foxing_native.node');

function load(): { binding: NativeBinding | null; error: string | null } {
  if (process.env.FOXING_NO_NATIVE === '1') {
    return { binding: null, error: 'disabled by FOXING_NO_NATIVE=1' };
  }
  try {
    const require = createRequire(import.meta.url);
    const mod = require(nativeAddonPath) as Partial<NativeBinding> | null;
    const missing = REQUIRED.filter((name) => typeof mod?.[name] !== 'function');
    if (missing.length > 0) {
      return { binding: null, error: `${nativeAddonPath} lacks ${missing.join(', ')} (stale build? run npm run build)` };
    }
    return { binding: mod as NativeBinding, error: null };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err?.code === 'MODULE_NOT_FOUND' ? 'not built' : (err?.message ?? String(e)).split('\n')[0];
    return { binding: null, error: `cannot load ${nativeAddonPath}: ${why}` };
  }
}

const loaded = load();

/** The native addon, or null (then use the TypeScript fallback and say so). */
export const native: NativeBinding | null = loaded.binding;
/** Why `native` is null, or null when it loaded. */
export const nativeLoadError: string | null = loaded.error;
