import { describe, expect, it } from 'vitest';
import { type ConsoleState, EMPTY_STATE, onView, parseState, stateToSearch } from './url-state.js';

describe('url state', () => {
  const state: ConsoleState = {
    tenant: 'acme',
    view: 'logins',
    show: 'summary',
    filters: {
      outcome: 'failure',
      q: 'actor:"Ann Lee" -x',
      since: '2026-01-01',
      delivery: 'hard_bounce',
    },
    accounts: { search: 'ann', lastAttempt: 'failed', newCountry: 'true' },
    pages: ['eyJwIjoiMSJ9', 'eyJwIjoiMiJ9'],
    event: 'demo-000001',
    message: null,
    utc: true,
  };

  it('round-trips the whole screen through the query string', () => {
    expect(parseState(stateToSearch(state))).toEqual(state);
  });

  it('writes keys in a fixed order and leaves out what is not set', () => {
    expect(stateToSearch({ ...EMPTY_STATE, tenant: 'acme', view: 'all' })).toBe(
      '?tenant=acme&view=all',
    );
    expect(stateToSearch(EMPTY_STATE)).toBe('');
    expect(
      stateToSearch({
        ...EMPTY_STATE,
        tenant: 'acme',
        view: 'communications',
        show: 'summary',
        filters: { q: 'offer', delivery: 'failed', ip: '10.0.0.1' },
      }),
    ).toBe('?tenant=acme&view=communications&show=summary&ip=10.0.0.1&delivery=failed&q=offer');
  });

  it('ignores empty and unknown parameters', () => {
    const parsed = parseState('?tenant=acme&actor=&colour=red&pages=&tz=local&show=charts');
    expect(parsed).toEqual({ ...EMPTY_STATE, tenant: 'acme' });
  });

  it('keeps the activity of a view in the address', () => {
    const activity: ConsoleState = {
      ...EMPTY_STATE,
      tenant: 'acme',
      view: 'all',
      show: 'activity',
    };
    expect(stateToSearch(activity)).toBe('?tenant=acme&view=all&show=activity');
    expect(parseState(stateToSearch(activity))).toEqual(activity);
  });

  it('starts another tab on its first page, unfiltered, keeping tenant and time zone', () => {
    expect(onView(state, 'changes')).toEqual({
      ...EMPTY_STATE,
      tenant: 'acme',
      view: 'changes',
      utc: true,
    });
  });
});
