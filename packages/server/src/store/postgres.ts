/**
 * The production store: PostgreSQL through a `pg` connection pool. Several Hindsight servers
 * may share one database: a group commit locks the rows of its tenants (in id order, so two
 * servers never deadlock) and writes only what was planned from the sizes (and stored ids) it
 * finds under those locks, so `seq` stays gap-free and idempotency race-free across servers. A
 * group is drafted before its locks and checked under them (`group-drafts.ts`), or planned
 * under them. The schema is in `postgres-schema.ts`, the SQL of
 * queries in `postgres-query.ts`, the derived views of issue #5 in `postgres-projections.ts`
 * (kept by a trigger as events are inserted) and `postgres-views.ts` (their reads).
 */
import {
  type ErasureSubject,
  merkle,
  type Salts,
  type StoredEvent,
  type TenantSettings,
  type ViewInput,
} from '@hindsight/core';
import type { Pool, PoolClient } from 'pg';
import { HindsightError } from '../errors.js';
import { forEachInSlices } from '../slices.js';
import * as access from './access-rows.js';
import {
  FrontierCache,
  fromWireError,
  newPlanState,
  nodesInOrder,
  type PlannedInsert,
  type PlanSource,
  planBatch,
  producerIds,
  refusedBatch,
  type StoredId,
  saltsOf,
  type TreeGrowth,
  treeGrowth,
  type WireOutcome,
  type WriterEvent,
  writerEvent,
} from './append-plan.js';
import { COSIGNED_SQL } from './cosigned-sql.js';
import { eventText, storedEvent } from './event-json.js';
import { type Base, DraftChain, type Frontier, Link, type Outcome } from './group-drafts.js';
import {
  CLAIM_HOOK_SIGNATURE_PG,
  claimParams,
  RELEASE_HOOK_SIGNATURE_PG,
  releaseParams,
} from './hook-signatures.js';
import { KEY_COLUMNS, type KeyRow, keyParams, keyRecord } from './key-rows.js';
import { CLAIM_LEASE_PG, RELEASE_LEASE_PG } from './lease-sql.js';
import {
  erasePostgres,
  inTransaction,
  redactedLeavesPostgres,
  redactPostgres,
  runStep,
} from './postgres-erase.js';
import {
  dropExpiredMonth,
  MONTHS_LOCK,
  monthExpired,
  partitionMonths,
  pruneStep,
} from './postgres-prune.js';
import { buildQuery, parsePosition } from './postgres-query.js';
import {
  APPEND_SQL,
  type ArrayValues,
  addRow,
  appendParams,
  arrayElement,
  arrayLiteral,
  createPartitions,
  DRAFT_APPEND_SQL,
  emptyColumns,
  migratePostgres,
  monthOf,
  type NodeColumns,
  PARTITIONED_TABLES,
  partitionName,
  type TextElements,
  tsvectorText,
} from './postgres-schema.js';
import * as views from './postgres-views.js';
import { computeStats } from './stats-plan.js';
import type {
  ApiKeyRecord,
  AppendOutcome,
  DeliveryCount,
  ErasureResult,
  EventPage,
  EventQuery,
  EventTextPage,
  HookSignatureClaim,
  HookSignatureOutcome,
  IntegrationSummary,
  LoginUser,
  LoginUsersQuery,
  MessageReceiver,
  MonthDrop,
  MonthExpiry,
  PendingAudit,
  PreparedEvent,
  PruneRequest,
  PruneResult,
  RedactedLeaf,
  RedactionRequest,
  RedactionResult,
  Stats,
  StatsQuery,
  Store,
  StoredTenantSettings,
  StoredView,
  TenantSettingsUpdate,
  ViewerRevocation,
  ViewerTokenRef,
} from './types.js';

/** Tree frontiers a transaction leaves behind, remembered once it commits. */
type Frontiers = Outcome[];

/** A group commit planned before its locks: its link in the chain, and its statement. */
interface Draft {
  readonly link: Link;
  readonly outcomes: WireOutcome[];
  /** The parameters of {@link DRAFT_APPEND_SQL}, every array already a literal. */
  readonly params: string[];
  readonly frontiers: Frontiers;
  /** Whether producers chose some of its ids (looked up before it is sent). */
  readonly producerIds: boolean;
}

/** An event's body and salts as array-literal elements, and its words for the tenant's id. */
interface Texts {
  readonly body: string;
  readonly salts: string;
  /** The words, made with `tenantId`; `null` when that id was not known yet. */
  readonly words: string | null;
  readonly tenantId: number | undefined;
}
type TextsOf = Map<WriterEvent, Texts>;

/** Options for {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** A `postgres://` or `postgresql://` URL. */
  readonly url: string;
  /** Most connections this server opens (default 10); more requests wait for one. */
  readonly poolSize?: number;
  /** How long a request waits for a free connection before `503 store_unavailable` (ms). */
  readonly connectTimeoutMs?: number;
  /**
   * Group-commit transactions under way at once (default 2: one commits while the next one
   * locks and inserts; more would only queue on the tenants' row locks).
   */
  readonly appendConcurrency?: number;
}

type EventRow = { seq: string; hash: Buffer; body: string; salts?: string | null };

/**
 * How many statements a webhook signature's claim makes at most: one, and another when a server
 * took it meanwhile (`hook-signatures.ts`).
 */
const HOOK_CLAIM_ATTEMPTS = 3;

/** PostgreSQL's `parallel_setup_cost` for Hindsight's connections (its default is 1,000). */
const PARALLEL_SETUP_COST = 100_000;

/**
 * Opens a PostgreSQL store, applying any missing migrations; `pg` is loaded lazily.
 * @example const store = await openPostgresStore({ url: 'postgres://localhost/hindsight' });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { default: pg } = await import('pg');
  // bigint (seq) arrives as text by default; every seq fits a double exactly.
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: 'hindsight',
    // A parallel plan starts its workers first, some 10 ms on a small machine; for a page of
    // 50 events found through the keyword index that is most of the time the query takes
    // (rare keyword p95 19.7 → 4.1 ms at 1,000,000 events). Only scans far larger than any
    // page's are still worth their workers.
    options: `-c parallel_setup_cost=${PARALLEL_SETUP_COST}`,
  });
  // A connection that the database drops (a restart) must not crash the process: an idle one
  // reports on the pool, a busy one on itself and fails its query. The next query opens anew.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    try {
      await migratePostgres(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    // Where, without the password; and why, in the driver's words.
    const url = new URL(options.url);
    const why = error instanceof Error ? error.message : String(error);
    throw unavailable(
      `The PostgreSQL database ${url.hostname}:${url.port || 5432}${url.pathname} could not be opened: ${why}`,
      error,
    );
  }
  return new PostgresStore(pool, options.appendConcurrency ?? 2);
}

class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly appendConcurrency: number;
  readonly #pool: Pool;
  readonly #tenantIds = new Map<string, number>();
  /** Months whose partitions are known to exist. */
  readonly #months = new Set<number>();
  readonly #frontiers = new FrontierCache();
  /** Group commits planned ahead of their locks ({@link DraftChain}). */
  readonly #drafts = new DraftChain(this.#frontiers);
  /** Producer-chosen ids (`tenant NUL id`) of the group commits under way, and how many hold each. */
  readonly #pendingIds = new Map<string, number>();
  /**
   * Group commits on their way to be planned under their locks: until they are, the state they
   * will leave is unknown, so no group is drafted (it would fail the database's check).
   */
  #unplanned = 0;
  /** Events this server appended per month, to refresh the planner's statistics as it grows. */
  readonly #appended = new Map<number, number>();
  #closed = false;

  constructor(pool: Pool, appendConcurrency: number) {
    this.#pool = pool;
    this.appendConcurrency = appendConcurrency;
  }

  async append(batches: readonly (readonly PreparedEvent[])[]): Promise<AppendOutcome[]> {
    this.#assertOpen();
    const flat = batches.map((b) => b.map(writerEvent));
    // Each event's month, once: partitions need them before, statistics after.
    const months = flat.map((b) => b.map((e) => monthOf(e.timeMs)));
    const texts = await this.#textElements(flat);
    // Producer-chosen ids of groups under way: a draft must not follow a group holding one of
    // its ids, which that group may store while the draft's own look-up cannot see it yet.
    const keys = [...producerIds(flat)].flatMap(([tenant, ids]) =>
      ids.map((id) => `${tenant}\u0000${id}`),
    );
    const draft =
      this.#unplanned > 0 || keys.some((k) => this.#pendingIds.has(k))
        ? null
        : this.#draft(flat, texts, keys.length > 0);
    for (const k of keys) this.#pendingIds.set(k, (this.#pendingIds.get(k) ?? 0) + 1);
    let unplanned = false;
    try {
      const outcomes = await this.#withClient(async (client) => {
        await this.#ensurePartitions(client, months);
        const drafted = draft && (await this.#sendDraft(client, flat, draft));
        if (drafted) return drafted;
        this.#unplanned++;
        unplanned = true;
        const planned = () => {
          if (unplanned) this.#unplanned--;
          unplanned = false;
        };
        try {
          return await this.#transaction(client, flat, texts, planned);
        } catch (error) {
          if (isUnavailable(error)) throw error;
          if ((error as { code?: unknown }).code === '23514') {
            // No partition for the row: retention dropped that month (perhaps on another server).
            this.#months.clear();
            await this.#ensurePartitions(client, months);
          }
          // One batch the database refuses must not fail the others it was grouped with:
          // commit each on its own, so only a failing batch is answered with the failure.
          const alone: WireOutcome[] = [];
          for (const batch of flat) {
            try {
              alone.push(...(await this.#transaction(client, [batch], texts, planned)));
            } catch (batchError) {
              if (isUnavailable(batchError)) throw batchError;
              alone.push(refusedBatch(batchError));
            }
          }
          return alone;
        }
      }, 'The event store could not commit the batch; nothing of it was stored.');
      this.#countAppended(months, outcomes);
      return outcomes.map((o) => (o.ok ? o : { ok: false, error: fromWireError(o.error) }));
    } finally {
      draft?.link.drop();
      if (unplanned) this.#unplanned--;
      for (const k of keys) {
        const n = (this.#pendingIds.get(k) ?? 1) - 1;
        if (n === 0) this.#pendingIds.delete(k);
        else this.#pendingIds.set(k, n);
      }
    }
  }

  /** One durable transaction for all batches; rolls back and throws when the database fails. */
  async #transaction(
    client: PoolClient,
    batches: readonly (readonly WriterEvent[])[],
    texts: TextsOf,
    planned: () => void,
  ): Promise<WireOutcome[]> {
    // PostgreSQL may abort a transaction that waits in a lock cycle with another server's
    // (40P01) or cannot serialise it (40001): nothing of it was stored, so run it again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(client, batches, texts, planned);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
      }
    }
  }

  async #attempt(
    client: PoolClient,
    batches: readonly (readonly WriterEvent[])[],
    texts: TextsOf,
    planned: () => void,
  ): Promise<WireOutcome[]> {
    const link = new Link();
    await client.query('BEGIN');
    try {
      const done = await this.#insertAll(client, batches, texts, link, planned);
      await client.query('COMMIT');
      // Only now may other group commits take these tenants as stored: one that did before
      // would lock a row its snapshot cannot see yet, and plan the tenant as absent.
      for (const [name, id] of done.tenantIds) this.#tenantIds.set(name, id);
      this.#committed(done.frontiers);
      link.commit();
      return done.outcomes;
    } catch (error) {
      link.drop();
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  /** Remembers the trees a committed group commit left. */
  #committed(frontiers: Frontiers): void {
    for (const { tenantId, size, frontier } of frontiers) {
      this.#frontiers.set(tenantId, size, frontier);
    }
  }

  /**
   * Plans a group commit before its locks, from the state this server expects its tenants to
   * be in ({@link DraftChain}); `null` when it does not know a tenant's state, or nothing would
   * be inserted. Planned as if no producer-chosen id of it were stored: {@link #sendDraft}
   * looks them up first.
   */
  #draft(
    batches: readonly (readonly WriterEvent[])[],
    texts: TextsOf,
    producerIds: boolean,
  ): Draft | null {
    const bases = new Map<number, Base>();
    for (const batch of batches) {
      for (const e of batch) {
        const tenantId = this.#tenantIds.get(e.tenant);
        if (tenantId === undefined) return null;
        if (bases.has(tenantId)) continue;
        const base = this.#drafts.base(tenantId);
        if (!base) return null;
        bases.set(tenantId, base);
      }
    }
    const plan = this.#plan(batches, texts, {
      tenantId: (name) => this.#tenantIds.get(name) as number,
      size: (tenantId) => bases.get(tenantId)?.size ?? 0,
      stored: () => undefined,
    });
    if (plan.inserted.length === 0) return null;
    const known = new Map([...bases].map(([tenantId, base]) => [tenantId, base.frontier]));
    const { frontiers, nodes } = growTrees(treeGrowth(plan.inserted), known);
    const expected = frontiers.map(({ tenantId }) => bases.get(tenantId) as Base);
    const params = [
      ...appendParams(plan.columns, nodes, frontiers, plan.elements),
      expected.map((b) => b.size),
      expected.map((b) => b.head),
    ].map((p) => (typeof p === 'string' ? p : arrayLiteral(p as ArrayValues)));
    const link = new Link();
    this.#drafts.add(link, bases.values(), frontiers);
    return { link, outcomes: plan.outcomes, params, frontiers, producerIds };
  }

  /**
   * Sends a draft ({@link DRAFT_APPEND_SQL}); its outcomes when it committed, `null` when the
   * group must be planned under its locks instead: a tenant's log is not in the state the
   * draft expected, a producer-chosen id of it is stored already, or the database refused it.
   */
  async #sendDraft(
    client: PoolClient,
    batches: readonly (readonly WriterEvent[])[],
    draft: Draft,
  ): Promise<WireOutcome[] | null> {
    if (draft.link.dropped) return null;
    try {
      if (draft.producerIds) {
        const stored = await this.#storedIds(client, batches, this.#tenantIds);
        if (stored.size > 0) {
          draft.link.drop();
          return null;
        }
      }
      await client.query(DRAFT_APPEND_SQL, draft.params);
    } catch (error) {
      // The drafts made after it start again from what is known.
      draft.link.drop();
      if (isUnavailable(error)) throw error;
      return null;
    }
    draft.link.commit();
    this.#committed(draft.frontiers);
    return draft.outcomes;
  }

  /**
   * The array-literal elements of every event's body, salts and words, made before the group
   * takes the tenants' locks, so that the statement written under them is mostly joins. Words
   * carry the tenant's id: for a tenant this server has not seen yet they are made under the
   * locks instead.
   */
  async #textElements(batches: readonly (readonly WriterEvent[])[]): Promise<TextsOf> {
    const texts: TextsOf = new Map();
    await forEachInSlices(batches.flat(), (e) => {
      const tenantId = this.#tenantIds.get(e.tenant);
      texts.set(e, {
        body: arrayElement(e.json),
        salts: arrayElement(e.salts),
        words: tenantId === undefined ? null : tsvectorText(tenantId, e.searchText),
        tenantId,
      });
    });
    return texts;
  }

  /**
   * Plans and writes a group commit under its tenants' locks. Once planned, it is `link` in the
   * chain that groups drafted after it start from, and `planned` is called.
   */
  async #insertAll(
    client: PoolClient,
    batches: readonly (readonly WriterEvent[])[],
    texts: TextsOf,
    link: Link,
    planned: () => void,
  ): Promise<{ outcomes: WireOutcome[]; frontiers: Frontiers; tenantIds: Map<string, number> }> {
    const names = [...new Set(batches.flatMap((b) => b.map((e) => e.tenant)))].sort();
    const unknown = names.filter((n) => !this.#tenantIds.has(n));
    if (unknown.length > 0) {
      await client.query(
        'INSERT INTO tenants (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING',
        [unknown],
      );
    }
    // Lock the tenants in id order: concurrent group commits (also from other servers) of the
    // same tenant wait here, then see each other's committed sizes and ids.
    const locked = await client.query<{ id: number; name: string; size: string }>(
      'SELECT id, name, size FROM tenants WHERE name = ANY($1::text[]) ORDER BY id FOR UPDATE',
      [names],
    );
    const ids = new Map<string, number>();
    const sizes = new Map<number, number>();
    for (const row of locked.rows) {
      ids.set(row.name, row.id);
      sizes.set(row.id, Number(row.size));
    }
    const stored = await this.#storedIds(client, batches, ids);
    const plan = this.#plan(batches, texts, {
      tenantId: (name) => ids.get(name) as number,
      size: (tenantId) => sizes.get(tenantId) ?? 0,
      stored: (tenantId, id) => stored.get(`${tenantId}\u0000${id}`),
    });
    const growth = treeGrowth(plan.inserted);
    const known = await this.#frontiersOf(client, growth);
    const { frontiers, nodes } = growTrees(growth, known);
    // Groups drafted from now on start from what this one leaves.
    this.#drafts.add(link, [], frontiers);
    planned();
    if (plan.inserted.length > 0) {
      await client.query(APPEND_SQL, appendParams(plan.columns, nodes, frontiers, plan.elements));
    }
    return { outcomes: plan.outcomes, frontiers, tenantIds: ids };
  }

  /** Plans the batches from `source`: their outcomes, and the rows of the events to insert. */
  #plan(batches: readonly (readonly WriterEvent[])[], texts: TextsOf, source: PlanSource) {
    const state = newPlanState();
    const columns = emptyColumns();
    const inserted: PlannedInsert[] = [];
    const elements: TextElements[] = [];
    const outcomes = batches.map((batch): WireOutcome => {
      const plan = planBatch(batch, source, state);
      if (!plan.ok) return plan.outcome;
      for (const { event, tenantId, seq, hash } of plan.inserts) {
        const made = texts.get(event) as Texts;
        const words =
          made.tenantId === tenantId && made.words !== null
            ? made.words
            : tsvectorText(tenantId, event.searchText);
        addRow(columns, tenantId, seq, hash, event, words);
        elements.push({ body: made.body, salts: made.salts, words: arrayElement(words) });
      }
      inserted.push(...plan.inserts);
      return { ok: true, events: plan.refs };
    });
    return { outcomes, inserted, columns, elements };
  }

  /**
   * The tree frontiers the new leaves grow from: remembered from this server's last commit, or
   * read. Runs under the tenants' row locks, so the frontier read here is the committed one.
   */
  async #frontiersOf(
    client: PoolClient,
    growth: ReadonlyMap<number, TreeGrowth>,
  ): Promise<Map<number, Frontier>> {
    const known = new Map<number, Frontier>();
    const missing: Array<{ tenantId: number; level: number; index: number }> = [];
    for (const [tenantId, g] of growth) {
      const cached = this.#frontiers.get(tenantId, g.size);
      if (cached) known.set(tenantId, cached);
      else for (const id of merkle.frontierIds(g.size)) missing.push({ tenantId, ...id });
    }
    if (missing.length > 0) {
      const { rows } = await client.query<{ tenant_id: number; level: number; hash: Buffer }>(
        'SELECT n.tenant_id, n.level, n.hash FROM tree_nodes n JOIN unnest($1::integer[], ' +
          '$2::smallint[], $3::bigint[]) AS w(tenant_id, level, idx) ON n.tenant_id = w.tenant_id ' +
          'AND n.level = w.level AND n.idx = w.idx',
        [missing.map((m) => m.tenantId), missing.map((m) => m.level), missing.map((m) => m.index)],
      );
      if (rows.length !== missing.length) throw new Error('A tenant tree frontier is incomplete.');
      for (const row of rows) {
        const frontier = known.get(row.tenant_id) ?? new Map<number, Uint8Array>();
        frontier.set(row.level, row.hash);
        known.set(row.tenant_id, frontier);
      }
    }
    return known;
  }

  /** The stored events whose ids producers chose again in these batches. */
  async #storedIds(
    client: PoolClient,
    batches: readonly (readonly WriterEvent[])[],
    ids: Map<string, number>,
  ): Promise<Map<string, StoredId>> {
    const wanted = producerIds(batches);
    const out = new Map<string, StoredId>();
    if (wanted.size === 0) return out;
    const tenantIds: number[] = [];
    const eventIds: string[] = [];
    for (const [tenant, list] of wanted) {
      for (const id of list) {
        tenantIds.push(ids.get(tenant) as number);
        eventIds.push(id);
      }
    }
    const { rows } = await client.query<{
      tenant_id: number;
      id: string;
      seq: string;
      hash: Buffer;
      digest: Buffer | null;
    }>(
      'SELECT e.tenant_id, e.id, e.seq, e.hash, e.digest FROM events e ' +
        'JOIN unnest($1::integer[], $2::text[]) AS w(tenant_id, id) ' +
        'ON e.tenant_id = w.tenant_id AND e.id = w.id',
      [tenantIds, eventIds],
    );
    for (const r of rows) {
      out.set(`${r.tenant_id}\u0000${r.id}`, {
        seq: Number(r.seq),
        hash: r.hash.toString('hex'),
        digest: r.digest?.toString('hex') ?? null,
      });
    }
    return out;
  }

  async #ensurePartitions(client: PoolClient, months: readonly number[][]): Promise<void> {
    const missing = new Set<number>();
    for (const month of months.flat()) if (!this.#months.has(month)) missing.add(month);
    if (missing.size === 0) return;
    await createPartitions(client, missing);
    for (const m of missing) this.#months.add(m);
  }

  /**
   * Re-analyses a month's partitions in the background each time the events this server wrote
   * to it pass a power of ten (1,000, 10,000, …). Until autovacuum gets to a young, fast-growing
   * partition, the planner would otherwise take it for nearly empty and sort where it should
   * walk an index.
   */
  #countAppended(months: readonly number[][], outcomes: readonly WireOutcome[]) {
    const added = new Map<number, number>();
    months.forEach((batch, i) => {
      if (!outcomes[i]?.ok) return;
      for (const month of batch) added.set(month, (added.get(month) ?? 0) + 1);
    });
    for (const [month, n] of added) {
      const before = this.#appended.get(month) ?? 0;
      this.#appended.set(month, before + n);
      // Due when this append passed 1,000, 10,000, 100,000, …
      let threshold = 1000;
      while (threshold <= before) threshold *= 10;
      if (before + n < threshold) added.delete(month);
    }
    for (const month of added.keys()) {
      const tables = PARTITIONED_TABLES.map((t) => partitionName(t, month)).join(', ');
      this.#query(`ANALYZE ${tables}`).catch(() => {});
    }
  }

  async getEvent(tenant: string, id: string): Promise<StoredEvent | null> {
    const row = await this.#eventRow(tenant, id, false);
    return row ? toEvent(row) : null;
  }

  async getEventWithSalts(
    tenant: string,
    id: string,
  ): Promise<{ event: StoredEvent; salts: Salts } | null> {
    const row = await this.#eventRow(tenant, id, true);
    return row ? { event: toEvent(row), salts: saltsOf(row) } : null;
  }

  /** The row of one event by id, with its salts when asked. */
  async #eventRow(tenant: string, id: string, withSalts: boolean): Promise<EventRow | undefined> {
    this.#assertOpen();
    const { rows } = await this.#query<EventRow>(
      `SELECT e.seq, e.hash, e.body${withSalts ? ', e.salts' : ''} FROM events e ` +
        'JOIN tenants t ON t.id = e.tenant_id WHERE t.name = $1 AND e.id = $2 LIMIT 1',
      [tenant, id],
    );
    return rows[0];
  }

  async queryEvents(tenant: string, query: EventQuery): Promise<EventPage> {
    const { rows, next } = await this.#page(tenant, query);
    return {
      events: rows.map(toEvent),
      ...(query.withSalts ? { salts: rows.map(saltsOf) } : {}),
      next,
    };
  }

  async queryEventTexts(tenant: string, query: EventQuery): Promise<EventTextPage> {
    const { rows, next } = await this.#page(tenant, query);
    return { events: rows.map((row) => eventText(row, Number(row.seq), query.withSalts)), next };
  }

  /** The rows of a page, and the position after it. */
  async #page(
    tenant: string,
    query: EventQuery,
  ): Promise<{ rows: EventRow[]; next: string | null }> {
    this.#assertOpen();
    const after = query.after === undefined ? undefined : parsePosition(query.after);
    const tenantId = await this.#knownTenantId(tenant);
    if (tenantId === null) return { rows: [], next: null };
    const plan = buildQuery(
      tenantId,
      query,
      after,
      await views.suffixActions(this.#rows, tenantId, query.clauses),
    );
    let rows: EventRow[] | undefined;
    if (plan.probe) {
      const probed = (await this.#query<EventRow>(plan.probe.sql, plan.probe.params)).rows;
      // A full page among the newest candidates is the answer; fewer proves nothing.
      if (probed.length > query.limit) rows = probed;
    }
    rows ??= (await this.#query<EventRow>(plan.sql, plan.params)).rows;
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    if (rows.length <= query.limit || !last) return { rows: page, next: null };
    const { time } = JSON.parse(last.body) as { time: string };
    return { rows: page, next: `${Date.parse(time)}:${last.seq}` };
  }

  async #knownTenantId(name: string): Promise<number | null> {
    const cached = this.#tenantIds.get(name);
    if (cached !== undefined) return cached;
    const { rows } = await this.#query<{ id: number }>('SELECT id FROM tenants WHERE name = $1', [
      name,
    ]);
    const id = rows[0]?.id;
    if (id === undefined) return null;
    this.#tenantIds.set(name, id);
    return id;
  }

  async logSize(tenant: string): Promise<number> {
    this.#assertOpen();
    const { rows } = await this.#query<{ size: string }>(
      'SELECT size FROM tenants WHERE name = $1',
      [tenant],
    );
    return Number(rows[0]?.size ?? 0);
  }

  async claimLease(name: string, holder: string, untilMs: number, nowMs: number): Promise<boolean> {
    this.#assertOpen();
    const { rows } = await this.#query(CLAIM_LEASE_PG, [name, holder, untilMs, nowMs]);
    return rows.length === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.#assertOpen();
    await this.#query(RELEASE_LEASE_PG, [name, holder]);
  }

  async claimHookSignature(
    claim: HookSignatureClaim,
    nowMs: number,
  ): Promise<HookSignatureOutcome> {
    this.#assertOpen();
    // No row: another server took the signature after the statement began; its read did not
    // see it, the next statement's does.
    for (let attempt = 1; attempt <= HOOK_CLAIM_ATTEMPTS; attempt++) {
      const { rows } = await this.#query<{ outcome: HookSignatureOutcome }>(
        CLAIM_HOOK_SIGNATURE_PG,
        claimParams(claim, nowMs),
      );
      const [row] = rows;
      if (row) return row.outcome;
    }
    throw new Error(
      `The ${claim.provider} webhook signature changed hands under ${HOOK_CLAIM_ATTEMPTS} claims in a row.`,
    );
  }

  async releaseHookSignature(claim: HookSignatureClaim): Promise<void> {
    this.#assertOpen();
    await this.#query(RELEASE_HOOK_SIGNATURE_PG, releaseParams(claim));
  }

  async tenants(): Promise<Array<{ name: string; size: number; signed: number }>> {
    this.#assertOpen();
    // COLLATE "C": code-point order, as SQLite sorts, whatever the database's locale.
    const { rows } = await this.#query<{ name: string; size: string; signed: string }>(
      'SELECT name, size, coalesce((SELECT max(c.size) FROM checkpoints c ' +
        'WHERE c.tenant_id = t.id), 0) AS signed FROM tenants t WHERE size > 0 ' +
        'ORDER BY name COLLATE "C"',
    );
    return rows.map((r) => ({ name: r.name, size: Number(r.size), signed: Number(r.signed) }));
  }

  async treeNodes(tenant: string, ids: readonly merkle.NodeId[]): Promise<Uint8Array[]> {
    this.#assertOpen();
    const tenantId = await this.#knownTenantId(tenant);
    const { rows } =
      tenantId === null || ids.length === 0
        ? { rows: [] }
        : await this.#query<{ level: number; idx: string; hash: Buffer }>(
            'SELECT level, idx, hash FROM tree_nodes WHERE tenant_id = $1 AND (level, idx) IN ' +
              '(SELECT * FROM unnest($2::smallint[], $3::bigint[]))',
            [tenantId, ids.map((i) => i.level), ids.map((i) => i.index)],
          );
    const found = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
    return nodesInOrder(tenant, ids, (level, index) => found.get(`${level}/${index}`));
  }

  async saveCheckpoints(
    checkpoints: readonly { tenant: string; size: number; note: string }[],
  ): Promise<void> {
    this.#assertOpen();
    if (checkpoints.length === 0) return;
    await this.#query(
      'INSERT INTO checkpoints (tenant_id, size, note) SELECT t.id, c.size, c.note FROM ' +
        'unnest($1::text[], $2::bigint[], $3::text[]) AS c(tenant, size, note) ' +
        'JOIN tenants t ON t.name = c.tenant ON CONFLICT (tenant_id, size) DO UPDATE ' +
        `SET note = excluded.note WHERE ${COSIGNED_SQL}`,
      [
        checkpoints.map((c) => c.tenant),
        checkpoints.map((c) => c.size),
        checkpoints.map((c) => c.note),
      ],
    );
  }

  async checkpoints(
    tenant: string,
    maxSize: number,
  ): Promise<Array<{ size: number; note: string }>> {
    this.#assertOpen();
    const { rows } = await this.#query<{ size: string; note: string }>(
      'SELECT c.size, c.note FROM checkpoints c JOIN tenants t ON t.id = c.tenant_id ' +
        'WHERE t.name = $1 AND c.size <= $2 ORDER BY c.size',
      [tenant, maxSize],
    );
    return rows.map((r) => ({ size: Number(r.size), note: r.note }));
  }

  async latestCheckpoint(tenant: string): Promise<{ size: number; note: string } | null> {
    this.#assertOpen();
    const { rows } = await this.#query<{ size: string; note: string }>(
      'SELECT c.size, c.note FROM checkpoints c JOIN tenants t ON t.id = c.tenant_id ' +
        'WHERE t.name = $1 ORDER BY c.size DESC LIMIT 1',
      [tenant],
    );
    const row = rows[0];
    return row ? { size: Number(row.size), note: row.note } : null;
  }

  async loginUsers(
    tenant: string,
    query: LoginUsersQuery,
  ): Promise<{ users: LoginUser[]; next: string | null }> {
    this.#assertOpen();
    const after =
      query.after === undefined ? undefined : views.parseLoginPosition(query.after, query.sort);
    const tenantId = await this.#knownTenantId(tenant);
    if (tenantId === null) return { users: [], next: null };
    return views.loginUsers(this.#rows, tenantId, query, after);
  }

  async deliveryCounts(tenant: string, messageIds: readonly string[]): Promise<DeliveryCount[]> {
    this.#assertOpen();
    const tenantId = await this.#knownTenantId(tenant);
    return tenantId === null ? [] : views.deliveryCounts(this.#rows, tenantId, messageIds);
  }

  async messageReceivers(
    tenant: string,
    messageId: string,
    limit: number,
    afterAddress?: string,
  ): Promise<MessageReceiver[]> {
    this.#assertOpen();
    const tenantId = await this.#knownTenantId(tenant);
    return tenantId === null
      ? []
      : views.messageReceivers(this.#rows, tenantId, messageId, limit, afterAddress);
  }

  async integrations(tenant: string): Promise<IntegrationSummary[]> {
    this.#assertOpen();
    const tenantId = await this.#knownTenantId(tenant);
    return tenantId === null ? [] : views.integrations(this.#rows, tenantId);
  }

  async stats(tenant: string, query: StatsQuery): Promise<Stats> {
    this.#assertOpen();
    const tenantId = (await this.#knownTenantId(tenant)) ?? -1;
    return computeStats(views.statsSource(this.#rows, tenantId), query);
  }

  async views(tenant: string): Promise<StoredView[]> {
    this.#assertOpen();
    return views.views(this.#rows, tenant);
  }

  async putView(tenant: string, id: string, view: ViewInput): Promise<StoredView> {
    this.#assertOpen();
    return views.putView(this.#rows, tenant, id, view);
  }

  async deleteView(tenant: string, id: string): Promise<boolean> {
    this.#assertOpen();
    return views.deleteView(this.#rows, tenant, id);
  }

  async categories(tenant: string): Promise<string[]> {
    this.#assertOpen();
    const tenantId = await this.#knownTenantId(tenant);
    if (tenantId === null) return [];
    // A skip scan of the category index: one probe per category, not a read of every event.
    const { rows } = await this.#query<{ category: string }>(
      'WITH RECURSIVE c AS (SELECT min(category) AS category FROM events WHERE tenant_id = $1 ' +
        'UNION ALL SELECT (SELECT min(category) FROM events WHERE tenant_id = $1 AND category > c.category) ' +
        'FROM c WHERE c.category IS NOT NULL) SELECT category FROM c WHERE category IS NOT NULL',
      [tenantId],
    );
    return rows.map((r) => r.category);
  }

  async prune(request: PruneRequest): Promise<PruneResult> {
    this.#assertOpen();
    const tenantId = await this.#knownTenantId(request.tenant);
    if (tenantId === null) return { removed: 0, byCategory: {}, more: false };
    const { rules, maxSeq, limit } = request;
    return this.#withClient(async (client) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await pruneStep(
            client,
            request.tenant,
            tenantId,
            rules,
            maxSeq,
            limit,
            request.audit,
          );
        } catch (error) {
          // A lock cycle with a group commit (both touch the summaries): nothing was removed.
          const code = (error as { code?: unknown }).code;
          if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
        }
      }
    }, 'Expired events could not be removed.');
  }

  async prunedRanges(tenant: string, maxSeq: number): Promise<Array<[number, number]>> {
    this.#assertOpen();
    const tenantId = await this.#knownTenantId(tenant);
    if (tenantId === null) return [];
    const { rows } = await this.#query<{ from_seq: string; to_seq: string }>(
      'SELECT from_seq, to_seq FROM pruned_ranges WHERE tenant_id = $1 AND from_seq <= $2 ' +
        'ORDER BY from_seq',
      [tenantId, maxSeq],
    );
    return rows.map((r) => [Number(r.from_seq), Math.min(Number(r.to_seq), maxSeq)]);
  }

  async dropExpiredMonths(expired: MonthExpiry): Promise<MonthDrop[]> {
    this.#assertOpen();
    return this.#withClient(async (client) => {
      // One server at a time: another one dropping months now has this run's work in hand.
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS locked',
        [MONTHS_LOCK],
      );
      if (!rows[0]?.locked) return [];
      try {
        const dropped: MonthDrop[] = [];
        for (const month of await partitionMonths(client)) {
          const endMs = Date.UTC(Math.floor(month / 100), month % 100, 1);
          if (endMs > Date.now()) break;
          if (!(await monthExpired(client, month, endMs, expired))) continue;
          const removed = await dropExpiredMonth(client, month, expired);
          if (removed === null) continue;
          this.#months.delete(month);
          dropped.push({ month, removed });
        }
        return dropped;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MONTHS_LOCK]);
      }
    }, 'Expired months could not be dropped.');
  }

  async erase(
    tenant: string,
    subject: ErasureSubject,
    audit?: PendingAudit,
  ): Promise<ErasureResult> {
    this.#assertOpen();
    return this.#withClient(
      (client) =>
        inTransaction(client, async () => {
          const result = await erasePostgres(client, tenant, subject);
          if (audit) await runStep(client, access.erasureAuditStep(audit, result));
          return result;
        }),
      'The erasure could not be committed; nothing was erased.',
    );
  }

  async redact(request: RedactionRequest, audit?: PendingAudit): Promise<RedactionResult> {
    this.#assertOpen();
    return this.#withClient(
      (client) =>
        inTransaction(client, async () => {
          const result = await redactPostgres(client, request);
          const step = audit && access.deletionAuditStep(audit, result);
          if (step) await runStep(client, step);
          return result;
        }),
      'The deletion could not be committed; nothing was deleted.',
    );
  }

  async redactedLeaves(tenant: string, maxSeq: number): Promise<RedactedLeaf[]> {
    this.#assertOpen();
    return this.#withClient(
      (client) => redactedLeavesPostgres(client, tenant, maxSeq),
      'The event store is unavailable.',
    );
  }

  async tenantSettings(tenant: string): Promise<StoredTenantSettings> {
    this.#assertOpen();
    return access.tenantSettings(this.#run, tenant);
  }

  async putTenantSettings(tenant: string, settings: TenantSettings): Promise<StoredTenantSettings> {
    this.#assertOpen();
    return access.putTenantSettings(this.#run, tenant, settings);
  }

  async updateTenantSettings(
    tenant: string,
    change: (settings: TenantSettings) => TenantSettings,
    audit?: (update: TenantSettingsUpdate) => readonly PendingAudit[],
  ): Promise<TenantSettingsUpdate & { readonly audit: readonly PendingAudit[] }> {
    this.#assertOpen();
    return access.updateTenantSettings(this.#run, this.#runTransaction, tenant, change, audit);
  }

  async revokeViewerTokens(revocation: ViewerRevocation, audit?: PendingAudit): Promise<void> {
    this.#assertOpen();
    await access.revokeViewerTokens(this.#runTransaction, revocation, audit);
  }

  async pendingAudits(beforeMs: number, limit: number): Promise<PendingAudit[]> {
    this.#assertOpen();
    return access.pendingAudits(this.#run, beforeMs, limit);
  }

  async removePendingAudit(tenant: string, id: string): Promise<void> {
    this.#assertOpen();
    await access.removePendingAudit(this.#run, tenant, id);
  }

  async replacePendingAudit(entry: PendingAudit): Promise<boolean> {
    this.#assertOpen();
    return access.replacePendingAudit(this.#run, entry);
  }

  async coalescePendingAudits(
    tenant: string,
    prefix: string,
    combine: (parts: readonly PendingAudit[]) => PendingAudit,
  ): Promise<PendingAudit | null> {
    this.#assertOpen();
    const params = [tenant, access.partsPattern(prefix)];
    return this.#withClient(
      (client) =>
        inTransaction(client, async () => {
          const { rows } = await client.query<{ event: string }>(
            `${access.numberPlaceholders(access.PARTS_SQL)} FOR UPDATE`,
            params,
          );
          if (rows.length === 0) return null;
          const whole = combine(rows.map((row) => JSON.parse(row.event) as PendingAudit));
          await runStep(client, { sql: access.DELETE_PARTS_SQL, params });
          await runStep(client, access.pendingAuditStep(whole));
          return whole;
        }),
      'The event store is unavailable.',
    );
  }

  async viewerTokenRevoked(token: ViewerTokenRef): Promise<boolean> {
    this.#assertOpen();
    return access.viewerTokenRevoked(this.#run, token);
  }

  async createKey(key: ApiKeyRecord, options: { ifNoKeys?: boolean } = {}): Promise<boolean> {
    this.#assertOpen();
    const insert = `INSERT INTO api_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`;
    if (!options.ifNoKeys) {
      await this.#query(insert, keyParams(key));
      return true;
    }
    return this.#withClient(async (client) => {
      await client.query('BEGIN');
      try {
        // Servers starting at once wait here; the first creates the key, the others see it.
        await client.query('LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE');
        const { rowCount } = await client.query('SELECT 1 FROM api_keys LIMIT 1');
        if (!rowCount) await client.query(insert, keyParams(key));
        await client.query('COMMIT');
        return !rowCount;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }, 'The key store is unavailable.');
  }

  async findKey(id: string): Promise<ApiKeyRecord | null> {
    this.#assertOpen();
    const { rows } = await this.#query<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
    const row = rows[0];
    return row ? keyRecord(row) : null;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    this.#assertOpen();
    // Byte order, as in SQLite: whatever the database's locale, ISO times sort by time.
    const { rows } = await this.#query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at COLLATE "C", id COLLATE "C"`,
    );
    return rows.map(keyRecord);
  }

  async revokeKey(id: string, at: string): Promise<ApiKeyRecord | null> {
    this.#assertOpen();
    // One statement, under the row's lock: a second revocation keeps the first time.
    const { rows } = await this.#query<KeyRow>(
      'UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 ' +
        `RETURNING ${KEY_COLUMNS}`,
      [id, at],
    );
    const row = rows[0];
    return row ? keyRecord(row) : null;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    await this.#query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /** {@link PostgresStore.#query}'s rows, as a function value for the view readers. */
  readonly #rows: views.Rows = async <R extends object>(sql: string, params: unknown[]) =>
    (await this.#query<R>(sql, params)).rows;
  /** {@link #rows} for statements written with `?` placeholders. */
  readonly #run: access.RunSql = (sql, params) =>
    this.#rows(access.numberPlaceholders(sql), params);

  /** Statements in one transaction on a pooled connection (`access.RunTransaction`). */
  readonly #runTransaction: access.RunTransaction = (steps) =>
    this.#withClient(async (client) => {
      const rolledBack = new Error('rolled back');
      try {
        await inTransaction(client, async () => {
          for (const step of steps) {
            const rows = await runStep(client, step);
            if (step.required && rows === 0) throw rolledBack;
          }
        });
        return true;
      } catch (error) {
        if (error === rolledBack) return false;
        throw error;
      }
    }, 'The event store is unavailable.');

  /** One statement on a pooled connection; a lost database becomes `store_unavailable`. */
  async #query<R extends object>(sql: string, params: unknown[] = []): Promise<{ rows: R[] }> {
    return this.#withClient(
      (client) => client.query<R>({ text: sql, values: params }),
      'The event store is unavailable.',
    );
  }

  async #withClient<T>(work: (client: PoolClient) => Promise<T>, message: string): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw unavailable(message, error);
    }
    let broken: unknown;
    try {
      return await work(client);
    } catch (error) {
      if (isUnavailable(error)) {
        broken = error;
        throw unavailable(message, error);
      }
      throw error;
    } finally {
      // A connection that failed is dropped from the pool, not reused.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new HindsightError('store_unavailable', 'The event store is closed.');
  }
}

/**
 * Adds the new leaves to their tenants' trees, from the frontiers they grow from (changed in
 * place): each tenant's new frontier, and every subtree the leaves complete, to store.
 */
function growTrees(
  growth: ReadonlyMap<number, TreeGrowth>,
  known: ReadonlyMap<number, Frontier>,
): { frontiers: Frontiers; nodes: NodeColumns } {
  const frontiers: Frontiers = [];
  const nodes: NodeColumns = { tenantId: [], level: [], index: [], hash: [] };
  for (const [tenantId, g] of growth) {
    const frontier = known.get(tenantId) ?? new Map<number, Uint8Array>();
    for (const node of merkle.appendLeaves(frontier, g.size, g.leaves)) {
      nodes.tenantId.push(tenantId);
      nodes.level.push(node.level);
      nodes.index.push(node.index);
      nodes.hash.push(Buffer.from(node.hash));
    }
    const head = g.leaves[g.leaves.length - 1] as Uint8Array;
    frontiers.push({ tenantId, size: g.size + g.leaves.length, frontier, head });
  }
  return { frontiers, nodes };
}

function unavailable(message: string, cause: unknown): HindsightError {
  return new HindsightError('store_unavailable', message, { cause });
}

/**
 * Whether an error means the database cannot be reached or is going away (so a retry later can
 * succeed), rather than that it refused this statement.
 */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57 operator
    // intervention (shutdown, crash recovery), 58 system error. Node's errors: ECONNREFUSED…
    if (/^(08|53|57|58)/.test(code) || /^E[A-Z]+$/.test(code)) return true;
  }
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed/i.test(
    error.message,
  );
}

/** A stored row as readers get it: the body with `seq` after `id` and `hash` last. */
function toEvent(row: EventRow): StoredEvent {
  return storedEvent(row, Number(row.seq));
}
