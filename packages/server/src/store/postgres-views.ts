/**
 * Reads of the derived views (issue #5) from PostgreSQL: the projections that
 * `postgres-projections.ts` keeps, the counting of stats, and tenants' own views. The same
 * answers as `sqlite-views.ts`; every value is a bound parameter.
 */
import type { QueryClause, StoredEvent, ViewInput } from '@hindsight/core';
import { HindsightError } from '../errors.js';
import { actorKeySql } from './postgres-projections.js';
import { buildQuery } from './postgres-query.js';
import {
  actionSuffixes,
  actionsLikeSql,
  type CountFilters,
  countConditions,
  NO_SUFFIXES,
  STATS_SCAN_LIMIT,
  type StatsSource,
  type SuffixActions,
  suffixPattern,
  type TimeUnit,
  timeClause,
} from './stats-plan.js';
import type {
  DeliveryCount,
  DeliveryReport,
  EventBrief,
  IntegrationSummary,
  LoginAttempt,
  LoginUser,
  LoginUsersQuery,
  MessageReceiver,
  StoredView,
} from './types.js';

/** Runs one statement and resolves its rows. */
export type Rows = <R extends object>(sql: string, params: unknown[]) => Promise<R[]>;

/**
 * The sort columns of the logins view: an event position `(…_ms, …_seq)` or a text, each
 * followed by `actor_key`.
 */
const LOGIN_SORT_COLUMNS = {
  lastAttempt: ['seen_ms', 'seen_seq'],
  lastSuccess: ['success_ms', 'success_seq'],
  lastFailure: ['failure_ms', 'failure_seq'],
  name: ['name'],
  email: ['email'],
} as const;

/**
 * A logins page position: the last user's sort value (`[ms, seq]` of a position, or a text)
 * and key. As text: `[ms, seq, key]` or `[text, key]`.
 */
export type LoginPosition = readonly [number, number, string] | readonly [string, string];

/** Parses a logins page position for a sort order; throws `invalid_cursor`. */
export function parseLoginPosition(text: string, sort: LoginUsersQuery['sort']): LoginPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (Array.isArray(parsed)) {
    const byPosition = LOGIN_SORT_COLUMNS[sort].length === 2;
    if (
      byPosition &&
      parsed.length === 3 &&
      Number.isSafeInteger(parsed[0]) &&
      Number.isSafeInteger(parsed[1]) &&
      typeof parsed[2] === 'string'
    ) {
      return [parsed[0] as number, parsed[1] as number, parsed[2]];
    }
    if (
      !byPosition &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return [parsed[0], parsed[1]];
    }
  }
  throw new HindsightError('invalid_cursor', 'The cursor does not name a position in this view.');
}

/**
 * Whether the country of an account's newest successful sign-in (`login_users` row) had its
 * first successful sign-in at or after `since` (a bound parameter: epoch ms), after one from
 * another country: see `LoginUser.newCountry`.
 */
const newCountrySql = (since: string) =>
  '(success_ms > 0 AND EXISTS (SELECT 1 FROM login_countries c ' +
  'JOIN login_countries o ON o.tenant_id = c.tenant_id AND o.actor_key = c.actor_key ' +
  'AND o.first_ms > 0 AND (o.first_ms, o.first_seq) < (c.first_ms, c.first_seq) ' +
  'WHERE c.tenant_id = login_users.tenant_id AND c.actor_key = login_users.actor_key ' +
  `AND c.country = login_users.success #>> '{location,country}' AND c.first_ms >= ${since}))`;

interface LoginRow {
  actor_key: string;
  actor: StoredEvent['actor'];
  new_country: boolean;
  seen_failed: boolean;
  success: LoginAttempt | null;
  failure: LoginAttempt | null;
  successes: string;
  failures: string;
  /** The sort value: a text, or a position's ms and seq (bigint, as text). */
  s1: string;
  s2?: string;
}

/** The logins view of a tenant, one page. */
export async function loginUsers(
  rows: Rows,
  tenantId: number,
  query: LoginUsersQuery,
  after: LoginPosition | undefined,
): Promise<{ users: LoginUser[]; next: string | null }> {
  const columns = LOGIN_SORT_COLUMNS[query.sort];
  const params: unknown[] = [tenantId];
  const bind = (value: unknown, type: string) => {
    params.push(value);
    return `$${params.length}::${type}`;
  };
  const where = ['tenant_id = $1'];
  if (query.search !== undefined) {
    const like = bind(`%${query.search.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`, 'text');
    where.push(`(name LIKE ${like} ESCAPE '\\' OR email LIKE ${like} ESCAPE '\\')`);
  }
  if (query.lastAttempt !== undefined) {
    where.push(`seen_failed = ${bind(query.lastAttempt === 'failed', 'boolean')}`);
  }
  const newCountry = newCountrySql(bind(Date.parse(query.newCountrySince), 'bigint'));
  if (query.newCountry !== undefined) {
    where.push(`${newCountry} = ${bind(query.newCountry, 'boolean')}`);
  }
  if (query.country !== undefined) {
    where.push(
      'EXISTS (SELECT 1 FROM login_countries c WHERE c.tenant_id = login_users.tenant_id ' +
        `AND c.actor_key = login_users.actor_key AND c.country = ${bind(query.country.toUpperCase(), 'text')})`,
    );
  }
  const desc = query.order === 'desc';
  if (after !== undefined) {
    const values =
      after.length === 3
        ? [bind(after[0], 'bigint'), bind(after[1], 'bigint'), bind(after[2], 'text')]
        : [bind(after[0], 'text'), bind(after[1], 'text')];
    where.push(
      `(${[...columns, 'actor_key'].join(', ')}) ${desc ? '<' : '>'} (${values.join(', ')})`,
    );
  }
  const dir = desc ? 'DESC' : 'ASC';
  const page = await rows<LoginRow>(
    'SELECT actor_key, actor, seen_failed, success, failure, successes, failures, ' +
      `${newCountry} AS new_country, ` +
      `${columns.map((c, i) => `${c} AS s${i + 1}`).join(', ')} FROM login_users ` +
      `WHERE ${where.join(' AND ')} ` +
      `ORDER BY ${[...columns, 'actor_key'].map((c) => `${c} ${dir}`).join(', ')} ` +
      `LIMIT ${bind(query.limit + 1, 'integer')}`,
    params,
  );
  const shown = page.slice(0, query.limit);
  const keys = shown.map((r) => r.actor_key);
  const [countries, recent] = await Promise.all([
    loginCountries(rows, tenantId, keys),
    recentFailures(rows, tenantId, keys, query.recentSince),
  ]);
  const users = shown.map(
    (r): LoginUser => ({
      key: r.actor_key,
      actor: r.actor,
      lastAttempt: r.seen_failed ? 'failed' : 'succeeded',
      lastSuccess: r.success,
      lastFailure: r.failure,
      newCountry: r.new_country,
      successes: Number(r.successes),
      failures: Number(r.failures),
      recentFailures: recent.get(r.actor_key) ?? 0,
      countries: countries.get(r.actor_key) ?? [],
    }),
  );
  const last = shown[shown.length - 1];
  let next: string | null = null;
  if (page.length > query.limit && last) {
    next = JSON.stringify(
      last.s2 === undefined
        ? [last.s1, last.actor_key]
        : [Number(last.s1), Number(last.s2), last.actor_key],
    );
  }
  return { users, next };
}

/** The countries each account signed in from, most recent first. */
async function loginCountries(
  rows: Rows,
  tenantId: number,
  keys: readonly string[],
): Promise<Map<string, string[]>> {
  const countries = new Map<string, string[]>();
  if (keys.length === 0) return countries;
  const found = await rows<{ actor_key: string; country: string }>(
    'SELECT actor_key, country FROM login_countries WHERE tenant_id = $1 ' +
      'AND actor_key = ANY($2::text[]) ORDER BY last_ms DESC, last_seq DESC',
    [tenantId, keys],
  );
  for (const r of found) {
    const list = countries.get(r.actor_key) ?? [];
    list.push(r.country);
    countries.set(r.actor_key, list);
  }
  return countries;
}

/** The conditions of a failed sign-in attempt (see the logins projection). */
const FAILED_LOGIN =
  "e.category = 'logins' AND e.action IN ('login.succeeded', 'login.failed') " +
  "AND (e.action = 'login.failed' OR e.outcome = 'failure')";

/**
 * Each account's failed attempts at or after `since`, counted from the events (through the
 * actor or e-mail index): accounts keyed `email:…` by e-mail among attempts without an id.
 */
async function recentFailures(
  rows: Rows,
  tenantId: number,
  keys: readonly string[],
  since: string,
): Promise<Map<string, number>> {
  const sinceMs = Date.parse(since);
  if (keys.length === 0 || Number.isNaN(sinceMs)) return new Map();
  const ids = keys.filter((k) => !k.startsWith('email:'));
  const emails = keys.filter((k) => k.startsWith('email:')).map((k) => k.slice(6));
  const found = await rows<{ key: string; n: string }>(
    `SELECT k.id AS key, (SELECT count(*) FROM events e WHERE e.tenant_id = $1 AND e.actor_id = k.id ` +
      `AND e.time >= $4::timestamptz AND ${FAILED_LOGIN}) AS n FROM unnest($2::text[]) AS k(id) ` +
      "UNION ALL SELECT 'email:' || k.email, (SELECT count(*) FROM events e WHERE e.tenant_id = $1 " +
      'AND e.actor_email = k.email AND e.actor_id IS NULL AND e.time >= $4::timestamptz ' +
      `AND ${FAILED_LOGIN}) FROM unnest($3::text[]) AS k(email)`,
    [tenantId, ids, emails, new Date(sinceMs).toISOString()],
  );
  return new Map(found.map((r) => [r.key, Number(r.n)]));
}

/** How many receivers of each message are in each status. */
export async function deliveryCounts(
  rows: Rows,
  tenantId: number,
  messageIds: readonly string[],
): Promise<DeliveryCount[]> {
  if (messageIds.length === 0) return [];
  const found = await rows<{ message_id: string; status: string; n: string }>(
    'SELECT message_id, status, count(*) AS n FROM message_receivers WHERE tenant_id = $1 ' +
      'AND message_id = ANY($2::text[]) GROUP BY message_id, status ORDER BY message_id, status',
    [tenantId, messageIds],
  );
  return found.map((r) => ({ messageId: r.message_id, status: r.status, count: Number(r.n) }));
}

/** The receivers of a message by address, one page. */
export async function messageReceivers(
  rows: Rows,
  tenantId: number,
  messageId: string,
  limit: number,
  afterAddress: string | undefined,
): Promise<MessageReceiver[]> {
  const found = await rows<{
    address: string;
    name: string | null;
    status: string;
    report: DeliveryReport | null;
  }>(
    'SELECT address, name, status, report FROM message_receivers WHERE tenant_id = $1 ' +
      'AND message_id = $2 AND address > $3 ORDER BY address LIMIT $4',
    [tenantId, messageId, afterAddress ?? '', limit],
  );
  return found.map((r) => ({
    address: r.address,
    ...(r.name === null ? {} : { name: r.name }),
    status: r.status,
    ...(r.report === null ? {} : { report: r.report }),
  }));
}

/** The integrations of a tenant, by name. */
export async function integrations(rows: Rows, tenantId: number): Promise<IntegrationSummary[]> {
  const found = await rows<{
    system: string;
    name: string;
    last_event: EventBrief;
    last_status: string | null;
    acked: (EventBrief & { upToSeq: number }) | null;
    errors: string;
    notifications: string;
  }>(
    'SELECT system, name, last_event, last_status, acked, errors, notifications ' +
      'FROM integrations WHERE tenant_id = $1 ORDER BY name, system',
    [tenantId],
  );
  return found.map((r) => ({
    system: r.system,
    name: r.name,
    lastEvent: r.last_event,
    lastStatus: r.last_status,
    unacknowledged: { errors: Number(r.errors), notifications: Number(r.notifications) },
    acknowledged: r.acked,
  }));
}

/** What a stats scan reads of each event: its time, action, outcome and actor key. */
const SCAN_SELECT =
  '(extract(epoch FROM e.time) * 1000)::bigint AS ms, e.action, e.outcome, ' +
  actorKeySql('e') +
  ' AS actor';
/** The same, from `event_search` alone (a scan by words and time only). */
const SEARCH_SCAN_SELECT =
  '(extract(epoch FROM s.time) * 1000)::bigint AS ms, s.action, s.outcome, s.actor';

/**
 * The event list's query (`postgres-query.ts`) for clauses in `[fromMs, toMs)`, newest first,
 * reading up to `STATS_SCAN_LIMIT` + 1 rows, with the select list of a stats scan.
 */
function scanSql(
  tenantId: number,
  clauses: readonly QueryClause[],
  fromMs: number,
  toMs: number,
  suffixes: SuffixActions,
): { sql: string; params: unknown[] } {
  return buildQuery(
    tenantId,
    {
      clauses: [...clauses, timeClause('after', fromMs), timeClause('before', toMs)],
      limit: STATS_SCAN_LIMIT,
      order: 'desc',
    },
    undefined,
    suffixes,
    SCAN_SELECT,
    SEARCH_SCAN_SELECT,
  );
}

/** The tenant's actions that end with each action suffix of the clauses. */
export async function suffixActions(
  rows: Rows,
  tenantId: number,
  clauses: readonly QueryClause[],
): Promise<SuffixActions> {
  const suffixes = actionSuffixes(clauses);
  if (suffixes.length === 0) return NO_SUFFIXES;
  let n = 0;
  const sql = actionsLikeSql(() => `$${++n}`);
  const entries = await Promise.all(
    suffixes.map(async (suffix) => {
      const found = await rows<{ action: string }>(sql, [tenantId, suffixPattern(suffix)]);
      return [suffix, found.map((r) => r.action)] as const;
    }),
  );
  return new Map(entries);
}

/** The kept counts and event scans of one tenant, for `computeStats`. */
export function statsSource(rows: Rows, tenantId: number): StatsSource {
  /** The table and column of counts per hour or day. */
  const table = (unit: TimeUnit): [string, string] =>
    unit === 'day' ? ['event_days', 'day'] : ['event_counts', 'hour'];
  /** The conditions of count filters, numbered after the 3 fixed parameters. */
  const counted = (filters: CountFilters) => {
    let n = 3;
    return countConditions(filters, () => `$${++n}`, true);
  };
  return {
    async scan(clauses, fromMs, toMs) {
      const suffixes = await suffixActions(rows, tenantId, clauses);
      const { sql, params } = scanSql(tenantId, clauses, fromMs, toMs, suffixes);
      const found = await rows<{ ms: string; action: string; outcome: string; actor: string }>(
        sql,
        params,
      );
      return found.map((r) => ({
        timeMs: Number(r.ms),
        action: r.action,
        outcome: r.outcome,
        actorKey: r.actor,
      }));
    },
    async timeTotals(filters, unit, from, to) {
      const [name, column] = table(unit);
      const c = counted(filters);
      const found = await rows<{ time: number; n: string }>(
        `SELECT ${column} AS time, sum(n) AS n FROM ${name} WHERE tenant_id = $1 ` +
          `AND ${column} >= $2 AND ${column} < $3${c.sql} GROUP BY ${column}`,
        [tenantId, from, to, ...c.params],
      );
      return found.map((r) => ({ time: r.time, n: Number(r.n) }));
    },
    async actionTotals(filters, unit, from, to) {
      const [name, column] = table(unit);
      const c = counted(filters);
      const found = await rows<{ action: string; outcome: string; n: string }>(
        `SELECT action, outcome, sum(n) AS n FROM ${name} WHERE tenant_id = $1 ` +
          `AND ${column} >= $2 AND ${column} < $3${c.sql} GROUP BY action, outcome`,
        [tenantId, from, to, ...c.params],
      );
      return found.map((r) => ({ action: r.action, outcome: r.outcome, n: Number(r.n) }));
    },
    async actorTotals(category, fromDay, toDay, top) {
      const found = await rows<{ actor_key: string; n: string }>(
        'SELECT actor_key, sum(n) AS n FROM actor_days WHERE tenant_id = $1 AND category = $2 ' +
          'AND day >= $3 AND day < $4 GROUP BY actor_key' +
          (top === undefined ? '' : ' ORDER BY n DESC, actor_key LIMIT $5'),
        top === undefined
          ? [tenantId, category, fromDay, toDay]
          : [tenantId, category, fromDay, toDay, top],
      );
      return new Map(found.map((r) => [r.actor_key, Number(r.n)]));
    },
    async actors(keys) {
      if (keys.length === 0) return new Map();
      // The actor of each key's newest event, as `actors` points to it.
      const found = await rows<{ actor_key: string; actor: StoredEvent['actor'] | null }>(
        "SELECT a.actor_key, hindsight_json(e.body) -> 'actor' AS actor FROM actors a " +
          'JOIN events e ON e.tenant_id = a.tenant_id AND e.time = a.last_time ' +
          'AND e.seq = a.last_seq WHERE a.tenant_id = $1 AND a.actor_key = ANY($2::text[])',
        [tenantId, keys],
      );
      const actors = new Map<string, StoredEvent['actor']>();
      for (const r of found) if (r.actor !== null) actors.set(r.actor_key, r.actor);
      return actors;
    },
  };
}

/** A tenant's own views, by id. */
export async function views(rows: Rows, tenant: string): Promise<StoredView[]> {
  const found = await rows<{ id: string; definition: string; updated_at: Date }>(
    'SELECT id, definition, updated_at FROM views WHERE tenant = $1 ORDER BY id',
    [tenant],
  );
  return found.map((r) => ({
    id: r.id,
    view: JSON.parse(r.definition) as ViewInput,
    updatedAt: r.updated_at.toISOString(),
  }));
}

/** Adds or replaces a tenant's view. */
export async function putView(
  rows: Rows,
  tenant: string,
  id: string,
  view: ViewInput,
): Promise<StoredView> {
  const updatedAt = new Date().toISOString();
  await rows(
    'INSERT INTO views (tenant, id, definition, updated_at) VALUES ($1, $2, $3, $4) ' +
      'ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition, ' +
      'updated_at = excluded.updated_at',
    [tenant, id, JSON.stringify(view), updatedAt],
  );
  return { id, view, updatedAt };
}

/** Removes a tenant's view; resolves whether there was one. */
export async function deleteView(rows: Rows, tenant: string, id: string): Promise<boolean> {
  const found = await rows('DELETE FROM views WHERE tenant = $1 AND id = $2 RETURNING 1', [
    tenant,
    id,
  ]);
  return found.length === 1;
}
