import type { ViewDefinition } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import {
  accountListParams,
  dayBound,
  eventListParams,
  exportParams,
  isDay,
  messageListParams,
} from './query-params.js';
import { EMPTY_STATE } from './url-state.js';

const view = {
  id: 'logins',
  builtin: true,
  label: 'User logins',
  category: 'logins',
  columns: [],
  filters: ['since', 'until', 'actor', 'outcome', 'q'],
} as ViewDefinition;

describe('query parameters', () => {
  it('turns picked days into time bounds; "until" includes its day', () => {
    expect(dayBound('2026-01-31', true, false)).toBe('2026-01-31T00:00:00.000Z');
    expect(dayBound('2026-01-31', true, true)).toBe('2026-02-01T00:00:00.000Z');
    expect(dayBound('2026-01-31', false, false)).toBe(new Date(2026, 0, 31).toISOString());
    expect(dayBound('2026-01-31T10:00:00Z', true, true)).toBe('2026-01-31T10:00:00Z');
  });

  // regression: QA — since=2026-02-30 became 2 March instead of being refused
  it('passes on a day that is not in the calendar as typed, for the server to refuse', () => {
    expect(dayBound('2026-02-30', true, false)).toBe('2026-02-30');
    expect(dayBound('2026-13-01', false, true)).toBe('2026-13-01');
    expect(dayBound('2028-02-29', true, false)).toBe('2028-02-29T00:00:00.000Z');
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2026-02-29')).toBe(false);
    expect(isDay('notadate')).toBe(false);
  });

  it('asks for the view’s category, its filters only, and the page shown', () => {
    const params = eventListParams(view, {
      ...EMPTY_STATE,
      // `delivery` is the messages summary's: the event list would refuse it.
      filters: { outcome: 'failure', channel: 'api', since: '2026-01-01', delivery: 'failed' },
      pages: ['c1', 'c2'],
      utc: true,
    });
    expect(params).toEqual({
      category: 'logins',
      outcome: 'failure',
      since: '2026-01-01T00:00:00.000Z',
      limit: '50',
      cursor: 'c2',
    });
  });

  it('applies a tenant view’s defaults unless the reader chose otherwise', () => {
    const own = { ...view, defaults: { outcome: 'failure' as const } };
    expect(eventListParams(own, EMPTY_STATE)['outcome']).toBe('failure');
    expect(
      eventListParams(own, { ...EMPTY_STATE, filters: { outcome: 'success' } })['outcome'],
    ).toBe('success');
  });

  it('exports the filtered view, or only the chosen events', () => {
    const state = { ...EMPTY_STATE, filters: { actor: 'ann@acme.test' }, pages: ['c1'] };
    expect(exportParams(view, state, 'csv')).toEqual({
      format: 'csv',
      category: 'logins',
      actor: 'ann@acme.test',
    });
    expect(exportParams(view, state, 'ndjson', ['a', 'b'])).toEqual({
      format: 'ndjson',
      ids: 'a,b',
    });
  });

  it('asks the summaries only for the filters they take', () => {
    const state = {
      ...EMPTY_STATE,
      filters: {
        actor: 'ann@acme.test',
        status: 'mixed',
        action: 'message.sent',
        delivery: 'failed',
      },
      accounts: { search: 'ann', country: 'gb' },
    };
    expect(messageListParams(state)).toEqual({
      actor: 'ann@acme.test',
      delivery: 'failed',
      limit: '50',
    });
    expect(accountListParams(state)).toEqual({ search: 'ann', country: 'GB', limit: '50' });
  });
});
