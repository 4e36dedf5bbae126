/**
 * Retention on PostgreSQL (issue #9): expired events are removed in bounded transactions, each
 * one statement that deletes the events and, from what it deleted, everything derived from
 * them — `event_targets`, the summaries' counts, and the rows of accounts, receivers, systems
 * and actors whose newest event it removed (the rules of `sqlite-prune.ts`). The search words
 * live in the event row. A month whose every event has expired for every tenant that has events
 * in it is dropped whole instead ({@link dropExpiredMonth}): two `DROP TABLE`s, no dead rows.
 * The tree (`tree_nodes`) is kept whole; removed seqs are recorded in `pruned_ranges`
 * (migration 4 of `postgres-schema.ts`).
 */
import type { PoolClient } from 'pg';
import { pruneAuditSteps } from './access-rows.js';
import { legalHoldIn } from './erase-plan.js';
import { runStep } from './postgres-erase.js';
import { actorKeySql } from './postgres-projections.js';
import { PARTITIONED_TABLES, partitionName } from './postgres-schema.js';
import { runsOf } from './seq-runs.js';
import type { MonthExpiry, PendingAudit, PruneResult, PruneRule } from './types.js';

/** Serialises pruning steps of one tenant across servers (with the tenant id as second key). */
const PRUNE_LOCK = 0x48_53_50_52; // "HSPR"

/** Held (per session) by the one server that drops months at a time. */
export const MONTHS_LOCK = 0x48_53_4d_44; // "HSMD"

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The id of the first target of a kind of a parsed body. */
const targetOf = (body: string, kind: string) =>
  `(SELECT t ->> 'id' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${body} -> 'targets') = 'array' ` +
  `THEN ${body} -> 'targets' END) AS t WHERE t ->> 'type' = '${kind}' LIMIT 1)`;

/** Takes the removed events `k` out of the counts per hour or per day of `table`. */
const uncount = (table: string, unit: string, unitMs: number) => `
  UPDATE ${table} c SET n = c.n - g.k
  FROM (SELECT (ms / ${unitMs})::integer AS u, category, action, outcome, count(*) AS k
    FROM k GROUP BY 1, 2, 3, 4) g
  WHERE c.tenant_id = $1 AND c.${unit} = g.u AND c.category = g.category AND c.action = g.action
    AND c.outcome = g.outcome`;

const REMOVED_COLUMNS = 'time, seq, id, category, action, outcome, actor_id, actor_email, body';

/**
 * The statement that takes the events `d` of tenant `$1` out of everything derived from them
 * (with `perEvent`, also out of the rows kept beside each event: `event_targets` and
 * `event_search`, which a dropped month takes with it); it answers their number per category.
 */
const removalSql = (d: string, perEvent: boolean) => `
WITH d AS (${d}),
k AS MATERIALIZED (
  SELECT time, seq, id, category, action, outcome, (extract(epoch FROM time) * 1000)::bigint AS ms,
    ${actorKeySql()} AS actor_key,
    coalesce(actor_id, 'email:' || actor_email) AS login_key,
    hindsight_json(body) AS b
  FROM d
),
hours AS (${uncount('event_counts', 'hour', HOUR_MS)}),
days AS (${uncount('event_days', 'day', DAY_MS)}),
per_actor AS (
  UPDATE actor_days c SET n = c.n - g.k
  FROM (SELECT coalesce(category, '') AS category, day, actor_key, count(*) AS k
    FROM (SELECT category, (ms / ${DAY_MS})::integer AS day, actor_key FROM k) AS a
    GROUP BY GROUPING SETS ((category, day, actor_key), (day, actor_key))) g
  WHERE c.tenant_id = $1 AND c.category = g.category AND c.day = g.day AND c.actor_key = g.actor_key
),
actors_gone AS (
  DELETE FROM actors a USING k
  WHERE a.tenant_id = $1 AND a.actor_key = k.actor_key AND a.last_time = k.time AND a.last_seq = k.seq
),
logins_gone AS (
  DELETE FROM login_users u USING k
  WHERE k.category = 'logins' AND u.tenant_id = $1 AND u.actor_key = k.login_key
    AND u.seen_ms = k.ms AND u.seen_seq = k.seq
),
countries_gone AS (
  DELETE FROM login_countries c USING k
  WHERE k.category = 'logins' AND c.tenant_id = $1 AND c.actor_key = k.login_key
    AND c.last_ms = k.ms AND c.last_seq = k.seq
),
receivers_gone AS (
  DELETE FROM message_receivers r
  USING (SELECT coalesce(${targetOf('k.b', 'message')}, k.id) AS message_id FROM k
    WHERE k.category = 'communications') m
  WHERE r.tenant_id = $1 AND r.message_id = m.message_id
    AND (r.report_seq = 0 OR (r.report_ms, r.report_seq) IN (SELECT ms, seq FROM k))
),
integrations_gone AS (
  DELETE FROM integrations i USING k
  WHERE k.category = 'integrations' AND i.tenant_id = $1 AND i.last_ms = k.ms AND i.last_seq = k.seq
)${
  perEvent
    ? `,
search_gone AS (
  DELETE FROM event_search s USING k WHERE s.tenant_id = $1 AND s.time = k.time AND s.seq = k.seq
),
targets_gone AS (
  DELETE FROM event_targets t
  USING (SELECT k.time, k.seq, x ->> 'id' AS target_id FROM k CROSS JOIN LATERAL
    jsonb_array_elements(CASE WHEN jsonb_typeof(k.b -> 'targets') = 'array' THEN k.b -> 'targets' END) AS x) g
  WHERE t.tenant_id = $1 AND t.target_id = g.target_id AND t.time = g.time AND t.seq = g.seq
)`
    : ''
}
SELECT category, count(*)::integer AS n FROM k GROUP BY category`;

/** Deletes the events `(time, seq)` (`$2`, `$3`) of tenant `$1`, and what derives from them. */
const DELETE_SQL = removalSql(
  'DELETE FROM events e USING unnest($2::timestamptz[], $3::bigint[]) AS b(time, seq) ' +
    'WHERE e.tenant_id = $1 AND e.time = b.time AND e.seq = b.seq ' +
    `RETURNING ${REMOVED_COLUMNS.split(', ')
      .map((c) => `e.${c}`)
      .join(', ')}`,
  true,
);

/**
 * One pruning step: up to `limit` expired events of a tenant, in one transaction on `client`.
 * Steps of one tenant are serialised across servers by an advisory lock.
 */
export async function pruneStep(
  client: PoolClient,
  tenant: string,
  tenantId: number,
  rules: readonly PruneRule[],
  maxSeq: number,
  limit: number,
  audit?: PendingAudit,
): Promise<PruneResult> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [PRUNE_LOCK, tenantId]);
    // A hold placed since the run began stops it here; held against change until the commit.
    if (await heldTenants(client, [tenant])) {
      await client.query('COMMIT');
      return { removed: 0, byCategory: {}, more: false, held: true };
    }
    const times: Date[] = [];
    const seqs: number[] = [];
    for (const rule of rules) {
      if (seqs.length >= limit) break;
      const { rows } = await client.query<{ time: Date; seq: string }>(
        'SELECT time, seq FROM events WHERE tenant_id = $1 AND category = $2 AND time < $3 ' +
          'AND seq <= $4 ORDER BY time, seq LIMIT $5',
        [tenantId, rule.category, new Date(rule.beforeMs), maxSeq, limit - seqs.length],
      );
      for (const r of rows) {
        times.push(r.time);
        seqs.push(Number(r.seq));
      }
    }
    const byCategory: Record<string, number> = {};
    if (seqs.length === 0) {
      await client.query('COMMIT');
      return { removed: 0, byCategory, more: false };
    }
    const { rows } = await client.query<{ category: string; n: number }>(DELETE_SQL, [
      tenantId,
      times,
      seqs,
    ]);
    for (const r of rows) byCategory[r.category] = r.n;
    const ms = times.map((t) => t.getTime());
    const lo = Math.min(...ms);
    const hi = Math.max(...ms);
    await deleteEmptyCounts(client, tenantId, [...Object.keys(byCategory), ''], lo, hi);
    await recordRanges(client, tenantId, runsOf(seqs));
    await keepPart(client, audit, byCategory);
    await client.query('COMMIT');
    return { removed: seqs.length, byCategory, more: seqs.length >= limit };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Removes the count rows that reached 0 in `[loMs, hiMs]`. */
async function deleteEmptyCounts(
  client: PoolClient,
  tenantId: number,
  categories: readonly string[],
  loMs: number,
  hiMs: number,
): Promise<void> {
  const hours = [Math.floor(loMs / HOUR_MS), Math.floor(hiMs / HOUR_MS)];
  const days = [Math.floor(loMs / DAY_MS), Math.floor(hiMs / DAY_MS)];
  await client.query(
    'DELETE FROM event_counts WHERE tenant_id = $1 AND hour BETWEEN $2 AND $3 AND n <= 0',
    [tenantId, ...hours],
  );
  await client.query(
    'DELETE FROM event_days WHERE tenant_id = $1 AND day BETWEEN $2 AND $3 AND n <= 0',
    [tenantId, ...days],
  );
  await client.query(
    'DELETE FROM actor_days WHERE tenant_id = $1 AND category = ANY($2::text[]) ' +
      'AND day BETWEEN $3 AND $4 AND n <= 0',
    [tenantId, categories, ...days],
  );
}

/** Adds seqs to `pruned_ranges`, merging with the ranges they touch. */
async function recordRanges(
  client: PoolClient,
  tenantId: number,
  runs: ReadonlyArray<readonly [number, number]>,
): Promise<void> {
  for (const [from, to] of runs) {
    const right = await client.query<{ to_seq: string }>(
      'DELETE FROM pruned_ranges WHERE tenant_id = $1 AND from_seq = $2 RETURNING to_seq',
      [tenantId, to + 1],
    );
    const end = right.rows[0] ? Number(right.rows[0].to_seq) : to;
    const left = await client.query(
      'UPDATE pruned_ranges SET to_seq = $3 WHERE tenant_id = $1 AND to_seq = $2',
      [tenantId, from - 1, end],
    );
    if (left.rowCount === 0) {
      await client.query(
        'INSERT INTO pruned_ranges (tenant_id, from_seq, to_seq) VALUES ($1, $2, $3)',
        [tenantId, from, end],
      );
    }
  }
}

/** The months (`yyyymm`) that have partitions, oldest first. */
export async function partitionMonths(client: PoolClient): Promise<number[]> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid ' +
      "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'events' ORDER BY 1",
  );
  const months: number[] = [];
  for (const { name } of rows) {
    const m = /^events_y(\d{4})m(\d{2})$/.exec(name);
    if (m) months.push(Number(m[1]) * 100 + Number(m[2]));
  }
  return months.sort((a, b) => a - b);
}

/**
 * Whether a month's partition holds only expired events, cheapest checks first: its tenants and
 * each one's categories by skip scans of the indexes (one probe each), and only when all have
 * expired, its highest seq per tenant against what may be removed.
 */
export async function monthExpired(
  client: PoolClient,
  month: number,
  endMs: number,
  expiry: MonthExpiry,
): Promise<boolean> {
  const events = partitionName('events', month);
  const { rows: tenants } = await client.query<{ id: number; name: string }>(
    `WITH RECURSIVE t AS (SELECT min(tenant_id) AS id FROM ${events} UNION ALL ` +
      `SELECT (SELECT min(tenant_id) FROM ${events} WHERE tenant_id > t.id) FROM t WHERE t.id IS NOT NULL) ` +
      'SELECT t.id, n.name FROM t JOIN tenants n ON n.id = t.id',
  );
  for (const tenant of tenants) {
    const { rows } = await client.query<{ category: string }>(
      `WITH RECURSIVE c AS (SELECT min(category) AS category FROM ${events} WHERE tenant_id = $1 ` +
        `UNION ALL SELECT (SELECT min(category) FROM ${events} WHERE tenant_id = $1 AND category > c.category) ` +
        'FROM c WHERE c.category IS NOT NULL) SELECT category FROM c WHERE category IS NOT NULL',
      [tenant.id],
    );
    if (!rows.every((r) => expiry.expired(tenant.name, r.category, endMs))) return false;
  }
  for (const tenant of tenants) {
    const { rows } = await client.query<{ max: string | null }>(
      `SELECT max(seq) AS max FROM ${events} WHERE tenant_id = $1`,
      [tenant.id],
    );
    if (Number(rows[0]?.max ?? 0) > expiry.maxSeq(tenant.name)) return false;
  }
  return tenants.length > 0;
}

/**
 * Whether any of the tenants is under legal hold, their settings locked against change until
 * the caller's transaction ends (a hold placed meanwhile waits for it, and then applies).
 */
async function heldTenants(client: PoolClient, tenants: readonly string[]): Promise<boolean> {
  const { rows } = await client.query<{ settings: string }>(
    'SELECT settings FROM tenant_settings WHERE tenant = ANY($1) FOR SHARE',
    [tenants],
  );
  return rows.some((row) => legalHoldIn(row.settings) !== undefined);
}

/**
 * Drops a month's partitions whose every event has expired (the caller checked every tenant's
 * policy with {@link monthExpired}), in one transaction: the summaries lose the month's
 * events and their seqs are recorded as pruned (under a lock that holds back appends to this
 * month only), then both partitions are detached and dropped — no row is deleted one by one.
 * Answers the removed events per tenant and category, or `null` (nothing dropped) when one of
 * the month's tenants is under legal hold.
 */
export async function dropExpiredMonth(
  client: PoolClient,
  month: number,
  expired?: Pick<MonthExpiry, 'audit'>,
): Promise<Array<{ tenant: string; category: string; n: number }> | null> {
  const events = partitionName('events', month);
  await client.query('BEGIN');
  try {
    // Back-dated appends to this month wait until the partition is gone.
    await client.query(`LOCK TABLE ${events} IN SHARE ROW EXCLUSIVE MODE`);
    const tenants = await client.query<{ id: number; name: string }>(
      `SELECT t.id, t.name FROM tenants t WHERE EXISTS (SELECT 1 FROM ${events} e WHERE e.tenant_id = t.id)`,
    );
    // A hold placed since the run planned this drop keeps the month.
    const names = tenants.rows.map((t) => t.name);
    if (await heldTenants(client, names)) {
      await client.query('ROLLBACK');
      return null;
    }
    const removed: Array<{ tenant: string; category: string; n: number }> = [];
    const summaries = removalSql(
      `SELECT ${REMOVED_COLUMNS} FROM ${events} WHERE tenant_id = $1`,
      false,
    );
    for (const { id: tenantId, name } of tenants.rows) {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [PRUNE_LOCK, tenantId]);
      const { rows } = await client.query<{ category: string; n: number }>(summaries, [tenantId]);
      for (const r of rows) removed.push({ tenant: name, category: r.category, n: r.n });
      const span = await client.query<{ lo: string; hi: string }>(
        `SELECT (extract(epoch FROM min(time)) * 1000)::bigint AS lo, ` +
          `(extract(epoch FROM max(time)) * 1000)::bigint AS hi FROM ${events} WHERE tenant_id = $1`,
        [tenantId],
      );
      const { lo, hi } = span.rows[0] ?? { lo: '0', hi: '0' };
      await deleteEmptyCounts(
        client,
        tenantId,
        [...rows.map((r) => r.category), ''],
        Number(lo),
        Number(hi),
      );
      // Runs of consecutive seqs (gaps and islands), computed where the rows are.
      const runs = await client.query<{ from_seq: string; to_seq: string }>(
        'SELECT min(seq) AS from_seq, max(seq) AS to_seq FROM (SELECT seq, seq - row_number() ' +
          `OVER (ORDER BY seq) AS g FROM ${events} WHERE tenant_id = $1) AS x GROUP BY g ORDER BY 1`,
        [tenantId],
      );
      await recordRanges(
        client,
        tenantId,
        runs.rows.map((r) => [Number(r.from_seq), Number(r.to_seq)] as const),
      );
      const audit = expired?.audit?.(name, month);
      await keepPart(client, audit, Object.fromEntries(rows.map((r) => [r.category, Number(r.n)])));
    }
    for (const table of PARTITIONED_TABLES) {
      const name = partitionName(table, month);
      await client.query(`ALTER TABLE ${table} DETACH PARTITION ${name}`);
      await client.query(`DROP TABLE ${name}`);
    }
    await client.query('COMMIT');
    return removed;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Keeps a step's part of its run's `audit` entry, holding the run's parts (`pruneAuditSteps`). */
async function keepPart(
  client: PoolClient,
  audit: PendingAudit | null | undefined,
  byCategory: Readonly<Record<string, number>>,
): Promise<void> {
  const keep = audit && pruneAuditSteps(audit, byCategory);
  if (!keep) return;
  await runStep(client, keep.hold);
  await runStep(client, keep.part);
}
