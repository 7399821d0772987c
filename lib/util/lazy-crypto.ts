/**
 * node:crypto, loaded on first use. Loading it costs ~5 ms, and the S3 modules that need it
 * (signing, payload hashes) are imported by every store command through the store's location
 * code, though a store in a directory never signs anything. Names that only have to be unique
 * use randomTag (random-tag.ts), not this.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof import('node:crypto') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  loaded ??= require('node:crypto') as typeof import('node:crypto');
  return loaded;
}
