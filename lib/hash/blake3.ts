/**
 * BLAKE3-256, the hash that names every chunk (its chunk id) and checksums pack trailers.
 *
 * Implementations behind one interface: `@napi-rs/blake-hash` (native, prebuilt, SIMD, about
 * 3.6-7 GB/s per core here), with small inputs sent to the addon's own plain implementation
 * (native/src/blake3.cc: why there), and `blake3-wasm@2.1.5` (WebAssembly, about 0.4 GB/s),
 * kept as a tested fallback for platforms where the native package has no prebuilt binary. All
 * give identical digests (test/hash/blake3.test.ts). Pure: bytes in, 32 bytes out.
 */
import { createRequire } from 'node:module';
import { native } from '../native/load.js';

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

/** The SIMD library's interface; null when it cannot be loaded. */
function loadSimd(): Blake3 | null {
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

/** Inputs up to this size always go through the addon's own BLAKE3: faster than a call into the SIMD library. */
const OWN_ALWAYS = 4096;
/**
 * Larger inputs go through it too until this many bytes have: the SIMD library's load (5-10 ms
 * on the bench VM) costs about as much as hashing 4 MiB at the addon's ~0.65 GB/s, so a small
 * command (restoring one file) never loads it and a bulk one loads it early.
 */
const OWN_BUDGET = 4 << 20;

/**
 * The native implementation: the addon's own BLAKE3 (native/src/blake3.cc: loaded already, no
 * allocation but the 32-byte result) for small inputs, the SIMD library for bulk data, loaded
 * the first time it is needed. Without the addon, the SIMD library alone.
 */
function loadNative(): Blake3 | null {
  const own = native;
  if (!own) return loadSimd();
  let simd: Blake3 | null | undefined;
  const bulk = (): Blake3 | null => (simd === undefined ? (simd = loadSimd()) : simd);
  let ownBytes = 0;
  const ownHash = (d: Uint8Array): Buffer => {
    const out = Buffer.allocUnsafe(32);
    // The addon reads an ArrayBuffer's memory, not a SharedArrayBuffer's: input in shared
    // memory is hashed from a copy (small inputs only).
    own.blake3Into(d.buffer instanceof SharedArrayBuffer ? Uint8Array.from(d) : d, out);
    return out;
  };
  return {
    impl: 'native',
    hash(d) {
      if (d.byteLength <= OWN_ALWAYS) return ownHash(d);
      if (simd === undefined && ownBytes + d.byteLength <= OWN_BUDGET) {
        ownBytes += d.byteLength;
        return ownHash(d);
      }
      return bulk()?.hash(d) ?? ownHash(d);
    },
    hasher() {
      const b = bulk();
      if (b) return b.hasher();
      // No SIMD library: collect the input and hash it at the end (trailers and records only).
      const parts: Uint8Array[] = [];
      return { update: (d) => { parts.push(Uint8Array.from(d)); }, digest: () => ownHash(Buffer.concat(parts)) };
    },
  };
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

/** One implementation by name, for parity tests: 'own' is the addon's, alone (null without the addon). */
export function blake3Impl(which: 'native' | 'simd' | 'own' | 'wasm'): Blake3 | null {
  switch (which) {
    case 'native': return loadNative();
    case 'simd': return loadSimd();
    case 'wasm': return loadWasm();
    case 'own': {
      const own = native;
      if (!own) return null;
      const hash = (d: Uint8Array): Buffer => { const out = Buffer.allocUnsafe(32); own.blake3Into(d, out); return out; };
      return {
        impl: 'native', hash,
        hasher() {
          const parts: Uint8Array[] = [];
          return { update: (d) => { parts.push(Uint8Array.from(d)); }, digest: () => hash(Buffer.concat(parts)) };
        },
      };
    }
  }
}

export const HASH_NAME = 'blake3-256';
export const ID_BYTES = 32;
