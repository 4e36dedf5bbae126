import { describe, expect, it } from 'vitest';
import { backoffDelay, MAX_TIMER_MS, retryAfterMs } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles its ceiling per attempt, up to the maximum, and jitters within its upper half', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(4, 100, 10_000, () => 0)).toBe(400);
    expect(backoffDelay(4, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(30, 100, 10_000, () => 1)).toBe(10_000);
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(5, 100, 10_000)));
    expect(seen.size).toBeGreaterThan(10);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
  // A Node.js timer past 2^31 − 1 ms fires after 1 ms: a gateway asking for 30 days would
  // otherwise have been asked again every millisecond.
  it('waits at most as long as a timer can', () => {
    expect(retryAfterMs(String(30 * 86_400), now)).toBe(MAX_TIMER_MS);
    expect(retryAfterMs('Fri, 01 Jan 2027 00:00:00 GMT', now)).toBe(MAX_TIMER_MS);
    expect(MAX_TIMER_MS).toBe(2_147_483_647);
  });
});
