/**
 * The v1 routes as data: each entry is registered with Fastify and also rendered into the
 * OpenAPI document, so the published contract cannot drift from what is served.
 */

import { Readable } from 'node:stream';
import {
  type ErasureSubject,
  EVENTS_FORMAT,
  EventInput,
  type QueryClause,
  StoredEvent,
  Tenant,
} from '@hindsight/core';
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArchiveErasure } from '../archive-erase.js';
import { authorize, type Principal, type Scope } from '../auth.js';
import type { Checkpointer } from '../checkpoints.js';
import type { CommitQueue } from '../commit-queue.js';
import type { Enricher } from '../enrich.js';
import { type ErrorCode, HindsightError } from '../errors.js';
import { exportLines } from '../export.js';
import { csvChunks } from '../export-csv.js';
import { eventsNdjson, selectedEvents } from '../export-events.js';
import { type ExportJobs, type ExportSource, exportFilename } from '../export-jobs.js';
import { pdfChunks } from '../export-pdf.js';
import type { RecordedCalls } from '../hooks/recorded-calls.js';
import { eventCount, prepareEventsInSlices } from '../ingest.js';
import { takingTurns } from '../pacing.js';
import type { PdfFont } from '../pdf-fonts.js';
import { latestVerdict, VERDICT_ACTIONS } from '../scrub.js';
import type { Store, EventRef as StoredRef } from '../store/types.js';
import { consistencyProof, inclusionProof } from '../tree.js';
import type { ViewerPermission, ViewerTokens } from '../viewer-tokens.js';
import type { AuditTrail } from './audit.js';
import {
  badParam,
  cursorScope,
  EventListQuery,
  ExportQuery,
  type ExportRequest,
  encodeCursor,
  exportRequest,
  toEventQuery,
} from './event-query.js';
import type { HookOptions } from './hook-routes.js';
import { allowedCategories, mayRead, namedCategories, withinCategories } from './viewer-scope.js';

/** What route handlers need. */
export interface RouteContext {
  readonly store: Store;
  readonly enricher: Enricher;
  readonly queue: CommitQueue;
  readonly checkpoints: Checkpointer;
  /** Secrets and public URL of the provider webhooks. */
  readonly hooks: HookOptions;
  /**
   * The webhook calls recorded, by signature, in the store: a signature on another call is a
   * replay.
   */
  readonly hookCalls: RecordedCalls;
  /** The fallback fonts of PDF exports. */
  readonly pdfFonts: readonly PdfFont[];
  /** The request body's bytes as received, for routes that check a signature over them. */
  rawBody(req: FastifyRequest): Buffer | undefined;
  /** Issues and verifies viewer tokens. */
  readonly tokens: ViewerTokens;
  /** Records reads, exports and token issues in the tenants' `audit` logs. */
  readonly audit: AuditTrail;
  /** Exports running in the background. */
  readonly exports: ExportJobs;
  /**
   * The retention archives, when the server writes them: erases a person from a tenant's
   * archives, once the retention run under way (whose archive must not be missed) has ended.
   */
  readonly archives?: {
    erase(tenant: string, subject: ErasureSubject): Promise<ArchiveErasure>;
  };
}

/** A header a route reads or answers with. */
export interface RouteHeader {
  readonly name: string;
  readonly description: string;
}

/** One route: how it is served and how it is documented. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify-style path, e.g. `/v1/tenants/:tenant/events`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** The scope a key needs; `null` for public routes. */
  readonly scope: Scope | null;
  /**
   * The permission a viewer token needs, when not the one standing for the scope
   * (`events:read` → `view`, `events:export` → `export`, `events:delete` → `delete`; routes
   * of other scopes are not open to viewer tokens).
   */
  readonly permission?: ViewerPermission;
  readonly params?: TObject;
  readonly querystring?: TObject;
  readonly body?: TSchema;
  readonly success: {
    readonly status: number;
    readonly description: string;
    readonly schema: TSchema;
    /**
     * The response's media type when it is not JSON; with several, the handler sets the one it
     * answers with (`reply.type`), and the first is the default.
     */
    readonly contentType?: string | readonly [string, ...string[]];
  };
  readonly errors: readonly ErrorCode[];
  /** Request headers the route reads, for the OpenAPI document. */
  readonly headers?: readonly RouteHeader[];
  /** Response headers of its success, for the OpenAPI document. */
  readonly responseHeaders?: readonly RouteHeader[];
  /** Also accepts `application/x-www-form-urlencoded` bodies (as Twilio sends webhooks). */
  readonly formBody?: boolean;
  /**
   * Serves the route. For routes with a scope, the app has already authenticated the caller
   * and checked the scope and the `tenant` path parameter before the body was read.
   */
  readonly handler: (
    ctx: RouteContext,
    req: FastifyRequest,
    reply: FastifyReply,
    principal: Principal | null,
  ) => Promise<unknown>;
}

const EventRef = Type.Object({
  id: Type.String(),
  tenant: Tenant,
  seq: Type.Integer({ minimum: 1 }),
  hash: Type.String(),
});

export const TenantParams = Type.Object({ tenant: Tenant }, { additionalProperties: false });
const EventParams = Type.Object(
  { tenant: Tenant, id: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

export const AUTH_ERRORS: ErrorCode[] = ['unauthorized', 'forbidden', 'store_unavailable'];

const NDJSON = 'application/x-ndjson; charset=utf-8';
const CSV = 'text/csv; charset=utf-8';
const PDF = 'application/pdf';
/** The media type of each export format. */
export const EXPORT_TYPES = { csv: CSV, ndjson: NDJSON, pdf: PDF } as const;

/** Every v1 route. Health and OpenAPI routes are added by the app itself. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/events',
    operationId: 'ingestEvents',
    summary: 'Record one event or a batch of up to 1,000',
    description:
      'Atomic: if any event is invalid, nothing is stored. Answers 202 only after the batch is ' +
      'durable. An event whose `id` is already stored with identical content returns the ' +
      'original; with different content the batch is refused with 409.',
    scope: 'events:write',
    body: Type.Union([
      Type.Ref(EventInput),
      Type.Object({ events: Type.Array(Type.Ref(EventInput), { minItems: 1, maxItems: 1000 }) }),
    ]),
    success: {
      status: 202,
      description: 'Stored durably.',
      schema: Type.Object({ events: Type.Array(EventRef) }),
    },
    errors: [
      'invalid_json',
      'invalid_event',
      'conflict',
      'payload_too_large',
      'unsupported_media_type',
      'overloaded',
      ...AUTH_ERRORS,
    ],
    handler: async (ctx, req, reply, principal) => {
      const events = await ctx.queue.admitting(eventCount(req.body), () =>
        recordEvents(ctx, req.body, principal),
      );
      return reply.code(202).send({ events });
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants',
    operationId: 'listTenants',
    summary: 'The tenants this key may read, with their number of events',
    description:
      'Every tenant that has events, by name. A key limited to one tenant gets that tenant ' +
      'alone, also before its first event (with 0 events).',
    scope: 'events:read',
    success: {
      status: 200,
      description: 'The tenants, sorted by name (code-point order).',
      schema: Type.Object({
        tenants: Type.Array(Type.Object({ name: Tenant, events: Type.Integer({ minimum: 0 }) })),
      }),
    },
    errors: AUTH_ERRORS,
    handler: async (ctx, _req, _reply, principal) => {
      const only = principal?.tenant ?? null;
      if (only !== null) {
        return { tenants: [{ name: only, events: await ctx.store.logSize(only) }] };
      }
      const tenants = await ctx.store.tenants();
      return { tenants: tenants.map((t) => ({ name: t.name, events: t.size })) };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/events',
    operationId: 'listEvents',
    summary: "Search a tenant's events, newest first",
    description:
      'All filters combine with AND. Pages are cursor based and stable under concurrent ' +
      'inserts: pass `nextCursor` back as `cursor` with the same filters.',
    scope: 'events:read',
    params: TenantParams,
    querystring: EventListQuery,
    success: {
      status: 200,
      description: 'A page of events.',
      schema: Type.Object({
        events: Type.Array(Type.Ref(StoredEvent)),
        nextCursor: Type.Union([Type.String(), Type.Null()]),
      }),
    },
    errors: ['invalid_request', 'invalid_query', 'invalid_cursor', ...AUTH_ERRORS],
    handler: async (ctx, req, reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const query = req.query as EventListQuery;
      const asked = toEventQuery(tenant, query);
      const clauses = withinCategories(principal, asked.clauses);
      const page = await ctx.store.queryEventTexts(tenant, { ...asked, clauses });
      const { filters, order } = cursorScope(query);
      const log = namedCategory(clauses) ?? 'all';
      await ctx.audit.record(principal, req, {
        tenant,
        action: 'audit_log.viewed',
        log,
        description: `searched the ${log} log`,
        metadata: { category: log, filters, events: page.events.length },
        fold: filters,
      });
      const nextCursor =
        page.next === null ? null : encodeCursor(page.next, tenant, filters, order);
      // The events' stored JSON goes out as it is: no parsing and serialising each again.
      return reply
        .type('application/json; charset=utf-8')
        .send(
          `{"events":[${page.events.map((e) => e.json).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`,
        );
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/events/:id',
    operationId: 'getEvent',
    summary: 'One event by id',
    scope: 'events:read',
    params: EventParams,
    success: { status: 200, description: 'The event.', schema: Type.Ref(StoredEvent) },
    errors: ['not_found', 'invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant, id } = req.params as { tenant: string; id: string };
      const event = await ctx.store.getEvent(tenant, id);
      // An event of a category the viewer may not read is not there for them.
      if (!event || !mayRead(principal, event.category)) {
        throw new HindsightError('not_found', `No event "${id}" in tenant "${tenant}".`);
      }
      await ctx.audit.record(principal, req, {
        tenant,
        action: 'audit_log.viewed',
        log: event.category,
        description: `viewed event ${id} of the ${event.category} log`,
        targets: [{ type: 'event', id }],
        metadata: { category: event.category, events: 1 },
        fold: id,
      });
      return event;
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/events/:id/proof',
    operationId: 'eventProof',
    summary: 'One event with what proves it is in the signed log',
    description:
      'The event, the salts of its personal values (those not erased), the newest signed ' +
      "checkpoint of the tenant's log and the event's RFC 9162 inclusion proof in that " +
      "checkpoint's tree (empty while no checkpoint covers it yet; `checkpoint` is `null` " +
      'before the first). Recompute the leaf hash from the content and salts (SPEC §6), fold ' +
      'the proof to the root, and check the signature with the key of `GET /v1/keys/public`: ' +
      "the console's Verify does this in the browser (`@hindsight/core/event-proof`).",
    scope: 'events:read',
    permission: 'verify',
    params: EventParams,
    success: {
      status: 200,
      description: 'The event and its proof.',
      schema: Type.Object({
        event: Type.Ref(StoredEvent),
        salts: Type.Record(Type.String(), Type.String(), {
          description: 'Hex salt of each personal value, by JSON Pointer.',
        }),
        checkpoint: Type.Union([Type.String(), Type.Null()], {
          description: 'The newest signed checkpoint (a C2SP signed note).',
        }),
        proof: Type.Array(Type.String(), {
          description: 'Sibling hashes from the leaf up, hex.',
        }),
      }),
    },
    errors: ['not_found', 'invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant, id } = req.params as { tenant: string; id: string };
      const found = await ctx.store.getEventWithSalts(tenant, id);
      // An event of a category the viewer may not read is not there for them.
      if (!found || !mayRead(principal, found.event.category)) {
        throw new HindsightError('not_found', `No event "${id}" in tenant "${tenant}".`);
      }
      await auditVerification(ctx, principal, req, tenant);
      const latest = await ctx.checkpoints.latest(tenant);
      const covered = latest !== null && found.event.seq <= latest.size;
      const proof = covered
        ? (await inclusionProof(ctx.store, tenant, found.event.seq, latest.size)).proof.map(hex)
        : [];
      return { ...found, checkpoint: latest?.note ?? null, proof };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/export',
    operationId: 'exportEvents',
    summary: "Export a tenant's log, or the events of a filtered view",
    description:
      'Streamed. `format=ndjson` without filters or ids: the whole log (format ' +
      '`hindsight-export/1`): a header line, every event with its salts, and every checkpoint ' +
      'up to the size of the newest one; `hindsight verify FILE --public-key FILE` checks it ' +
      'with nothing but `@hindsight/core`. With any filter of the event list, or `ids`: the ' +
      'selected events (`hindsight-events/1`: a header naming the filters, then one ' +
      '`{ type: "event", event }` per line), which cannot be verified. `format=csv`: a header ' +
      'row and one readable row per event, UTF-8 with a byte order mark.',
    scope: 'events:export',
    params: TenantParams,
    querystring: ExportQuery,
    success: {
      status: 200,
      description: 'NDJSON (one JSON object per line), CSV or PDF, as an attachment.',
      schema: Type.String(),
      contentType: [NDJSON, CSV, PDF],
    },
    errors: ['invalid_request', 'invalid_query', ...AUTH_ERRORS],
    handler: async (ctx, req, reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const query = req.query as ExportQuery;
      const source = await exportSource(ctx, req, principal, tenant, query);
      const stream = await startStream(source.chunks);
      // Only once the export has started: an error before is answered as JSON.
      void reply
        .type(EXPORT_TYPES[query.format])
        .header(
          'content-disposition',
          `attachment; filename="${exportFilename(tenant, source.subject, new Date().toISOString().slice(0, 10), query.format)}"`,
        );
      return stream;
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/checkpoint',
    operationId: 'latestCheckpoint',
    summary: "The tenant log's latest signed checkpoint",
    description:
      'A C2SP `tlog-checkpoint` signed note: origin `<origin>/<tenant>`, tree size, base64 root ' +
      'hash, a blank line, then the Ed25519 signature line. Verify it with the key from ' +
      '`GET /v1/keys/public` (e.g. Go `golang.org/x/mod/sumdb/note`), then check proofs against ' +
      'its root.',
    scope: 'events:read',
    permission: 'verify',
    params: TenantParams,
    success: {
      status: 200,
      description: 'The signed note.',
      schema: Type.String(),
      contentType: 'text/plain; charset=utf-8',
    },
    errors: ['not_found', 'invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      await auditVerification(ctx, principal, req, tenant);
      const latest = await ctx.checkpoints.latest(tenant);
      if (latest === null) {
        throw new HindsightError(
          'not_found',
          `Tenant "${tenant}" has no events, so no checkpoint.`,
        );
      }
      return latest.note;
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/integrity',
    operationId: 'integrity',
    summary: "The server's latest verdict on the tenant's stored log",
    description:
      "The newest verdict of the server's integrity scrub (docs/operations.md#the-integrity-" +
      "scrub), which checks each tenant's stored log daily with the offline verifier: " +
      '`verdict` is `null` while no check has ever found a problem in it; else the newest ' +
      '`audit_log.verification_failed` (`ok: false`, with the problems found) or ' +
      '`audit_log.verification_passed` (`ok: true`: it verifies again) entry of its `audit` log. ' +
      'Only the server records those. A viewer token limited to some categories gets no ' +
      'problems, and a description without them.',
    scope: 'events:read',
    permission: 'verify',
    params: TenantParams,
    success: {
      status: 200,
      description: 'The verdict.',
      schema: Type.Object({
        verdict: Type.Union([
          Type.Null(),
          Type.Object({
            ok: Type.Boolean(),
            at: Type.String({ description: 'When it was recorded (RFC 3339).' }),
            id: Type.String({ description: 'The `audit` entry.' }),
            description: Type.String(),
            problems: Type.Array(
              Type.Object({
                kind: Type.String(),
                seq: Type.Optional(Type.Integer()),
                message: Type.String(),
              }),
              { description: 'The first problems found (none when `ok`).' },
            ),
          }),
        ]),
      }),
    },
    errors: ['invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      await auditVerification(ctx, principal, req, tenant);
      const last = await latestVerdict(ctx.store, tenant);
      if (last === null) return { verdict: null };
      const ok = last.action === VERDICT_ACTIONS.passed;
      const found = last.metadata as { problems?: unknown } | undefined;
      // The problems name events of every category: a viewer limited to some gets only that
      // there are problems.
      if (allowedCategories(principal) !== null) {
        return {
          verdict: {
            ok,
            at: last.receivedAt,
            id: last.id,
            description: ok
              ? "The server's integrity check verified this log again."
              : "The server's integrity check found problems in this log.",
            problems: [],
          },
        };
      }
      return {
        verdict: {
          ok,
          at: last.receivedAt,
          id: last.id,
          description: last.description ?? '',
          problems: Array.isArray(found?.problems) ? found.problems : [],
        },
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/keys/public',
    operationId: 'publicKey',
    summary: "The server's checkpoint verifier key",
    description:
      'The Ed25519 key that signs checkpoints, as a signed-note verifier key ' +
      '`<name>+<key hash>+<base64(0x01 ‖ key)>`, and the origin prefix of every checkpoint. ' +
      'Keep a copy: a verifier must not fetch the key from the server it checks.',
    scope: null,
    success: {
      status: 200,
      description: 'The verifier key.',
      schema: Type.Object({ verifierKey: Type.String(), origin: Type.String() }),
    },
    errors: [],
    handler: async (ctx) => ({
      verifierKey: ctx.checkpoints.verifierKey,
      origin: ctx.checkpoints.origin,
    }),
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/proofs/inclusion',
    operationId: 'inclusionProof',
    summary: 'RFC 9162 inclusion proof of one event in the tenant log',
    description:
      "Proves that the event with `seq` is leaf `seq - 1` of the tenant's Merkle tree of `size` " +
      'leaves (default: the whole log). Verify it against the root of a checkpoint of that size.',
    scope: 'events:read',
    permission: 'verify',
    params: TenantParams,
    querystring: Type.Object(
      {
        seq: Type.Integer({ minimum: 1, description: 'The event to prove.' }),
        size: Type.Optional(
          Type.Integer({ minimum: 1, description: 'Tree size; default the current log size.' }),
        ),
      },
      { additionalProperties: false },
    ),
    success: {
      status: 200,
      description: 'The proof: sibling hashes from the leaf up, hex.',
      schema: Type.Object({
        seq: Type.Integer(),
        size: Type.Integer(),
        leafHash: Type.String(),
        proof: Type.Array(Type.String()),
      }),
    },
    errors: ['invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const { seq, size: asked } = req.query as { seq: number; size?: number };
      await auditVerification(ctx, principal, req, tenant);
      const size = await treeSize(ctx.store, tenant, asked, 'size');
      if (seq > size) throw badParam('seq', `is not in a tree of size ${size}`);
      const { leafHash, proof } = await inclusionProof(ctx.store, tenant, seq, size);
      return { seq, size, leafHash: hex(leafHash), proof: proof.map(hex) };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/proofs/consistency',
    operationId: 'consistencyProof',
    summary: 'RFC 9162 consistency proof between two sizes of the tenant log',
    description:
      'Proves that the tree of `from` leaves is a prefix of the tree of `to` leaves (default: ' +
      'the whole log): nothing in the older log was changed, removed or reordered since.',
    scope: 'events:read',
    permission: 'verify',
    params: TenantParams,
    querystring: Type.Object(
      {
        from: Type.Integer({ minimum: 0, description: 'The older tree size.' }),
        to: Type.Optional(
          Type.Integer({ minimum: 0, description: 'The newer size; default the current size.' }),
        ),
      },
      { additionalProperties: false },
    ),
    success: {
      status: 200,
      description: 'The proof, hex.',
      schema: Type.Object({
        from: Type.Integer(),
        to: Type.Integer(),
        proof: Type.Array(Type.String()),
      }),
    },
    errors: ['invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const { from, to: asked } = req.query as { from: number; to?: number };
      await auditVerification(ctx, principal, req, tenant);
      const to = await treeSize(ctx.store, tenant, asked, 'to');
      if (from > to) throw badParam('from', `is larger than to (${to})`);
      const proof = await consistencyProof(ctx.store, tenant, from, to);
      return { from, to, proof: proof.map(hex) };
    },
  },
];

/**
 * Validates, prepares and durably stores events (a `POST /v1/events` body, or events the
 * server records itself), then schedules the tenants' checkpoints. A key limited to one tenant
 * may not write any other: the whole batch is refused, naming each such event.
 */
export async function recordEvents(
  ctx: RouteContext,
  body: unknown,
  principal: Principal | null,
): Promise<StoredRef[]> {
  const prepared = await prepareEventsInSlices(body, ctx.enricher);
  if (principal) {
    authorize(principal, 'events:write');
    refuseServerActions(body, prepared);
    refuseOtherTenants(body, prepared, principal);
  }
  const outcome = await ctx.queue.submit(prepared);
  if (!outcome.ok) throw outcome.error;
  ctx.checkpoints.touch(new Set(outcome.events.map((e) => e.tenant)));
  return outcome.events;
}

/** The actions only the server records: its integrity check's verdicts. */
const SERVER_ACTIONS: ReadonlySet<string> = new Set(Object.values(VERDICT_ACTIONS));

/**
 * Refuses, as `invalid_event`, a batch from a caller with an event whose action only the server
 * records: the console shows the newest of them as the server's verdict on the log.
 */
function refuseServerActions(body: unknown, prepared: readonly { event: { action: string } }[]) {
  const batch = typeof body === 'object' && body !== null && 'events' in body;
  const details = prepared.flatMap(({ event }, index) =>
    SERVER_ACTIONS.has(event.action)
      ? [
          {
            index,
            path: batch ? `/events/${index}/action` : '/action',
            message: `"${event.action}" is recorded by Hindsight's integrity check only`,
          },
        ]
      : [],
  );
  const [first] = details;
  if (first !== undefined) {
    throw new HindsightError(
      'invalid_event',
      `An event is invalid: ${first.path} ${first.message}. Nothing was stored.`,
      { details },
    );
  }
}

/**
 * Refuses, as `forbidden`, a batch from a key limited to one tenant with events of another,
 * naming each such event (`index`, `path`) so that a client can send the others again.
 */
function refuseOtherTenants(
  body: unknown,
  prepared: readonly { event: { tenant: string } }[],
  principal: Principal,
) {
  const own = principal.tenant;
  if (own === null) return;
  const batch = typeof body === 'object' && body !== null && 'events' in body;
  const details = prepared.flatMap(({ event }, index) =>
    event.tenant === own
      ? []
      : [
          {
            index,
            path: batch ? `/events/${index}/tenant` : '/tenant',
            message: `this key may not write tenant "${event.tenant}"`,
          },
        ],
  );
  const [first] = details;
  if (first !== undefined) {
    throw new HindsightError(
      'forbidden',
      `This key may write only tenant "${own}": ` +
        `${first.path} is "${prepared[first.index]?.event.tenant}". Nothing was stored.`,
      { details },
    );
  }
}

/** The tree size a proof request names: the asked size, at most the log's, or the log's. */
async function treeSize(
  store: Store,
  tenant: string,
  asked: number | undefined,
  name: string,
): Promise<number> {
  const size = await store.logSize(tenant);
  if (asked !== undefined && asked > size) {
    throw badParam(name, `is larger than the log of tenant "${tenant}", which has ${size} events`);
  }
  return asked ?? size;
}

/**
 * Records that a reader checked the log's integrity (a checkpoint or a proof), folded into one
 * entry per caller every few minutes. Recorded before the answer, so that the log a proof
 * describes already holds it.
 */
async function auditVerification(
  ctx: RouteContext,
  principal: Principal | null,
  req: FastifyRequest,
  tenant: string,
): Promise<void> {
  await ctx.audit.record(principal, req, {
    tenant,
    action: 'audit_log.verified',
    log: 'all',
    description: 'verified the integrity of the log',
    fold: 'verify',
  });
}

/** The category a query names (its first positive `category` clause), if any. */
function namedCategory(clauses: readonly QueryClause[]): string | undefined {
  return namedCategories(clauses)[0];
}

/**
 * An export as asked (`GET …/export` or a background job): checked against the caller's
 * categories, recorded in the audit log, and its chunks with a count of the events written.
 */
export async function exportSource(
  ctx: RouteContext,
  req: FastifyRequest,
  principal: Principal | null,
  tenant: string,
  query: ExportQuery,
): Promise<ExportSource> {
  const request = exportRequest(query);
  const selection = viewerSelection(principal, request);
  const log =
    request.kind === 'filtered' ? (namedCategory(selection.clauses ?? []) ?? 'all') : 'all';
  await ctx.audit.record(principal, req, {
    tenant,
    action: 'audit_log.exported',
    log,
    description: `exported ${request.kind === 'log' ? 'the whole log' : `events of the ${log} log`} as ${query.format.toUpperCase()}`,
    metadata: {
      category: log,
      format: query.format,
      ...(request.kind === 'filtered' ? { filters: request.filters } : {}),
      ...(request.kind === 'ids' ? { ids: request.ids.length } : {}),
    },
  });
  let events = 0;
  const counted = {
    ...selection,
    readable: (e: StoredEvent) => {
      const ok = selection.readable(e);
      if (ok) events++;
      return ok;
    },
  };
  return {
    chunks: exportChunks(ctx, tenant, query.format, request, counted),
    events: () => (request.kind === 'log' ? null : events),
    total: request.kind === 'ids' ? request.ids.length : null,
    subject:
      request.kind === 'log'
        ? 'log'
        : request.kind === 'ids'
          ? 'selected'
          : log === 'all'
            ? 'events'
            : log,
  };
}

/**
 * What of an export a caller may have: the clauses of a filtered one kept inside a viewer's
 * categories, and which picked events they may read. A viewer limited to categories cannot
 * export the whole (verifiable) log, which holds every category.
 */
function viewerSelection(
  principal: Principal | null,
  request: ExportRequest,
): { clauses?: readonly QueryClause[]; readable: (e: StoredEvent) => boolean } {
  const readable = (e: StoredEvent) => mayRead(principal, e.category);
  if (request.kind === 'filtered') {
    return { clauses: withinCategories(principal, request.clauses), readable };
  }
  if (request.kind === 'log' && principal?.viewer?.categories) {
    throw new HindsightError(
      'forbidden',
      'This viewer token may read only some categories, so it cannot export the whole log; ' +
        'export a filtered view (format=csv or a filter) instead.',
    );
  }
  return { readable };
}

/** The text of an export (`GET /v1/tenants/{tenant}/export`), chunk by chunk. */
async function* exportChunks(
  ctx: RouteContext,
  tenant: string,
  format: ExportQuery['format'],
  request: ExportRequest,
  selection: ReturnType<typeof viewerSelection>,
): AsyncGenerator<string | Buffer> {
  if (request.kind === 'log') {
    yield* exportLines(ctx.store, ctx.checkpoints, tenant);
    return;
  }
  const pages = readablePages(
    selectedEvents(
      ctx.store,
      tenant,
      request.kind === 'ids'
        ? { ids: request.ids }
        : { clauses: selection.clauses ?? request.clauses, order: request.order },
    ),
    selection.readable,
  );
  if (format === 'csv') {
    yield* csvChunks(pages);
    return;
  }
  if (format === 'pdf') {
    const latest = await ctx.checkpoints.latest(tenant);
    const root = latest?.note.split('\n')[2];
    yield* pdfChunks(
      {
        tenant,
        filters: request.kind === 'filtered' ? { ...request.filters } : {},
        ...(request.kind === 'ids' ? { ids: request.ids } : {}),
        generatedAt: new Date().toISOString(),
        checkpoint: latest && root ? { size: latest.size, root } : null,
      },
      pages,
      ctx.pdfFonts,
    );
    return;
  }
  yield* eventsNdjson(
    {
      type: 'header',
      format: EVENTS_FORMAT,
      tenant,
      ...(request.kind === 'ids'
        ? { filters: {}, ids: request.ids }
        : { filters: request.filters, order: request.order }),
      exportedAt: new Date().toISOString(),
    },
    pages,
  );
}

/** The pages with only the events the caller may read. */
async function* readablePages(
  pages: AsyncIterable<StoredEvent[]>,
  readable: (e: StoredEvent) => boolean,
): AsyncGenerator<StoredEvent[]> {
  for await (const page of pages) yield page.filter(readable);
}

/**
 * A stream of a generator's text, whose first chunk is produced before the response starts: a
 * failure before it (a store that does not answer) is answered as an error, not as a download
 * cut short. Other requests get their turns while it streams, also to a client that reads as
 * fast as the server writes.
 */
async function startStream(chunks: AsyncGenerator<string | Buffer>): Promise<Readable> {
  const first = await chunks.next();
  return Readable.from(
    takingTurns(
      (async function* () {
        if (!first.done) yield first.value;
        yield* chunks;
      })(),
    ),
  );
}

/** Checks a JSON body against a schema; throws `invalid_request` listing every problem. */
export function checkBody<T extends TSchema>(schema: T, body: unknown): Static<T> {
  if (Value.Check(schema, body)) return body;
  const details = [...Value.Errors(schema, body)].slice(0, 20).map((e) => ({
    path: `/body${e.path}`,
    message: e.message,
  }));
  throw new HindsightError(
    'invalid_request',
    `Invalid body: ${details[0]?.path ?? '/body'} ${details[0]?.message ?? 'is invalid'}.`,
    { details },
  );
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
