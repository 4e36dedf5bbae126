// Issue #9: the display window's first day, and when the reader's dates replace it.
import type { ViewDefinition } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { windowStart } from './query-params.js';

const view = {
  id: 'changes',
  builtin: true,
  label: 'Changes',
  category: 'changes',
  columns: [],
  filters: ['since', 'until', 'q'],
} as ViewDefinition;
const NOW = Date.parse('2026-03-31T10:00:00Z');

describe('windowStart', () => {
  it('starts at the beginning of the day `windowDays` ago, the same all day', () => {
    const state = { filters: {}, utc: true };
    expect(windowStart(view, state, 30, NOW)).toBe('2026-03-01T00:00:00.000Z');
    expect(windowStart(view, state, 30, NOW + 13 * 3_600_000)).toBe('2026-03-01T00:00:00.000Z');
    // In the reader's zone: the local midnight of the local day 30 days ago.
    const local = new Date(NOW - 30 * 86_400_000);
    expect(windowStart(view, { filters: {}, utc: false }, 30, NOW)).toBe(
      new Date(local.getFullYear(), local.getMonth(), local.getDate()).toISOString(),
    );
  });

  it('is off without a window and whenever the reader chose dates', () => {
    expect(windowStart(view, { filters: {}, utc: true }, null, NOW)).toBeNull();
    for (const filters of [
      { since: '2025-01-01' },
      { until: '2025-01-01' },
      { q: 'after:2025-01-01' },
      { q: 'invoice -before:2025-06-01' },
    ]) {
      expect(windowStart(view, { filters, utc: true }, 30, NOW)).toBeNull();
    }
    // A word that merely contains "after" is no date.
    expect(windowStart(view, { filters: { q: 'thereafter' }, utc: true }, 30, NOW)).toBe(
      '2026-03-01T00:00:00.000Z',
    );
  });
});
