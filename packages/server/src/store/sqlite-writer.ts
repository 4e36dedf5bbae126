/**
 * The SQLite store's writer: numbers, hashes and inserts batches in one durable transaction.
 * It runs on a worker thread of its own (see `sqlite.ts`), so that HTTP parsing and validation
 * on the main thread overlap with inserts and fsyncs here, and reads are never blocked by them.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type ErasureSubject, merkle } from '@hindsight/core';
import Database from 'better-sqlite3';
import { HindsightError } from '../errors.js';
import { deletionAuditStep, erasureAuditStep, type TransactionStep } from './access-rows.js';
import {
  FrontierCache,
  newPlanState,
  type PlannedInsert,
  type PlanSource,
  type PlanState,
  planBatch,
  refusedBatch,
  type StoredId,
  treeGrowth,
  type WireError,
  type WireOutcome,
  type WriterEvent,
} from './append-plan.js';
import { COSIGNED_SQL } from './cosigned-sql.js';
import { SqliteHookSignatures } from './hook-signatures.js';
import { BACKSTOP_CHECKPOINT_PAGES } from './sqlite-checkpointer.js';
import { eraseSqlite, redactSqlite, withSecureDelete } from './sqlite-erase.js';
import { INSERT_TARGET_SQL, targetParams } from './sqlite-keys.js';
import { Projector } from './sqlite-projections.js';
import { Pruner, type PruneStep } from './sqlite-prune.js';
import { type PurgeStep, purgeStep } from './sqlite-purge.js';
import {
  eventRow,
  INSERT_EVENT_SQL,
  INSERT_NODE_SQL,
  migrateSqlite,
  NODE_SQL,
  nodeKey,
  nodeRow,
  SLOTS_PER_MS,
} from './sqlite-schema.js';
import { ftsWords, INSERT_FTS_SQL } from './sqlite-words.js';
import type {
  ErasureResult,
  HookSignatureClaim,
  HookSignatureOutcome,
  PendingAudit,
  PruneResult,
  RedactionRequest,
  RedactionResult,
} from './types.js';

/** A checkpoint to keep, as it crosses to the writer thread. */
export interface CheckpointRow {
  readonly tenant: string;
  readonly size: number;
  readonly note: string;
}

/** Messages to the writer thread. */
export type WriterRequest =
  | { readonly type: 'append'; readonly id: number; readonly batches: WriterEvent[][] }
  | { readonly type: 'checkpoints'; readonly id: number; readonly checkpoints: CheckpointRow[] }
  | { readonly type: 'prune'; readonly id: number; readonly step: PruneStep }
  | {
      readonly type: 'erase';
      readonly id: number;
      readonly tenant: string;
      readonly subject: ErasureSubject;
      readonly audit?: PendingAudit;
    }
  | {
      readonly type: 'redact';
      readonly id: number;
      readonly request: RedactionRequest;
      readonly audit?: PendingAudit;
    }
  | { readonly type: 'purge'; readonly id: number; readonly step: PurgeStep }
  | {
      readonly type: 'claimHookSignature';
      readonly id: number;
      readonly claim: HookSignatureClaim;
      readonly nowMs: number;
    }
  | {
      readonly type: 'releaseHookSignature';
      readonly id: number;
      readonly claim: HookSignatureClaim;
    }
  | { readonly type: 'close' };

/**
 * Messages from the writer thread: one outcome per batch of an append, in order; `failed` when
 * a request other than an append could not be written.
 */
export type WriterResponse = {
  readonly id: number;
  readonly outcomes: WireOutcome[];
  readonly failed?: string;
  /** What a `prune` request removed. */
  readonly pruned?: PruneResult;
  /** What an `erase` request erased. */
  readonly erased?: ErasureResult;
  /** What a `redact` request deleted. */
  readonly redacted?: RedactionResult;
  /** Whether a `purge` step was done (`wal`: false while readers keep the WAL in use). */
  readonly purged?: boolean;
  /** What a `claimHookSignature` request found. */
  readonly hookSignature?: HookSignatureOutcome;
  /** A request refused as the API refuses it (`legal_hold`, `deletion_not_allowed`). */
  readonly refused?: WireError;
};

/** What the writer thread is started with. */
export interface WriterData {
  readonly hindsightSqliteWriter: true;
  readonly path: string;
  /** `SqliteStoreOptions.busyTimeoutMs`. */
  readonly busyTimeoutMs?: number;
}

type ExistingRow = { seq: number; hash: Buffer; digest: Buffer | null };

interface TxState extends PlanState {
  /** The last `pos` handed out per millisecond in this transaction. */
  readonly lastPos: Map<number, number>;
  /** Tenants created in this transaction, cached once it commits. */
  readonly tenantIds: Map<string, number>;
  /** The highest pos stored when this transaction began, read on first need. */
  maxPos?: number;
}

/**
 * Appends batches to a SQLite database: each batch all or nothing, all of them in one
 * `BEGIN IMMEDIATE` transaction, so `seq` stays gap-free even with other processes writing.
 */
export class SqliteWriter {
  readonly #db: Database.Database;
  readonly #tenantIds = new Map<string, number>();
  readonly #frontiers = new FrontierCache();
  /** Frontiers of the transaction under way, remembered once it commits. */
  #committing: Array<[tenantId: number, size: number, frontier: Map<number, Uint8Array>]> = [];
  readonly #stmt;
  readonly #projector: Projector;
  #pruner: Pruner | undefined;
  #hookSignatures: SqliteHookSignatures | undefined;
  readonly #appendAll: Database.Transaction<
    (batches: readonly (readonly WriterEvent[])[]) => WireOutcome[]
  >;

  constructor(db: Database.Database) {
    this.#db = db;
    const p = (sql: string) => db.prepare(sql);
    this.#stmt = {
      tenantInsert: p('INSERT INTO tenants (name) VALUES (?) ON CONFLICT (name) DO NOTHING'),
      tenantId: p('SELECT id FROM tenants WHERE name = ?').pluck(),
      tenantSize: p('SELECT size FROM tenants WHERE id = ?').pluck(),
      tenantSetSize: p('UPDATE tenants SET size = ? WHERE id = ?'),
      existing: p('SELECT seq, hash, digest FROM events WHERE tenant_id = ? AND id = ?'),
      maxPos: p('SELECT max(pos) FROM events WHERE pos >= ? AND pos < ?').pluck(),
      maxPosAll: p('SELECT max(pos) FROM events').pluck(),
      insertEvent: p(INSERT_EVENT_SQL),
      insertTarget: p(INSERT_TARGET_SQL),
      insertFts: p(INSERT_FTS_SQL),
      insertNode: p(INSERT_NODE_SQL),
      // A checkpoint kept already stays, unless this is it with signatures added after it.
      checkpointInsert: p(
        'INSERT INTO checkpoints (tenant_id, size, note, created_at) ' +
          'SELECT id, ?, ?, ? FROM tenants WHERE name = ? ' +
          `ON CONFLICT (tenant_id, size) DO UPDATE SET note = excluded.note WHERE ${COSIGNED_SQL}`,
      ),
      node: p(NODE_SQL).pluck(),
    };
    this.#projector = new Projector(db);
    this.#appendAll = db.transaction((batches: readonly (readonly WriterEvent[])[]) =>
      this.#insertAll(batches),
    );
  }

  /** Appends in one durable transaction; throws (storing nothing) when the database fails. */
  append(batches: readonly (readonly WriterEvent[])[]): WireOutcome[] {
    this.#committing = [];
    this.#projector.clear();
    const outcomes = this.#appendAll.immediate(batches);
    for (const [tenantId, size, frontier] of this.#committing) {
      this.#frontiers.set(tenantId, size, frontier);
    }
    return outcomes;
  }

  /** Keeps signed checkpoints, all in one transaction; one already kept is left as it is. */
  saveCheckpoints(checkpoints: readonly CheckpointRow[]): void {
    const at = new Date().toISOString();
    this.#db
      .transaction(() => {
        for (const c of checkpoints) this.#stmt.checkpointInsert.run(c.size, c.note, at, c.tenant);
      })
      .immediate();
  }

  /** One bounded retention step (issue #9), in a transaction of its own. */
  prune(step: PruneStep): PruneResult {
    this.#pruner ??= new Pruner(this.#db);
    // A removal need not be on disk before the next append: a step lost in a crash is only
    // redone by the next run. Without its own fsync it holds appends back for less time; the
    // next append's fsync makes it durable too (the WAL is written in order).
    this.#db.pragma('synchronous = NORMAL');
    try {
      return this.#pruner.prune(step);
    } finally {
      // The pages it dirtied are copied back by the checkpointer thread, not in an append's
      // commit (sqlite-checkpointer.ts).
      this.#db.pragma('synchronous = FULL');
    }
  }

  /** See `Store.erase`: one transaction of its own, between two append transactions. */
  erase(tenant: string, subject: ErasureSubject, audit?: PendingAudit): ErasureResult {
    return this.#withAudit(
      () => eraseSqlite(this.#db, tenant, subject),
      (result) => audit && erasureAuditStep(audit, result),
    );
  }

  /** See `Store.redact`: one transaction of its own, between two append transactions. */
  redact(request: RedactionRequest, audit?: PendingAudit): RedactionResult {
    return this.#withAudit(
      () => redactSqlite(this.#db, request),
      (result) => audit && deletionAuditStep(audit, result),
    );
  }

  /**
   * Runs an erasure or deletion (with secure delete on) and keeps the statement `audit` gives
   * for its result (its `audit` entry) in the same transaction.
   */
  #withAudit<T>(change: () => T, audit: (result: T) => TransactionStep | null | undefined): T {
    return withSecureDelete(this.#db, () =>
      this.#db
        .transaction(() => {
          const result = change();
          const step = audit(result);
          if (step) this.#db.prepare(step.sql).run(step.params);
          return result;
        })
        .immediate(),
    );
  }

  /** See `Store.claimHookSignature`: a short transaction of its own, between two appends. */
  claimHookSignature(claim: HookSignatureClaim, nowMs: number): HookSignatureOutcome {
    this.#hookSignatures ??= new SqliteHookSignatures(this.#db);
    return this.#hookSignatures.claim(claim, nowMs);
  }

  /** See `Store.releaseHookSignature`. */
  releaseHookSignature(claim: HookSignatureClaim): void {
    this.#hookSignatures ??= new SqliteHookSignatures(this.#db);
    this.#hookSignatures.release(claim);
  }

  /** One step of the purge after an erasure or a deletion (`sqlite-purge.ts`). */
  purge(step: PurgeStep): boolean {
    return purgeStep(this.#db, step);
  }

  close(): void {
    this.#db.pragma('optimize');
    this.#db.close();
  }

  #insertAll(batches: readonly (readonly WriterEvent[])[]): WireOutcome[] {
    const tx: TxState = { ...newPlanState(), lastPos: new Map(), tenantIds: new Map() };
    const source: PlanSource = {
      tenantId: (name) => this.#tenantId(name, tx),
      size: (tenantId) => this.#stmt.tenantSize.get(tenantId) as number,
      stored: (tenantId, id) => this.#storedId(tenantId, id),
    };
    const inserted: PlannedInsert[] = [];
    const outcomes = batches.map((batch): WireOutcome => {
      // Conflicts are found before the first insert, so a refused batch needs no savepoint
      // (savepoints would make FTS5 flush its buffer each time).
      const plan = planBatch(batch, source, tx);
      if (!plan.ok) return plan.outcome;
      inserted.push(...plan.inserts);
      for (const { event, tenantId, seq, hash } of plan.inserts) {
        const pos = this.#allocatePos(event.timeMs, tx);
        this.#stmt.insertEvent.run(eventRow(tenantId, pos, seq, hash, event));
        for (const target of event.targets)
          this.#stmt.insertTarget.run(targetParams(tenantId, target, pos));
        this.#stmt.insertFts.run(pos, ftsWords(tenantId, event.searchText));
        this.#projector.add(tenantId, pos, event);
      }
      return { ok: true, events: plan.refs };
    });
    this.#growTrees(inserted);
    this.#projector.write();
    // One size update per tenant and transaction, not per batch.
    for (const [tenantId, size] of tx.sizes) this.#stmt.tenantSetSize.run(size, tenantId);
    for (const [name, id] of tx.tenantIds) this.#tenantIds.set(name, id);
    return outcomes;
  }

  /** Adds the new leaves to their tenants' trees, storing every subtree they complete. */
  #growTrees(inserted: readonly PlannedInsert[]): void {
    for (const [tenantId, growth] of treeGrowth(inserted)) {
      const frontier =
        this.#frontiers.get(tenantId, growth.size) ?? this.#readFrontier(tenantId, growth.size);
      for (const node of merkle.appendLeaves(frontier, growth.size, growth.leaves)) {
        this.#stmt.insertNode.run(nodeRow(tenantId, node));
      }
      this.#committing.push([tenantId, growth.size + growth.leaves.length, frontier]);
    }
  }

  #readFrontier(tenantId: number, size: number): Map<number, Uint8Array> {
    const frontier = new Map<number, Uint8Array>();
    for (const { level, index } of merkle.frontierIds(size)) {
      const hash = this.#stmt.node.get(nodeKey(tenantId, level, index)) as Buffer | undefined;
      if (!hash) throw new Error(`Tree node ${level}/${index} of tenant ${tenantId} is missing.`);
      frontier.set(level, hash);
    }
    return frontier;
  }

  #tenantId(name: string, tx: TxState): number {
    const known = this.#tenantIds.get(name) ?? tx.tenantIds.get(name);
    if (known !== undefined) return known;
    this.#stmt.tenantInsert.run(name);
    const id = this.#stmt.tenantId.get(name) as number;
    tx.tenantIds.set(name, id);
    return id;
  }

  /** The seq, hash and digest of a stored event, by tenant and id. */
  #storedId(tenantId: number, id: string): StoredId | undefined {
    const row = this.#stmt.existing.get(tenantId, id) as ExistingRow | undefined;
    if (!row) return undefined;
    return {
      seq: row.seq,
      hash: row.hash.toString('hex'),
      digest: row.digest?.toString('hex') ?? null,
    };
  }

  /** The next free `pos` in the event's millisecond (the next millisecond's when full). */
  #allocatePos(ms: number, tx: TxState): number {
    for (let t = ms; ; t++) {
      const base = t * SLOTS_PER_MS;
      let last = tx.lastPos.get(t);
      if (last === undefined) {
        // Live events are newer than everything stored: their millisecond is empty, and one
        // read of the highest pos per transaction tells so without a look-up per event.
        tx.maxPos ??= (this.#stmt.maxPosAll.get() as number | null) ?? Number.NEGATIVE_INFINITY;
        const max =
          base > tx.maxPos
            ? null
            : (this.#stmt.maxPos.get(base, base + SLOTS_PER_MS) as number | null);
        last = max ?? base - 1;
      }
      if (last + 1 < base + SLOTS_PER_MS) {
        tx.lastPos.set(t, last + 1);
        return last + 1;
      }
    }
  }
}

// The worker thread's entry. Messages that arrive while a transaction runs are coalesced into
// the next one (one fsync for all of them); each gets its own response, in order.
if (!isMainThread && (workerData as WriterData | undefined)?.hindsightSqliteWriter && parentPort) {
  const port = parentPort;
  const data = workerData as WriterData;
  const db = new Database(data.path);
  migrateSqlite(db);
  if (data.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  // The checkpointer thread copies the WAL back; a commit does it only if that thread lags.
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  const writer = new SqliteWriter(db);
  let queue: Array<WriterRequest & { type: 'append' }> = [];
  let closing = false;
  const commit = (requests: Array<WriterRequest & { type: 'append' }>): WriterResponse[] => {
    const outcomes = writer.append(requests.flatMap((r) => r.batches));
    let next = 0;
    return requests.map((r) => {
      const mine = outcomes.slice(next, next + r.batches.length);
      next += r.batches.length;
      return { id: r.id, outcomes: mine };
    });
  };
  const run = () => {
    const requests = queue;
    queue = [];
    let responses: WriterResponse[];
    try {
      responses = commit(requests);
    } catch {
      // One batch the database refuses must not fail the others it was coalesced with: commit
      // each on its own, so only a failing batch is answered with the failure.
      responses = requests.map((r) => ({
        id: r.id,
        outcomes: r.batches.map((batch): WireOutcome => {
          try {
            return writer.append([batch])[0] as WireOutcome;
          } catch (error) {
            return refusedBatch(error);
          }
        }),
      }));
    }
    for (const response of responses) port.postMessage(response);
    if (closing) {
      writer.close();
      port.close();
    }
  };
  /** Runs a request other than an append at once, answering its result or its failure. */
  const answer = (id: number, work: () => Partial<WriterResponse>) => {
    let response: WriterResponse;
    try {
      response = { id, outcomes: [], ...work() };
    } catch (error) {
      response =
        error instanceof HindsightError
          ? {
              id,
              outcomes: [],
              refused: {
                code: error.code,
                message: error.message,
                ...(error.details ? { details: error.details } : {}),
              },
            }
          : { id, outcomes: [], failed: String(error) };
    }
    port.postMessage(response);
  };
  port.on('message', (message: WriterRequest) => {
    if (message.type === 'prune') {
      // One bounded step between two append transactions: appends wait for it, never for a run.
      answer(message.id, () => ({ pruned: writer.prune(message.step) }));
      return;
    }
    if (message.type === 'erase') {
      answer(message.id, () => ({
        erased: writer.erase(message.tenant, message.subject, message.audit),
      }));
      return;
    }
    if (message.type === 'redact') {
      answer(message.id, () => ({ redacted: writer.redact(message.request, message.audit) }));
      return;
    }
    if (message.type === 'purge') {
      // Between two append transactions too: appends wait for the step in the queue, never
      // for a lock another connection holds.
      answer(message.id, () => ({ purged: writer.purge(message.step) }));
      return;
    }
    if (message.type === 'claimHookSignature') {
      // At once, between two append transactions: the webhook's events are appended after it.
      answer(message.id, () => ({
        hookSignature: writer.claimHookSignature(message.claim, message.nowMs),
      }));
      return;
    }
    if (message.type === 'releaseHookSignature') {
      answer(message.id, () => {
        writer.releaseHookSignature(message.claim);
        return {};
      });
      return;
    }
    if (message.type === 'checkpoints') {
      // Written at once, in a transaction of their own: they name sizes already committed.
      answer(message.id, () => {
        writer.saveCheckpoints(message.checkpoints);
        return {};
      });
      return;
    }
    if (message.type === 'close') {
      closing = true;
      if (queue.length === 0) {
        writer.close();
        port.close();
      }
      return;
    }
    if (queue.length === 0) setImmediate(run);
    queue.push(message);
  });
}
