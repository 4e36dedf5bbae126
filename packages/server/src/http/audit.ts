/**
 * The audit of the audit log (issue #8, category `audit`): every search, detail view, export,
 * verification and viewer-token issue or revocation is recorded as an event of the tenant it
 * concerns — who (the viewer of a token, or the API key), what (the query, the format), how many
 * results — in the shape of docs/event-conventions.md. Repeated reads of one query by one caller
 * (paging through it, reloading) are folded: recorded once per {@link FOLD_MS}. Reads are
 * recorded for viewer tokens; token issues and revocations, erasures and deletions (issue #9)
 * always.
 */
import type { EventInput } from '@hindsight/core';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth.js';

/** How long repeated reads of one query by one caller count as one. */
export const FOLD_MS = 5 * 60_000;
/** Most fold keys remembered; the oldest are forgotten first. */
const MAX_FOLDS = 10_000;

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
    | 'retention.changed';
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

/** Records audit entries through `record` (the server's own ingest path). */
export class AuditTrail {
  readonly #record: (event: EventInput) => Promise<void>;
  readonly #foldMs: number;
  /** When each fold key was last recorded. */
  readonly #recorded = new Map<string, number>();

  constructor(record: (event: EventInput) => Promise<void>, foldMs = FOLD_MS) {
    this.#record = record;
    this.#foldMs = foldMs;
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
    const userAgent = req.headers['user-agent'];
    try {
      await this.#record({
        tenant: entry.tenant,
        category: 'audit',
        action: entry.action,
        actor: actorOf(principal),
        channel: principal.viewer ? 'ui' : 'api',
        description: `${actorName(principal)} ${entry.description}`.slice(0, 2000),
        targets: [{ type: 'audit_log', id: entry.log }, ...(entry.targets ?? [])],
        context: {
          ip: req.ip,
          ...(typeof userAgent === 'string' && userAgent !== ''
            ? { userAgent: userAgent.slice(0, 1024) }
            : {}),
        },
        ...(entry.metadata ? { metadata: entry.metadata } : {}),
      });
    } catch (error) {
      // Not recorded: the next repeat must try again.
      if (key !== undefined) this.#recorded.delete(key);
      throw error;
    }
  }
}

/** The event actor of a caller: the viewer of a token, or the API key. */
function actorOf(principal: Principal): EventInput['actor'] {
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
  return { type: 'api_key', id: principal.keyId ?? principal.id };
}

function actorName(principal: Principal): string {
  const viewer = principal.viewer?.viewer;
  return viewer ? (viewer.name ?? viewer.id) : `API key ${principal.keyId ?? principal.id}`;
}
