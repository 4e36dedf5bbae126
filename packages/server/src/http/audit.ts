/**
 * The audit of the audit log (issue #8, category `audit`): every search, detail view, export,
 * verification and viewer-token issue or revocation is recorded as an event of the tenant it
 * concerns — who (the viewer of a token, or the API key), what (the query, the format), how many
 * results — in the shape of docs/event-conventions.md. Repeated reads of one query by one caller
 * (paging through it, reloading) are folded: recorded once per {@link FOLD_MS}. Reads are
 * recorded for viewer tokens; token issues and revocations, erasures and deletions (issue #9)
 * always. The entries of changes to what the store keeps (legal holds, retention policies,
 * revocations) are written with the change, in its transaction, and appended after it.
 */
import type { EventInput } from '@hindsight/core';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth.js';
import { HindsightError } from '../errors.js';
import { newUlid } from '../ids.js';
import { appendPendingAudit, sentence } from '../pending-audit.js';
import type { PendingAudit, Store } from '../store/types.js';

/** How long repeated reads of one query by one caller count as one. */
export const FOLD_MS = 5 * 60_000;
/** Most fold keys remembered; the oldest are forgotten first. */
const MAX_FOLDS = 10_000;
/**
 * How often the entries of admin changes left pending (the server stopped, or the store was
 * unavailable, between a change and its entry) are appended: those older than this.
 */
export const AUDIT_RETRY_MS = 10_000;
/** Pending entries appended per read of the outbox. */
const DRAIN_PAGE = 100;

/** What was done, to which log. */
export interface AuditEntry {
  readonly tenant: string;
  readonly action:
    | 'audit_log.viewed'
    | 'audit_log.exported'
    | 'audit_log.verified'
    | 'audit_log.erased'
    | 'audit_log.deleted'
    | 'viewer_token.issued'
    | 'viewer_token.revoked'
    | 'legal_hold.placed'
    | 'legal_hold.updated'
    | 'legal_hold.lifted'
    | 'retention.changed'
    | 'settings.changed';
  /** The log read: a category, `all`, or the view's name (`stats`). */
  readonly log: string;
  readonly description: string;
  /** Further targets (the event viewed, the viewer whose token was issued). */
  readonly targets?: NonNullable<EventInput['targets']>;
  readonly metadata?: Record<string, unknown>;
  /**
   * For reads: what makes two of them the same (the query without its cursor, the event id),
   * so that repeats by one caller fold. Exports and token issues never fold.
   */
  readonly fold?: unknown;
}

/** The entries that record reads: for viewer tokens only (see {@link AuditTrail.record}). */
const READS: ReadonlySet<AuditEntry['action']> = new Set([
  'audit_log.viewed',
  'audit_log.exported',
  'audit_log.verified',
]);

/**
 * Records audit entries through `record` (the server's own ingest path). An admin change's
 * entry is made first ({@link AuditTrail.change}), kept by the store in the change's own
 * transaction, and appended after it ({@link AuditTrail.settle}); entries left pending are
 * appended when the server starts and then every {@link AUDIT_RETRY_MS}.
 */
export class AuditTrail {
  readonly #record: (event: EventInput) => Promise<void>;
  readonly #store: Store;
  readonly #foldMs: number;
  readonly #retryMs: number;
  readonly #onError: (error: unknown) => void;
  /** When each fold key was last recorded. */
  readonly #recorded = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<number> | undefined;
  #left = 0;

  constructor(
    record: (event: EventInput) => Promise<void>,
    store: Store,
    options: {
      readonly foldMs?: number;
      readonly retryMs?: number;
      readonly onError?: (error: unknown) => void;
    } = {},
  ) {
    this.#record = record;
    this.#store = store;
    this.#foldMs = options.foldMs ?? FOLD_MS;
    this.#retryMs = options.retryMs ?? AUDIT_RETRY_MS;
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * The entry of an admin change by `principal`, its id and time fixed now (or those of
   * `pending`, for the entry that replaces it): give it to the store with the change, then to
   * {@link settle}. `null` on public routes (no caller).
   * @example const entry = audit.change(principal, req, { tenant, action: 'legal_hold.lifted', log: 'all', description: 'lifted the legal hold' })
   */
  change(
    principal: Principal | null,
    req: FastifyRequest,
    entry: AuditEntry,
    pending?: PendingAudit | null,
  ): PendingAudit | null {
    if (principal === null) return null;
    const now = new Date();
    return {
      ...auditEvent(principal, req, entry),
      id: pending?.id ?? newUlid(now.getTime()),
      time: pending?.time ?? now.toISOString(),
    };
  }

  /**
   * Appends an admin change's entry, kept pending by the store, to its tenant's log and forgets
   * it; should the append fail, the entry stays pending and is appended later. With `final`
   * (same id), what was done after the change is told too: it replaces the pending entry first,
   * unless that is already in the log.
   */
  async settle(pending: PendingAudit | null, final?: PendingAudit | null): Promise<void> {
    if (pending === null) return;
    let entry = pending;
    if (final) {
      if (!(await this.#store.replacePendingAudit(final))) return;
      entry = final;
    }
    await appendPendingAudit(this.#store, this.#record, entry);
  }

  /**
   * Appends the pending entries kept before `beforeMs` (all by default); resolves how many. One
   * the log refuses (a 4xx error) is reported to `onError`, stays pending and is passed over;
   * any other failure (the store unavailable) ends the run, rejected.
   */
  drain(beforeMs = Number.MAX_SAFE_INTEGER): Promise<number> {
    this.#draining ??= this.#drain(beforeMs).finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drain(beforeMs: number): Promise<number> {
    let seen = 0;
    let appended = 0;
    let skipped = 0;
    try {
      for (;;) {
        // Those passed over come first (oldest first), then those not tried yet.
        const limit = skipped + DRAIN_PAGE;
        const page = await this.#store.pendingAudits(beforeMs, limit);
        const fresh = page.slice(skipped);
        seen += fresh.length;
        for (const pending of fresh) {
          try {
            await this.settle(pending);
            appended++;
          } catch (error) {
            if (!(error instanceof HindsightError) || error.status >= 500) throw error;
            this.#onError(error);
            skipped++;
          }
        }
        if (page.length < limit) return appended;
      }
    } finally {
      this.#left = seen - appended;
    }
  }

  /**
   * Appends every pending entry now, in a run of its own (after any run under way, which may
   * have been asked for older entries only); resolves how many.
   */
  async flush(): Promise<number> {
    for (;;) {
      const running = this.#draining;
      if (running === undefined) return this.drain();
      await running.catch(() => {});
    }
  }

  /**
   * How many of the pending entries the latest run found it could not append (refused, or the
   * store unavailable): `hindsight_audit_pending_entries`.
   */
  get left(): number {
    return this.#left;
  }

  /** Appends what is pending now, then every {@link AUDIT_RETRY_MS} what is older than that. */
  start(): void {
    if (this.#timer) return;
    const run = (beforeMs: number) => void this.drain(beforeMs).catch(this.#onError);
    run(Date.now());
    this.#timer = setInterval(() => run(Date.now() - this.#retryMs), this.#retryMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#draining?.catch(() => {});
  }

  /**
   * Records a read of a log (`audit_log.viewed`) by a person, folded with its repeats by `fold`.
   * @example await audit.viewed(principal, req, { tenant, log: 'logins', description: 'viewed the logins log', fold: filters })
   */
  viewed(
    principal: Principal | null,
    req: FastifyRequest,
    entry: Omit<AuditEntry, 'action' | 'fold'> & { readonly fold: unknown },
  ): Promise<void> {
    return this.record(principal, req, { ...entry, action: 'audit_log.viewed' });
  }

  /**
   * Records what `principal` did, durably, before the caller answers: a read that cannot be
   * recorded is not served. Folded repeats resolve at once.
   */
  async record(principal: Principal | null, req: FastifyRequest, entry: AuditEntry): Promise<void> {
    // Public routes have no caller, and read no log. Reads (views, exports, verifications) are
    // recorded for viewer tokens, the people who read their tenant's log; a program reading
    // with an API key records its own users' reads (docs/event-conventions.md), else a program
    // that polls or backs up would fill the log with its own reads.
    if (principal === null) return;
    if (READS.has(entry.action) && !principal.viewer) return;
    const now = Date.now();
    const key =
      entry.fold === undefined
        ? undefined
        : JSON.stringify([principal.id, entry.tenant, entry.action, entry.log, entry.fold]);
    if (key !== undefined) {
      const last = this.#recorded.get(key);
      if (last !== undefined && now - last < this.#foldMs) return;
      this.#recorded.delete(key);
      this.#recorded.set(key, now);
      if (this.#recorded.size > MAX_FOLDS) {
        const oldest = this.#recorded.keys().next().value;
        if (oldest !== undefined) this.#recorded.delete(oldest);
      }
    }
    try {
      await this.#record(auditEvent(principal, req, entry));
    } catch (error) {
      // Not recorded: the next repeat must try again.
      if (key !== undefined) this.#recorded.delete(key);
      throw error;
    }
  }
}

/** The event of an entry: who, from where, what, to which log. */
function auditEvent(principal: Principal, req: FastifyRequest, entry: AuditEntry): EventInput {
  const userAgent = req.headers['user-agent'];
  return {
    tenant: entry.tenant,
    category: 'audit',
    action: entry.action,
    actor: actorOf(principal),
    channel: principal.viewer ? 'ui' : 'api',
    description: sentence(entry.description).slice(0, 2000),
    targets: [{ type: 'audit_log', id: entry.log }, ...(entry.targets ?? [])],
    context: {
      ip: req.ip,
      ...(typeof userAgent === 'string' && userAgent !== ''
        ? { userAgent: userAgent.slice(0, 1024) }
        : {}),
    },
    ...(entry.metadata ? { metadata: entry.metadata } : {}),
  };
}

/** The event actor of a caller: the viewer of a token, or the API key (by its name too). */
export function actorOf(principal: Principal): EventInput['actor'] {
  const viewer = principal.viewer?.viewer;
  if (viewer) {
    return {
      type: 'user',
      id: viewer.id,
      role: viewer.role,
      ...(viewer.name ? { name: viewer.name } : {}),
      ...(viewer.email ? { email: viewer.email } : {}),
    };
  }
  return {
    type: 'api_key',
    id: principal.keyId ?? principal.id,
    ...(principal.keyName === null ? {} : { name: principal.keyName }),
  };
}
