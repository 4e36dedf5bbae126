/**
 * The whole state of the console's screen as a query string — tenant, tab, filters, the stack
 * of page cursors, the open event or message, the time zone — so that a link reproduces what
 * the reader sees and the browser's Back and Forward walk through it. Pure: parsing and
 * writing only; `use-url-state.ts` connects it to the browser's history.
 */
import type { VIEW_FILTERS } from '@hindsight/core';

/**
 * A filter of the event list (SPEC §3) that a view may offer, or `delivery`: the messages
 * summary's filter on its receivers' status (`GET …/messages?delivery=`), which no view offers.
 */
export type FilterName = (typeof VIEW_FILTERS)[number] | 'delivery';

/** The filters, in the order the filter bar shows them. */
export const FILTER_NAMES = [
  'since',
  'until',
  'actor',
  'action',
  'target',
  'outcome',
  'status',
  'channel',
  'ip',
  'delivery',
  'q',
] as const satisfies readonly FilterName[];

/** The reader's filters; a filter that is not set is absent, never empty. */
export type Filters = Partial<Record<FilterName, string>>;

/** The filters of the "Users" summary of the logins log. */
export interface AccountFilters {
  readonly search?: string;
  readonly country?: string;
  readonly lastAttempt?: string;
  /** `true`: only accounts whose last successful sign-in came from a new country. */
  readonly newCountry?: string;
}

/** What a view shows (`show=` in the address; absent for its events). */
export type Show = 'events' | 'summary' | 'activity';

/** What the console shows. */
export interface ConsoleState {
  readonly tenant: string | null;
  /** The id of the view (tab). */
  readonly view: string | null;
  /**
   * What the view shows: its events, its derived summary (accounts, messages, systems), or its
   * activity (counts over time, by hour of the week, top actions and actors).
   */
  readonly show: Show;
  readonly filters: Filters;
  readonly accounts: AccountFilters;
  /** The cursors of the pages after the first, oldest first: the last one is the page shown. */
  readonly pages: readonly string[];
  /** The id of the event whose details are open. */
  readonly event: string | null;
  /** The id of the message whose receivers are open. */
  readonly message: string | null;
  /** Times in UTC instead of the reader's time zone. */
  readonly utc: boolean;
}

/** The first screen: nothing chosen yet. */
export const EMPTY_STATE: ConsoleState = {
  tenant: null,
  view: null,
  show: 'events',
  filters: {},
  accounts: {},
  pages: [],
  event: null,
  message: null,
  utc: false,
};

const ACCOUNT_KEYS = {
  search: 'search',
  country: 'country',
  lastAttempt: 'last',
  newCountry: 'new_country',
} as const;

function showOf(value: string | null): Show {
  return value === 'summary' || value === 'activity' ? value : 'events';
}

function nonEmpty(value: string | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Reads the state from a query string.
 * @example parseState('?tenant=acme&view=logins&outcome=failure').filters // { outcome: 'failure' }
 */
export function parseState(search: string): ConsoleState {
  const params = new URLSearchParams(search);
  const filters: Filters = {};
  for (const name of FILTER_NAMES) {
    const value = nonEmpty(params.get(name));
    if (value !== undefined) filters[name] = value;
  }
  const accounts: { -readonly [K in keyof AccountFilters]: AccountFilters[K] } = {};
  for (const [key, param] of Object.entries(ACCOUNT_KEYS) as [keyof AccountFilters, string][]) {
    const value = nonEmpty(params.get(param));
    if (value !== undefined) accounts[key] = value;
  }
  return {
    tenant: nonEmpty(params.get('tenant')) ?? null,
    view: nonEmpty(params.get('view')) ?? null,
    show: showOf(params.get('show')),
    filters,
    accounts,
    pages: (params.get('pages') ?? '').split(',').filter((c) => c !== ''),
    event: nonEmpty(params.get('event')) ?? null,
    message: nonEmpty(params.get('message')) ?? null,
    utc: params.get('tz') === 'utc',
  };
}

/**
 * Writes the state as a query string (with its `?`, or empty), keys in a fixed order.
 * @example stateToSearch({ ...EMPTY_STATE, tenant: 'acme' }) // '?tenant=acme'
 */
export function stateToSearch(state: ConsoleState): string {
  const params = new URLSearchParams();
  const put = (key: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined && value !== '') params.set(key, value);
  };
  put('tenant', state.tenant);
  put('view', state.view);
  if (state.show !== 'events') put('show', state.show);
  for (const name of FILTER_NAMES) put(name, state.filters[name]);
  for (const [key, param] of Object.entries(ACCOUNT_KEYS) as [keyof AccountFilters, string][]) {
    put(param, state.accounts[key]);
  }
  put('pages', state.pages.join(','));
  put('event', state.event);
  put('message', state.message);
  if (state.utc) put('tz', 'utc');
  const search = params.toString();
  return search === '' ? '' : `?${search}`;
}

/** The state on another tab: its own first page, no filters, nothing open. */
export function onView(state: ConsoleState, view: string): ConsoleState {
  return { ...EMPTY_STATE, tenant: state.tenant, utc: state.utc, view };
}
