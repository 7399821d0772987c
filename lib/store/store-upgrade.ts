/**
 * `fxcp store upgrade`: raises a store's format version to this fxcp's (store-config.ts), so
 * that its writers use what the newer version allows (version 2: bundles of small chunks,
 * formats/store.md §7.6). Only the config changes. What is stored stays as it is: every
 * version-1 pack is a valid version-2 pack, and chunks stored one by one stay so (bundling old
 * chunks would mean rewriting every pack that holds small ones).
 *
 * The caller holds the store's exclusive lock, so no writer is in mid-run, and none of an
 * older fxcp starts after: it refuses the new version (NEWER_VERSION). The config is replaced
 * whole (a temporary renamed over it, an S3 PUT, or the server's own rename over ssh://), never
 * left half-written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolkitError } from '../errors/index.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { Store } from './chunk-store.js';
import { type StoreUpgrade, upgradeConfigText } from './store-config.js';
import { CONFIG_FILE, STORE_VERSION } from './store-layout.js';

/** Raises the config of the store directory `root` to `to`; the caller holds its exclusive lock. */
export async function upgradeConfigFile(root: string, to = STORE_VERSION): Promise<StoreUpgrade> {
  const path = join(root, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ToolkitError('IO', `${path}: cannot read: ${(err as Error).message}`, { path });
  }
  const u = upgradeConfigText(text, root, to);
  if (u.text !== null) await writeFileAtomic(path, Buffer.from(u.text));
  return { from: u.from, to: u.to, changed: u.text !== null };
}

/**
 * Upgrades `store` (opened under its exclusive lock) to this fxcp's format version; with
 * `dryRun`, says what would change and changes nothing.
 */
export async function upgradeStore(store: Store, opts: { dryRun?: boolean } = {}): Promise<StoreUpgrade> {
  const from = store.config.version;
  if (from >= STORE_VERSION || opts.dryRun) return { from, to: Math.max(from, STORE_VERSION), changed: false };
  return store.remote ? store.remote.upgradeConfig(STORE_VERSION) : upgradeConfigFile(store.localDir);
}
