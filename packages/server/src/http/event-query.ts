/**
 * The query string of `GET /v1/tenants/{tenant}/events` (and exports): its schema, its
 * translation into query clauses, and the opaque, query-bound page cursor.
 */
import { createHash } from 'node:crypto';
import {
  Category,
  Channel,
  canonicalJson,
  Outcome,
  parseIpRange,
  parseQuery,
  parseTimeBound,
  type QueryClause,
  QueryError,
} from '@hindsight/core';
import { type Static, Type } from '@sinclair/typebox';
import { HindsightError } from '../errors.js';
import type { EventQuery } from '../store/types.js';

/** Filters shared by the list and export routes (SPEC §3). */
export const EventFilters = Type.Object(
  {
    category: Type.Optional(Category),
    action: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 129,
        pattern: '^(\\*[a-z0-9_.-]+|[a-z0-9_.-]+\\*?)$',
        description:
          'Exact action, a prefix ending in `*` (`user.*`), or a suffix starting with `*` ' +
          '(`*.deleted`: every deletion).',
      }),
    ),
    actor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 320, description: 'Actor id or e-mail.' }),
    ),
    target: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Target id.' })),
    outcome: Type.Optional(Outcome),
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    channel: Type.Optional(Channel),
    ip: Type.Optional(
      Type.String({ minLength: 2, maxLength: 64, description: 'An address or a CIDR range.' }),
    ),
    since: Type.Optional(
      Type.String({ description: 'Inclusive lower time bound: a date or RFC 3339 timestamp.' }),
    ),
    until: Type.Optional(
      Type.String({ description: 'Exclusive upper time bound: a date or RFC 3339 timestamp.' }),
    ),
    q: Type.Optional(
      // Its length is checked with the rest of the query (at most 1,000 characters): a longer
      // one is `invalid_query`, with the position, as a 33rd term is.
      Type.String({
        description:
          'Search query (SPEC §5), e.g. `-outcome:success "admin rights"`; at most 1,000 ' +
          'characters and 32 terms.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The list route's query string: filters plus paging. */
export const EventListQuery = Type.Composite(
  [
    EventFilters,
    Type.Object({
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
      cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
      order: Type.Optional(
        Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc' }),
      ),
    }),
  ],
  { additionalProperties: false },
);

export type EventFilters = Static<typeof EventFilters>;
export type EventListQuery = Static<typeof EventListQuery>;

/** The most events an export may pick by id. */
export const MAX_EXPORT_IDS = 500;

/** The export route's query string: a format, and the list's filters or picked ids. */
export const ExportQuery = Type.Composite(
  [
    EventFilters,
    Type.Object({
      format: Type.Union([Type.Literal('ndjson'), Type.Literal('csv'), Type.Literal('pdf')], {
        description:
          '`ndjson` without filters or ids: the whole log, verifiable offline. `ndjson` with ' +
          'them: the selected events (`hindsight-events/1`, not verifiable). `csv`: one ' +
          'readable row per event. `pdf`: a printable document of the selected events, naming ' +
          'the tenant, filters, time and the signed checkpoint of the log.',
      }),
      ids: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: MAX_EXPORT_IDS * 129,
          description: `Comma-separated event ids (at most ${MAX_EXPORT_IDS}) to export, in this order; not with filters.`,
        }),
      ),
      order: Type.Optional(
        Type.Union([Type.Literal('desc'), Type.Literal('asc')], {
          description: 'Order of a filtered export: `desc` (newest first, default) or `asc`.',
        }),
      ),
    }),
  ],
  { additionalProperties: false },
);
export type ExportQuery = Static<typeof ExportQuery>;

/** What an export holds, from its query string. */
export type ExportRequest =
  | { readonly kind: 'log' }
  | { readonly kind: 'ids'; readonly ids: string[] }
  | {
      readonly kind: 'filtered';
      readonly filters: EventFilters;
      readonly clauses: QueryClause[];
      readonly order: 'asc' | 'desc';
    };

/**
 * Reads an export's query string (already checked against {@link ExportQuery}): the whole
 * verifiable log (NDJSON without filters or ids), picked ids, or filtered events (also a CSV of
 * the whole log). Throws `invalid_request` or `invalid_query`.
 * @example exportRequest({ format: 'csv', ids: 'e1,e2' }) // { kind: 'ids', ids: ['e1', 'e2'] }
 */
export function exportRequest(query: ExportQuery): ExportRequest {
  const { format, ids, order = 'desc', ...filters } = query;
  if (ids !== undefined) {
    if (Object.keys(filters).length > 0) {
      throw badParam('ids', 'selects events by id and cannot be combined with filters');
    }
    const list = ids.split(',');
    if (list.some((id) => id === '' || id.length > 128)) {
      throw badParam('ids', 'must be event ids of 1 to 128 characters, separated by commas');
    }
    if (list.length > MAX_EXPORT_IDS) {
      throw badParam('ids', `must list at most ${MAX_EXPORT_IDS} event ids`);
    }
    return { kind: 'ids', ids: [...new Set(list)] };
  }
  if (format === 'ndjson' && Object.keys(filters).length === 0) return { kind: 'log' };
  return { kind: 'filtered', filters, clauses: filterClauses(filters), order };
}

/**
 * `invalid_request` for query parameter `name`, its path in `details`.
 * @example badParam('seq', 'is not in a tree of size 5') // Query parameter "seq" is not in …
 */
export function badParam(name: string, message: string): HindsightError {
  return new HindsightError('invalid_request', `Query parameter "${name}" ${message}.`, {
    details: [{ path: `/querystring/${name}`, message }],
  });
}

function timeBound(name: 'since' | 'until', value: string): QueryClause {
  const timeMs = parseTimeBound(value);
  if (timeMs === null) {
    throw badParam(name, 'must be a date (2026-01-31) or an RFC 3339 timestamp with offset');
  }
  return { kind: name === 'since' ? 'after' : 'before', value, timeMs, negate: false, position: 0 };
}

/**
 * Turns the filters (already checked against {@link EventFilters}) and `q` into clauses;
 * throws `invalid_request` or `invalid_query`.
 * @example filterClauses({ actor: 'ann@acme.test', q: '-outcome:success' })
 */
export function filterClauses(filters: EventFilters): QueryClause[] {
  const base = { negate: false, position: 0 } as const;
  const clauses: QueryClause[] = [];
  if (filters.category !== undefined) {
    clauses.push({ kind: 'category', value: filters.category, ...base });
  }
  if (filters.action !== undefined) {
    const { action } = filters;
    if (action.startsWith('*')) {
      clauses.push({
        kind: 'action',
        value: action.slice(1),
        prefix: false,
        suffix: true,
        ...base,
      });
    } else {
      const prefix = action.endsWith('*');
      clauses.push({
        kind: 'action',
        value: prefix ? action.slice(0, -1) : action,
        prefix,
        ...base,
      });
    }
  }
  for (const kind of ['actor', 'target', 'status'] as const) {
    const value = filters[kind];
    if (value !== undefined) clauses.push({ kind, value, ...base });
  }
  if (filters.outcome !== undefined)
    clauses.push({ kind: 'outcome', value: filters.outcome, ...base });
  if (filters.channel !== undefined)
    clauses.push({ kind: 'channel', value: filters.channel, ...base });
  if (filters.ip !== undefined) {
    const range = parseIpRange(filters.ip);
    if (!range) throw badParam('ip', 'must be an IPv4/IPv6 address or CIDR range');
    clauses.push({ kind: 'ip', value: filters.ip, range, ...base });
  }
  const since = filters.since === undefined ? undefined : timeBound('since', filters.since);
  const until = filters.until === undefined ? undefined : timeBound('until', filters.until);
  if (since?.kind === 'after' && until?.kind === 'before' && since.timeMs > until.timeMs) {
    // Surely the two were swapped: an empty answer would say there were no events.
    throw badParam('since', `is after until (${filters.until})`);
  }
  if (since !== undefined) clauses.push(since);
  if (until !== undefined) clauses.push(until);
  if (filters.q !== undefined) {
    try {
      clauses.push(...parseQuery(filters.q).clauses);
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      throw new HindsightError('invalid_query', error.message, {
        details: [{ position: error.position, message: error.message }],
        cause: error,
      });
    }
  }
  return clauses;
}

/** A short digest of what a cursor is valid for: the tenant, filters and order. */
function queryDigest(tenant: string, filters: object, order: string): string {
  return createHash('sha256')
    .update(canonicalJson({ tenant, filters, order }))
    .digest('base64url')
    .slice(0, 16);
}

function invalidCursor(cause?: unknown): HindsightError {
  return new HindsightError(
    'invalid_cursor',
    'The cursor is malformed or belongs to another query. Restart from the first page.',
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Encodes a store position as a cursor bound to this query: its tenant, its filters (any
 * JSON object) and its order (or another word naming the listing).
 */
export function encodeCursor(
  position: string,
  tenant: string,
  filters: object,
  order: string,
): string {
  return Buffer.from(
    JSON.stringify({ p: position, d: queryDigest(tenant, filters, order) }),
  ).toString('base64url');
}

/** The store position a cursor holds; throws `invalid_cursor` for another query's cursor. */
export function decodeCursor(
  cursor: string,
  tenant: string,
  filters: object,
  order: string,
): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw invalidCursor(error);
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    typeof (parsed as { p?: unknown }).p !== 'string' ||
    (parsed as { d?: unknown }).d !== queryDigest(tenant, filters, order)
  ) {
    throw invalidCursor();
  }
  return (parsed as { p: string }).p;
}

/** The list route's query string as a store query. */
export function toEventQuery(tenant: string, query: EventListQuery): EventQuery {
  const { limit = 50, cursor, order = 'desc', ...filters } = query;
  const clauses = filterClauses(filters);
  const base = { clauses, limit, order };
  return cursor === undefined
    ? base
    : { ...base, after: decodeCursor(cursor, tenant, filters, order) };
}

/** Splits the list route's query string into filters and order, for cursor encoding. */
export function cursorScope(query: EventListQuery): { filters: EventFilters; order: string } {
  const { limit: _limit, cursor: _cursor, order = 'desc', ...filters } = query;
  return { filters, order };
}
