/**
 * Which snapshots a prune keeps: a pure function of the snapshots, the policy, the current
 * time and a time zone. No store, no clock, no process: everything comes in as values, so
 * the table-driven tests can feed it a year of hourly snapshots (docs/lifecycle.md).
 *
 * Semantics follow restic's `forget`:
 * - Snapshots are grouped (by host and source by default) and each group is judged alone.
 * - Within a group, snapshots are visited newest first. `last N` keeps the N newest. Each
 *   calendar rule (hourly, daily, weekly, monthly, yearly) keeps the newest snapshot of each of
 *   its N most recent buckets that hold a snapshot (a bucket is a local calendar hour, day, ISO
 *   week, month or year in `timeZone`). A count of -1 means unlimited.
 * - `keepTags`: a snapshot with any of these tags is kept.
 * - `within` (the CLI's --older-than): a snapshot newer than now − within is kept; only older
 *   ones can be removed (restic's --keep-within).
 * - A snapshot is kept when any rule keeps it, and every rule that keeps it is named.
 * - `onlyTags` (the CLI's --tag) restricts the snapshots the policy looks at; the others are
 *   left alone and reported as not considered.
 *
 * Differences from restic are listed in docs/lifecycle.md.
 */
import { UsageError } from '../errors/index.js';

export interface RetentionSnapshot {
  id: string;
  /** Snapshot time, ms since the epoch. */
  time: number;
  tags: readonly string[];
  /** Snapshots with different groups are judged separately (e.g. `host:source`). */
  group?: string;
}

export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  keepTags?: readonly string[];
  /** Keep every snapshot newer than now minus this duration. */
  within?: Duration;
  /** Only snapshots carrying one of these tags are considered. */
  onlyTags?: readonly string[];
}

/** A calendar duration: months and years are calendar months (like restic), the rest exact. */
export interface Duration { years: number; months: number; days: number; hours: number }

export interface RetentionDecision {
  id: string;
  keep: boolean;
  /** Why it is kept (rule names such as "last 3", "daily 2026-11-20", "tag nightly", "within 30d"); empty when removed. */
  reasons: string[];
  /** False for snapshots outside `onlyTags`: kept, untouched. */
  considered: boolean;
}

export interface RetentionClock {
  now: number;
  /** IANA zone for calendar buckets, e.g. 'UTC' or 'Europe/Berlin'. */
  timeZone: string;
}

type Bucket = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
const BUCKETS: Bucket[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

export function hasKeepRule(p: RetentionPolicy): boolean {
  return [p.last, ...BUCKETS.map((b) => p[b])].some((n) => n !== undefined && n !== 0)
    || (p.keepTags?.length ?? 0) > 0 || p.within !== undefined;
}

export function applyRetention(snaps: readonly RetentionSnapshot[], policy: RetentionPolicy, clock: RetentionClock): RetentionDecision[] {
  if (!hasKeepRule(policy)) throw new UsageError('no keep rule given: refusing to remove every snapshot (give --keep-last, --keep-daily, ..., --keep-tag or --older-than)', {});
  for (const k of ['last', ...BUCKETS] as const) {
    const n = policy[k];
    if (n !== undefined && (!Number.isInteger(n) || n < -1)) throw new UsageError(`--keep-${k} must be a whole number, or -1 for unlimited (got ${n})`);
  }
  const fmt = calendar(clock.timeZone);
  const cutoff = policy.within ? subtract(clock.now, policy.within) : null;
  const decisions = new Map<string, RetentionDecision>();
  const groups = new Map<string, RetentionSnapshot[]>();
  for (const s of snaps) {
    const considered = !policy.onlyTags?.length || s.tags.some((t) => policy.onlyTags!.includes(t));
    decisions.set(s.id, { id: s.id, keep: !considered, reasons: considered ? [] : ['not considered (--tag)'], considered });
    if (!considered) continue;
    const g = s.group ?? '';
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(s);
  }
  for (const list of groups.values()) {
    // Newest first; equal times by id, so the result never depends on input order.
    list.sort((a, b) => b.time - a.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let last = policy.last ?? 0;
    const left: Record<Bucket, number> = { hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
    const prev: Record<Bucket, string | null> = { hourly: null, daily: null, weekly: null, monthly: null, yearly: null };
    for (const b of BUCKETS) left[b] = policy[b] ?? 0;
    let rank = 0;
    for (const s of list) {
      const d = decisions.get(s.id)!;
      rank++;
      if (last !== 0) {
        d.reasons.push(`last ${rank}`);
        if (last > 0) last--;
      }
      const keys = left.hourly || left.daily || left.weekly || left.monthly || left.yearly ? bucketKeys(fmt, s.time) : null;
      for (const b of BUCKETS) {
        if (left[b] === 0 || !keys) continue;
        const key = keys[b];
        if (key === prev[b]) continue;
        prev[b] = key;
        d.reasons.push(`${b} ${key}`);
        if (left[b] > 0) left[b]--;
      }
      for (const t of policy.keepTags ?? []) if (s.tags.includes(t)) d.reasons.push(`tag ${t}`);
      if (cutoff !== null && s.time > cutoff) d.reasons.push(`within ${formatDuration(policy.within!)}`);
      d.keep = d.reasons.length > 0;
    }
  }
  return snaps.map((s) => decisions.get(s.id)!);
}

interface Parts { year: number; month: number; day: number; hour: number }

function calendar(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric' });
  } catch {
    throw new UsageError(`unknown time zone '${timeZone}'`);
  }
}

function localParts(fmt: Intl.DateTimeFormat, t: number): Parts {
  const p: Record<string, number> = {};
  for (const { type, value } of fmt.formatToParts(t)) if (type !== 'literal') p[type] = Number(value);
  return { year: p.year, month: p.month, day: p.day, hour: p.hour };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Bucket names, which double as the reason text ("daily 2026-11-20", "weekly 2026-W47"). */
function bucketKeys(fmt: Intl.DateTimeFormat, t: number): Record<Bucket, string> {
  const { year, month, day, hour } = localParts(fmt, t);
  const date = `${year}-${pad(month)}-${pad(day)}`;
  const w = isoWeek(year, month, day);
  return {
    hourly: `${date} ${pad(hour)}h`, daily: date, weekly: `${w.year}-W${pad(w.week)}`,
    monthly: `${year}-${pad(month)}`, yearly: String(year),
  };
}

/** ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
  d.setUTCDate(d.getUTCDate() - dow + 3); // the Thursday of this week decides the year
  const wy = d.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(wy, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() - ((firstThursday.getUTCDay() + 6) % 7) + 3);
  return { year: wy, week: 1 + Math.round((d.getTime() - firstThursday.getTime()) / (7 * 86_400_000)) };
}

/** now − duration; months and years step back in calendar months (UTC), clamped to the month's end. */
export function subtract(now: number, d: Duration): number {
  const t = new Date(now);
  const months = d.years * 12 + d.months;
  if (months) {
    const day = t.getUTCDate();
    t.setUTCDate(1);
    t.setUTCMonth(t.getUTCMonth() - months);
    const dim = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
    t.setUTCDate(Math.min(day, dim));
  }
  return t.getTime() - d.days * 86_400_000 - d.hours * 3_600_000;
}

/** Reads "30d", "12h", "2w", "6m" (months), "1y", or combinations such as "1y6m". */
export function parseDuration(text: string): Duration {
  const d: Duration = { years: 0, months: 0, days: 0, hours: 0 };
  const re = /(\d+)([hdwmy])/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[1]);
    if (m[2] === 'h') d.hours += n;
    else if (m[2] === 'd') d.days += n;
    else if (m[2] === 'w') d.days += 7 * n;
    else if (m[2] === 'm') d.months += n;
    else d.years += n;
    end = re.lastIndex;
  }
  if (text.length === 0 || end !== text.length) {
    throw new UsageError(`cannot read duration '${text}' (use a number and a unit h, d, w, m (months) or y, e.g. 30d or 1y6m)`);
  }
  return d;
}

export function formatDuration(d: Duration): string {
  const s = `${d.years ? `${d.years}y` : ''}${d.months ? `${d.months}m` : ''}${d.days ? `${d.days}d` : ''}${d.hours ? `${d.hours}h` : ''}`;
  return s || '0h';
}
