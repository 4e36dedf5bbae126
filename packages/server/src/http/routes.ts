/**
 * The v1 routes as data: each entry is registered with Fastify and also rendered into the
 * OpenAPI document, so the published contract cannot drift from what is served.
 */
import { EventInput, StoredEvent, Tenant } from '@hindsight/core';
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorize, type Principal, type Scope } from '../auth.js';
import type { CommitQueue } from '../commit-queue.js';
import type { Enricher } from '../enrich.js';
import { type ErrorCode, HindsightError } from '../errors.js';
import { prepareEvents } from '../ingest.js';
import type { Store } from '../store/types.js';
import { cursorScope, EventListQuery, encodeCursor, toEventQuery } from './event-query.js';

/** What route handlers need. */
export interface RouteContext {
  readonly store: Store;
  readonly enricher: Enricher;
  readonly queue: CommitQueue;
}

/** One route: how it is served and how it is documented. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST';
  /** Fastify-style path, e.g. `/v1/tenants/:tenant/events`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** The scope a key needs; `null` for public routes. */
  readonly scope: Scope | null;
  readonly params?: TObject;
  readonly querystring?: TObject;
  readonly body?: TSchema;
  readonly success: {
    readonly status: number;
    readonly description: string;
    readonly schema: TSchema;
  };
  readonly errors: readonly ErrorCode[];
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

const TenantParams = Type.Object({ tenant: Tenant }, { additionalProperties: false });
const EventParams = Type.Object(
  { tenant: Tenant, id: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

const AUTH_ERRORS: ErrorCode[] = ['unauthorized', 'forbidden', 'store_unavailable'];

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
      ...AUTH_ERRORS,
    ],
    handler: async (ctx, req, reply, principal) => {
      const prepared = prepareEvents(req.body, ctx.enricher);
      // A key limited to one tenant may not write any other: the whole batch is refused.
      for (const tenant of new Set(prepared.map((p) => p.event.tenant))) {
        if (principal) authorize(principal, 'events:write', tenant);
      }
      const outcome = await ctx.queue.submit(prepared);
      if (!outcome.ok) throw outcome.error;
      return reply.code(202).send({ events: outcome.events });
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
    handler: async (ctx, req) => {
      const { tenant } = req.params as { tenant: string };
      const query = req.query as EventListQuery;
      const page = await ctx.store.queryEvents(tenant, toEventQuery(tenant, query));
      const { filters, order } = cursorScope(query);
      return {
        events: page.events,
        nextCursor: page.next === null ? null : encodeCursor(page.next, tenant, filters, order),
      };
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
    handler: async (ctx, req) => {
      const { tenant, id } = req.params as { tenant: string; id: string };
      const event = await ctx.store.getEvent(tenant, id);
      if (!event) throw new HindsightError('not_found', `No event "${id}" in tenant "${tenant}".`);
      return event;
    },
  },
];
