/**
 * The "Activity" screen's arithmetic (`GET /v1/tenants/{t}/stats`), pure: which range and
 * bucket to ask for, and the server's UTC buckets regrouped by the reader's days and by
 * weekday and hour — when things happen, so that activity at night or at the weekend shows.
 */

/** Days shown when the reader chose no dates. */
export const ACTIVITY_DAYS = 30;
/** The most buckets the stats endpoint answers (docs/views.md). */
const MAX_BUCKETS = 2000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One bucket of the stats histogram. */
export interface Bucket {
  readonly start: string;
  readonly count: number;
}

/**
 * The bucket to ask for: hours, which the weekday-and-hour grid needs, unless the range holds
 * more hours than the endpoint answers buckets; then days, then weeks.
 * @example statsInterval('2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z') // 'hour'
 */
export function statsInterval(since: string, until: string): 'hour' | 'day' | 'week' {
  const hours = (Date.parse(until) - Date.parse(since)) / HOUR_MS;
  if (!Number.isFinite(hours)) return 'day';
  if (hours <= MAX_BUCKETS - 2) return 'hour';
  return hours / 24 <= MAX_BUCKETS - 2 ? 'day' : 'week';
}

/**
 * The default start: the reader's day (or the UTC day) `ACTIVITY_DAYS - 1` days before now,
 * so that the days shown are whole days of the reader's calendar, today included.
 */
export function defaultSince(nowMs: number, utc: boolean): string {
  const start = new Date(nowMs - (ACTIVITY_DAYS - 1) * DAY_MS);
  if (utc) start.setUTCHours(0, 0, 0, 0);
  else start.setHours(0, 0, 0, 0);
  return start.toISOString();
}

/** A calendar reader in one time zone: the day, weekday (0 = Monday) and hour of a time. */
export function zoneReader(zone: string): (ms: number) => {
  day: string;
  weekday: number;
  hour: number;
} {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    weekday: 'short',
    hour: '2-digit',
    hourCycle: 'h23',
  });
  const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return (ms) => {
    const parts: Record<string, string> = {};
    for (const p of format.formatToParts(new Date(ms))) parts[p.type] = p.value;
    return {
      day: `${parts['year']}-${parts['month']}-${parts['day']}`,
      weekday: WEEKDAYS.indexOf(parts['weekday'] ?? ''),
      hour: Number(parts['hour']),
    };
  };
}

/**
 * The events per day of the reader's calendar, every day of the range in order (a day without
 * events included), each bucket counted in the day in which it starts.
 * @example byDay([{ start: '2026-01-01T23:00:00Z', count: 2 }], 'UTC') // [{ day: '2026-01-01', count: 2 }]
 */
export function byDay(
  buckets: readonly Bucket[],
  zone: string,
): Array<{ readonly day: string; readonly count: number }> {
  const read = zoneReader(zone);
  const days: Array<{ day: string; count: number }> = [];
  for (const b of buckets) {
    const { day } = read(Date.parse(b.start));
    const last = days[days.length - 1];
    if (last?.day === day) last.count += b.count;
    else days.push({ day, count: b.count });
  }
  return days;
}

/**
 * The events per weekday (rows, Monday first) and hour of the day (columns, 0–23) in the
 * reader's time zone, from hourly buckets.
 */
export function byWeekdayAndHour(buckets: readonly Bucket[], zone: string): number[][] {
  const read = zoneReader(zone);
  const grid = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  for (const b of buckets) {
    if (b.count === 0) continue;
    const { weekday, hour } = read(Date.parse(b.start));
    const row = grid[weekday];
    if (row !== undefined && hour >= 0 && hour < 24) row[hour] = (row[hour] ?? 0) + b.count;
  }
  return grid;
}
