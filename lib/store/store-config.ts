/**
 * The store's config file: what a reader must know before reading anything else (format
 * version, chunker parameters, hash). Written at creation, and again only by `fxcp store
 * upgrade` (its version raised); JSON so a human can read it.
 */
import { FormatError } from '../errors/index.js';
import { HASH_NAME } from '../hash/blake3.js';
import { DEFAULT_CHUNKER_PARAMS, type ChunkerParams, validateChunkerParams } from '../chunker/index.js';
import { STORE_FORMAT, STORE_VERSION } from './store-layout.js';

export interface StoreConfig {
  format: typeof STORE_FORMAT;
  version: number;
  id: string;
  created: string;
  hash: string;
  chunker: ChunkerParams;
}

export function newStoreConfig(chunker: ChunkerParams = DEFAULT_CHUNKER_PARAMS): StoreConfig {
  return {
    format: STORE_FORMAT, version: STORE_VERSION, id: Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16))).toString('hex'),
    created: new Date().toISOString(), hash: HASH_NAME, chunker,
  };
}

export function parseStoreConfig(text: string, where: string): StoreConfig {
  let c: StoreConfig;
  try {
    c = JSON.parse(text) as StoreConfig;
  } catch {
    throw new FormatError(`${where}: not a foxing store (config is not valid JSON)`, { path: where }, 'NOT_A_STORE');
  }
  if (c?.format !== STORE_FORMAT) throw new FormatError(`${where}: not a foxing store (config format is '${String(c?.format)}')`, { path: where }, 'NOT_A_STORE');
  if (typeof c.version !== 'number' || c.version > STORE_VERSION) {
    throw new FormatError(`${where}: store format version ${c.version} is newer than this fxcp supports (${STORE_VERSION}); upgrade fxcp`,
      { path: where, version: c.version }, 'NEWER_VERSION');
  }
  if (c.hash !== HASH_NAME) throw new FormatError(`${where}: unsupported hash '${c.hash}'`, { path: where });
  try {
    validateChunkerParams(c.chunker);
  } catch (err) {
    throw new FormatError(`${where}: bad chunker parameters: ${(err as Error).message}`, { path: where });
  }
  return c;
}

/** What raising a config's version does: the text to write, or null when it is at `to` already. */
export interface ConfigUpgrade { from: number; to: number; text: string | null }

/** What `fxcp store upgrade` did (or, with --dry-run, would do). */
export interface StoreUpgrade { from: number; to: number; changed: boolean }

/**
 * The config `text` with its format version raised to `to` (this fxcp's STORE_VERSION), every
 * other field (the id, the chunker parameters) kept as it was. The version is all a reader
 * checks before it reads records of a newer kind (formats/store.md §1): raising it is what
 * lets writers use them, and what keeps an fxcp that predates them off the store.
 */
export function upgradeConfigText(text: string, where: string, to = STORE_VERSION): ConfigUpgrade {
  const c = parseStoreConfig(text, where);
  if (c.version >= to) return { from: c.version, to: c.version, text: null };
  const raw = JSON.parse(text) as Record<string, unknown>;
  return { from: c.version, to, text: JSON.stringify({ ...raw, version: to }, null, 2) + '\n' };
}
