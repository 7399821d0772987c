/**
 * zstd:auto's memory, one per chunk worker: which level paid for each kind of data seen so far,
 * so that most files need no probe.
 *
 * zstd:auto compresses at DEFAULT_ZSTD_LEVEL (3) only where that saves at least
 * ADAPTIVE_MIN_GAIN over ADAPTIVE_LOW_LEVEL (1) (codec.ts says why). Deciding that for each
 * file by compressing its first new chunk twice cost a second compression of one chunk in
 * every file of 256 KiB or more: on the bench's `mixed` set, whose 2,476 such files are mostly
 * of a few kinds that level 3 does not help, that probe and level 3 for the small files cost
 * 0.7-1.3 CPU-s of a first snapshot over zstd:1. Files of one kind (the same extension) mostly
 * compress alike, so the kind's probes decide for it:
 * - a kind is probed by its first SETTLE_PROBES files, then settled to the level its probes
 *   favour over all their bytes; one file in REPROBE_EVERY of a settled kind is probed again,
 *   so a kind whose files change character is followed;
 * - a probing file keeps the level its own probe chose (as before);
 * - bundles of small chunks (formats/store.md §7.6) are a kind of their own (BUNDLE_KIND):
 *   their level is chosen the same way, bundle by bundle.
 * Pure: names and sizes in, levels out; at most MAX_KINDS kinds are remembered (a tree of
 * random extensions shares one tally beyond that).
 */
import { ADAPTIVE_LOW_LEVEL, ADAPTIVE_MIN_FILE_BYTES, ADAPTIVE_MIN_GAIN, type CodecSpec, DEFAULT_ZSTD_LEVEL } from './codec.js';

export const SETTLE_PROBES = 4;
export const REPROBE_EVERY = 32;
export const MAX_KINDS = 1024;
/** The kind of bundles (no file name has a NUL). */
export const BUNDLE_KIND = '\0bundle';
/** The kind of every name beyond MAX_KINDS. */
const OTHER_KIND = '\0other';
const MAX_EXTENSION_BYTES = 16;
const DOT = 0x2e;
const SLASH = 0x2f;

interface Tally { low: number; high: number; probes: number; since: number; level: number }

/**
 * The kind of a file by its name: the extension of its last component, lowercased ASCII
 * (`.js`, `.tar`), or '' (no extension, a dot file, an extension longer than 16 bytes).
 */
export function kindOfName(path: Uint8Array): string {
  let dot = -1;
  for (let i = path.length - 1; i >= 0 && path[i] !== SLASH; i--) {
    if (path[i] === DOT) { dot = i; break; }
  }
  if (dot <= 0 || path[dot - 1] === SLASH || path.length - dot - 1 > MAX_EXTENSION_BYTES || dot === path.length - 1) return '';
  let kind = '';
  for (let i = dot + 1; i < path.length; i++) {
    const c = path[i];
    kind += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return kind;
}

export class LevelChoice {
  private readonly kinds = new Map<string, Tally>();

  /**
   * The spec for the chunks of the file at `path` under `spec`: unchanged unless `spec` is zstd:auto. Then a
   * file under ADAPTIVE_MIN_FILE_BYTES gets the high level (its chunks mostly go to bundles,
   * which choose their own); a larger one the level its kind settled on, or, while the kind is
   * being probed, an adaptive spec (ChunkCodec.probeLevels, then record) naming its kind.
   * Either way the result has `adaptive` set (false: settled), which marks it as zstd:auto's,
   * and a large file's has its `kind`, which keeps its small chunks out of bundles.
   */
  specForFile(spec: CodecSpec, size: number, path: Uint8Array): CodecSpec {
    if (!spec.adaptive) return spec;
    if (size < ADAPTIVE_MIN_FILE_BYTES) return { name: spec.name, level: spec.level ?? DEFAULT_ZSTD_LEVEL, adaptive: false };
    const kind = kindOfName(path);
    const level = this.levelFor(kind);
    return level === null ? { ...spec, kind } : { name: spec.name, level, adaptive: false, kind };
  }

  /** The level data of `kind` is settled on, or null: probe this one (then record it). */
  levelFor(kind: string): number | null {
    const t = this.kinds.get(this.key(kind));
    if (!t || t.probes < SETTLE_PROBES) return null;
    if (++t.since >= REPROBE_EVERY) return null;
    return t.level;
  }

  /**
   * A probe of data of `kind` took `low` bytes at the low level and `high` at the high one:
   * tallied for the kind. Returns the level this probe alone favours (for the probed file).
   */
  record(kind: string, low: number, high: number): number {
    const key = this.key(kind);
    let t = this.kinds.get(key);
    if (!t) this.kinds.set(key, t = { low: 0, high: 0, probes: 0, since: 0, level: DEFAULT_ZSTD_LEVEL });
    t.low += low;
    t.high += high;
    t.probes++;
    t.since = 0;
    t.level = pays(t.low, t.high) ? DEFAULT_ZSTD_LEVEL : ADAPTIVE_LOW_LEVEL;
    return pays(low, high) ? DEFAULT_ZSTD_LEVEL : ADAPTIVE_LOW_LEVEL;
  }

  private key(kind: string): string {
    return this.kinds.has(kind) || this.kinds.size < MAX_KINDS ? kind : OTHER_KIND;
  }
}

function pays(low: number, high: number): boolean {
  return low - high >= ADAPTIVE_MIN_GAIN * low;
}
