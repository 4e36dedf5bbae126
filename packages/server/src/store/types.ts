/**
 * The Store contract: the one file every storage backend implements. Nothing outside `store/`
 * knows which database runs; the shared conformance suite checks every backend against this.
 */
import type {
  ErasureSubject,
  EventInput,
  LeafHashParts,
  merkle,
  QueryClause,
  Salts,
  StoredEvent,
  TenantSettings,
  UnsealedEvent,
  ViewInput,
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
  /** Only events whose message's receivers pass this (the messages list's `delivery`). */
  readonly delivery?: DeliveryFilter;
}

/**
 * Which messages a page keeps, by the current status of their receivers: the rows that
 * {@link Store.deliveryCounts} counts. An event's message is its first `message` target, else
 * the event itself (as `message_receivers` keys it). A message without receivers passes neither.
 * - `some`: at least one receiver is in one of `statuses`;
 * - `mixed`: its receivers are in more than one status (the summary's `mixed`).
 */
export type DeliveryFilter =
  | { readonly kind: 'some'; readonly statuses: readonly string[] }
  | { readonly kind: 'mixed' };

/** One page of events and the position to continue from (`null` at the end). */
export interface EventPage {
  readonly events: StoredEvent[];
  /** With `withSalts`: each event's salts, in the order of `events`. */
  readonly salts?: Salts[];
  readonly next: string | null;
}

/** One event of an {@link EventTextPage}: its `seq`, and its JSON text as the API sends it. */
export interface EventText {
  readonly seq: number;
  readonly json: string;
  /** With `withSalts`: its salts, as JSON text. */
  readonly salts?: string;
}

/** A page of events as JSON text, for sending on as they are. */
export interface EventTextPage {
  readonly events: EventText[];
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

/** One sign-in attempt, as the logins view shows it. */
export interface LoginAttempt {
  readonly id: string;
  readonly seq: number;
  readonly time: string;
  readonly ip?: string;
  readonly location?: NonNullable<StoredEvent['context']>['location'];
  readonly client?: NonNullable<StoredEvent['context']>['client'];
  /** Why a failed attempt failed (`metadata.reason`). */
  readonly reason?: string;
}

/** Everything the logins view knows about one account, derived from its login events. */
export interface LoginUser {
  /** The actor's id, or `email:<address>` for attempts that named no account. */
  readonly key: string;
  /** The actor as of the newest attempt. */
  readonly actor: StoredEvent['actor'];
  readonly lastAttempt: 'succeeded' | 'failed';
  readonly lastSuccess: LoginAttempt | null;
  readonly lastFailure: LoginAttempt | null;
  /**
   * The newest successful sign-in came from a country new to the account: one it first signed
   * in from successfully at or after the query's `newCountrySince`, having signed in from
   * another country before. What an administrator looking for a taken-over account checks.
   * An account's first country is not new; failed attempts do not count; within the log as
   * kept (retention).
   */
  readonly newCountry: boolean;
  readonly successes: number;
  readonly failures: number;
  /** Failed attempts at or after the query's `recentSince`. */
  readonly recentFailures: number;
  /** Countries sign-ins came from, most recent first (ISO 3166 codes). */
  readonly countries: string[];
}

/** The sort orders of the logins view. */
export const LOGIN_SORTS = ['lastAttempt', 'lastSuccess', 'lastFailure', 'name', 'email'] as const;

/** A page request over the logins view. */
export interface LoginUsersQuery {
  /** Part of the name or e-mail, case-insensitive. */
  readonly search?: string;
  /** Only accounts that signed in from this country (ISO code) at least once. */
  readonly country?: string;
  /** Only accounts whose `newCountry` is this. */
  readonly newCountry?: boolean;
  /** Only accounts whose newest attempt had this result. */
  readonly lastAttempt?: 'succeeded' | 'failed';
  readonly sort: (typeof LOGIN_SORTS)[number];
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  /** Opaque position from a previous page's `next`. */
  readonly after?: string;
  /** Failed attempts from this time on are counted as `recentFailures` (RFC 3339). */
  readonly recentSince: string;
  /** A country first signed in from at or after this time is new (RFC 3339): `newCountry`. */
  readonly newCountrySince: string;
}

/** The delivery report behind a receiver's status. */
export interface DeliveryReport {
  readonly id: string;
  readonly seq: number;
  readonly time: string;
  readonly reason?: string;
}

/** One receiver of a message and the status of its newest delivery report. */
export interface MessageReceiver {
  readonly address: string;
  readonly name?: string;
  /** A SPEC §4 delivery status; `sent` until a report arrives. */
  readonly status: string;
  /** The newest delivery report, when one arrived. */
  readonly report?: DeliveryReport;
}

/** How many receivers of a message are in each status. */
export interface DeliveryCount {
  readonly messageId: string;
  readonly status: string;
  readonly count: number;
}

/** An event in short, as summaries quote it. */
export interface EventBrief {
  readonly id: string;
  readonly seq: number;
  readonly time: string;
  readonly action: string;
  readonly outcome: string;
  readonly status?: string;
  readonly description?: string;
  readonly actor: StoredEvent['actor'];
}

/** One external system of the integrations view, derived from its events. */
export interface IntegrationSummary {
  /** `targets[0].id` of its events (type `integration`), else `metadata.system`. */
  readonly system: string;
  /** The display name (`metadata.system` or the target's name). */
  readonly name: string;
  /** The newest event (by time), acknowledgements aside. */
  readonly lastEvent: EventBrief;
  /** The status of the newest event that has one of `ok`, `error`, `notification`. */
  readonly lastStatus: string | null;
  /** Errors and notifications recorded after the last acknowledgement. */
  readonly unacknowledged: { readonly errors: number; readonly notifications: number };
  /** The newest acknowledgement: everything up to `upToSeq` was seen. */
  readonly acknowledged: (EventBrief & { readonly upToSeq: number }) | null;
}

/** What to summarise: the events matching `clauses` in `[fromMs, toMs)`. */
export interface StatsQuery {
  readonly clauses: readonly QueryClause[];
  readonly fromMs: number;
  readonly toMs: number;
  /** Histogram bucket width: a whole number of hours. */
  readonly bucketMs: number;
  /** How many actions and actors to list, largest first. */
  readonly top: number;
}

/** Counts of a tenant's events over a time range. */
export interface Stats {
  readonly total: number;
  readonly outcomes: { readonly success: number; readonly failure: number };
  readonly byAction: Array<{ readonly action: string; readonly count: number }>;
  readonly byActor: Array<{ readonly actor: StoredEvent['actor']; readonly count: number }>;
  /** One entry per bucket from `fromMs`, empty buckets included. */
  readonly histogram: Array<{ readonly start: number; readonly count: number }>;
  /**
   * `false` when the filters needed a scan of the events and only the newest matching events
   * (`scanned` of them) were counted.
   */
  readonly exact: boolean;
  readonly scanned?: number;
}

/** A tenant's settings and when they were last changed. */
export interface StoredTenantSettings {
  readonly settings: TenantSettings;
  readonly updatedAt: string | null;
}

/** What {@link Store.updateTenantSettings} changed: the settings before, and as stored. */
export interface TenantSettingsUpdate {
  readonly before: TenantSettings;
  readonly after: StoredTenantSettings;
}

/**
 * An admin change's `audit` entry, its id and time fixed when the change is made. The store
 * keeps it in the change's own transaction until it is in the tenant's log
 * ({@link Store.pendingAudits}); appending it twice stores it once, its id being its
 * idempotency key.
 */
export type PendingAudit = EventInput & { readonly id: string; readonly time: string };

/** A viewer token as revocations name it: its tenant, id, viewer and when it was issued. */
export interface ViewerTokenRef {
  readonly tenant: string;
  readonly tokenId: string;
  readonly viewerId: string;
  readonly issuedAtMs: number;
}

/** A revocation of viewer tokens: of one token, or of all a viewer's tokens issued until now. */
export type ViewerRevocation = {
  readonly tenant: string;
  readonly revokedAtMs: number;
  /** When every token it names has expired: it may be forgotten then. */
  readonly expiresAtMs: number;
} & ({ readonly tokenId: string } | { readonly viewerId: string });

/**
 * A provider webhook's signature that is good for one call (docs/webhooks.md, "Replays"), as
 * {@link Store.claimHookSignature} takes it.
 */
export interface HookSignatureClaim {
  /** The provider, e.g. `mailgun`. */
  readonly provider: string;
  /** What makes the signature one of a kind: Mailgun's token, SendGrid's signature. */
  readonly key: string;
  /** The call it is taken for: a digest of its URL and body. */
  readonly call: string;
  /** Until when (ms since the epoch) the signature is good at all; it may be forgotten after. */
  readonly untilMs: number;
}

/**
 * What a claim of a signature found: it was free (or had expired) and is now taken for this
 * call; it is taken for this same call already (the provider retrying it); or for another call
 * (a replay).
 */
export type HookSignatureOutcome = 'claimed' | 'same_call' | 'other_call';

/** A tenant's own view as stored. */
export interface StoredView {
  readonly id: string;
  readonly view: ViewInput;
  readonly updatedAt: string;
}

/** Expired events of one category: those older than `beforeMs` (issue #9). */
export interface PruneRule {
  readonly category: string;
  /** Events whose time is before this (ms since 1970) are expired. */
  readonly beforeMs: number;
}

/** One bounded pruning step over a tenant's log. */
export interface PruneRequest {
  readonly tenant: string;
  readonly rules: readonly PruneRule[];
  /** Only events up to this seq are removed: the size of a signed checkpoint. */
  readonly maxSeq: number;
  /** Most events removed in this step (one transaction). */
  readonly limit: number;
  /**
   * This step's part of its run's `retention.pruned` entry (an id of its own,
   * `<entry>.<part>`): kept in the step's transaction when it removed any event, with `removed`
   * and `byCategory` added to its metadata ({@link PendingAudit},
   * {@link Store.coalescePendingAudits}).
   */
  readonly audit?: PendingAudit;
}

/** What a pruning step removed. */
export interface PruneResult {
  readonly removed: number;
  /** Removed events by category. */
  readonly byCategory: Readonly<Record<string, number>>;
  /** `true` when the step stopped at its limit: expired events may remain. */
  readonly more: boolean;
  /** `true` when the tenant was under legal hold as the step began: nothing was removed. */
  readonly held?: boolean;
}

/** What an erasure changed (issue #9). */
export interface ErasureResult {
  /** Events of which personal values were erased now (0 when erased before: idempotent). */
  readonly events: number;
  /** Personal values erased now. */
  readonly values: number;
}

/** Events to delete as redacted leaves (issue #9). */
export interface RedactionRequest {
  readonly tenant: string;
  /** Event ids, at most 1,000. */
  readonly ids: readonly string[];
  /** Who deletes them: `api_key:<id>` or `user:<viewer id>`. */
  readonly by: string;
  /** When (RFC 3339). */
  readonly at: string;
}

/** A deleted event as the log keeps it: its place and leaf hash, and when and by whom. */
export interface RedactedLeaf {
  readonly seq: number;
  readonly id: string;
  /** The leaf hash (hex). */
  readonly hash: string;
  readonly redactedAt: string;
  readonly redactedBy: string;
}

/** What a deletion did, per id asked. */
export interface RedactionResult {
  /** Deleted now. */
  readonly deleted: Array<{ readonly id: string; readonly seq: number }>;
  /** Deleted before (an idempotent repeat). */
  readonly alreadyDeleted: Array<{ readonly id: string; readonly seq: number }>;
  /** Ids the tenant's log does not have. */
  readonly notFound: string[];
}

/** What decides whether a month of events may be dropped whole. */
export interface MonthExpiry {
  /**
   * Whether every event of the tenant's category in a month that ends at `endMs` has expired
   * (and the tenant is not under legal hold).
   */
  expired(tenant: string, category: string, endMs: number): boolean;
  /** The highest seq of the tenant that may be removed: its newest signed checkpoint's size. */
  maxSeq(tenant: string): number;
  /**
   * A tenant's part of its run's `retention.pruned` entry for a dropped month (see
   * `PruneRequest.audit`): kept in the drop's transaction with what it removed of the tenant.
   */
  audit?(tenant: string, month: number): PendingAudit | null;
}

/** A month of events dropped whole, and what it held. */
export interface MonthDrop {
  /** `yyyymm`. */
  readonly month: number;
  readonly removed: ReadonlyArray<{ tenant: string; category: string; n: number }>;
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
   * One event of a tenant by id with the salts of its personal values (those not erased), so
   * that its leaf hash can be recomputed from its content; `null` when there is no such event.
   */
  getEventWithSalts(
    tenant: string,
    id: string,
  ): Promise<{ event: StoredEvent; salts: Salts } | null>;

  /**
   * A page of a tenant's events, newest first (`desc`) or oldest first (`asc`), by time and
   * then `seq`. Throws `HindsightError('invalid_cursor')` for a position it did not issue.
   */
  queryEvents(tenant: string, query: EventQuery): Promise<EventPage>;

  /**
   * The same page as {@link queryEvents}, each event as the JSON text of its object, made
   * without parsing it: what a page of the API or an export sends on as it is.
   */
  queryEventTexts(tenant: string, query: EventQuery): Promise<EventTextPage>;

  /** The number of events in a tenant's log (its highest `seq`); 0 for an unknown tenant. */
  logSize(tenant: string): Promise<number>;

  /**
   * Every tenant that has events, with its log size and the size of its newest checkpoint
   * (`signed`, 0 for none), sorted by name in code-point order (the same on every backend).
   */
  tenants(): Promise<Array<{ name: string; size: number; signed: number }>>;

  /**
   * Takes the named lease for `holder` until `untilMs` (ms since the epoch) when it is free —
   * never taken, or expired by `nowMs` — or already `holder`'s; true when `holder` has it now.
   * Several servers on one store use it so that one of them does a job (the integrity scrub).
   */
  claimLease(name: string, holder: string, untilMs: number, nowMs: number): Promise<boolean>;

  /**
   * Gives the named lease back when `holder` has it, so that another server can take it at
   * once rather than when it expires (a server that stops); does nothing otherwise.
   */
  releaseLease(name: string, holder: string): Promise<void>;

  /**
   * Takes a webhook signature for one call, atomically, also with several servers on the
   * database: `claimed` when no call had it (or its signature had expired by `nowMs`: its
   * `untilMs` is before), `same_call` when it is taken for this very call, `other_call` when it
   * is taken for another. Also forgets a few signatures that expired by `nowMs`, so that the
   * store keeps little more than those still good.
   */
  claimHookSignature(claim: HookSignatureClaim, nowMs: number): Promise<HookSignatureOutcome>;

  /**
   * Gives a signature back (its call was not recorded) when it is taken for the call `claim`
   * names; does nothing otherwise, so a signature taken for another call stays taken.
   */
  releaseHookSignature(claim: HookSignatureClaim): Promise<void>;

  /**
   * Hashes of complete subtrees of a tenant's Merkle tree (SPEC §6), in the order asked. The
   * store keeps every complete subtree, so any root or proof of any past size is O(log n)
   * reads. Throws `not_found` for a subtree the log does not have (yet).
   */
  treeNodes(tenant: string, ids: readonly merkle.NodeId[]): Promise<Uint8Array[]>;

  /**
   * Keeps signed checkpoints of tenants' logs, all in one transaction; keeping one of the same
   * tenant and size again is a no-op — unless it is the kept note with signature lines added
   * after its own (a cosignature, `note.cosignNote`), which then replaces it.
   */
  saveCheckpoints(
    checkpoints: readonly { tenant: string; size: number; note: string }[],
  ): Promise<void>;

  /** Every kept checkpoint of the tenant up to `maxSize`, smallest first. */
  checkpoints(tenant: string, maxSize: number): Promise<Array<{ size: number; note: string }>>;

  /** The tenant's checkpoint of the largest size, or `null` before the first. */
  latestCheckpoint(tenant: string): Promise<{ size: number; note: string } | null>;

  /**
   * The logins view (issue #5): one entry per account that attempted to sign in (events of
   * category `logins`, actions `login.succeeded` / `login.failed`), derived from those events
   * in the same transaction that stores them. Throws `invalid_cursor` for a foreign `after`.
   */
  loginUsers(
    tenant: string,
    query: LoginUsersQuery,
  ): Promise<{ users: LoginUser[]; next: string | null }>;

  /**
   * Delivery counts of messages: for each message id, how many receivers are in each status.
   * Receivers come from `message.sent` (`metadata.receivers`) and from delivery reports
   * (`metadata.receiver`), whichever arrives first; each has the status of its newest report
   * by event time.
   */
  deliveryCounts(tenant: string, messageIds: readonly string[]): Promise<DeliveryCount[]>;

  /** The receivers of one message by address, `limit` from after `afterAddress`. */
  messageReceivers(
    tenant: string,
    messageId: string,
    limit: number,
    afterAddress?: string,
  ): Promise<MessageReceiver[]>;

  /** The integrations view: one entry per external system, by name. */
  integrations(tenant: string): Promise<IntegrationSummary[]>;

  /** Counts by action, actor, outcome and time of the events a query matches. */
  stats(tenant: string, query: StatsQuery): Promise<Stats>;

  /** A tenant's own views, by id. */
  views(tenant: string): Promise<StoredView[]>;
  /** Adds or replaces a tenant's view. */
  putView(tenant: string, id: string, view: ViewInput): Promise<StoredView>;
  /** Removes a tenant's view; resolves whether there was one. */
  deleteView(tenant: string, id: string): Promise<boolean>;

  /** The categories a tenant's log holds events of, sorted (code-point order). */
  categories(tenant: string): Promise<string[]>;

  /**
   * Removes up to `limit` expired events (retention, issue #9) in one transaction, with every
   * row derived from them (targets, search words; the counts of the summaries), and records
   * their seqs as pruned. The tree keeps every node, so checkpoints and proofs stay valid.
   * Removes nothing (`held`) while the tenant is under legal hold, read in that transaction.
   */
  prune(request: PruneRequest): Promise<PruneResult>;

  /**
   * Where the store keeps months apart (PostgreSQL partitions): drops, oldest first, each past
   * month whose every tenant and category `expired` says has expired — cheaper than removing
   * its events one by one — and none of whose tenants is under legal hold, read in the drop's
   * transaction. Absent where months are not kept apart (SQLite).
   */
  dropExpiredMonths?(expired: MonthExpiry): Promise<MonthDrop[]>;

  /**
   * The seqs retention removed from a tenant's log, up to `maxSeq`: merged ranges
   * `[from, to]` (inclusive), ascending.
   */
  prunedRanges(tenant: string, maxSeq: number): Promise<Array<[from: number, to: number]>>;

  /**
   * Erases every personal value of a person from a tenant's events (GDPR, issue #9; the
   * fields are those of core's `subjectPaths`), in one transaction: the values and their salts
   * go, their commitments stay (`erased`), so every leaf hash and proof is unchanged; the
   * search words, the input digests and the summaries derived from the events follow.
   * Throws `legal_hold` while the tenant is under legal hold. Idempotent. `audit`, the
   * erasure's `audit` entry, is kept in the same transaction ({@link PendingAudit}), with
   * `events` and `values` (how many) added to its metadata.
   */
  erase(tenant: string, subject: ErasureSubject, audit?: PendingAudit): Promise<ErasureResult>;

  /**
   * Deletes events as redacted leaves (issue #9), in one transaction: content, search words,
   * targets and their part of the summaries go; `seq`, id and leaf hash stay, with when and by
   * whom. Throws `legal_hold` while the tenant is under legal hold. Idempotent per id.
   * `audit`, the deletion's `audit` entry, is kept in the same transaction when it deleted any
   * event ({@link PendingAudit}), with `events` (how many) and their `seqs` added to its
   * metadata.
   */
  redact(request: RedactionRequest, audit?: PendingAudit): Promise<RedactionResult>;

  /** The redacted leaves of a tenant's log up to `maxSeq`, by `seq`. */
  redactedLeaves(tenant: string, maxSeq: number): Promise<RedactedLeaf[]>;

  /** A tenant's settings as stored (`{}` and `updatedAt: null` when never set). */
  tenantSettings(tenant: string): Promise<StoredTenantSettings>;
  /** Replaces a tenant's settings. */
  putTenantSettings(tenant: string, settings: TenantSettings): Promise<StoredTenantSettings>;
  /**
   * Changes a tenant's settings without losing a change made meanwhile: `change` gets the
   * stored settings and returns the new ones (or its argument itself, to write nothing); when
   * another writer changed them first, it runs again on theirs. `change` must not have side
   * effects; what it throws is thrown. Resolves the settings it changed and as stored.
   * `audit` gives the change's `audit` entries, kept in the change's transaction (see
   * {@link PendingAudit}); it is not called for a change that writes nothing.
   */
  updateTenantSettings(
    tenant: string,
    change: (settings: TenantSettings) => TenantSettings,
    audit?: (update: TenantSettingsUpdate) => readonly PendingAudit[],
  ): Promise<TenantSettingsUpdate & { readonly audit: readonly PendingAudit[] }>;

  /**
   * Records a revocation of viewer tokens: one token by id, or every token of a viewer issued
   * up to `revokedAtMs`. Revocations are kept until every token they name has expired.
   */
  revokeViewerTokens(revocation: ViewerRevocation, audit?: PendingAudit): Promise<void>;

  /**
   * The `audit` entries kept with the changes they record (`updateTenantSettings`,
   * `revokeViewerTokens`) before `beforeMs`, oldest first, at most `limit`: those not yet in
   * their tenant's log, or appended and not yet removed ({@link removePendingAudit}).
   */
  pendingAudits(beforeMs: number, limit: number): Promise<PendingAudit[]>;
  /** Forgets a pending `audit` entry, once it is in its tenant's log. */
  removePendingAudit(tenant: string, id: string): Promise<void>;
  /**
   * Replaces the pending parts of a tenant's entry `prefix` (ids `<prefix>.<part>`, oldest
   * first; those a drain appended already are not among them) by the one entry `combine` makes
   * of them, in one transaction. Resolves that entry, or `null` when no part was pending.
   */
  coalescePendingAudits(
    tenant: string,
    prefix: string,
    combine: (parts: readonly PendingAudit[]) => PendingAudit,
  ): Promise<PendingAudit | null>;
  /**
   * Replaces a pending entry by one of the same tenant and id that says more (what was done
   * after the change); false when it is not pending any more (then it is in the log as kept).
   */
  replacePendingAudit(entry: PendingAudit): Promise<boolean>;
  /** Whether a viewer token is revoked, by its id or by its viewer after it was issued. */
  viewerTokenRevoked(token: ViewerTokenRef): Promise<boolean>;

  /**
   * Stores a key; with `ifNoKeys`, only when the store holds no key at all (atomically, also
   * with several servers starting at once). Resolves whether it was stored.
   */
  createKey(key: ApiKeyRecord, options?: { readonly ifNoKeys?: boolean }): Promise<boolean>;
  findKey(id: string): Promise<ApiKeyRecord | null>;
  /** Every key, revoked ones included, oldest first (by `createdAt`, then `id`). */
  listKeys(): Promise<ApiKeyRecord[]>;
  /**
   * Revokes a key as of `at` (an ISO time) and resolves the key as now stored; a key revoked
   * before keeps its first `revokedAt`. `null` when no key has this id. Every server reads keys
   * per request, so the key is refused from the next request on.
   */
  revokeKey(id: string, at: string): Promise<ApiKeyRecord | null>;

  /** Resolves when the database answers; used by `/healthz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
