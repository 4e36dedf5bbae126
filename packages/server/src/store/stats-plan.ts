/**
 * How a store answers a stats query (issue #5): from its hourly and daily counts when every
 * filter is one the counts are kept by, otherwise by counting the newest matching events.
 * Shared by every backend so that they agree on which path a query takes.
 */
import { prefixEnd, type QueryClause, type StoredEvent } from '@hindsight/core';
import type { Stats, StatsQuery } from './types.js';

/** The most events a stats query counts one by one before it answers with `exact: false`. */
export const STATS_SCAN_LIMIT = 5_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The unit of kept counts: hours or days since 1970, UTC. */
export type TimeUnit = 'hour' | 'day';

/**
 * The category whose actor counts answer these filters: `''` (all) without a category filter,
 * the category with one, `null` when they name different categories (nothing matches).
 */
export function actorCategory(filters: CountFilters): string | null {
  const names = new Set(filters.categories);
  if (names.size > 1) return null;
  return [...names][0] ?? '';
}

/** Whether the actor counts (kept by category only) can answer for these filters. */
function actorCountsApply(filters: CountFilters): boolean {
  return (
    filters.actions.length === 0 &&
    filters.actionRanges.length === 0 &&
    filters.outcomes.length === 0
  );
}

/** A time bound as a query clause. */
export function timeClause(kind: 'after' | 'before', timeMs: number): QueryClause {
  return { kind, value: new Date(timeMs).toISOString(), timeMs, negate: false, position: 0 };
}

/** Filters the kept counts can apply: all must hold. */
export interface CountFilters {
  readonly categories: string[];
  /** Exact actions, `[from, to)` ranges for prefixes, and `LIKE` patterns for suffixes. */
  readonly actions: string[];
  readonly actionRanges: Array<[string, string]>;
  readonly actionPatterns: string[];
  readonly outcomes: string[];
}

/**
 * The filters of a query as the kept counts see them, or `null` when some filter needs the
 * events themselves (actor, target, text, IP, status, channel, or any negation).
 */
export function countFilters(clauses: readonly QueryClause[]): CountFilters | null {
  const filters: CountFilters = {
    categories: [],
    actions: [],
    actionRanges: [],
    actionPatterns: [],
    outcomes: [],
  };
  for (const c of clauses) {
    if (c.negate) return null;
    switch (c.kind) {
      case 'category':
        filters.categories.push(c.value);
        break;
      case 'outcome':
        filters.outcomes.push(c.value);
        break;
      case 'action':
        if (c.suffix) filters.actionPatterns.push(suffixPattern(c.value));
        else if (c.prefix) filters.actionRanges.push([c.value, prefixEnd(c.value)]);
        else filters.actions.push(c.value);
        break;
      default:
        return null;
    }
  }
  return filters;
}

/**
 * The `LIKE` pattern of the actions ending in `suffix` (`action:*.deleted`), with
 * {@link LIKE_ESCAPE}. Actions are lowercase, so SQLite's `LIKE`, blind to the case of ASCII
 * letters, matches as PostgreSQL's does.
 */
export function suffixPattern(suffix: string): string {
  return `%${suffix.replace(/[\\%_]/g, '\\$&')}`;
}

/** The escape clause of {@link suffixPattern}'s patterns, in SQLite and PostgreSQL alike. */
export const LIKE_ESCAPE = "ESCAPE '\\'";

/**
 * The tenant's actions that end with each action suffix of a query (`action:*.deleted`), which
 * the stores find in the tenant's daily counts before they build the query: an `IN` list of
 * actions lets the planner read the action index, where a sub-query hid how few they are.
 */
export type SuffixActions = ReadonlyMap<string, readonly string[]>;

/** The {@link SuffixActions} of a query without action suffixes. */
export const NO_SUFFIXES: SuffixActions = new Map();

/** The suffixes of a query's action clauses. */
export function actionSuffixes(clauses: readonly QueryClause[]): string[] {
  return [...new Set(clauses.flatMap((c) => (c.kind === 'action' && c.suffix ? [c.value] : [])))];
}

/**
 * SQL reading a tenant's actions that match a {@link suffixPattern}, with the two parameters
 * (tenant id, pattern) written by `placeholder`.
 */
export function actionsLikeSql(placeholder: () => string): string {
  return (
    `SELECT DISTINCT action FROM event_days WHERE tenant_id = ${placeholder()} ` +
    `AND action LIKE ${placeholder()} ${LIKE_ESCAPE}`
  );
}

/** The actions a suffix resolved to; throws if the store did not resolve it (a bug). */
export function actionsEndingWith(suffixes: SuffixActions, suffix: string): readonly string[] {
  const actions = suffixes.get(suffix);
  if (actions === undefined) throw new Error(`Action suffix "${suffix}" was not resolved.`);
  return actions;
}

/** `AND column = ?` (or prefix range, or suffix pattern) conditions of count filters. */
export function countConditions(
  filters: CountFilters,
  placeholder: () => string,
  withAction: boolean,
): { sql: string; params: unknown[] } {
  const sql: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, ...values: unknown[]) => {
    sql.push(condition);
    params.push(...values);
  };
  for (const value of filters.categories) add(`category = ${placeholder()}`, value);
  if (withAction) {
    for (const value of filters.actions) add(`action = ${placeholder()}`, value);
    for (const [from, to] of filters.actionRanges) {
      add(`action >= ${placeholder()} AND action < ${placeholder()}`, from, to);
    }
    for (const pattern of filters.actionPatterns) {
      add(`action LIKE ${placeholder()} ${LIKE_ESCAPE}`, pattern);
    }
    for (const value of filters.outcomes) add(`outcome = ${placeholder()}`, value);
  }
  return { sql: sql.map((c) => ` AND ${c}`).join(''), params };
}

/** What a backend gives {@link computeStats}: its kept counts and a scan of its events. */
export interface StatsSource {
  /**
   * The matching events in `[fromMs, toMs)`, newest first, at most {@link STATS_SCAN_LIMIT}
   * + 1 of them.
   */
  scan(clauses: readonly QueryClause[], fromMs: number, toMs: number): Promise<ScannedEvent[]>;
  /** Kept counts per hour or day (since 1970, UTC) in `[from, to)` of that unit. */
  timeTotals(
    filters: CountFilters,
    unit: TimeUnit,
    from: number,
    to: number,
  ): Promise<Array<{ time: number; n: number }>>;
  /** Kept counts per action and outcome in `[from, to)` hours or days. */
  actionTotals(
    filters: CountFilters,
    unit: TimeUnit,
    from: number,
    to: number,
  ): Promise<Array<{ action: string; outcome: string; n: number }>>;
  /**
   * Kept counts per actor key in `[fromDay, toDay)`, of the one category the filters name
   * (see {@link actorCategory}); with `top`, only the `top` largest (ties by key).
   */
  actorTotals(
    category: string,
    fromDay: number,
    toDay: number,
    top?: number,
  ): Promise<Map<string, number>>;
  /** The newest stored form of each actor, by key. */
  actors(keys: readonly string[]): Promise<Map<string, StoredEvent['actor']>>;
}

/**
 * Answers a stats query: from the kept counts when every filter is one they are kept by (the
 * actor counts, kept per day, are completed by scanning the partial days at the range's
 * edges), otherwise by counting the newest matching events.
 */
export async function computeStats(source: StatsSource, query: StatsQuery): Promise<Stats> {
  const filters = countFilters(query.clauses);
  if (filters === null) {
    return countScanned(query, await source.scan(query.clauses, query.fromMs, query.toMs), source);
  }
  // Whole days (and day buckets) read the daily counts: a month is 30 rows per action.
  const daily =
    query.fromMs % DAY_MS === 0 && query.toMs % DAY_MS === 0 && query.bucketMs % DAY_MS === 0;
  const unit: TimeUnit = daily ? 'day' : 'hour';
  const unitMs = daily ? DAY_MS : HOUR_MS;
  const from = Math.floor(query.fromMs / unitMs);
  const to = Math.ceil(query.toMs / unitMs);
  const [times, actions] = await Promise.all([
    source.timeTotals(filters, unit, from, to),
    source.actionTotals(filters, unit, from, to),
  ]);
  const byAction = new Map<string, number>();
  const outcomes = { success: 0, failure: 0 };
  for (const r of actions) {
    byAction.set(r.action, (byAction.get(r.action) ?? 0) + r.n);
    if (r.outcome === 'failure') outcomes.failure += r.n;
    else outcomes.success += r.n;
  }
  // Actors are kept per day and category: whole days come from those counts and the rest of
  // the range from the events; with action or outcome filters, all of it from the events.
  const category = actorCountsApply(filters) ? actorCategory(filters) : undefined;
  const fromDay = category === undefined ? 0 : Math.ceil(query.fromMs / DAY_MS);
  const toDay = category === undefined ? 0 : Math.max(fromDay, Math.floor(query.toMs / DAY_MS));
  const edges: Array<[number, number]> =
    fromDay === toDay
      ? [[query.fromMs, query.toMs]]
      : [
          [query.fromMs, fromDay * DAY_MS],
          [toDay * DAY_MS, query.toMs],
        ];
  const scans = category === null ? [] : edges.filter(([a, b]) => a < b);
  // Nothing to add from the events: the database can keep only the largest.
  const counts =
    typeof category === 'string'
      ? await source.actorTotals(
          category,
          fromDay,
          toDay,
          scans.length === 0 ? query.top : undefined,
        )
      : new Map<string, number>();
  let exact = true;
  for (const [scanFrom, scanTo] of scans) {
    if (scanFrom >= scanTo) continue;
    const events = await source.scan(query.clauses, scanFrom, scanTo);
    if (events.length > STATS_SCAN_LIMIT) exact = false;
    for (const e of events.slice(0, STATS_SCAN_LIMIT)) {
      counts.set(e.actorKey, (counts.get(e.actorKey) ?? 0) + 1);
    }
  }
  const top = topCounts(counts, query.top);
  const names = await source.actors(top.map(([key]) => key));
  const byActor = top.map(([key, count]) => ({
    actor: names.get(key) ?? actorFromKey(key),
    count,
  }));
  return {
    total: outcomes.success + outcomes.failure,
    outcomes,
    byAction: topCounts(byAction, query.top).map(([action, count]) => ({ action, count })),
    byActor,
    histogram: histogram(
      query,
      times.map((r) => ({ timeMs: r.time * unitMs, n: r.n })),
    ),
    exact,
  };
}

/** Sums rows of (bucket start, count) into the query's histogram, empty buckets included. */
export function histogram(
  query: StatsQuery,
  rows: Iterable<{ timeMs: number; n: number }>,
): Stats['histogram'] {
  const buckets = Math.max(0, Math.ceil((query.toMs - query.fromMs) / query.bucketMs));
  const counts = new Array<number>(buckets).fill(0);
  for (const { timeMs, n } of rows) {
    const i = Math.floor((timeMs - query.fromMs) / query.bucketMs);
    if (i >= 0 && i < buckets) counts[i] = (counts[i] ?? 0) + n;
  }
  return counts.map((count, i) => ({ start: query.fromMs + i * query.bucketMs, count }));
}

/** The largest `top` entries of a count map, largest first (ties by key). */
export function topCounts(counts: Map<string, number>, top: number): Array<[string, number]> {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, top);
}

/** One scanned event, for counting. */
export interface ScannedEvent {
  readonly timeMs: number;
  readonly action: string;
  readonly outcome: string;
  readonly actorKey: string;
}

/** Counts scanned events (newest first, at most {@link STATS_SCAN_LIMIT} + 1) into stats. */
async function countScanned(
  query: StatsQuery,
  events: readonly ScannedEvent[],
  source: Pick<StatsSource, 'actors'>,
): Promise<Stats> {
  const exact = events.length <= STATS_SCAN_LIMIT;
  const counted = exact ? events : events.slice(0, STATS_SCAN_LIMIT);
  const actions = new Map<string, number>();
  const actors = new Map<string, number>();
  const outcomes = { success: 0, failure: 0 };
  for (const e of counted) {
    actions.set(e.action, (actions.get(e.action) ?? 0) + 1);
    actors.set(e.actorKey, (actors.get(e.actorKey) ?? 0) + 1);
    if (e.outcome === 'failure') outcomes.failure++;
    else outcomes.success++;
  }
  const topActors = topCounts(actors, query.top);
  const names = await source.actors(topActors.map(([key]) => key));
  return {
    total: counted.length,
    outcomes,
    byAction: topCounts(actions, query.top).map(([action, count]) => ({ action, count })),
    byActor: topActors.map(([key, count]) => ({
      actor: names.get(key) ?? actorFromKey(key),
      count,
    })),
    histogram: histogram(
      query,
      counted.map((e) => ({ timeMs: e.timeMs, n: 1 })),
    ),
    exact,
    ...(exact ? {} : { scanned: counted.length }),
  };
}

/** An actor rebuilt from its key when no stored event names it (`email:…`, `system`, …). */
export function actorFromKey(key: string): StoredEvent['actor'] {
  if (key.startsWith('email:')) return { type: 'anonymous', email: key.slice(6) };
  if (key === 'system' || key === 'anonymous') return { type: key };
  return { type: 'user', id: key };
}
