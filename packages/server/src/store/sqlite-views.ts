/**
 * Reads of the derived views (issue #5) from SQLite: the projections that
 * `sqlite-projections.ts` keeps, and the counting of stats. Every value is a bound parameter.
 */
import type { QueryClause, StoredEvent } from '@hindsight/core';
import type Database from 'better-sqlite3';
import { HindsightError } from '../errors.js';
import { byDay } from './sqlite-keys.js';
import { SLOTS_PER_MS } from './sqlite-projections.js';
import { type CountFilters, countConditions, type StatsSource } from './stats-plan.js';
import type {
  DeliveryCount,
  DeliveryReport,
  EventBrief,
  IntegrationSummary,
  LoginAttempt,
  LoginUser,
  LoginUsersQuery,
  MessageReceiver,
} from './types.js';

/** Prepares (and caches) a statement. */
type Prepare = (sql: string) => Database.Statement;
/**
 * The event list's query for clauses and a time range, newest first, with its select list
 * replaced; it reads up to `STATS_SCAN_LIMIT` + 1 rows.
 */
/** Reads the columns `select` of a tenant's newest events that pass `clauses` in a time range. */
type EventRows = (
  clauses: readonly QueryClause[],
  fromMs: number,
  toMs: number,
  select: string,
) => Promise<unknown[]>;

const LOGIN_SORT_COLUMNS = {
  lastAttempt: 'seen_pos',
  lastSuccess: 'success_pos',
  lastFailure: 'failure_pos',
  name: 'name',
  email: 'email',
} as const;

/**
 * Whether the country of an account's newest successful sign-in (`login_users` row) had its
 * first successful sign-in at or after a position (the parameter), after one from another
 * country: see `LoginUser.newCountry`.
 */
const NEW_COUNTRY_SQL =
  '(success_pos > 0 AND EXISTS (SELECT 1 FROM login_countries c ' +
  'JOIN login_countries o ON o.tenant_id = c.tenant_id AND o.actor_key = c.actor_key ' +
  'AND o.first_success_pos BETWEEN 1 AND c.first_success_pos - 1 ' +
  'WHERE c.tenant_id = login_users.tenant_id AND c.actor_key = login_users.actor_key ' +
  "AND c.country = login_users.success ->> '$.location.country' AND c.first_success_pos >= ?))";

interface LoginRow {
  actor_key: string;
  new_country: number;
  actor: string;
  seen_failed: number;
  success: string | null;
  failure: string | null;
  successes: number;
  failures: number;
  sort: string | number;
}

/** The logins view of a tenant, one page. */
export function loginUsers(
  prepare: Prepare,
  tenantId: number,
  query: LoginUsersQuery,
): { users: LoginUser[]; next: string | null } {
  const column = LOGIN_SORT_COLUMNS[query.sort];
  const where = ['tenant_id = ?'];
  const params: unknown[] = [tenantId];
  if (query.search !== undefined) {
    const like = `%${query.search.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
    where.push("(name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')");
    params.push(like, like);
  }
  if (query.lastAttempt !== undefined) {
    where.push('seen_failed = ?');
    params.push(query.lastAttempt === 'failed' ? 1 : 0);
  }
  const newSince = Date.parse(query.newCountrySince) * SLOTS_PER_MS;
  if (query.newCountry !== undefined) {
    where.push(`${NEW_COUNTRY_SQL} = ?`);
    params.push(newSince, query.newCountry ? 1 : 0);
  }
  if (query.country !== undefined) {
    where.push(
      'EXISTS (SELECT 1 FROM login_countries c WHERE c.tenant_id = login_users.tenant_id ' +
        'AND c.actor_key = login_users.actor_key AND c.country = ?)',
    );
    params.push(query.country.toUpperCase());
  }
  const desc = query.order === 'desc';
  if (query.after !== undefined) {
    const [value, key] = parseLoginPosition(query.after);
    where.push(`(${column}, actor_key) ${desc ? '<' : '>'} (?, ?)`);
    params.push(value, key);
  }
  const dir = desc ? 'DESC' : 'ASC';
  const rows = prepare(
    `SELECT actor_key, actor, seen_failed, success, failure, successes, failures, ${NEW_COUNTRY_SQL} AS new_country, ${column} AS sort ` +
      `FROM login_users WHERE ${where.join(' AND ')} ORDER BY ${column} ${dir}, actor_key ${dir} LIMIT ?`,
  ).all(newSince, ...params, query.limit + 1) as LoginRow[];
  const page = rows.slice(0, query.limit);
  const keys = page.map((r) => r.actor_key);
  const countries = new Map<string, string[]>();
  const countryRows = prepare(
    'SELECT actor_key, country FROM login_countries WHERE tenant_id = ? ' +
      'AND actor_key IN (SELECT value FROM json_each(?)) ORDER BY last_pos DESC',
  ).all(tenantId, JSON.stringify(keys)) as Array<{ actor_key: string; country: string }>;
  for (const r of countryRows) {
    const list = countries.get(r.actor_key) ?? [];
    list.push(r.country);
    countries.set(r.actor_key, list);
  }
  const since = { lo: Date.parse(query.recentSince) * SLOTS_PER_MS, hi: Number.MAX_SAFE_INTEGER };
  // The account's failed logins since then: its events by actor id, or by e-mail when it has
  // no id, looked up day by day.
  const failures = (column: 'actor_id' | 'actor_email', value: string) => {
    const events = byDay('pos', tenantId, since, [
      { from: 'events', where: `x.${column} = ?`, params: [value] },
    ]);
    const stmt = prepare(
      `SELECT count(*) FROM events WHERE ${events.sql} ` +
        (column === 'actor_email' ? 'AND actor_id IS NULL ' : '') +
        "AND category = 'logins' AND action IN ('login.succeeded', 'login.failed') " +
        "AND (action = 'login.failed' OR outcome = 'failure')",
    ).pluck();
    return stmt.get(...events.params) as number;
  };
  const users = page.map((r): LoginUser => {
    const recentFailures = r.actor_key.startsWith('email:')
      ? failures('actor_email', r.actor_key.slice(6))
      : failures('actor_id', r.actor_key);
    return {
      key: r.actor_key,
      actor: JSON.parse(r.actor) as StoredEvent['actor'],
      lastAttempt: r.seen_failed ? 'failed' : 'succeeded',
      lastSuccess: r.success === null ? null : (JSON.parse(r.success) as LoginAttempt),
      lastFailure: r.failure === null ? null : (JSON.parse(r.failure) as LoginAttempt),
      newCountry: r.new_country === 1,
      successes: r.successes,
      failures: r.failures,
      recentFailures,
      countries: countries.get(r.actor_key) ?? [],
    };
  });
  const last = page[page.length - 1];
  return {
    users,
    next: rows.length > query.limit && last ? JSON.stringify([last.sort, last.actor_key]) : null,
  };
}

/** Parses a logins page position `[sortValue, key]`; throws `invalid_cursor`. */
export function parseLoginPosition(text: string): [string | number, string] {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      (typeof parsed[0] === 'string' || typeof parsed[0] === 'number') &&
      typeof parsed[1] === 'string'
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // Reported below.
  }
  throw new HindsightError('invalid_cursor', 'The cursor does not name a position in this view.');
}

/** How many receivers of each message are in each status. */
export function deliveryCounts(
  prepare: Prepare,
  tenantId: number,
  messageIds: readonly string[],
): DeliveryCount[] {
  const rows = prepare(
    'SELECT message_id, status, count(*) AS n FROM message_receivers WHERE tenant_id = ? ' +
      'AND message_id IN (SELECT value FROM json_each(?)) GROUP BY message_id, status',
  ).all(tenantId, JSON.stringify(messageIds)) as Array<{
    message_id: string;
    status: string;
    n: number;
  }>;
  return rows.map((r) => ({ messageId: r.message_id, status: r.status, count: r.n }));
}

/** The receivers of a message by address, one page. */
export function messageReceivers(
  prepare: Prepare,
  tenantId: number,
  messageId: string,
  limit: number,
  afterAddress: string | undefined,
): MessageReceiver[] {
  const rows = prepare(
    'SELECT address, name, status, report FROM message_receivers WHERE tenant_id = ? ' +
      'AND message_id = ? AND address > ? ORDER BY address LIMIT ?',
  ).all(tenantId, messageId, afterAddress ?? '', limit) as Array<{
    address: string;
    name: string | null;
    status: string;
    report: string | null;
  }>;
  return rows.map((r) => ({
    address: r.address,
    ...(r.name === null ? {} : { name: r.name }),
    status: r.status,
    ...(r.report === null ? {} : { report: JSON.parse(r.report) as DeliveryReport }),
  }));
}

/** The integrations of a tenant, by name. */
export function integrations(prepare: Prepare, tenantId: number): IntegrationSummary[] {
  const rows = prepare(
    'SELECT system, name, last_event, last_status, acked, errors, notifications ' +
      'FROM integrations WHERE tenant_id = ? ORDER BY name, system',
  ).all(tenantId) as Array<{
    system: string;
    name: string;
    last_event: string;
    last_status: string | null;
    acked: string | null;
    errors: number;
    notifications: number;
  }>;
  return rows.map((r) => ({
    system: r.system,
    name: r.name,
    lastEvent: JSON.parse(r.last_event) as EventBrief,
    lastStatus: r.last_status,
    unacknowledged: { errors: r.errors, notifications: r.notifications },
    acknowledged:
      r.acked === null ? null : (JSON.parse(r.acked) as EventBrief & { upToSeq: number }),
  }));
}

/** The kept counts and event scans of one tenant, for `computeStats`. */
export function statsSource(prepare: Prepare, tenantId: number, eventRows: EventRows): StatsSource {
  const counted = (filters: CountFilters, withAction: boolean) =>
    countConditions(filters, () => '?', withAction);
  return {
    async scan(clauses, fromMs, toMs) {
      const rows = (await eventRows(
        clauses,
        fromMs,
        toMs,
        'e.pos AS pos, e.action AS action, e.outcome AS outcome, ' +
          "coalesce(e.actor_id, 'email:' || e.actor_email, e.body ->> '$.actor.type', 'user') AS actor",
      )) as Array<{
        pos: number;
        action: string;
        outcome: string;
        actor: string;
      }>;
      return rows.map((r) => ({
        timeMs: Math.floor(r.pos / SLOTS_PER_MS),
        action: r.action,
        outcome: r.outcome,
        actorKey: r.actor,
      }));
    },
    async timeTotals(filters, unit, from, to) {
      const c = counted(filters, true);
      const [table, column] = unit === 'day' ? ['event_days', 'day'] : ['event_counts', 'hour'];
      return prepare(
        `SELECT ${column} AS time, sum(n) AS n FROM ${table} WHERE tenant_id = ? ` +
          `AND ${column} >= ? AND ${column} < ?${c.sql} GROUP BY ${column}`,
      ).all(tenantId, from, to, ...c.params) as Array<{ time: number; n: number }>;
    },
    async actionTotals(filters, unit, from, to) {
      const c = counted(filters, true);
      const [table, column] = unit === 'day' ? ['event_days', 'day'] : ['event_counts', 'hour'];
      return prepare(
        `SELECT action, outcome, sum(n) AS n FROM ${table} WHERE tenant_id = ? ` +
          `AND ${column} >= ? AND ${column} < ?${c.sql} GROUP BY action, outcome`,
      ).all(tenantId, from, to, ...c.params) as Array<{
        action: string;
        outcome: string;
        n: number;
      }>;
    },
    async actorTotals(category, fromDay, toDay, top) {
      const rows = prepare(
        'SELECT actor_key, sum(n) AS n FROM actor_days WHERE tenant_id = ? AND category = ? ' +
          'AND day >= ? AND day < ? GROUP BY actor_key' +
          (top === undefined ? '' : ' ORDER BY n DESC, actor_key LIMIT ?'),
      ).all(tenantId, category, fromDay, toDay, ...(top === undefined ? [] : [top])) as Array<{
        actor_key: string;
        n: number;
      }>;
      return new Map(rows.map((r) => [r.actor_key, r.n]));
    },
    async actors(keys) {
      return actorsByKey(prepare, tenantId, keys);
    },
  };
}

/** The newest stored form of each actor, by key: the actor of its newest event. */
function actorsByKey(
  prepare: Prepare,
  tenantId: number,
  keys: readonly string[],
): Map<string, StoredEvent['actor']> {
  const newest = prepare(
    "SELECT e.body -> '$.actor' FROM actors a JOIN events e ON e.pos = a.pos " +
      'WHERE a.tenant_id = ? AND a.actor_key = ?',
  ).pluck();
  const actors = new Map<string, StoredEvent['actor']>();
  for (const key of keys) {
    const actor = newest.get(tenantId, key) as string | undefined;
    if (actor !== undefined) actors.set(key, JSON.parse(actor) as StoredEvent['actor']);
  }
  return actors;
}
