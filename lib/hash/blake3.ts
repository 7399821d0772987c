/**
 * BLAKE3-256, the hash that names every chunk (its chunk id) and checksums pack trailers.
 *
 * Two implementations behind one interface: `@napi-rs/blake-hash` (native, prebuilt, about
 * 3.6-4 GB/s per core here) and `blake3-wasm@2.1.5` (WebAssembly, about 0.4 GB/s), kept as a
 * tested fallback for platforms where the native package has no prebuilt binary. Both give
 * identical digests (test/hash/blake3.test.ts). Pure: bytes in, 32 bytes out.
 */
import { createRequire } from 'node:module';

export interface Blake3 {
  readonly impl: 'native' | 'wasm';
  hash(data: Uint8Array): Buffer;
  /** Incremental hashing for streams (whole-file digests, trailer checksums). */
  hasher(): { update(data: Uint8Array): void; digest(): Buffer };
}

const require = createRequire(import.meta.url);

type NativeBlake = {
  blake3(d: Uint8Array): Buffer;
  Blake3Hasher: new () => { update(d: Uint8Array): unknown; digestBuffer(): Buffer };
};

/**
 * The package's generic loader probes the platform and libc on every start (5-7 ms measured);
 * the prebuilt binding for glibc Linux, when installed, is one dlopen (about 3 ms). Anything
 * else (musl, other systems) goes through the generic loader.
 */
function requireBlakeHash(): NativeBlake {
  if (process.platform === 'linux') {
    try { return require(`@napi-rs/blake-hash-linux-${process.arch}-gnu`) as NativeBlake; } catch { /* generic loader below */ }
  }
  return require('@napi-rs/blake-hash') as NativeBlake;
}

function loadNative(): Blake3 | null {
  try {
    const m = requireBlakeHash();
    return {
      impl: 'native',
      hash: (d) => m.blake3(d),
      hasher() {
        const h = new m.Blake3Hasher();
        return { update: (d) => { h.update(d); }, digest: () => h.digestBuffer() };
      },
    };
  } catch {
    return null;
  }
}

function loadWasm(): Blake3 {
  const m = require('blake3-wasm') as {
    hash(d: Uint8Array): Buffer;
    createHash(): { update(d: Uint8Array): unknown; digest(): Buffer };
  };
  return {
    impl: 'wasm',
    hash: (d) => m.hash(d),
    hasher() {
      const h = m.createHash();
      return { update: (d) => { h.update(d); }, digest: () => h.digest() };
    },
  };
}

let cached: Blake3 | undefined;

/** The fastest available implementation; FOXING_BLAKE3=wasm forces the fallback. */
export function blake3(): Blake3 {
  if (!cached) cached = (process.env.FOXING_BLAKE3 !== 'wasm' && loadNative()) || loadWasm();
  return cached;
}

export function blake3Impl(which: 'native' | 'wasm'): Blake3 | null {
  return which === 'native' ? loadNative() : loadWasm();
}

export const HASH_NAME = 'blake3-256';
export const ID_BYTES = 32;
