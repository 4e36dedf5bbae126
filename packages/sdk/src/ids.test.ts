import { describe, expect, it } from 'vitest';
import { newEventId } from './ids.js';

describe('newEventId', () => {
  it('is a ULID whose time part sorts by time', () => {
    const a = newEventId(Date.parse('2026-01-01T00:00:00Z'));
    const b = newEventId(Date.parse('2026-01-01T00:00:00.001Z'));
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a.slice(0, 10) < b.slice(0, 10)).toBe(true);
    // The ULID spec's example: 1469918176385 ms is 01ARYZ6S41.
    expect(newEventId(1469918176385).slice(0, 10)).toBe('01ARYZ6S41');
  });

  it("encodes each id's own time when times repeat and alternate", () => {
    const times = [1469918176385, 1469918176385, 0, 1469918176385, 2 ** 48 - 1];
    expect(times.map((t) => newEventId(t).slice(0, 10))).toEqual([
      '01ARYZ6S41',
      '01ARYZ6S41',
      '0000000000',
      '01ARYZ6S41',
      '7ZZZZZZZZZ',
    ]);
  });

  it('does not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newEventId(Date.now())));
    expect(ids.size).toBe(10_000);
  });
});
