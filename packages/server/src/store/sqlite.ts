/**
 * The embedded store: one SQLite file (better-sqlite3, WAL, `synchronous=FULL`). Reads run on
 * the calling thread; appends go to a writer thread (`sqlite-writer.ts`). The schema and the
 * layout of rows are in `sqlite-schema.ts`.
 */
import { chmodSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import {
  type ErasureSubject,
  emailKey,
  type merkle,
  prefixEnd,
  type QueryClause,
  type Salts,
  type StoredEvent,
  searchTokens,
  type TenantSettings,
  type ViewInput,
} from '@hindsight/core';
import type Database from 'better-sqlite3';
import { HindsightError } from '../errors.js';
import { makeDirectory } from '../file-errors.js';
import { SCAN_SLICE_MS } from '../pacing.js';
import * as access from './access-rows.js';
import {
  fromWireError,
  nodesInOrder,
  saltsOf,
  type WireOutcome,
  writerEvent,
} from './append-plan.js';
import { eventText, storedEvent } from './event-json.js';
import { KEY_COLUMNS, type KeyRow, keyParams, keyRecord } from './key-rows.js';
import { CLAIM_LEASE_SQL, RELEASE_LEASE_SQL } from './lease-sql.js';
import type { CheckpointerData } from './sqlite-checkpointer.js';
import { redactedLeavesSqlite } from './sqlite-erase.js';
import { byDay } from './sqlite-keys.js';
import { DAY_POS, messageIdSql } from './sqlite-projections.js';
import * as pruning from './sqlite-prune.js';
import { PURGE_STEPS, type PurgeStep } from './sqlite-purge.js';
import { migrateSqlite, NODE_SQL, nodeKey, SLOTS_PER_MS } from './sqlite-schema.js';
import * as views from './sqlite-views.js';
import type { WriterData, WriterRequest, WriterResponse } from './sqlite-writer.js';
import {
  actionSuffixes,
  actionsEndingWith,
  actionsLikeSql,
  computeStats,
  NO_SUFFIXES,
  STATS_SCAN_LIMIT,
  type SuffixActions,
  suffixPattern,
  timeClause,
} from './stats-plan.js';
import type {
  ApiKeyRecord,
  AppendOutcome,
  DeliveryCount,
  DeliveryFilter,
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

/** Options for {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file. */
  readonly path: string;
  /**
   * How long an append waits for the write lock while another connection to the file holds it
   * (another process writing to it: a second server, `hindsight keys create`) before it fails
   * with `store_unavailable`. Default 10,000 ms.
   */
  readonly busyTimeoutMs?: number;
}

/** How often the purge tries to empty the WAL while readers keep it in use, and how far apart. */
const WAL_ATTEMPTS = 40;
const WAL_RETRY_MS = 50;

/** How much of the database file the reading connection maps (SQLite caps it at 2 GiB). */
export const READER_MMAP_BYTES = 2 ** 31;

type EventRow = { seq: number; hash: Buffer; body: string; salts?: string | null };

/**
 * Opens (creating if needed) a SQLite store; better-sqlite3 is loaded lazily.
 * @example const store = await openSqliteStore({ path: './hindsight-data/hindsight.db' });
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { default: DatabaseCtor } = await import('better-sqlite3');
  // The store holds every tenant's events: readable by the server's user alone. (SQLite gives its
  // -wal and -shm files the database file's mode.)
  makeDirectory(dirname(options.path), 0o700);
  const created = !existsSync(options.path);
  const db = new DatabaseCtor(options.path);
  if (created) chmodSync(options.path, 0o600);
  try {
    migrateSqlite(db);
    // Reads (pages, exports) go through a memory map of the file: a page is read where the
    // kernel keeps it, without a system call and a copy (SQLite maps at most 2 GiB; the rest
    // is read as before). The writer thread writes as SQLite always does.
    db.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
    const writer = await startWriter(options.path, options.busyTimeoutMs);
    const checkpointer = await startCheckpointer(options.path).catch(async (error: unknown) => {
      await writer.terminate();
      throw error;
    });
    return new SqliteStore(db, writer, checkpointer);
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  /**
   * The writer thread coalesces whatever queued into its next transaction, so it never waits
   * for the main thread; 64 only bounds memory (measured faster than 4 on a 1M-event store).
   */
  readonly appendConcurrency = 64;
  readonly #db: Database.Database;
  readonly #writer: Worker;
  readonly #checkpointer: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (r: WriterResponse) => void; reject: (e: unknown) => void }
  >();
  readonly #tenantIds = new Map<string, number>();
  readonly #stmt;
  /** Query statements by SQL text: a query's shape, not its values, decides the text. */
  readonly #queries = new Map<string, Database.Statement>();
  #nextRequest = 0;
  /** The purge running or last run (`sqlite-purge.ts`); purges run one after another. */
  #purging: Promise<void> = Promise.resolve();
  #writerFailure: Error | null = null;
  #closed = false;

  constructor(db: Database.Database, writer: Worker, checkpointer: Worker) {
    this.#db = db;
    this.#writer = writer;
    this.#checkpointer = checkpointer;
    // Should it fail, the writer's own automatic checkpoint still bounds the WAL.
    checkpointer.on('error', () => {});
    writer.on('message', (response: WriterResponse) => {
      const pending = this.#pending.get(response.id);
      this.#pending.delete(response.id);
      pending?.resolve(response);
    });
    const fail = (error: Error) => {
      this.#writerFailure = error;
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    };
    writer.on('error', fail);
    writer.on('exit', (code) => {
      if (!this.#closed) fail(new Error(`the writer thread exited with code ${code}`));
    });
    const p = (sql: string) => db.prepare(sql);
    this.#stmt = {
      tenantId: p('SELECT id FROM tenants WHERE name = ?').pluck(),
      tenantEnds: p(
        'SELECT (SELECT min(pos) FROM events WHERE tenant_id = ?) AS first, ' +
          '(SELECT max(pos) FROM events WHERE tenant_id = ?) AS last',
      ),
      getEvent: p('SELECT seq, hash, body FROM events WHERE tenant_id = ? AND id = ?'),
      getEventWithSalts: p(
        'SELECT seq, hash, body, salts FROM events WHERE tenant_id = ? AND id = ?',
      ),
      keyInsert: p(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      // One statement: SQLite's write lock makes the check and the insert atomic.
      keyInsertFirst: p(
        `INSERT INTO api_keys (${KEY_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ? ` +
          'WHERE NOT EXISTS (SELECT 1 FROM api_keys)',
      ),
      keyFind: p('SELECT * FROM api_keys WHERE id = ?'),
      keyList: p(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`),
      // One statement: a second revocation keeps the first time.
      keyRevoke: p(
        'UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? ' +
          `RETURNING ${KEY_COLUMNS}`,
      ),
      logSize: p('SELECT size FROM tenants WHERE name = ?').pluck(),
      // SQLite compares text by its bytes: code-point order for UTF-8.
      tenants: p(
        'SELECT name, size, coalesce((SELECT max(c.size) FROM checkpoints c ' +
          'WHERE c.tenant_id = t.id), 0) AS signed FROM tenants t WHERE size > 0 ORDER BY name',
      ),
      checkpointList: p(
        'SELECT c.size, c.note FROM checkpoints c JOIN tenants t ON t.id = c.tenant_id ' +
          'WHERE t.name = ? AND c.size <= ? ORDER BY c.size',
      ),
      checkpointLatest: p(
        'SELECT c.size, c.note FROM checkpoints c JOIN tenants t ON t.id = c.tenant_id ' +
          'WHERE t.name = ? ORDER BY c.size DESC LIMIT 1',
      ),
      node: p(NODE_SQL).pluck(),
      ping: p('SELECT 1').pluck(),
    };
  }

  async append(batches: readonly (readonly PreparedEvent[])[]): Promise<AppendOutcome[]> {
    this.#assertOpen();
    const unavailable = (cause: unknown) =>
      new HindsightError('store_unavailable', 'The event store could not commit the batch.', {
        cause,
      });
    if (this.#writerFailure) throw unavailable(this.#writerFailure);
    const response = await this.#request((id) => ({
      type: 'append',
      id,
      batches: batches.map((b) => b.map(writerEvent)),
    })).catch((error: unknown) => {
      throw unavailable(error);
    });
    return response.outcomes.map(fromWire);
  }

  /**
   * A change other than an append, made by the writer thread (between two append
   * transactions, so the event loop never waits for it): its answer, its refusal as the
   * `HindsightError` it was, or `store_unavailable` saying `nothing` when it failed.
   */
  async #change(nothing: string, make: (id: number) => WriterRequest): Promise<WriterResponse> {
    const failed = (cause: unknown) =>
      new HindsightError('store_unavailable', `The event store failed. ${nothing}`, { cause });
    const response = await this.#request(make).catch((error: unknown) => {
      throw failed(error);
    });
    if (response.refused) throw fromWireError(response.refused);
    if (response.failed !== undefined) throw failed(response.failed);
    return response;
  }

  /** Sends a request to the writer thread and waits for its answer. */
  #request(make: (id: number) => WriterRequest): Promise<WriterResponse> {
    if (this.#writerFailure) return Promise.reject(this.#writerFailure);
    const id = this.#nextRequest++;
    return new Promise<WriterResponse>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#writer.postMessage(make(id));
    });
  }

  async getEvent(tenant: string, id: string): Promise<StoredEvent | null> {
    const row = this.#eventRow(tenant, id, this.#stmt.getEvent);
    return row ? toEvent(row) : null;
  }

  async getEventWithSalts(
    tenant: string,
    id: string,
  ): Promise<{ event: StoredEvent; salts: Salts } | null> {
    const row = this.#eventRow(tenant, id, this.#stmt.getEventWithSalts);
    return row ? { event: toEvent(row), salts: saltsOf(row) } : null;
  }

  /** The row of one event by id, read with `statement` (with or without its salts). */
  #eventRow(tenant: string, id: string, statement: Database.Statement): EventRow | undefined {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    if (tenantId === null) return undefined;
    return statement.get(tenantId, id) as EventRow | undefined;
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
    return { events: rows.map((row) => eventText(row, row.seq, query.withSalts)), next };
  }

  /** The rows of a page, and the position after it. */
  async #page(
    tenant: string,
    query: EventQuery,
  ): Promise<{ rows: EventRow[]; next: string | null }> {
    this.#assertOpen();
    const after = query.after === undefined ? undefined : parsePosition(query.after);
    const tenantId = this.#knownTenantId(tenant);
    if (tenantId === null) return { rows: [], next: null };
    const rows = (await this.#rows(tenantId, query, after)) as PageRow[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { rows: page, next: rows.length > query.limit && last ? String(last.pos) : null };
  }

  /**
   * The rows of a page and one more (the columns `select`, by default an event's), in one
   * statement, or in windows when its filters are checked row by row ({@link scansRows}).
   */
  async #rows(
    tenantId: number,
    query: EventQuery,
    after: number | undefined,
    select?: string,
  ): Promise<unknown[]> {
    const range = pageRange(query, after);
    const actions = decidedPlan(this.#actionPlan(tenantId, query.clauses), query.clauses, range);
    if (scansRows(query, actions, range)) {
      return this.#scan(tenantId, query, after, actions, range, select);
    }
    const { sql, params } = buildQuery(tenantId, query, after, actions, select);
    return this.#prepared(sql).all(...params);
  }

  /**
   * A page whose filters the store checks row by row (see {@link scansRows}), read a window of
   * positions at a time, newest first (or oldest first), until it holds a row more than the
   * page: one statement could read every event of a large tenant for a filter that matches
   * none, for seconds, and reads run on the server's own thread. Each window is sized from the
   * last one's time to take about {@link SCAN_SLICE_MS}, and what waits (other requests, I/O,
   * timers) gets a turn between windows. Each window is read as the log is when it is read: an
   * event committed meanwhile in a window already read is on no page, as if it had come just
   * after this one.
   */
  async #scan(
    tenantId: number,
    query: EventQuery,
    after: number | undefined,
    actions: ActionPlan,
    range: PosRange,
    select: string | undefined,
  ): Promise<unknown[]> {
    const ends = this.#stmt.tenantEnds.get(tenantId, tenantId) as {
      first: number | null;
      last: number | null;
    };
    if (ends.first === null || ends.last === null) return [];
    let lo = Math.max(range.lo, ends.first);
    let hi = Math.min(range.hi, ends.last + 1);
    const desc = query.order === 'desc';
    const rows: unknown[] = [];
    let width = FIRST_WINDOW;
    while (lo < hi && rows.length <= query.limit) {
      const window = desc
        ? { lo: Math.max(lo, hi - width), hi, take: query.limit + 1 - rows.length }
        : { lo, hi: Math.min(hi, lo + width), take: query.limit + 1 - rows.length };
      const started = performance.now();
      const { sql, params } = buildQuery(tenantId, query, after, actions, select, window);
      for (const row of this.#prepared(sql).all(...params)) rows.push(row);
      width = nextWidth(width, performance.now() - started);
      if (desc) hi = window.lo;
      else lo = window.hi;
      if (lo < hi && rows.length <= query.limit) {
        await turn();
        this.#assertOpen();
      }
    }
    return rows;
  }

  /** The tenant's actions that end with each action suffix of the clauses. */
  #suffixActions(tenantId: number, clauses: readonly QueryClause[]): SuffixActions {
    const suffixes = actionSuffixes(clauses);
    if (suffixes.length === 0) return NO_SUFFIXES;
    const actions = this.#prepared(actionsLikeSql(() => '?')).pluck();
    return new Map(
      suffixes.map((suffix) => [suffix, actions.all(tenantId, suffixPattern(suffix)) as string[]]),
    );
  }

  /** What a query's action patterns need of the store: their actions, and whether common. */
  #actionPlan(tenantId: number, clauses: readonly QueryClause[]): ActionPlan {
    if (!clauses.some((c) => c.kind === 'action' && (c.prefix || c.suffix))) return NO_PATTERNS;
    const suffixes = this.#suffixActions(tenantId, clauses);
    return {
      suffixes,
      common: (c, range) => {
        const match = actionMatch(c, suffixes, 'action');
        const row = this.#prepared(
          `SELECT coalesce(sum(CASE WHEN ${match.sql} THEN n END), 0) AS hits, ` +
            'coalesce(sum(n), 0) AS total FROM event_days ' +
            'WHERE tenant_id = ? AND day >= ? AND day <= ?',
        ).get(
          ...match.params,
          tenantId,
          Math.floor(Math.max(range.lo, 0) / DAY_POS),
          Math.floor(Math.min(range.hi, Number.MAX_SAFE_INTEGER) / DAY_POS),
        ) as { hits: number; total: number };
        return row.hits > 0 && row.hits >= COMMON_SHARE * row.total;
      },
    };
  }

  #knownTenantId(name: string): number | null {
    const cached = this.#tenantIds.get(name);
    if (cached !== undefined) return cached;
    const id = this.#stmt.tenantId.get(name) as number | undefined;
    if (id === undefined) return null;
    this.#tenantIds.set(name, id);
    return id;
  }

  async logSize(tenant: string): Promise<number> {
    this.#assertOpen();
    return (this.#stmt.logSize.get(tenant) as number | undefined) ?? 0;
  }

  async tenants(): Promise<Array<{ name: string; size: number; signed: number }>> {
    this.#assertOpen();
    return this.#stmt.tenants.all() as Array<{ name: string; size: number; signed: number }>;
  }

  async claimLease(name: string, holder: string, untilMs: number, nowMs: number): Promise<boolean> {
    this.#assertOpen();
    return this.#prepared(CLAIM_LEASE_SQL).run(name, holder, untilMs, nowMs).changes === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.#assertOpen();
    this.#prepared(RELEASE_LEASE_SQL).run(name, holder);
  }

  async claimHookSignature(
    claim: HookSignatureClaim,
    nowMs: number,
  ): Promise<HookSignatureOutcome> {
    this.#assertOpen();
    // On the writer thread: a write here would stall the event loop behind its transactions.
    const response = await this.#change('Nothing was recorded.', (id) => ({
      type: 'claimHookSignature',
      id,
      claim,
      nowMs,
    }));
    return response.hookSignature as HookSignatureOutcome;
  }

  async releaseHookSignature(claim: HookSignatureClaim): Promise<void> {
    this.#assertOpen();
    await this.#change('The webhook signature was not given back.', (id) => ({
      type: 'releaseHookSignature',
      id,
      claim,
    }));
  }

  async treeNodes(tenant: string, ids: readonly merkle.NodeId[]): Promise<Uint8Array[]> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    return nodesInOrder(tenant, ids, (level, index) =>
      tenantId === null
        ? undefined
        : (this.#stmt.node.get(nodeKey(tenantId, level, index)) as Buffer | undefined),
    );
  }

  async saveCheckpoints(
    checkpoints: readonly { tenant: string; size: number; note: string }[],
  ): Promise<void> {
    this.#assertOpen();
    if (checkpoints.length === 0) return;
    // On the writer thread: a write here would stall the event loop behind its transactions.
    const failed = (cause: unknown) =>
      new HindsightError('store_unavailable', 'The checkpoints could not be kept.', { cause });
    const response = await this.#request((id) => ({
      type: 'checkpoints',
      id,
      checkpoints: [...checkpoints],
    })).catch((error: unknown) => {
      throw failed(error);
    });
    if (response.failed !== undefined) throw failed(new Error(response.failed));
  }

  async checkpoints(
    tenant: string,
    maxSize: number,
  ): Promise<Array<{ size: number; note: string }>> {
    this.#assertOpen();
    return this.#stmt.checkpointList.all(tenant, maxSize) as Array<{ size: number; note: string }>;
  }

  async latestCheckpoint(tenant: string): Promise<{ size: number; note: string } | null> {
    this.#assertOpen();
    return (this.#stmt.checkpointLatest.get(tenant) as { size: number; note: string }) ?? null;
  }

  async loginUsers(
    tenant: string,
    query: LoginUsersQuery,
  ): Promise<{ users: LoginUser[]; next: string | null }> {
    this.#assertOpen();
    if (query.after !== undefined) views.parseLoginPosition(query.after);
    const tenantId = this.#knownTenantId(tenant);
    if (tenantId === null) return { users: [], next: null };
    return views.loginUsers(this.#prepare, tenantId, query);
  }

  async deliveryCounts(tenant: string, messageIds: readonly string[]): Promise<DeliveryCount[]> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    return tenantId === null ? [] : views.deliveryCounts(this.#prepare, tenantId, messageIds);
  }

  async messageReceivers(
    tenant: string,
    messageId: string,
    limit: number,
    afterAddress?: string,
  ): Promise<MessageReceiver[]> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    return tenantId === null
      ? []
      : views.messageReceivers(this.#prepare, tenantId, messageId, limit, afterAddress);
  }

  async integrations(tenant: string): Promise<IntegrationSummary[]> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    return tenantId === null ? [] : views.integrations(this.#prepare, tenantId);
  }

  async stats(tenant: string, query: StatsQuery): Promise<Stats> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant) ?? -1;
    const source = views.statsSource(this.#prepare, tenantId, (clauses, fromMs, toMs, select) =>
      this.#rows(
        tenantId,
        {
          clauses: [...clauses, timeClause('after', fromMs), timeClause('before', toMs)],
          limit: STATS_SCAN_LIMIT,
          order: 'desc',
        },
        undefined,
        select,
      ),
    );
    return computeStats(source, query);
  }

  async views(tenant: string): Promise<StoredView[]> {
    this.#assertOpen();
    const rows = this.#prepare(
      'SELECT id, definition, updated_at FROM views WHERE tenant = ? ORDER BY id',
    ).all(tenant) as Array<{ id: string; definition: string; updated_at: string }>;
    return rows.map((r) => ({
      id: r.id,
      view: JSON.parse(r.definition) as ViewInput,
      updatedAt: r.updated_at,
    }));
  }

  async putView(tenant: string, id: string, view: ViewInput): Promise<StoredView> {
    this.#assertOpen();
    const updatedAt = new Date().toISOString();
    this.#prepare(
      'INSERT INTO views (tenant, id, definition, updated_at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at',
    ).run(tenant, id, JSON.stringify(view), updatedAt);
    return { id, view, updatedAt };
  }

  async deleteView(tenant: string, id: string): Promise<boolean> {
    this.#assertOpen();
    return (
      this.#prepare('DELETE FROM views WHERE tenant = ? AND id = ?').run(tenant, id).changes === 1
    );
  }

  async categories(tenant: string): Promise<string[]> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    return tenantId === null ? [] : pruning.categories(this.#db, tenantId);
  }

  async prune(request: PruneRequest): Promise<PruneResult> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(request.tenant);
    if (tenantId === null) return { removed: 0, byCategory: {}, more: false };
    const { rules, maxSeq, limit } = request;
    const response = await this.#change('Expired events could not be removed.', (id) => ({
      type: 'prune',
      id,
      step: {
        tenant: request.tenant,
        tenantId,
        rules: [...rules],
        maxSeq,
        limit,
        ...(request.audit ? { audit: request.audit } : {}),
      },
    }));
    return response.pruned as PruneResult;
  }

  async prunedRanges(tenant: string, maxSeq: number): Promise<Array<[number, number]>> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    return tenantId === null ? [] : pruning.prunedRanges(this.#db, tenantId, maxSeq);
  }

  async erase(
    tenant: string,
    subject: ErasureSubject,
    audit?: PendingAudit,
  ): Promise<ErasureResult> {
    this.#assertOpen();
    const response = await this.#change('Nothing was erased.', (id) => ({
      type: 'erase',
      id,
      tenant,
      subject,
      ...(audit ? { audit } : {}),
    }));
    const result = response.erased as ErasureResult;
    if (result.events > 0) await this.#purge();
    return result;
  }

  async redact(request: RedactionRequest, audit?: PendingAudit): Promise<RedactionResult> {
    this.#assertOpen();
    const response = await this.#change('Nothing was deleted.', (id) => ({
      type: 'redact',
      id,
      request,
      ...(audit ? { audit } : {}),
    }));
    const result = response.redacted as RedactionResult;
    if (result.deleted.length > 0) await this.#purge();
    return result;
  }

  async redactedLeaves(tenant: string, maxSeq: number): Promise<RedactedLeaf[]> {
    this.#assertOpen();
    return redactedLeavesSqlite(this.#db, tenant, maxSeq);
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
    const pattern = access.partsPattern(prefix);
    return this.#db
      .transaction(() => {
        const rows = this.#prepared(access.PARTS_SQL).all(tenant, pattern) as Array<{
          event: string;
        }>;
        if (rows.length === 0) return null;
        const whole = combine(rows.map((row) => JSON.parse(row.event) as PendingAudit));
        this.#prepared(access.DELETE_PARTS_SQL).run(tenant, pattern);
        const keep = access.pendingAuditStep(whole);
        this.#prepared(keep.sql).run(keep.params);
        return whole;
      })
      .immediate();
  }

  async viewerTokenRevoked(token: ViewerTokenRef): Promise<boolean> {
    this.#assertOpen();
    return access.viewerTokenRevoked(this.#run, token);
  }

  async createKey(key: ApiKeyRecord, options: { ifNoKeys?: boolean } = {}): Promise<boolean> {
    this.#assertOpen();
    const insert = options.ifNoKeys ? this.#stmt.keyInsertFirst : this.#stmt.keyInsert;
    return insert.run(keyParams(key)).changes === 1;
  }

  async findKey(id: string): Promise<ApiKeyRecord | null> {
    this.#assertOpen();
    const row = this.#stmt.keyFind.get(id) as KeyRow | undefined;
    return row ? keyRecord(row) : null;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    this.#assertOpen();
    return (this.#stmt.keyList.all() as KeyRow[]).map(keyRecord);
  }

  async revokeKey(id: string, at: string): Promise<ApiKeyRecord | null> {
    this.#assertOpen();
    const row = this.#stmt.keyRevoke.get(at, id) as KeyRow | undefined;
    return row ? keyRecord(row) : null;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    this.#stmt.ping.get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#purging;
    const exited = new Promise((resolve) => this.#writer.once('exit', resolve));
    const close: WriterRequest = { type: 'close' };
    this.#writer.postMessage(close);
    await exited;
    const checkpointed = new Promise((resolve) => this.#checkpointer.once('exit', resolve));
    this.#checkpointer.postMessage('close');
    await checkpointed;
    this.#db.pragma('optimize');
    this.#db.close();
  }

  /**
   * Removes what the files still keep of values an erasure or a deletion just removed
   * (`sqlite-purge.ts`): a step at a time on the writer thread, appends committing in between.
   * The change is committed either way: should the purge fail, a warning says so, and the next
   * one removes those copies too.
   */
  #purge(): Promise<void> {
    const step = async (name: PurgeStep): Promise<boolean> => {
      const response = await this.#change('The purge did not finish.', (id) => ({
        type: 'purge',
        id,
        step: name,
      }));
      return response.purged === true;
    };
    const run = async () => {
      for (const name of PURGE_STEPS) await step(name);
      for (let attempt = 1; attempt <= WAL_ATTEMPTS; attempt++) {
        if (await step('wal')) return;
        await sleep(WAL_RETRY_MS);
      }
      process.emitWarning(
        'Hindsight: readers kept the SQLite WAL busy; removed values stay in it until it is next reset.',
        { code: 'HINDSIGHT_PURGE' },
      );
    };
    this.#purging = this.#purging.then(run).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      process.emitWarning(
        `Hindsight: removed values could not yet be purged from the SQLite files: ${reason}`,
        { code: 'HINDSIGHT_PURGE' },
      );
    });
    return this.#purging;
  }

  /** {@link SqliteStore.#prepared} as a function value, for the view readers. */
  readonly #prepare = (sql: string): Database.Statement => this.#prepared(sql);
  /** Runs a statement synchronously, for the store functions shared with PostgreSQL. */
  readonly #run: access.RunSql = async <R extends object>(sql: string, params: unknown[]) => {
    const stmt = this.#prepared(sql);
    if (stmt.reader) return stmt.all(params) as R[];
    stmt.run(params);
    return [];
  };

  /** Runs statements in one transaction, synchronously: nothing else runs on the connection. */
  readonly #runTransaction: access.RunTransaction = async (steps) => {
    const rolledBack = new Error('rolled back');
    try {
      this.#db
        .transaction(() => {
          for (const step of steps) {
            const stmt = this.#prepared(step.sql);
            const rows = stmt.reader ? stmt.all(step.params).length : stmt.run(step.params).changes;
            if (step.required && rows === 0) throw rolledBack;
          }
        })
        .immediate();
      return true;
    } catch (error) {
      if (error === rolledBack) return false;
      throw error;
    }
  };

  #prepared(sql: string): Database.Statement {
    let stmt = this.#queries.get(sql);
    if (!stmt) {
      if (this.#queries.size >= 200) this.#queries.clear();
      stmt = this.#db.prepare(sql);
      this.#queries.set(sql, stmt);
    }
    return stmt;
  }

  #assertOpen(): void {
    if (this.#closed) throw new HindsightError('store_unavailable', 'The event store is closed.');
  }
}

/** A stored row as readers get it: the body with `seq` after `id` and `hash` last. */
function toEvent(row: EventRow): StoredEvent {
  return storedEvent(row, row.seq);
}

function fromWire(outcome: WireOutcome): AppendOutcome {
  return outcome.ok ? outcome : { ok: false, error: fromWireError(outcome.error) };
}

/** Starts the writer thread. */
function startWriter(path: string, busyTimeoutMs: number | undefined): Promise<Worker> {
  const data: WriterData = {
    hindsightSqliteWriter: true,
    path,
    ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
  };
  return startThread('sqlite-writer.js', data);
}

/** Starts the checkpointer thread (`sqlite-checkpointer.ts`). */
function startCheckpointer(path: string): Promise<Worker> {
  const data: CheckpointerData = { hindsightSqliteCheckpointer: true, path };
  return startThread('sqlite-checkpointer.js', data);
}

/**
 * Starts a thread from a module beside this one. Under the test runner this module is
 * TypeScript source, which a worker cannot load, so it runs the compiled module that the test
 * setup builds.
 */
async function startThread(file: string, workerData: unknown): Promise<Worker> {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL(here.replace('/src/', '/dist/').replace(/sqlite\.ts$/, file))
    : new URL(`./${file}`, here);
  const worker = new Worker(url, { workerData });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  return worker;
}

function parsePosition(text: string): number {
  const n = Number(text);
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(n)) {
    throw new HindsightError('invalid_cursor', 'The cursor does not name a position in this log.');
  }
  return n;
}

/**
 * What the store looked up for a query's action patterns (`action:user.*`, `action:*.deleted`):
 * the actions each suffix stands for, and whether a pattern's actions are common among the
 * tenant's events in a page's range (counted from `event_days`).
 */
interface ActionPlan {
  readonly suffixes: SuffixActions;
  common(c: ActionClause, range: PosRange): boolean;
}

/** The {@link ActionPlan} of a query without action patterns. */
const NO_PATTERNS: ActionPlan = { suffixes: NO_SUFFIXES, common: () => false };

/**
 * A pattern whose actions make at least this share of the tenant's events in the page's range is
 * found by reading the events newest first (about 1 / share rows a match); a rarer one from the
 * action index.
 */
const COMMON_SHARE = 1 / 16;

type ActionClause = Extract<QueryClause, { kind: 'action' }>;
type PosRange = { readonly lo: number; readonly hi: number };

/** A row of a page as its statement reads it. */
type PageRow = EventRow & { pos: number };

/** The condition on `column` of a pattern's actions: a prefix's range, or a suffix's actions. */
function actionMatch(
  c: ActionClause,
  suffixes: SuffixActions,
  column: string,
): { sql: string; params: unknown[] } {
  if (!c.suffix) {
    return { sql: `${column} >= ? AND ${column} < ?`, params: [c.value, prefixEnd(c.value)] };
  }
  const actions = actionsEndingWith(suffixes, c.value);
  if (actions.length === 0) return { sql: '0', params: [] };
  return { sql: `${column} IN (${actions.map(() => '?').join(', ')})`, params: [...actions] };
}

/** Builds one page's SQL from constant fragments; every value is a bound parameter. */
function buildQuery(
  tenantId: number,
  query: EventQuery,
  after: number | undefined,
  actions: ActionPlan,
  select?: string,
  window?: ScanWindow,
): { sql: string; params: unknown[] } {
  const prefix = `t${tenantId}_`;
  const positive: string[] = [];
  const negative: string[] = [];
  for (const c of query.clauses) {
    // A metadata value is also searchable text: its words find the candidates, which the
    // exact comparison then checks.
    if (c.kind === 'metadata' && !c.negate) {
      const tokens = searchTokens(c.value);
      if (tokens.length > 0) positive.push(`"${tokens.map((t) => prefix + t).join(' ')}"`);
    }
    if (c.kind !== 'text') continue;
    const tokens = searchTokens(c.text);
    if (tokens.length === 0) continue;
    const phrase = `"${tokens.map((t) => prefix + t).join(' ')}"${c.prefix ? ' *' : ''}`;
    (c.negate ? negative : positive).push(phrase);
  }
  const useFts = positive.length > 0;
  const posCol = useFts ? 'f.rowid' : 'e.pos';
  // The page's pos range (or a window of it), which also bounds the sub-queries of actor and
  // target filters.
  const range = pageRange(query, after);
  if (window) {
    range.lo = Math.max(range.lo, window.lo);
    range.hi = Math.min(range.hi, window.hi);
  }
  const where: string[] = ['e.tenant_id = ?'];
  const params: unknown[] = [tenantId];
  if (useFts) {
    where.unshift('events_fts MATCH ?');
    params.unshift(positive.join(' AND ') + negative.map((n) => ` NOT ${n}`).join(''));
  } else if (negative.length > 0) {
    where.push('e.pos NOT IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)');
    params.push(negative.join(' OR '));
  }
  const desc = query.order === 'desc';
  if (after !== undefined) {
    where.push(`${posCol} ${desc ? '<' : '>'} ?`);
    params.push(after);
  }
  if (window) {
    where.push(`${posCol} >= ? AND ${posCol} < ?`);
    params.push(window.lo, window.hi);
  }
  for (const c of query.clauses) {
    const cond = clauseCondition(c, tenantId, posCol, range, actions);
    if (!cond) continue;
    where.push(c.negate ? `NOT coalesce((${cond.sql}), 0)` : `(${cond.sql})`);
    params.push(...cond.params);
  }
  if (query.delivery !== undefined) {
    const cond = deliveryCondition(query.delivery);
    where.push(`(${cond.sql})`);
    params.push(...cond.params);
  }
  const from = useFts ? 'events_fts f CROSS JOIN events e ON e.pos = f.rowid' : 'events e';
  const sql =
    // Salts only when asked: they follow the body in the row, often on an overflow page.
    `SELECT ${select ?? `e.pos AS pos, e.seq AS seq, e.hash AS hash, e.body AS body${query.withSalts ? ', e.salts AS salts' : ''}`} FROM ${from} WHERE ${where.join(' AND ')} ` +
    `ORDER BY ${posCol} ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
  params.push(window?.take ?? query.limit + 1);
  return { sql, params };
}

/** A page's range of positions, `[lo, hi)`: its time range and the cursor's side of it. */
function pageRange(query: EventQuery, after: number | undefined): { lo: number; hi: number } {
  const range = { lo: Number.MIN_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER };
  for (const c of query.clauses) {
    if (c.negate) continue;
    if (c.kind === 'after') range.lo = Math.max(range.lo, c.timeMs * SLOTS_PER_MS);
    if (c.kind === 'before') range.hi = Math.min(range.hi, c.timeMs * SLOTS_PER_MS);
  }
  if (after !== undefined) {
    if (query.order === 'desc') range.hi = Math.min(range.hi, after);
    else range.lo = Math.max(range.lo, after + 1);
  }
  return range;
}

/** Part of a page's range read by one statement of a scan, and how many rows it may give. */
interface ScanWindow extends PosRange {
  readonly take: number;
}

/** The first window of a scan: ten seconds of positions. */
const FIRST_WINDOW = 10_000 * SLOTS_PER_MS;

/** The most a window grows on the last one: fast windows of a sparse range soon cover it. */
const MAX_GROWTH = 16;

/** The next window's width, for it to take about {@link SCAN_SLICE_MS} at the last one's pace. */
function nextWidth(width: number, tookMs: number): number {
  const scaled = (width * SCAN_SLICE_MS) / Math.max(tookMs, SCAN_SLICE_MS / MAX_GROWTH);
  return Math.max(1, Math.round(scaled));
}

/**
 * An {@link ActionPlan} whose choice for each action pattern is made once, for the page's whole
 * range: the windows of a scan then read the same way, and count nothing again.
 */
function decidedPlan(
  plan: ActionPlan,
  clauses: readonly QueryClause[],
  range: PosRange,
): ActionPlan {
  if (plan === NO_PATTERNS) return plan;
  const common = new Map<QueryClause, boolean>();
  for (const c of clauses) {
    if (c.kind === 'action' && (c.prefix || c.suffix)) common.set(c, plan.common(c, range));
  }
  return { suffixes: plan.suffixes, common: (c) => common.get(c) ?? false };
}

/**
 * Whether a page is read in windows ({@link SqliteStore.#scan}) because its statement may read
 * many events for each it keeps: a filter checked row by row — status, outcome, channel, a
 * metadata value, a common action pattern, a delivery filter, an excluded term, or a second
 * filter beside the one whose index finds the rows (category, action, actor, target, IP).
 * Such a filter that matches little reads the tenant's whole range. A page with one indexed
 * filter (or none) reads about the rows it returns. A page with words is read in one
 * statement: the search index reads a range of a word's events from the end of its list, so
 * windows would read the newest of them again each time, and the word's events bound the page.
 */
function scansRows(query: EventQuery, actions: ActionPlan, range: PosRange): boolean {
  if (query.clauses.some(searchesWords)) return false;
  if (query.delivery !== undefined) return true;
  let indexed = 0;
  for (const c of query.clauses) {
    if (c.negate) return true;
    switch (c.kind) {
      case 'after':
      case 'before':
        break;
      case 'category':
      case 'actor':
      case 'target':
      case 'ip':
        indexed++;
        break;
      case 'action':
        if ((c.prefix || c.suffix) && actions.common(c, range)) return true;
        indexed++;
        break;
      default:
        return true;
    }
  }
  return indexed > 1;
}

/** Whether a clause is looked up in the search index (as {@link buildQuery} does). */
function searchesWords(c: QueryClause): boolean {
  if (c.kind === 'text') return searchTokens(c.text).length > 0;
  return c.kind === 'metadata' && !c.negate && searchTokens(c.value).length > 0;
}

/**
 * Whether the message of the row `e` passes a delivery filter: a probe of `message_receivers`'
 * primary key (`tenant_id, message_id`) per event the page reads.
 */
function deliveryCondition(filter: DeliveryFilter): { sql: string; params: unknown[] } {
  const receivers =
    'FROM message_receivers r WHERE r.tenant_id = e.tenant_id ' +
    `AND r.message_id = ${messageIdSql('e')}`;
  if (filter.kind === 'mixed') {
    return { sql: `SELECT min(r.status) < max(r.status) ${receivers}`, params: [] };
  }
  return {
    sql: `EXISTS (SELECT 1 ${receivers} AND r.status IN (${filter.statuses.map(() => '?').join(', ')}))`,
    params: [...filter.statuses],
  };
}

function clauseCondition(
  c: QueryClause,
  tenantId: number,
  posCol: string,
  range: PosRange,
  actions: ActionPlan,
): { sql: string; params: unknown[] } | null {
  switch (c.kind) {
    case 'text':
      return null;
    case 'actor':
      // A union of two covering index scans, a probe per day each: an OR over the two columns
      // would read every matching row before sorting, where this reads only the page's rows.
      return byDay('e.pos', tenantId, range, [
        { from: 'events', where: 'x.actor_id = ?', params: [c.value] },
        { from: 'events', where: 'x.actor_email = ?', params: [emailKey(c.value)] },
      ]);
    case 'target':
      return byDay('e.pos', tenantId, range, [
        { from: 'event_targets', where: 'x.target_id = ?', params: [c.value] },
      ]);
    case 'category':
      return { sql: 'e.category = ?', params: [c.value] };
    case 'status':
      return { sql: 'e.status = ?', params: [c.value] };
    case 'outcome':
      return { sql: 'e.outcome = ?', params: [c.value] };
    case 'channel':
      return { sql: 'e.channel = ?', params: [c.value] };
    case 'action': {
      if (!c.prefix && !c.suffix) return { sql: 'e.action = ?', params: [c.value] };
      // Several actions. Left to itself, SQLite would either sort every match of the action
      // index or scan the tenant's events for a few rare ones. Common ones: the page reads the
      // events newest first and keeps those that match (`+` keeps SQLite off the action index).
      if (actions.common(c, range)) return actionMatch(c, actions.suffixes, '+e.action');
      // Rare ones: the positions of their events in the page's range, from the action index,
      // which the page then reads newest first.
      const which = actionMatch(c, actions.suffixes, 'x.action');
      if (which.sql === '0') return which;
      return {
        sql:
          `${posCol} IN (SELECT x.pos FROM events x WHERE x.tenant_id = ? AND ${which.sql} ` +
          'AND x.pos >= ? AND x.pos < ?)',
        params: [tenantId, ...which.params, range.lo, range.hi],
      };
    }
    case 'ip':
      return byDay('e.pos', tenantId, range, [
        {
          from: 'events',
          where: 'x.ip BETWEEN ? AND ?',
          params: [Buffer.from(c.range.start), Buffer.from(c.range.end)],
        },
      ]);
    case 'metadata':
      return {
        sql: 'CAST(e.body ->> ? AS TEXT) = ?',
        params: [`$.metadata${c.path.map((k) => `."${k}"`).join('')}`, c.value],
      };
    case 'after':
      return { sql: `${posCol} >= ?`, params: [c.timeMs * SLOTS_PER_MS] };
    case 'before':
      return { sql: `${posCol} < ?`, params: [c.timeMs * SLOTS_PER_MS] };
  }
}
