/**
 * Retention on SQLite (issue #9): removes expired events in bounded transactions on the writer
 * thread, so that appends queue behind one short step at a time, never behind a whole run.
 *
 * A step removes every row of its events — `events`, `event_targets`, the FTS5 words — and
 * keeps the summaries consistent with the retained log: the counts (`event_counts`,
 * `event_days`, `actor_days`) lose the removed events; an account, receiver, system or actor
 * whose newest event is removed loses its row (nothing of it is left in that log). The tree
 * (`tree_nodes`) is kept whole, and the removed seqs are recorded in `pruned_ranges`, so that
 * a verifiable export tells pruned events from events deleted by hand.
 */
import type Database from 'better-sqlite3';
import { HOLD_PARTS_SQL, OUTBOX_INSERT_SQL, pruneAuditSteps } from './access-rows.js';
import { legalHoldIn } from './erase-plan.js';
import { runsOf } from './seq-runs.js';
import { actorKeySql, DAY_POS, HOUR_POS, SLOTS_PER_MS } from './sqlite-projections.js';
import { eventRemover } from './sqlite-remove.js';
import type { PendingAudit, PruneResult, PruneRule } from './types.js';

export const PRUNE_TABLES = `
CREATE TABLE IF NOT EXISTS pruned_ranges (
  tenant_id INTEGER NOT NULL,
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, from_seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS pruned_ranges_end ON pruned_ranges (tenant_id, to_seq);
`;

/** A pruning step as it crosses to the writer thread. */
export interface PruneStep {
  readonly tenant: string;
  readonly tenantId: number;
  readonly rules: readonly PruneRule[];
  readonly maxSeq: number;
  readonly limit: number;
  /** This step's part of its run's `audit` entry (`PruneRequest.audit`). */
  readonly audit?: PendingAudit;
}

type Selected = { pos: number; seq: number; category: string };
type Tally = {
  hour: number;
  day: number;
  category: string;
  action: string;
  outcome: string;
  actor: string;
};

/** The message ids of the `communications` events of the batch (see `message_receivers`). */
const MESSAGE_OF =
  "coalesce((SELECT t.value ->> '$.id' FROM json_each(e.body, '$.targets') t " +
  "WHERE t.value ->> '$.type' = 'message' LIMIT 1), e.id)";

/** Removes expired events, one bounded transaction per {@link Pruner.prune}. */
export class Pruner {
  readonly #stmt;
  readonly #step: Database.Transaction<(step: PruneStep) => PruneResult>;

  constructor(db: Database.Database) {
    db.exec('CREATE TEMP TABLE IF NOT EXISTS prune_batch (pos INTEGER PRIMARY KEY)');
    const p = (sql: string) => db.prepare(sql);
    /** Subtracts from one count row by its primary key, and removes it at 0. */
    const counter = (table: string, key: readonly string[]) => {
      const where = `tenant_id = ? AND ${key.map((c) => `${c} = ?`).join(' AND ')}`;
      return {
        sub: p(`UPDATE ${table} SET n = n - ? WHERE ${where}`),
        zero: p(`DELETE FROM ${table} WHERE ${where} AND n <= 0`),
      };
    };
    // `CROSS JOIN` keeps SQLite from scanning `events` to join the batch: the batch drives.
    const batchEvents = 'temp.prune_batch b CROSS JOIN events e ON e.pos = b.pos';
    this.#stmt = {
      select: p(
        'SELECT pos, seq, category FROM events WHERE tenant_id = ? AND category = ? AND pos < ? ' +
          'AND seq <= ? ORDER BY pos LIMIT ?',
      ),
      settings: p('SELECT settings FROM tenant_settings WHERE tenant = ?').pluck(),
      clearBatch: p('DELETE FROM temp.prune_batch'),
      addBatch: p('INSERT INTO temp.prune_batch (pos) VALUES (?)'),
      tally: p(
        `SELECT e.pos / ${HOUR_POS} AS hour, e.pos / ${DAY_POS} AS day, e.category AS category, ` +
          `e.action AS action, e.outcome AS outcome, ${actorKeySql('e')} AS actor FROM ${batchEvents}`,
      ),
      hours: counter('event_counts', ['hour', 'category', 'action', 'outcome']),
      days: counter('event_days', ['day', 'category', 'action', 'outcome']),
      actorDays: counter('actor_days', ['category', 'day', 'actor_key']),
      actor: p(
        'DELETE FROM actors WHERE tenant_id = ? AND actor_key = ? ' +
          'AND pos IN (SELECT pos FROM temp.prune_batch)',
      ),
      loginUsers: p(
        'DELETE FROM login_users WHERE tenant_id = ? AND seen_pos IN (SELECT pos FROM temp.prune_batch)',
      ),
      loginCountries: p(
        "DELETE FROM login_countries WHERE tenant_id = ? AND actor_key IN (SELECT coalesce(e.actor_id, 'email:' || e.actor_email) " +
          `FROM ${batchEvents} WHERE e.category = 'logins') ` +
          'AND last_pos IN (SELECT pos FROM temp.prune_batch)',
      ),
      receivers: p(
        'DELETE FROM message_receivers WHERE tenant_id = ? AND message_id IN (SELECT ' +
          `${MESSAGE_OF} FROM ${batchEvents} WHERE e.category = 'communications') ` +
          'AND (report_pos = 0 OR report_pos IN (SELECT pos FROM temp.prune_batch))',
      ),
      integrations: p(
        'DELETE FROM integrations WHERE tenant_id = ? AND last_pos IN (SELECT pos FROM temp.prune_batch)',
      ),
      remove: eventRemover(db),
      rangeEndingAt: p(
        'SELECT from_seq FROM pruned_ranges WHERE tenant_id = ? AND to_seq = ?',
      ).pluck(),
      rangeStartingAt: p(
        'DELETE FROM pruned_ranges WHERE tenant_id = ? AND from_seq = ? RETURNING to_seq',
      ).pluck(),
      extendRange: p('UPDATE pruned_ranges SET to_seq = ? WHERE tenant_id = ? AND from_seq = ?'),
      insertRange: p('INSERT INTO pruned_ranges (tenant_id, from_seq, to_seq) VALUES (?, ?, ?)'),
      keepAudit: p(OUTBOX_INSERT_SQL),
      holdParts: p(HOLD_PARTS_SQL),
    };
    this.#step = db.transaction((step: PruneStep) => this.#prune(step));
  }

  /** One pruning step, in one `BEGIN IMMEDIATE` transaction. */
  prune(step: PruneStep): PruneResult {
    return this.#step.immediate(step);
  }

  #prune({ tenant, tenantId, rules, maxSeq, limit, audit }: PruneStep): PruneResult {
    // A hold placed since the run began stops it here, in the step's transaction.
    if (legalHoldIn(this.#stmt.settings.get(tenant) as string | undefined)) {
      return { removed: 0, byCategory: {}, more: false, held: true };
    }
    // The oldest expired events across the rules, in time order: removed together, they share
    // the pages of the table and of every index led by time, where one category's oldest alone
    // would each sit on a page of its own among the others.
    const candidates: Selected[] = [];
    for (const rule of rules) {
      const rows = this.#stmt.select.all(
        tenantId,
        rule.category,
        rule.beforeMs * SLOTS_PER_MS,
        maxSeq,
        limit,
      ) as Selected[];
      candidates.push(...rows);
    }
    const selected = candidates.sort((a, b) => a.pos - b.pos).slice(0, limit);
    const byCategory: Record<string, number> = {};
    if (selected.length === 0) return { removed: 0, byCategory, more: false };
    const s = this.#stmt;
    s.clearBatch.run();
    for (const row of selected) {
      s.addBatch.run(row.pos);
      byCategory[row.category] = (byCategory[row.category] ?? 0) + 1;
    }
    // The summaries first, while the events are still there to be grouped.
    this.#subtractCounts(tenantId);
    if (byCategory['logins'] !== undefined) {
      s.loginUsers.run(tenantId);
      s.loginCountries.run(tenantId);
    }
    if (byCategory['communications'] !== undefined) s.receivers.run(tenantId);
    if (byCategory['integrations'] !== undefined) s.integrations.run(tenantId);
    for (const row of selected) s.remove(tenantId, row.pos);
    this.#recordRanges(
      tenantId,
      selected.map((r) => r.seq),
    );
    s.clearBatch.run();
    const keep = audit && pruneAuditSteps(audit, byCategory);
    if (keep) {
      s.holdParts.run(keep.hold.params);
      s.keepAudit.run(keep.part.params);
    }
    return { removed: selected.length, byCategory, more: selected.length >= limit };
  }

  /**
   * Takes the batch's events out of the counts: summed per row in memory, then one update (and
   * a removal at 0) per row, by primary key.
   */
  #subtractCounts(tenantId: number): void {
    const s = this.#stmt;
    const tallies = {
      hours: new Map<string, { key: unknown[]; n: number }>(),
      days: new Map<string, { key: unknown[]; n: number }>(),
      actorDays: new Map<string, { key: unknown[]; n: number }>(),
    };
    const count = (map: Map<string, { key: unknown[]; n: number }>, key: unknown[]) => {
      const id = JSON.stringify(key);
      const row = map.get(id);
      if (row) row.n++;
      else map.set(id, { key, n: 1 });
    };
    const actors = new Set<string>();
    for (const e of s.tally.all() as Tally[]) {
      count(tallies.hours, [e.hour, e.category, e.action, e.outcome]);
      count(tallies.days, [e.day, e.category, e.action, e.outcome]);
      count(tallies.actorDays, [e.category, e.day, e.actor]);
      count(tallies.actorDays, ['', e.day, e.actor]);
      actors.add(e.actor);
    }
    for (const [name, map] of Object.entries(tallies) as Array<
      [keyof typeof tallies, Map<string, { key: unknown[]; n: number }>]
    >) {
      for (const { key, n } of map.values()) {
        s[name].sub.run(n, tenantId, ...key);
        s[name].zero.run(tenantId, ...key);
      }
    }
    for (const actor of actors) s.actor.run(tenantId, actor);
  }

  /** Adds the seqs to `pruned_ranges`, merging with the ranges they touch. */
  #recordRanges(tenantId: number, seqs: number[]): void {
    for (const [from, to] of runsOf(seqs)) {
      const s = this.#stmt;
      const right = s.rangeStartingAt.get(tenantId, to + 1) as number | undefined;
      const end = right ?? to;
      const left = s.rangeEndingAt.get(tenantId, from - 1) as number | undefined;
      if (left !== undefined) s.extendRange.run(end, tenantId, left);
      else s.insertRange.run(tenantId, from, end);
    }
  }
}

/** The pruned ranges of a tenant up to `maxSeq` (the last one cut there), ascending. */
export function prunedRanges(
  db: Database.Database,
  tenantId: number,
  maxSeq: number,
): Array<[number, number]> {
  const rows = db
    .prepare(
      'SELECT from_seq, to_seq FROM pruned_ranges WHERE tenant_id = ? AND from_seq <= ? ORDER BY from_seq',
    )
    .raw()
    .all(tenantId, maxSeq) as Array<[number, number]>;
  return rows.map(([from, to]) => [from, Math.min(to, maxSeq)]);
}

/** The categories of a tenant's events, by a skip scan of the category index. */
export function categories(db: Database.Database, tenantId: number): string[] {
  const next = db
    .prepare('SELECT min(category) FROM events WHERE tenant_id = ? AND category > ?')
    .pluck();
  const out: string[] = [];
  for (let c = next.get(tenantId, '') as string | null; c !== null; ) {
    out.push(c);
    c = next.get(tenantId, c) as string | null;
  }
  return out;
}
