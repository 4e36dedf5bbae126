/**
 * Reading a tenant's events back: `GET /v1/tenants/{tenant}/events`, page after page by
 * cursor, as one async iterator.
 */
import type { Channel, Outcome, StoredEvent } from '@hindsight/core';
import type { Settings } from './options.js';
import { getJson } from './transport.js';

/** The filters of `GET /v1/tenants/{tenant}/events` (docs/api.md); all combine with AND. */
export interface QueryFilters {
  readonly category?: string;
  /** An exact action, or a prefix ending in `*` (`user.*`). */
  readonly action?: string;
  /** An actor id or e-mail. */
  readonly actor?: string;
  /** A target id. */
  readonly target?: string;
  readonly outcome?: Outcome;
  readonly status?: string;
  readonly channel?: Channel;
  /** An address or a CIDR range. */
  readonly ip?: string;
  /** From (inclusive): a date, an RFC 3339 timestamp or a `Date`. */
  readonly since?: string | Date;
  /** Until (exclusive): a date, an RFC 3339 timestamp or a `Date`. */
  readonly until?: string | Date;
  /** A search query (docs/query-language.md). */
  readonly q?: string;
  /** `desc` (newest first, default) or `asc`. */
  readonly order?: 'asc' | 'desc';
  /** Events fetched per request, 1 to 500 (default 500). */
  readonly pageSize?: number;
}

/**
 * Every event of `tenant` that matches `filters`, fetched a page at a time.
 * @example for await (const event of queryEvents(settings, 'acme', { action: 'login.*' })) …
 */
export async function* queryEvents(
  settings: Settings,
  tenant: string,
  filters: QueryFilters = {},
): AsyncGenerator<StoredEvent, void, undefined> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value === undefined || name === 'pageSize') continue;
    params.set(name, value instanceof Date ? value.toISOString() : String(value));
  }
  params.set('limit', String(filters.pageSize ?? 500));
  const base = `${settings.baseUrl}/v1/tenants/${encodeURIComponent(tenant)}/events?`;
  let cursor: string | null = null;
  do {
    if (cursor !== null) params.set('cursor', cursor);
    const page = await getJson<{ events: StoredEvent[]; nextCursor: string | null }>(
      settings,
      base + params.toString(),
      `Querying the events of "${tenant}"`,
    );
    yield* page.events;
    cursor = page.nextCursor;
  } while (cursor !== null);
}
