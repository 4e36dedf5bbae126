/**
 * What every backend does the same way when it appends: the flat form of an event that a
 * writer inserts, and the plan of one batch — which events are idempotent retries, whether an
 * id is reused with other content (a `409` for the whole batch), and which `seq` and leaf hash
 * each new event gets. Backends differ only in how they read what is stored and insert rows.
 */
import { emailKey, leafHashOf, parseIp, type Salts } from '@hindsight/core';
import { type ErrorCode, type ErrorDetail, HindsightError } from '../errors.js';
import type { EventRef, PreparedEvent } from './types.js';

/**
 * Forgets the input digests of stored events with a `sensitive` change, computed (by versions
 * before SQLite schema 8 and PostgreSQL migration 11) over the change's values, which a reader
 * of the database could recover by guessing. A retry of such an event is then a `409`, as after
 * an erasure.
 */
export const DROP_SENSITIVE_DIGESTS =
  'UPDATE events SET digest = NULL WHERE digest IS NOT NULL AND body LIKE \'%"sensitive":true%\'';

/**
 * What a writer needs of one prepared event, flat and small so that it crosses to a writer
 * thread cheaply: every column but `seq` and `hash`, which the writer assigns.
 */
export interface WriterEvent {
  readonly tenant: string;
  readonly id: string;
  readonly timeMs: number;
  readonly category: string;
  readonly action: string;
  readonly actorId: string | null;
  readonly actorEmail: string | null;
  /** The actor's type, when given. */
  readonly actorType: string | null;
  readonly outcome: string;
  readonly channel: string | null;
  readonly status: string | null;
  readonly ip: Uint8Array | null;
  readonly targets: string[];
  readonly digest: string | null;
  readonly hashHead: string;
  readonly hashTail: string;
  readonly json: string;
  readonly salts: string | null;
  readonly searchText: string;
}

/**
 * The key of an event's actor in the summaries and stats: its id, else its e-mail, else its
 * type (`actorKeySql` of each store computes the same over a stored row).
 */
export function actorKey(e: Pick<WriterEvent, 'actorId' | 'actorEmail' | 'actorType'>): string {
  return e.actorId ?? (e.actorEmail === null ? (e.actorType ?? 'user') : `email:${e.actorEmail}`);
}

/** The writer's view of a prepared event. */
export function writerEvent(prepared: PreparedEvent): WriterEvent {
  const { event } = prepared;
  const ip = event.context?.ip === undefined ? null : parseIp(event.context.ip);
  return {
    tenant: event.tenant,
    id: event.id,
    // `normalizeEvent` wrote the time as UTC ISO, which Date.parse reads exactly.
    timeMs: Date.parse(event.time),
    category: event.category,
    action: event.action,
    actorId: event.actor.id ?? null,
    // The column is the address's key, compared in any case (the body keeps it as sent).
    actorEmail: event.actor.email === undefined ? null : emailKey(event.actor.email),
    actorType: event.actor.type ?? null,
    outcome: event.outcome,
    channel: event.channel ?? null,
    status: event.status ?? null,
    ip: ip ? ip.bytes : null,
    targets: event.targets?.map((t) => t.id) ?? [],
    digest: prepared.digest,
    hashHead: prepared.hashParts.head,
    hashTail: prepared.hashParts.tail,
    json: prepared.json,
    salts: Object.keys(prepared.salts).length === 0 ? null : JSON.stringify(prepared.salts),
    searchText: prepared.searchText,
  };
}

/** A stored event as idempotency sees it. */
export interface StoredId {
  readonly seq: number;
  readonly hash: string;
  /** The input digest of a producer-chosen id; `null` for a server-assigned one. */
  readonly digest: string | null;
}

/** A batch outcome as plain data (it crosses thread boundaries; `fromWire` revives errors). */
export type WireOutcome =
  | { readonly ok: true; readonly events: EventRef[] }
  | { readonly ok: false; readonly error: WireError };

/** A `HindsightError` as it crosses between threads. */
export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: ErrorDetail[];
  /** What the database said, for the server's log (never in the answer). */
  readonly cause?: string;
}

/** The `HindsightError` a {@link WireError} was. */
export function fromWireError({ code, message, details, cause }: WireError): HindsightError {
  return new HindsightError(code, message, {
    ...(details ? { details } : {}),
    ...(cause === undefined ? {} : { cause: new Error(cause) }),
  });
}

/** The outcome of a batch the database refused when committed on its own: nothing of it stays. */
export function refusedBatch(error: unknown): WireOutcome {
  return {
    ok: false,
    error: {
      code: 'store_unavailable',
      message: 'The event store could not commit the batch; nothing of it was stored.',
      cause: error instanceof Error ? error.message : String(error),
    },
  };
}

/** What a backend tells the planner; all of it synchronous, read before or during the plan. */
export interface PlanSource {
  /** The tenant's id in this database. */
  tenantId(tenant: string): number;
  /** The tenant's size (its highest `seq`) as committed before this transaction. */
  size(tenantId: number): number;
  /** The stored event with this id, if any. */
  stored(tenantId: number, id: string): StoredId | undefined;
}

/** State shared by the batches of one transaction. */
export interface PlanState {
  /** Tenant sizes as of this transaction's latest planned batch. */
  readonly sizes: Map<number, number>;
  /** Producer-chosen ids planned in this transaction, by `tenantId NUL id`. */
  readonly planned: Map<string, StoredId>;
}

/** A new event to insert, numbered and hashed. */
export interface PlannedInsert {
  readonly event: WriterEvent;
  readonly tenantId: number;
  readonly seq: number;
  readonly hash: string;
}

/** A batch's plan: refused whole, or its refs (retries included) and the rows to insert. */
export type BatchPlan =
  | { readonly ok: false; readonly outcome: WireOutcome & { ok: false } }
  | { readonly ok: true; readonly refs: EventRef[]; readonly inserts: PlannedInsert[] };

/** A fresh state for one transaction. */
export function newPlanState(): PlanState {
  return { sizes: new Map(), planned: new Map() };
}

/**
 * Plans one batch: all of it or none. A refused batch changes nothing in `state`, so the
 * batches after it are numbered as if it had never come.
 * @example const plan = planBatch(batch, source, state); if (plan.ok) insert(plan.inserts);
 */
export function planBatch(
  batch: readonly WriterEvent[],
  source: PlanSource,
  state: PlanState,
): BatchPlan {
  // Pass 1: which events are retries of stored ones, and is any id reused with other content?
  const retries = new Map<number, StoredId>();
  const seen = new Map<string, StoredId>();
  for (const [index, event] of batch.entries()) {
    // A server-assigned id is new by construction; the database's unique index still guards it.
    if (event.digest === null) continue;
    const tenantId = source.tenantId(event.tenant);
    const key = `${tenantId}\u0000${event.id}`;
    const earlier = seen.get(key) ?? state.planned.get(key) ?? source.stored(tenantId, event.id);
    if (!earlier) {
      seen.set(key, { seq: 0, hash: '', digest: event.digest });
      continue;
    }
    if (earlier.digest !== event.digest) {
      return {
        ok: false,
        outcome: {
          ok: false,
          error: {
            code: 'conflict',
            message: `Event id "${event.id}" is already stored for tenant "${event.tenant}" with different content.`,
            details: [{ index, path: `/events/${index}/id`, message: 'id already used' }],
          },
        },
      };
    }
    if (earlier.seq > 0) retries.set(index, earlier);
  }
  // Pass 2: number and hash the new events.
  const refs: EventRef[] = [];
  const inserts: PlannedInsert[] = [];
  for (const [index, event] of batch.entries()) {
    const tenantId = source.tenantId(event.tenant);
    const key = `${tenantId}\u0000${event.id}`;
    const retry =
      retries.get(index) ?? (event.digest === null ? undefined : state.planned.get(key));
    if (retry) {
      refs.push({ id: event.id, tenant: event.tenant, seq: retry.seq, hash: retry.hash });
      continue;
    }
    const seq = (state.sizes.get(tenantId) ?? source.size(tenantId)) + 1;
    state.sizes.set(tenantId, seq);
    const hash = leafHashOf({ head: event.hashHead, tail: event.hashTail }, seq);
    if (event.digest !== null) state.planned.set(key, { seq, hash, digest: event.digest });
    inserts.push({ event, tenantId, seq, hash });
    refs.push({ id: event.id, tenant: event.tenant, seq, hash });
  }
  return { ok: true, refs, inserts };
}

/** The producer-chosen ids of some batches, by tenant: what a backend must look up first. */
export function producerIds(batches: readonly (readonly WriterEvent[])[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const batch of batches) {
    for (const e of batch) {
      if (e.digest === null) continue;
      const ids = out.get(e.tenant);
      if (ids) ids.push(e.id);
      else out.set(e.tenant, [e.id]);
    }
  }
  return out;
}

/** The leaves a transaction adds to each tenant's tree: the size before them, in seq order. */
export interface TreeGrowth {
  readonly size: number;
  readonly leaves: Uint8Array[];
}

/**
 * Groups the inserts of a transaction by tenant as leaves of its Merkle tree. The seqs a
 * transaction hands out per tenant are consecutive, so the first one tells the size before.
 */
export function treeGrowth(inserts: readonly PlannedInsert[]): Map<number, TreeGrowth> {
  const byTenant = new Map<number, PlannedInsert[]>();
  for (const insert of inserts) {
    const list = byTenant.get(insert.tenantId);
    if (list) list.push(insert);
    else byTenant.set(insert.tenantId, [insert]);
  }
  const out = new Map<number, TreeGrowth>();
  for (const [tenantId, list] of byTenant) {
    list.sort((a, b) => a.seq - b.seq);
    out.set(tenantId, {
      size: (list[0]?.seq ?? 1) - 1,
      leaves: list.map((i) => Buffer.from(i.hash, 'hex')),
    });
  }
  return out;
}

/**
 * Each tenant's tree frontier as of the last transaction this writer committed, so that the
 * next one need not read it back. An entry is used only while the stored size still matches
 * (another writer may have appended in between); otherwise the backend reads the frontier.
 */
export class FrontierCache {
  readonly #entries = new Map<number, { size: number; frontier: Map<number, Uint8Array> }>();

  /** A copy of the frontier of a tree of `size`, if this cache holds that exact state. */
  get(tenantId: number, size: number): Map<number, Uint8Array> | undefined {
    const entry = this.#entries.get(tenantId);
    return entry && entry.size === size ? new Map(entry.frontier) : undefined;
  }

  /** A copy of the newest state this cache holds for the tenant, if any. */
  latest(tenantId: number): { size: number; frontier: Map<number, Uint8Array> } | undefined {
    const entry = this.#entries.get(tenantId);
    return entry && { size: entry.size, frontier: new Map(entry.frontier) };
  }

  /** Remembers a committed state, unless it holds a newer (larger) one already. */
  set(tenantId: number, size: number, frontier: Map<number, Uint8Array>): void {
    if ((this.#entries.get(tenantId)?.size ?? -1) > size) return;
    this.#entries.set(tenantId, { size, frontier });
  }
}

/**
 * The hashes of the asked subtrees in the order asked, from a backend's look-up; throws
 * `not_found` for one the tenant's tree does not have (yet).
 */
export function nodesInOrder(
  tenant: string,
  ids: readonly { level: number; index: number }[],
  lookup: (level: number, index: number) => Uint8Array | undefined,
): Uint8Array[] {
  return ids.map(({ level, index }) => {
    const hash = lookup(level, index);
    if (!hash) {
      throw new HindsightError(
        'not_found',
        `The log of tenant "${tenant}" has no subtree ${level}/${index}: it is not that long.`,
      );
    }
    return hash;
  });
}

/** The salts of a stored row (kept as JSON text, `null` when the event has no personal values). */
export function saltsOf(row: { salts?: string | null }): Salts {
  return row.salts ? (JSON.parse(row.salts) as Salts) : {};
}
