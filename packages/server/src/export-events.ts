/**
 * Exports of selected events: the events a filtered list shows, or rows picked by id, read page
 * by page in constant memory. Unlike the verifiable export (`export.ts`) these carry no salts or
 * checkpoints; they are for reading (NDJSON `hindsight-events/1` here, CSV in `export-csv.ts`),
 * not for `hindsight verify`.
 */
import { type EVENTS_FORMAT, LIMITS, type QueryClause, type StoredEvent } from '@hindsight/core';
import { timeClause } from './store/stats-plan.js';
import type { Store } from './store/types.js';

const PAGE = 500;

/** Which events an export holds: listed ids in their order, or those matching clauses. */
export type EventSelection =
  | { readonly ids: readonly string[] }
  | { readonly clauses: readonly QueryClause[]; readonly order: 'asc' | 'desc' };

/**
 * The selected events, a page at a time; always at least one page, maybe empty. Events stored
 * after the export began are left out, so an export of a busy log ends. Unknown ids are skipped.
 * @example for await (const page of selectedEvents(store, 'acme', { ids: ['e1', 'e2'] })) …
 */
export async function* selectedEvents(
  store: Store,
  tenant: string,
  selection: EventSelection,
): AsyncGenerator<StoredEvent[]> {
  if ('ids' in selection) {
    const found = await Promise.all(selection.ids.map((id) => store.getEvent(tenant, id)));
    yield found.filter((e) => e !== null);
    return;
  }
  const size = await store.logSize(tenant);
  // Oldest first, the newest events come last: without a bound, an export of a log that grows
  // faster than it is read would never end. No event stored before now is later than this.
  const bound =
    selection.order === 'asc' ? [timeClause('before', Date.now() + LIMITS.futureSkewMs + 1)] : [];
  let after: string | undefined;
  do {
    const page = await store.queryEvents(tenant, {
      clauses: [...selection.clauses, ...bound],
      limit: PAGE,
      order: selection.order,
      ...(after === undefined ? {} : { after }),
    });
    yield page.events.filter((e) => e.seq <= size);
    after = page.next ?? undefined;
  } while (after !== undefined);
}

/** The first line of an NDJSON export of selected events. */
export interface EventsHeader {
  readonly type: 'header';
  readonly format: typeof EVENTS_FORMAT;
  readonly tenant: string;
  /** The event-list filters the export was asked with (none when `ids` is set). */
  readonly filters: Record<string, string>;
  /** The ids asked for, when rows were picked by id. */
  readonly ids?: readonly string[];
  /** The order of a filtered export. */
  readonly order?: 'asc' | 'desc';
  readonly exportedAt: string;
}

/**
 * The NDJSON lines of an export of selected events: the header, then `{ type: 'event', event }`
 * per event. The header comes with the first page, so that a store failing before any event is
 * read fails the request, not the download.
 */
export async function* eventsNdjson(
  header: EventsHeader,
  pages: AsyncIterable<StoredEvent[]>,
): AsyncGenerator<string> {
  let out = `${JSON.stringify(header)}\n`;
  for await (const page of pages) {
    for (const event of page) out += `${JSON.stringify({ type: 'event', event })}\n`;
    yield out;
    out = '';
  }
}
