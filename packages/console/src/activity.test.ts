import { describe, expect, it } from 'vitest';
import { byDay, byWeekdayAndHour, defaultSince, statsInterval, zoneReader } from './activity.js';

const hours = (from: string, counts: number[]) =>
  counts.map((count, i) => ({
    start: new Date(Date.parse(from) + i * 3_600_000).toISOString(),
    count,
  }));

describe('activity', () => {
  it('asks for hours while the range fits the endpoint, then for days', () => {
    expect(statsInterval('2026-01-01T00:00:00Z', '2026-01-31T00:00:00Z')).toBe('hour');
    expect(statsInterval('2026-01-01T00:00:00Z', '2026-03-24T00:00:00Z')).toBe('hour');
    expect(statsInterval('2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z')).toBe('day');
    expect(statsInterval('2020-01-01T00:00:00Z', '2026-06-01T00:00:00Z')).toBe('week');
    expect(statsInterval('2026-06-01T00:00:00Z', 'nonsense')).toBe('day');
  });

  it('starts the default range at the start of a day, 29 days before today', () => {
    const now = Date.parse('2026-03-31T10:20:30Z');
    expect(defaultSince(now, true)).toBe('2026-03-02T00:00:00.000Z');
  });

  it('reads day, weekday and hour in the zone asked for', () => {
    // A Friday at 23:30 UTC is Saturday 08:30 in Tokyo.
    const ms = Date.parse('2026-01-02T23:30:00Z');
    expect(zoneReader('UTC')(ms)).toEqual({ day: '2026-01-02', weekday: 4, hour: 23 });
    expect(zoneReader('Asia/Tokyo')(ms)).toEqual({ day: '2026-01-03', weekday: 5, hour: 8 });
    expect(zoneReader('Asia/Kolkata')(ms)).toEqual({ day: '2026-01-03', weekday: 5, hour: 5 });
  });

  it('sums hourly buckets into the days of the zone, every day kept', () => {
    const buckets = hours('2026-01-01T22:00:00Z', [1, 2, 0, 0, 3]);
    expect(byDay(buckets, 'UTC')).toEqual([
      { day: '2026-01-01', count: 3 },
      { day: '2026-01-02', count: 3 },
    ]);
    // In Tokyo (UTC+9) all five hours are on 2 January.
    expect(byDay(buckets, 'Asia/Tokyo')).toEqual([{ day: '2026-01-02', count: 6 }]);
  });

  it('lays hourly buckets out by weekday and hour, Monday first', () => {
    // Monday 5 January 2026, 09:00 and 10:00 UTC; Sunday 4 January, 23:00 UTC.
    const grid = byWeekdayAndHour(
      [...hours('2026-01-04T23:00:00Z', [4]), ...hours('2026-01-05T09:00:00Z', [2, 5])],
      'UTC',
    );
    expect(grid[0]?.[9]).toBe(2);
    expect(grid[0]?.[10]).toBe(5);
    expect(grid[6]?.[23]).toBe(4);
    expect(grid.flat().reduce((a, b) => a + b, 0)).toBe(11);
    // In New York the Sunday 23:00 UTC hour is Sunday 18:00.
    expect(byWeekdayAndHour(hours('2026-01-04T23:00:00Z', [4]), 'America/New_York')[6]?.[18]).toBe(
      4,
    );
  });
});
