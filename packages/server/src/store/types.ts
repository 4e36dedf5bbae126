/**
 * The Store contract: the one file every storage backend implements. Nothing outside `store/`
 * knows which database runs; the shared conformance suite checks every backend against this.
 */
import type {
  LeafHashParts,
  merkle,
  QueryClause,
  Salts,
  StoredEvent,
  UnsealedEvent,
} from '@hindsight/core';
import type { HindsightError } from '../errors.js';

/** An event ready to store: validated, normalised, enriched, with salts and input digest. */
export interface PreparedEvent {
  readonly event: UnsealedEvent;
  readonly salts: Salts;
  /**
   * Digest of the input as sent, when the producer chose the `id`: same id + same digest is an
   * idempotent retry. `null` for a server-assigned id, which no retry can repeat.
   */
  readonly digest: string | null;
  /** The event's canonical hashed text around its future `seq` (leaf hash = hash of it). */
  readonly hashParts: LeafHashParts;
  /** `JSON.stringify(event)`: the stored body, without `seq` and `hash`. */
  readonly json: string;
  /** The event's search tokens (SPEC §5), space-separated. */
  readonly searchText: string;
}

/** What a producer gets back for each stored (or already stored) event. */
export interface EventRef {
  readonly id: string;
  readonly tenant: string;
  readonly seq: number;
  readonly hash: string;
}

/** The outcome of one batch of a group commit: all its events stored, or none. */
export type AppendOutcome =
  | { readonly ok: true; readonly events: EventRef[] }
  | { readonly ok: false; readonly error: HindsightError };

/** A page request over one tenant's events. */
export interface EventQuery {
  /** Conditions, all of which must hold (SPEC §3 filters and §5 `q`, already parsed). */
  readonly clauses: readonly QueryClause[];
  readonly limit: number;
  readonly order: 'asc' | 'desc';
  /** Opaque position from a previous page's `next`; results start strictly after it. */
  readonly after?: string;
  /** Also return each event's salts (for a verifiable export). */
  readonly withSalts?: boolean;
}

/** One page of events and the position to continue from (`null` at the end). */
export interface EventPage {
  readonly events: StoredEvent[];
  /** With `withSalts`: each event's salts, in the order of `events`. */
  readonly salts?: Salts[];
  readonly next: string | null;
}

/** An API key as stored: the secret exists only as its SHA-256 hash. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly secretHash: Buffer;
  readonly scopes: readonly string[];
  /** When set, the key may only read or write this tenant. */
  readonly tenant: string | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** The storage contract. Every method is safe to call concurrently. */
export interface Store {
  /** Which backend this is, for health output; never for branching outside `store/`. */
  readonly kind: string;

  /**
   * How many `append` calls the store wants under way at once; the group commit holds back the
   * rest, so that they share the next transaction. A store that coalesces on its own (SQLite's
   * writer thread) takes many; PostgreSQL, whose transactions of one tenant wait on each
   * other's row lock, takes few and gets bigger transactions.
   */
  readonly appendConcurrency: number;

  /**
   * Appends batches in one durable transaction. Each batch is atomic on its own: a batch that
   * conflicts (same tenant + id, different digest) is left out whole and reported, the others
   * are stored. Resolves only once everything reported `ok` is durable; rejects (storing
   * nothing) when the database fails.
   */
  append(batches: readonly (readonly PreparedEvent[])[]): Promise<AppendOutcome[]>;

  /** One event of a tenant by id, or `null`. */
  getEvent(tenant: string, id: string): Promise<StoredEvent | null>;

  /**
   * A page of a tenant's events, newest first (`desc`) or oldest first (`asc`), by time and
   * then `seq`. Throws `HindsightError('invalid_cursor')` for a position it did not issue.
   */
  queryEvents(tenant: string, query: EventQuery): Promise<EventPage>;

  /**
   * Stores a key; with `ifNoKeys`, only when the store holds no key at all (atomically, also
   * with several servers starting at once). Resolves whether it was stored.
   */
  /** The number of events in a tenant's log (its highest `seq`); 0 for an unknown tenant. */
  logSize(tenant: string): Promise<number>;

  /**
   * Hashes of complete subtrees of a tenant's Merkle tree (SPEC §6), in the order asked. The
   * store keeps every complete subtree, so any root or proof of any past size is O(log n)
   * reads. Throws `not_found` for a subtree the log does not have (yet).
   */
  treeNodes(tenant: string, ids: readonly merkle.NodeId[]): Promise<Uint8Array[]>;

  /**
   * Keeps signed checkpoints of tenants' logs, all in one transaction; keeping one of the same
   * tenant and size again is a no-op.
   */
  saveCheckpoints(
    checkpoints: readonly { tenant: string; size: number; note: string }[],
  ): Promise<void>;

  /** Every kept checkpoint of the tenant up to `maxSize`, smallest first. */
  checkpoints(tenant: string, maxSize: number): Promise<Array<{ size: number; note: string }>>;

  /** The tenant's checkpoint of the largest size, or `null` before the first. */
  latestCheckpoint(tenant: string): Promise<{ size: number; note: string } | null>;

  createKey(key: ApiKeyRecord, options?: { readonly ifNoKeys?: boolean }): Promise<boolean>;
  findKey(id: string): Promise<ApiKeyRecord | null>;

  /** Resolves when the database answers; used by `/healthz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
