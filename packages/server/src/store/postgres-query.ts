/**
 * How the PostgreSQL store turns a page request into SQL: keyset positions over `(time, seq)`,
 * every §3 filter and §5 construct as a condition on the tenant's partitioned events, and the
 * keyword probe. Built from constant fragments; every value is a bound parameter.
 */

import { emailKey, prefixEnd, type QueryClause, searchTokens } from '@hindsight/core';
import { HindsightError } from '../errors.js';
import { messageIdSql } from './postgres-projections.js';
import { lexeme } from './postgres-schema.js';
import { actionsEndingWith, type SuffixActions } from './stats-plan.js';
import type { DeliveryFilter, EventQuery } from './types.js';

/** A page position: the last event's time (epoch ms) and seq. */
export interface Position {
  readonly timeMs: number;
  readonly seq: number;
}

export function parsePosition(text: string): Position {
  const match = /^(\d{1,15}):(\d{1,15})$/.exec(text);
  if (!match) {
    throw new HindsightError('invalid_cursor', 'The cursor does not name a position in this log.');
  }
  return { timeMs: Number(match[1]), seq: Number(match[2]) };
}

/** The `tsquery` of a text clause: its tokens as a phrase, each carrying the tenant. */
function tsquery(tenantId: number, tokens: readonly string[], prefix: boolean): string {
  const lexemes = tokens.map((t) => lexeme(tenantId, t));
  if (prefix) lexemes[lexemes.length - 1] += ':*';
  return lexemes.length === 1 ? (lexemes[0] as string) : `(${lexemes.join(' <-> ')})`;
}

/** Rows a keyword probe examines: a few index pages of the tenant's newest events. */
const PROBE_ROWS = 1000;

/** A statement and its bound values. */
interface Sql {
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * Builds one page's SQL from constant fragments; every value is a bound parameter.
 *
 * Words are searched in `event_search` (alias `s`), joined to `events` (`e`) only when a
 * condition needs them; the conditions on time are given to both, so that each reads only the
 * months and index ranges asked for. With `searchSelect` (a select list over `s`), a query whose
 * conditions are all words and times (or times alone) reads `event_search` alone: its rows are
 * a tenth the size of the events'.
 *
 * A keyword query also gets a probe. GIN finds matches but not in time order, so a common word
 * would fetch and sort every match of the tenant; and the planner cannot see that a lexeme
 * carrying the tenant is ten times more frequent within it, so it picks that plan. The probe
 * reads the newest `PROBE_ROWS` events that pass the other conditions, in index order, and
 * keeps those with the words: a full page there is the answer (a common word, at the cost of a
 * short index scan); otherwise the GIN query runs (a rare word, cheap by nature).
 */
export function buildQuery(
  tenantId: number,
  query: EventQuery,
  after: Position | undefined,
  suffixes: SuffixActions,
  select?: string,
  searchSelect?: string,
): Sql & { readonly probe?: Sql } {
  const params: unknown[] = [tenantId];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  /** Conditions on `events`; on `event_search`: the words, and those on time again. */
  const where: string[] = ['e.tenant_id = $1'];
  const words: string[] = [];
  const notWords: string[] = [];
  const times: string[] = [];
  /** Whether a condition needs more of an event than `event_search` has. */
  let onEvents = false;
  const desc = query.order === 'desc';
  if (after !== undefined) {
    const position = `(${bind(new Date(after.timeMs).toISOString())}::timestamptz, ${bind(after.seq)}::bigint)`;
    where.push(`(e.time, e.seq) ${desc ? '<' : '>'} ${position}`);
    times.push(`(s.time, s.seq) ${desc ? '<' : '>'} ${position}`);
  }
  for (const c of query.clauses) {
    // A metadata value is also searchable text: its words find the candidates, which the
    // exact comparison then checks.
    if (c.kind === 'metadata' && !c.negate) {
      const tokens = searchTokens(c.value);
      if (tokens.length > 0) {
        words.push(`(s.words @@ ${bind(tsquery(tenantId, tokens, false))}::tsquery)`);
      }
    }
    if (!c.negate && (c.kind === 'after' || c.kind === 'before')) {
      // A bound on time, for the events and for their search rows alike.
      const at = bind(boundTime(c.timeMs));
      where.push(`(${timeBound(c.kind, 'e', at)})`);
      times.push(timeBound(c.kind, 's', at));
      continue;
    }
    const cond = clauseCondition(c, tenantId, bind, suffixes);
    if (cond === null) continue;
    if (c.kind === 'text') {
      if (c.negate) notWords.push(`NOT coalesce((${cond}), false)`);
      else words.push(`(${cond})`);
      continue;
    }
    where.push(c.negate ? `NOT coalesce((${cond}), false)` : `(${cond})`);
    onEvents = true;
  }
  /**
   * Conditions on an event's message (`delivery`): each parses the event and reads its
   * receivers, so a probe checks them last, on the events that have the words.
   */
  const late: string[] = [];
  if (query.delivery !== undefined) {
    late.push(`(${deliveryCondition(query.delivery, bind)})`);
    onEvents = true;
  }
  const searched = [...words, ...notWords];
  const join =
    searched.length === 0
      ? ''
      : ' JOIN event_search s ON s.tenant_id = e.tenant_id AND s.time = e.time AND s.seq = e.seq';
  const dir = desc ? 'DESC' : 'ASC';
  const salts = query.withSalts ? ', e.salts' : '';
  const order = `ORDER BY e.time ${dir}, e.seq ${dir}`;
  const limit = bind(query.limit + 1);
  /** The search rows of the tenant in the times asked for, in order. */
  const searchRows = ['s.tenant_id = $1', ...times].join(' AND ');
  const searchOrder = `ORDER BY s.time ${dir}, s.seq ${dir}`;
  if (searchSelect !== undefined && !onEvents) {
    const sql =
      `SELECT ${searchSelect} FROM event_search s ` +
      `WHERE ${[searchRows, ...searched].join(' AND ')} ${searchOrder} LIMIT ${limit}`;
    return { sql, params };
  }
  const conditions = [...where, ...late, ...(searched.length === 0 ? [] : [...times, ...searched])];
  const sql =
    `SELECT ${select ?? `e.seq, e.hash, e.body${salts}`} FROM events e${join} ` +
    `WHERE ${conditions.join(' AND ')} ${order} LIMIT ${limit}`;
  if (words.length === 0 || select !== undefined) return { sql, params };
  // With conditions on words and time only, the probe reads the narrow search rows, and the
  // events of the page alone.
  const probe = onEvents
    ? `SELECT e.seq, e.hash, e.body${salts} FROM (SELECT e.tenant_id, e.time, e.seq, e.id, ` +
      `e.hash, e.body${salts} FROM events e WHERE ${where.join(' AND ')} ${order} ` +
      `LIMIT ${PROBE_ROWS}) AS e${join} WHERE ${[...searched, ...late].join(' AND ')} ${order} ` +
      `LIMIT ${limit}`
    : `SELECT e.seq, e.hash, e.body${salts} FROM (SELECT s.tenant_id, s.time, s.seq FROM ` +
      `(SELECT s.tenant_id, s.time, s.seq, s.words FROM event_search s WHERE ${searchRows} ` +
      `${searchOrder} LIMIT ${PROBE_ROWS}) AS s ` +
      `WHERE ${searched.join(' AND ')} ${searchOrder} LIMIT ${limit}) AS s ` +
      `JOIN events e ON e.tenant_id = s.tenant_id AND e.time = s.time AND e.seq = s.seq ${order}`;
  return { sql, params, probe: { sql: probe, params } };
}

/**
 * Whether the message of the row `e` passes a delivery filter: a probe of `message_receivers`'
 * primary key (`tenant_id, message_id`) per event the page reads, its body parsed once.
 */
function deliveryCondition(filter: DeliveryFilter, bind: (value: unknown) => string): string {
  const receivers =
    'FROM (SELECT hindsight_json(e.body) AS b) AS j JOIN message_receivers r ' +
    `ON r.tenant_id = e.tenant_id AND r.message_id = ${messageIdSql('j.b', 'e')}`;
  return filter.kind === 'mixed'
    ? `SELECT min(r.status) < max(r.status) ${receivers}`
    : `EXISTS (SELECT 1 ${receivers} WHERE r.status = ANY(${bind([...filter.statuses])}::text[]))`;
}

function clauseCondition(
  c: QueryClause,
  tenantId: number,
  bind: (value: unknown) => string,
  suffixes: SuffixActions,
): string | null {
  switch (c.kind) {
    case 'text': {
      const tokens = searchTokens(c.text);
      if (tokens.length === 0) return null;
      return `s.words @@ ${bind(tsquery(tenantId, tokens, c.prefix))}::tsquery`;
    }
    case 'actor': {
      return `e.actor_id = ${bind(c.value)} OR e.actor_email = ${bind(emailKey(c.value))}`;
    }
    case 'target':
      return (
        '(e.time, e.seq) IN (SELECT x.time, x.seq FROM event_targets x ' +
        `WHERE x.tenant_id = e.tenant_id AND x.target_id = ${bind(c.value)})`
      );
    case 'category':
      return `e.category = ${bind(c.value)}`;
    case 'status':
      return `e.status = ${bind(c.value)}`;
    case 'outcome':
      return `e.outcome = ${bind(c.value)}`;
    case 'channel':
      return `e.channel = ${bind(c.value)}`;
    case 'action':
      if (c.suffix) {
        const actions = actionsEndingWith(suffixes, c.value);
        return actions.length === 0 ? 'false' : `e.action = ANY(${bind([...actions])}::text[])`;
      }
      // A range on the text ("C" collation) uses the index, where `starts_with` would not.
      return c.prefix
        ? `e.action >= ${bind(c.value)} AND e.action < ${bind(prefixEnd(c.value))}`
        : `e.action = ${bind(c.value)}`;
    case 'metadata':
      return `(hindsight_json(e.body) #>> ${bind(['metadata', ...c.path])}::text[]) = ${bind(c.value)}`;
    case 'ip':
      return `e.ip BETWEEN ${bind(Buffer.from(c.range.start))} AND ${bind(Buffer.from(c.range.end))}`;
    case 'after':
    case 'before':
      return timeBound(c.kind, 'e', bind(boundTime(c.timeMs)));
  }
}

/**
 * A time bound as a `timestamptz` text. A bound before 1970, the earliest time an event can
 * have, selects as 1970 does; PostgreSQL has no year 0, which `0000-01-01` would name.
 */
function boundTime(timeMs: number): string {
  return new Date(Math.max(timeMs, 0)).toISOString();
}

/** `after` (inclusive) or `before` (exclusive) a bound time, on the rows of an alias. */
function timeBound(kind: 'after' | 'before', alias: string, at: string): string {
  return `${alias}.time ${kind === 'after' ? '>=' : '<'} ${at}::timestamptz`;
}
