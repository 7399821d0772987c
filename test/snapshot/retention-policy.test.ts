/**
 * Retention policy, table-driven: a year of hourly snapshots in, the kept set out. Every
 * expectation is computed here from calendar arithmetic, never by calling the policy code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  applyRetention, isoWeek, parseDuration, type RetentionPolicy, type RetentionSnapshot,
} from '../../lib/snapshot/retention-policy.js';
import { mulberry32 } from '../helpers/seeded.js';

const H = 3_600_000;
const START = Date.UTC(2025, 0, 1, 0, 30);
const END = Date.UTC(2025, 11, 31, 23, 30);
const NOW = END + H / 2;

/** 8760 hourly snapshots through 2025, at half past each hour (UTC). */
function year(tagEvery = 0): RetentionSnapshot[] {
  const out: RetentionSnapshot[] = [];
  for (let t = START, i = 0; t <= END; t += H, i++) {
    out.push({ id: `s${String(i).padStart(5, '0')}`, time: t, tags: tagEvery && i % tagEvery === 0 ? ['nightly'] : [] });
  }
  return out;
}

function kept(snaps: RetentionSnapshot[], policy: RetentionPolicy, timeZone = 'UTC'): number[] {
  const byId = new Map(snaps.map((s) => [s.id, s.time]));
  return applyRetention(snaps, policy, { now: NOW, timeZone }).filter((d) => d.keep).map((d) => byId.get(d.id)!).sort((a, b) => a - b);
}

const at = (m: number, d: number, h = 23, min = 30) => Date.UTC(2025, m - 1, d, h, min);

const cases: Array<{ name: string; policy: RetentionPolicy; tz?: string; expect: () => number[] }> = [
  { name: 'last 10', policy: { last: 10 }, expect: () => Array.from({ length: 10 }, (_, i) => END - (9 - i) * H) },
  { name: 'hourly 5 = the 5 newest hours', policy: { hourly: 5 }, expect: () => Array.from({ length: 5 }, (_, i) => END - (4 - i) * H) },
  { name: 'daily 7: 23:30 of Dec 25..31', policy: { daily: 7 }, expect: () => [25, 26, 27, 28, 29, 30, 31].map((d) => at(12, d)) },
  // 2025-12-31 is a Wednesday: ISO weeks end on Sundays Dec 28, 21, 14.
  { name: 'weekly 4: newest of each ISO week', policy: { weekly: 4 }, expect: () => [at(12, 14), at(12, 21), at(12, 28), at(12, 31)] },
  {
    name: 'monthly 12: last hour of each month', policy: { monthly: 12 },
    expect: () => Array.from({ length: 12 }, (_, m) => Date.UTC(2025, m + 1, 1, 0, 30) - H),
  },
  { name: 'monthly -1 (unlimited) = 12 months', policy: { monthly: -1 }, expect: () => Array.from({ length: 12 }, (_, m) => Date.UTC(2025, m + 1, 1, 0, 30) - H) },
  { name: 'yearly 3 with one year of data', policy: { yearly: 3 }, expect: () => [END] },
  {
    name: 'daily 3 + monthly 3 overlap (Dec 31 counted by both)', policy: { daily: 3, monthly: 3 },
    expect: () => [at(10, 31), at(11, 30), at(12, 29), at(12, 30), at(12, 31)],
  },
  {
    name: 'older-than 30d + last 10: everything newer than Dec 2 00:00', policy: { within: parseDuration('30d'), last: 10 },
    expect: () => { const o: number[] = []; for (let t = Date.UTC(2025, 11, 2, 0, 30); t <= END; t += H) o.push(t); return o; },
  },
  {
    name: 'daily 2 in Europe/Berlin (UTC+1 in winter): local 23:30 = 22:30 UTC', policy: { daily: 2 }, tz: 'Europe/Berlin',
    // Dec 31 local ends at 23:00 UTC, so the newest snapshot of local Dec 31 is 22:30 UTC;
    // the 23:30 UTC one is already Jan 1 local and is the newest bucket of all.
    expect: () => [at(12, 31, 22), at(12, 31, 23)],
  },
  {
    name: 'monthly 7 in Europe/Berlin: summer months end at 21:59 UTC', policy: { monthly: 7 }, tz: 'Europe/Berlin',
    expect: () => [at(7, 31, 21), at(8, 31, 21), at(9, 30, 21), at(10, 31, 22), at(11, 30, 22), at(12, 31, 22), at(12, 31, 23)],
  },
];

for (const c of cases) {
  test(`retention: ${c.name}`, () => {
    assert.equal(kept(year(), c.policy, c.tz), c.expect());
  });
}

test('retention: reasons name every rule that kept a snapshot', () => {
  const snaps = year();
  const d = applyRetention(snaps, { last: 2, daily: 1, monthly: 1, yearly: 1 }, { now: NOW, timeZone: 'UTC' });
  const newest = d.find((x) => x.id === snaps[snaps.length - 1].id)!;
  assert.equal(newest.reasons, ['last 1', 'daily 2025-12-31', 'monthly 2025-12', 'yearly 2025']);
  const second = d.find((x) => x.id === snaps[snaps.length - 2].id)!;
  assert.equal(second.reasons, ['last 2']);
  assert.is(d.filter((x) => x.keep).length, 2);
  assert.equal(d.find((x) => x.id === snaps[0].id)!.reasons, []);
});

test('retention: keep-tag keeps every tagged snapshot; --tag restricts what is considered', () => {
  const snaps = year(24);
  const k = kept(snaps, { keepTags: ['nightly'], last: 1 });
  assert.is(k.length, 365 + 1);
  const d = applyRetention(snaps, { onlyTags: ['nightly'], last: 3 }, { now: NOW, timeZone: 'UTC' });
  const considered = d.filter((x) => x.considered);
  assert.is(considered.length, 365);
  assert.is(considered.filter((x) => x.keep).length, 3);
  assert.ok(d.filter((x) => !x.considered).every((x) => x.keep));
});

test('retention: groups are judged separately', () => {
  const snaps = year().slice(-48).flatMap((s) => [{ ...s, group: 'a' }, { ...s, id: s.id + 'b', group: 'b' }]);
  const d = applyRetention(snaps, { last: 2 }, { now: NOW, timeZone: 'UTC' });
  assert.equal(d.filter((x) => x.keep).map((x) => x.id).sort(), ['s08758', 's08758b', 's08759', 's08759b']);
});

test('retention: the result does not depend on input order', () => {
  const snaps = year();
  const r = mulberry32(7);
  const shuffled = [...snaps];
  for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]; }
  const p: RetentionPolicy = { last: 5, daily: 10, weekly: 6, monthly: 4 };
  assert.equal(kept(shuffled, p), kept(snaps, p));
});

test('retention: a policy without a keep rule is refused', () => {
  assert.throws(() => applyRetention(year(), {}, { now: NOW, timeZone: 'UTC' }), /no keep rule/);
  assert.throws(() => applyRetention(year(), { onlyTags: ['x'] }, { now: NOW, timeZone: 'UTC' }), /no keep rule/);
  assert.throws(() => applyRetention(year(), { daily: -2 }, { now: NOW, timeZone: 'UTC' }), /whole number/);
});

test('retention: older-than alone keeps only what is newer', () => {
  const all = year();
  const k = kept(all, { within: parseDuration('1y') });
  assert.is(k.length, all.length); // a year back from Jan 1 2026 is Jan 1 2025 00:00
  assert.is(kept(all, { within: parseDuration('2d') }).length, 48);
  assert.is(kept(all, { within: parseDuration('1w') }).length, 7 * 24);
});

test('isoWeek: year boundaries', () => {
  assert.equal(isoWeek(2021, 1, 3), { year: 2020, week: 53 });
  assert.equal(isoWeek(2021, 1, 4), { year: 2021, week: 1 });
  assert.equal(isoWeek(2024, 12, 30), { year: 2025, week: 1 });
  assert.equal(isoWeek(2026, 1, 1), { year: 2026, week: 1 });
  assert.equal(isoWeek(2025, 12, 28), { year: 2025, week: 52 });
});

test('parseDuration', () => {
  assert.equal(parseDuration('30d'), { years: 0, months: 0, days: 30, hours: 0 });
  assert.equal(parseDuration('1y6m2w3h'), { years: 1, months: 6, days: 14, hours: 3 });
  for (const bad of ['', '30', 'd', '30x', '3d ', '-1d']) assert.throws(() => parseDuration(bad), /cannot read duration/);
});

test.run();
