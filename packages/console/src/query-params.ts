/**
 * The console's state as the API's query parameters (docs/api.md): the view's category and
 * default filters, the reader's filters with dates turned into time bounds, and the page
 * cursor. Pure.
 */
import type { ViewDefinition } from '@hindsight/core';
import type { ConsoleState, FilterName, Filters } from './url-state.js';

/** Rows per page. */
export const PAGE_SIZE = 50;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Whether `value` is a day of the calendar written `YYYY-MM-DD` (not 30 February).
 * @example isDay('2026-02-28') // true; isDay('2026-02-30') // false
 */
export function isDay(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === value;
}

/**
 * A date picked by the reader as a time bound: the start of that day (`since`) or of the next
 * one (`until`, exclusive — so "until 31 January" includes the 31st), in the reader's time zone
 * or in UTC. Anything that is not a day — `notadate`, a timestamp, or `2026-02-30`, which
 * `Date` would roll over to 2 March — is passed on as typed, for the server to accept or refuse.
 * @example dayBound('2026-01-31', true, true) // '2026-02-01T00:00:00.000Z'
 */
export function dayBound(value: string, utc: boolean, end: boolean): string {
  const m = DATE.exec(value);
  if (!m || !isDay(value)) return value;
  const [year, month, day] = [Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (end ? 1 : 0)];
  const date = utc ? new Date(Date.UTC(year, month, day)) : new Date(year, month, day);
  return date.toISOString();
}

/** The filters a view offers, with the view's defaults where the reader set nothing. */
export function viewFilters(view: ViewDefinition, filters: Filters): Filters {
  const out: Filters = {};
  for (const [key, value] of Object.entries(view.defaults ?? {})) {
    if (value !== undefined) out[key as FilterName] = value;
  }
  for (const name of view.filters as FilterName[]) {
    const value = filters[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The filters as query parameters, dates as time bounds. */
function filterParams(filters: Filters, utc: boolean): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(filters) as [FilterName, string][]) {
    if (name === 'since') params[name] = dayBound(value, utc, false);
    else if (name === 'until') params[name] = dayBound(value, utc, true);
    else params[name] = value;
  }
  return params;
}

/** The filters of a view's events: its category, defaults and the reader's filters. */
export function eventFilterParams(
  view: ViewDefinition,
  state: Pick<ConsoleState, 'filters' | 'utc'>,
): Record<string, string> {
  return {
    ...(view.category === null ? {} : { category: view.category }),
    ...filterParams(viewFilters(view, state.filters), state.utc),
  };
}

/**
 * The start of the display window (issue #9): the tenant shows the last `windowDays` days by
 * default, from the start of that day (so the bound, and the page's address, holds all day).
 * `null` when there is no window or the reader chose dates (`since`, `until`, or `after:` /
 * `before:` in `q`): explicit dates reach the whole log.
 * @example windowStart(view, { filters: {}, utc: true }, 30, Date.parse('2026-03-31T10:00:00Z')) // '2026-03-01T00:00:00.000Z'
 */
export function windowStart(
  view: ViewDefinition,
  state: Pick<ConsoleState, 'filters' | 'utc'>,
  windowDays: number | null,
  nowMs: number,
): string | null {
  if (windowDays === null) return null;
  const filters = viewFilters(view, state.filters);
  if (filters.since !== undefined || filters.until !== undefined) return null;
  if (/(^|[\s(-])(after|before):/.test(filters.q ?? '')) return null;
  const start = new Date(nowMs - windowDays * 86_400_000);
  const day = state.utc
    ? start.toISOString().slice(0, 10)
    : `${start.getFullYear()}-${String(start.getMonth() + 1).padStart(2, '0')}-${String(start.getDate()).padStart(2, '0')}`;
  return dayBound(day, state.utc, false);
}

/** `GET /v1/tenants/{t}/events` parameters of the page shown. */
export function eventListParams(
  view: ViewDefinition,
  state: Pick<ConsoleState, 'filters' | 'utc' | 'pages'>,
): Record<string, string> {
  const cursor = state.pages.at(-1);
  return {
    ...eventFilterParams(view, state),
    limit: String(PAGE_SIZE),
    ...(cursor === undefined ? {} : { cursor }),
  };
}

/** The export formats of `GET /v1/tenants/{t}/export`. */
export type ExportFormat = 'csv' | 'ndjson' | 'pdf';

/**
 * `GET /v1/tenants/{t}/export` parameters: the view's filters, or only the chosen events (the
 * server takes `ids` alone: the reader chose them from this view already).
 */
export function exportParams(
  view: ViewDefinition,
  state: Pick<ConsoleState, 'filters' | 'utc'>,
  format: ExportFormat,
  ids: readonly string[] = [],
): Record<string, string> {
  return ids.length === 0
    ? { format, ...eventFilterParams(view, state) }
    : { format, ids: ids.join(',') };
}

/**
 * The filters the messages summary takes: those that make sense for `message.sent`, and
 * `delivery` (its receivers' status), its own.
 */
export const MESSAGE_FILTERS: readonly FilterName[] = [
  'since',
  'until',
  'delivery',
  'actor',
  'target',
  'channel',
  'ip',
  'q',
];

/** `GET /v1/tenants/{t}/messages` parameters. */
export function messageListParams(
  state: Pick<ConsoleState, 'filters' | 'utc' | 'pages'>,
): Record<string, string> {
  const filters: Filters = {};
  for (const name of MESSAGE_FILTERS) {
    const value = state.filters[name];
    if (value !== undefined) filters[name] = value;
  }
  const cursor = state.pages.at(-1);
  return {
    ...filterParams(filters, state.utc),
    limit: String(PAGE_SIZE),
    ...(cursor === undefined ? {} : { cursor }),
  };
}

/** `GET /v1/tenants/{t}/logins/users` parameters. */
export function accountListParams(
  state: Pick<ConsoleState, 'accounts' | 'pages'>,
): Record<string, string> {
  const { search, country, lastAttempt, newCountry } = state.accounts;
  const cursor = state.pages.at(-1);
  return {
    ...(search === undefined ? {} : { search }),
    ...(country === undefined ? {} : { country: country.toUpperCase() }),
    ...(lastAttempt === undefined ? {} : { lastAttempt }),
    ...(newCountry === 'true' ? { newCountry } : {}),
    limit: String(PAGE_SIZE),
    ...(cursor === undefined ? {} : { cursor }),
  };
}
