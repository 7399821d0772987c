/**
 * Which versions of one file a versioned mirror keeps (enable_versioning, max_versions,
 * max_versions_size_mb): the newest first, while there are fewer than `maxVersions` and their
 * sizes add up to no more than `maxBytes`. The newest version is always kept, whatever its
 * size: it is the file as the mirror holds it now. A forced version (`foxingd versions force
 * FILE --tag T`) carries a tag of its own and is kept outside the limits and the counts: the
 * user asked for it by name (`versions cleanup --include-forced` counts it like any other).
 *
 * Pure: versions in, ids to forget out (file-versions.ts removes them; gc frees their chunks).
 */

export interface VersionPolicy {
  maxVersions: number;
  maxBytes: number;
}

/** enable_versioning's defaults: ten versions, or 1 GiB of them, per file. */
export const DEFAULT_POLICY: VersionPolicy = { maxVersions: 10, maxBytes: 1024 * 1024 * 1024 };

/** The tag every version carries; a forced one carries another as well. */
export const VERSION_TAG = 'foxingd-version';

export interface FileVersion {
  id: string;
  /** ISO time of the version (the snapshot record's). */
  time: string;
  bytes: number;
  tags: readonly string[];
}

export function isForced(v: { tags: readonly string[] }): boolean {
  return v.tags.some((t) => t !== VERSION_TAG);
}

/** The ids of `versions` (one file's) that the policy drops, oldest first; `forcedToo`: forced ones count like the others. */
export function versionsToForget(versions: readonly FileVersion[], policy: VersionPolicy, forcedToo = false): string[] {
  const newestFirst = versions.filter((v) => forcedToo || !isForced(v)).sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : a.id < b.id ? 1 : -1));
  const forget: string[] = [];
  let kept = 0, bytes = 0;
  for (const v of newestFirst) {
    // Once one version is dropped, every older one is too: the history kept has no gaps.
    if (forget.length === 0 && (kept === 0 || (kept < policy.maxVersions && bytes + v.bytes <= policy.maxBytes))) {
      kept++;
      bytes += v.bytes;
    } else {
      forget.push(v.id);
    }
  }
  return forget.reverse();
}
