/**
 * The routes of the derived views (issue #5): view definitions, logins per account,
 * messages with their delivery status, integrations and their acknowledgement, and stats.
 * Everything here is computed from the events; acknowledging is itself an event.
 */
import {
  Actor,
  BUILTIN_VIEWS,
  customView,
  DELIVERY_STATUSES,
  type EventInput,
  FAILED_DELIVERY,
  StoredEvent,
  type ViewDefaults,
  ViewDefinition,
  ViewId,
  ViewInput,
} from '@hindsight/core';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Principal } from '../auth.js';
import { HindsightError } from '../errors.js';
import { DAY_MS, HOUR_MS } from '../store/stats-plan.js';
import {
  type DeliveryFilter,
  LOGIN_SORTS,
  type LoginUsersQuery,
  type Store,
} from '../store/types.js';
import { actorOf } from './audit.js';
import { decodeCursor, EventFilters, encodeCursor, filterClauses } from './event-query.js';
import { AUTH_ERRORS, checkBody, type RouteSpec, recordEvents, TenantParams } from './routes.js';
import {
  allowedCategories,
  mayRead,
  namedCategories,
  requireCategory,
  withinCategories,
} from './viewer-scope.js';

const READ_ERRORS = ['invalid_request', ...AUTH_ERRORS] as const;

const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
};

/** A country an account first signed in from this many days ago or since is new to it. */
const NEW_COUNTRY_DAYS = 30;

const LoginUsersParams = Type.Object(
  {
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Part of a name or e-mail.' }),
    ),
    country: Type.Optional(
      Type.String({ pattern: '^[A-Za-z]{2}$', description: 'Signed in from this country.' }),
    ),
    lastAttempt: Type.Optional(
      Type.Union([Type.Literal('succeeded'), Type.Literal('failed')], {
        description: 'Result of the newest attempt.',
      }),
    ),
    newCountry: Type.Optional(
      Type.Boolean({
        description:
          '`true`: only accounts whose last successful sign-in came from a new country (see ' +
          '`newCountry` in the answer); `false`: only the others.',
      }),
    ),
    sort: Type.Optional(
      Type.Union(
        LOGIN_SORTS.map((s) => Type.Literal(s)),
        { default: 'lastAttempt' },
      ),
    ),
    order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')])),
    ...Paging,
  },
  { additionalProperties: false },
);
type LoginUsersParams = Static<typeof LoginUsersParams>;

const LoginAttempt = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  time: Type.String(),
  ip: Type.Optional(Type.String()),
  location: Type.Optional(Type.Object({}, { additionalProperties: true })),
  client: Type.Optional(Type.Object({}, { additionalProperties: true })),
  reason: Type.Optional(Type.String()),
});

/**
 * The words of the messages list's `delivery` filter: `failed` (a receiver the message did not
 * reach, as the summary's `failed` counts them), then each status of a receiver, then `mixed`.
 */
const DELIVERY_FILTERS = ['failed', ...DELIVERY_STATUSES.map((s) => s.value)];
const FAILED_WORDS = [...FAILED_DELIVERY].map((s) => `\`${s}\``).join(', ');

/** The filters of the messages list: the event filters that make sense for `message.sent`. */
const MessageListParams = Type.Composite(
  [
    Type.Omit(EventFilters, ['category', 'action', 'status', 'outcome']),
    Type.Object({
      delivery: Type.Optional(
        Type.Union(
          DELIVERY_FILTERS.map((word) => Type.Literal(word)),
          {
            description:
              'Only messages with a receiver in this status now (`hard_bounce`, `delivered` …); ' +
              `\`failed\`: with a receiver it did not reach (${FAILED_WORDS}: those the ` +
              'summary’s `failed` counts); `mixed`: with receivers in more than one status. A ' +
              'message without receivers matches none.',
          },
        ),
      ),
      ...Paging,
      order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')])),
    }),
  ],
  { additionalProperties: false },
);
type MessageListParams = Static<typeof MessageListParams>;

const DeliverySummary = Type.Object({
  status: Type.String({ description: 'The receivers’ status when they agree, else `mixed`.' }),
  receivers: Type.Integer(),
  failed: Type.Integer({ description: 'Receivers the message did not reach.' }),
  deliveries: Type.Record(Type.String(), Type.Integer(), {
    description: 'How many receivers are in each status.',
  }),
});

const Receiver = Type.Object({
  address: Type.String(),
  name: Type.Optional(Type.String()),
  status: Type.String(),
  report: Type.Optional(
    Type.Object({
      id: Type.String(),
      seq: Type.Integer(),
      time: Type.String(),
      reason: Type.Optional(Type.String()),
    }),
  ),
});

const StatsParams = Type.Composite(
  [
    EventFilters,
    Type.Object({
      interval: Type.Optional(
        Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('week')], {
          description: 'Histogram bucket; default by range (hours up to 2 days, then days).',
        }),
      ),
      top: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    }),
  ],
  { additionalProperties: false },
);
type StatsParams = Static<typeof StatsParams>;

const Brief = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  time: Type.String(),
  action: Type.String(),
  outcome: Type.String(),
  status: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  actor: Type.Ref(StoredEvent, { description: 'The actor (as in StoredEvent).' }),
});

const AcknowledgeBody = Type.Object(
  {
    upToSeq: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Acknowledge events up to this seq; default all.' }),
    ),
    actor: Type.Optional(Actor),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/** The message id of a `message.sent` event: its first `message` target, else its own id. */
export function messageIdOf(event: StoredEvent): string {
  return event.targets?.find((t) => t.type === 'message')?.id ?? event.id;
}

/** A message's overall status from its receivers' statuses (SPEC §4: `mixed` when they differ). */
function deliverySummary(own: string | undefined, counts: Map<string, number>) {
  const statuses = [...counts.keys()];
  const receivers = [...counts.values()].reduce((a, b) => a + b, 0);
  let failed = 0;
  for (const [status, n] of counts) if (FAILED_DELIVERY.has(status)) failed += n;
  return {
    status:
      statuses.length === 1
        ? (statuses[0] as string)
        : statuses.length === 0
          ? (own ?? 'sent')
          : 'mixed',
    receivers,
    failed,
    deliveries: Object.fromEntries([...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
  };
}

/** The store's filter for a `delivery` word of the messages list. */
function deliveryFilter(word: string): DeliveryFilter {
  if (word === 'mixed') return { kind: 'mixed' };
  return { kind: 'some', statuses: word === 'failed' ? [...FAILED_DELIVERY] : [word] };
}

async function deliveriesByMessage(store: Store, tenant: string, ids: string[]) {
  const out = new Map<string, Map<string, number>>();
  for (const c of await store.deliveryCounts(tenant, ids)) {
    const m = out.get(c.messageId) ?? new Map<string, number>();
    m.set(c.status, c.count);
    out.set(c.messageId, m);
  }
  return out;
}

/** The histogram bucket of a stats request. */
function bucketOf(interval: StatsParams['interval'], rangeMs: number): number {
  switch (interval) {
    case 'hour':
      return HOUR_MS;
    case 'day':
      return DAY_MS;
    case 'week':
      return 7 * DAY_MS;
    default:
      return rangeMs <= 2 * DAY_MS ? HOUR_MS : DAY_MS;
  }
}

/** The most buckets a histogram may have. */
const MAX_BUCKETS = 2000;

/** The views whose events the caller may read (a view of all categories needs them all). */
function readableViews(
  principal: Principal | null,
  views: readonly ViewDefinition[],
): ViewDefinition[] {
  if (allowedCategories(principal) === null) return [...views];
  return views.filter((v) => v.category !== null && mayRead(principal, v.category));
}

export const VIEW_ROUTES: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/v1/views',
    operationId: 'listBuiltinViews',
    summary: 'The built-in views: one per log of SPEC §4, and "All events"',
    description:
      'Each view names its category, its columns (field paths with labels and formats), the ' +
      'filters it offers, its actions and status words with their explanations, and the ' +
      'derived summary served beside it. The console renders logs from these definitions.',
    scope: 'events:read',
    success: {
      status: 200,
      description: 'The built-in views, in tab order.',
      schema: Type.Object({ views: Type.Array(Type.Ref(ViewDefinition)) }),
    },
    errors: AUTH_ERRORS,
    handler: async (_ctx, _req, _reply, principal) => ({
      views: readableViews(principal, BUILTIN_VIEWS),
    }),
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/views',
    operationId: 'listViews',
    summary: "The built-in views and the tenant's own",
    scope: 'events:read',
    params: TenantParams,
    success: {
      status: 200,
      description: 'Built-in views first, then the tenant’s by id.',
      schema: Type.Object({ views: Type.Array(Type.Ref(ViewDefinition)) }),
    },
    errors: READ_ERRORS,
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const own = await ctx.store.views(tenant);
      return {
        views: readableViews(principal, [
          ...BUILTIN_VIEWS,
          ...own.map((v) => customView(v.id, v.view)),
        ]),
      };
    },
  },
  {
    method: 'PUT',
    path: '/v1/tenants/:tenant/views/:id',
    operationId: 'putView',
    summary: 'Add or replace one of the tenant’s own views',
    description:
      'A view is a category (or `null` for all), columns as field paths with labels and ' +
      'formats, optional default filters and the filters to offer. Built-in ids are reserved.',
    scope: 'admin',
    params: Type.Object(
      { tenant: TenantParams.properties.tenant, id: ViewId },
      { additionalProperties: false },
    ),
    body: ViewInput,
    success: { status: 200, description: 'The view as served.', schema: Type.Ref(ViewDefinition) },
    errors: READ_ERRORS,
    handler: async (ctx, req) => {
      const { tenant, id } = req.params as { tenant: string; id: string };
      if (BUILTIN_VIEWS.some((v) => v.id === id)) {
        throw new HindsightError(
          'invalid_request',
          `"${id}" is a built-in view; choose another id for the tenant's own view.`,
          { details: [{ path: '/params/id', message: 'is reserved' }] },
        );
      }
      const input = checkBody(ViewInput, req.body);
      if (input.defaults) checkViewDefaults(input.defaults);
      const stored = await ctx.store.putView(tenant, id, input);
      return customView(stored.id, stored.view);
    },
  },
  {
    method: 'DELETE',
    path: '/v1/tenants/:tenant/views/:id',
    operationId: 'deleteView',
    summary: 'Remove one of the tenant’s own views',
    scope: 'admin',
    params: Type.Object(
      { tenant: TenantParams.properties.tenant, id: ViewId },
      { additionalProperties: false },
    ),
    success: { status: 204, description: 'Removed.', schema: Type.Null() },
    errors: ['not_found', ...READ_ERRORS],
    handler: async (ctx, req, reply) => {
      const { tenant, id } = req.params as { tenant: string; id: string };
      if (!(await ctx.store.deleteView(tenant, id))) {
        throw new HindsightError('not_found', `Tenant "${tenant}" has no view "${id}".`);
      }
      return reply.code(204).send();
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/logins/users',
    operationId: 'listLoginUsers',
    summary: 'Logins per account: last successful and failed sign-in, where from',
    description:
      'One entry per account that tried to sign in (`login.succeeded` / `login.failed` events ' +
      'of category `logins`), derived from those events: the newest attempt, the last ' +
      'successful and the last failed sign-in with IP, location and browser, how many failed ' +
      'in the last 24 hours, the countries sign-ins came from (most recent first), and whether ' +
      'the last successful sign-in came from a country new to the account. ' +
      'Attempts that named no account are keyed by e-mail.',
    scope: 'events:read',
    params: TenantParams,
    querystring: LoginUsersParams,
    success: {
      status: 200,
      description: 'A page of accounts.',
      schema: Type.Object({
        users: Type.Array(
          Type.Object({
            key: Type.String(),
            actor: Type.Object({}, { additionalProperties: true }),
            lastAttempt: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
            lastSuccess: Type.Union([LoginAttempt, Type.Null()]),
            lastFailure: Type.Union([LoginAttempt, Type.Null()]),
            newCountry: Type.Boolean({
              description:
                'The last successful sign-in came from a country new to the account: one it ' +
                `first signed in from in the last ${NEW_COUNTRY_DAYS} days, having signed in ` +
                'from another country before (its first country is never new; failed attempts ' +
                'do not count).',
            }),
            successes: Type.Integer(),
            failures: Type.Integer(),
            failuresLast24h: Type.Integer(),
            countries: Type.Array(Type.String()),
          }),
        ),
        nextCursor: Type.Union([Type.String(), Type.Null()]),
      }),
    },
    errors: ['invalid_cursor', ...READ_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      requireCategory(principal, 'logins');
      const { limit = 50, cursor, ...filters } = req.query as LoginUsersParams;
      const sort = filters.sort ?? 'lastAttempt';
      const order = filters.order ?? (sort === 'name' || sort === 'email' ? 'asc' : 'desc');
      const scope = { ...filters, sort, order };
      const query: LoginUsersQuery = {
        ...(filters.search === undefined ? {} : { search: filters.search }),
        ...(filters.country === undefined ? {} : { country: filters.country }),
        ...(filters.lastAttempt === undefined ? {} : { lastAttempt: filters.lastAttempt }),
        ...(filters.newCountry === undefined ? {} : { newCountry: filters.newCountry }),
        sort,
        order,
        limit,
        recentSince: new Date(Date.now() - DAY_MS).toISOString(),
        newCountrySince: new Date(Date.now() - NEW_COUNTRY_DAYS * DAY_MS).toISOString(),
        ...(cursor === undefined ? {} : { after: decodeCursor(cursor, tenant, scope, 'logins') }),
      };
      const page = await ctx.store.loginUsers(tenant, query);
      await ctx.audit.viewed(principal, req, {
        tenant,
        log: 'logins',
        description: 'viewed the sign-ins per account',
        metadata: { category: 'logins', filters: scope, events: page.users.length },
        fold: scope,
      });
      return {
        users: page.users.map(({ recentFailures, ...user }) => ({
          ...user,
          failuresLast24h: recentFailures,
        })),
        nextCursor: page.next === null ? null : encodeCursor(page.next, tenant, scope, 'logins'),
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/messages',
    operationId: 'listMessages',
    summary: 'Messages sent, each with its delivery status',
    description:
      'One entry per `message.sent` event, newest first, with how many receivers are in each ' +
      'delivery status and the overall status: the receivers’ status when they agree, `mixed` ' +
      'when they differ. Each receiver has the status of its newest delivery report by event ' +
      'time, whatever order reports arrive in. Filters are those of the event list, and ' +
      '`delivery`: only the messages with a receiver in a status, or (`failed`) that did not ' +
      'reach a receiver.',
    scope: 'events:read',
    params: TenantParams,
    querystring: MessageListParams,
    success: {
      status: 200,
      description: 'A page of messages.',
      schema: Type.Object({
        messages: Type.Array(
          Type.Composite([
            Type.Object({ id: Type.String(), event: Type.Ref(StoredEvent) }),
            DeliverySummary,
          ]),
        ),
        nextCursor: Type.Union([Type.String(), Type.Null()]),
      }),
    },
    errors: ['invalid_query', 'invalid_cursor', ...READ_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      requireCategory(principal, 'communications');
      const { limit = 50, cursor, order = 'desc', ...filters } = req.query as MessageListParams;
      const { delivery, ...eventFilters } = filters;
      const clauses = filterClauses({
        ...eventFilters,
        category: 'communications',
        action: 'message.sent',
      });
      // The cursor is bound to every filter, `delivery` too: a position is only a place in the
      // list it came from.
      const page = await ctx.store.queryEvents(tenant, {
        clauses,
        limit,
        order,
        ...(delivery === undefined ? {} : { delivery: deliveryFilter(delivery) }),
        ...(cursor === undefined
          ? {}
          : { after: decodeCursor(cursor, tenant, filters, `messages-${order}`) }),
      });
      const ids = page.events.map(messageIdOf);
      const deliveries = await deliveriesByMessage(ctx.store, tenant, ids);
      await ctx.audit.viewed(principal, req, {
        tenant,
        log: 'communications',
        description: 'viewed the messages sent',
        metadata: { category: 'communications', filters, events: page.events.length },
        fold: ['messages', filters, order],
      });
      return {
        messages: page.events.map((event, i) => {
          const id = ids[i] as string;
          return { id, event, ...deliverySummary(event.status, deliveries.get(id) ?? new Map()) };
        }),
        nextCursor:
          page.next === null ? null : encodeCursor(page.next, tenant, filters, `messages-${order}`),
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/messages/:messageId',
    operationId: 'getMessage',
    summary: 'One message: its receivers with their status, and its delivery reports',
    description:
      'Receivers are listed by address, `limit` at a time (pass `nextCursor` back as `cursor`); ' +
      'reports are the newest 100 delivery events of the message. A message whose reports ' +
      'arrived before its `message.sent` event is served with `event: null` until it arrives.',
    scope: 'events:read',
    params: Type.Object(
      {
        tenant: TenantParams.properties.tenant,
        messageId: Type.String({ minLength: 1, maxLength: 128 }),
      },
      { additionalProperties: false },
    ),
    querystring: Type.Object(
      {
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
      },
      { additionalProperties: false },
    ),
    success: {
      status: 200,
      description: 'The message.',
      schema: Type.Composite([
        Type.Object({
          id: Type.String(),
          event: Type.Union([Type.Ref(StoredEvent), Type.Null()]),
          receiverList: Type.Array(Receiver),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
          reports: Type.Array(Type.Ref(StoredEvent)),
        }),
        DeliverySummary,
      ]),
    },
    errors: ['not_found', 'invalid_cursor', ...READ_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant, messageId } = req.params as { tenant: string; messageId: string };
      requireCategory(principal, 'communications');
      const { limit = 200, cursor } = req.query as { limit?: number; cursor?: string };
      const scope = { messageId };
      const after =
        cursor === undefined ? undefined : decodeCursor(cursor, tenant, scope, 'receivers');
      const ofMessage = { category: 'communications', target: messageId } as const;
      const [sentPage, reportPage, receivers, deliveries] = await Promise.all([
        ctx.store.queryEvents(tenant, {
          clauses: filterClauses({ ...ofMessage, action: 'message.sent' }),
          limit: 1,
          order: 'asc',
        }),
        ctx.store.queryEvents(tenant, {
          clauses: filterClauses({ ...ofMessage, q: '-action:message.sent' }),
          limit: 100,
          order: 'desc',
        }),
        ctx.store.messageReceivers(tenant, messageId, limit + 1, after),
        deliveriesByMessage(ctx.store, tenant, [messageId]),
      ]);
      const event = sentPage.events.find((e) => messageIdOf(e) === messageId) ?? null;
      if (event === null && receivers.length === 0) {
        throw new HindsightError('not_found', `No message "${messageId}" in tenant "${tenant}".`);
      }
      const list = receivers.slice(0, limit);
      const last = list[list.length - 1];
      await ctx.audit.viewed(principal, req, {
        tenant,
        log: 'communications',
        description: `viewed message ${messageId}`,
        targets: [{ type: 'message', id: messageId }],
        metadata: { category: 'communications', events: 1 },
        fold: messageId,
      });
      return {
        id: messageId,
        event,
        ...deliverySummary(event?.status, deliveries.get(messageId) ?? new Map()),
        receiverList: list,
        nextCursor:
          receivers.length > limit && last
            ? encodeCursor(last.address, tenant, scope, 'receivers')
            : null,
        reports: reportPage.events,
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/integrations',
    operationId: 'listIntegrations',
    summary: 'Each connected system: newest event, status, what needs attention',
    description:
      'One entry per system (`targets[0]` of type `integration`, else `metadata.system`) of ' +
      'the `integrations` log: its newest event by time, the newest `ok` / `error` / ' +
      '`notification` status, and how many errors and notifications arrived after the last ' +
      'acknowledgement.',
    scope: 'events:read',
    params: TenantParams,
    success: {
      status: 200,
      description: 'The systems by name.',
      schema: Type.Object({
        integrations: Type.Array(
          Type.Object({
            system: Type.String(),
            name: Type.String(),
            lastEvent: Brief,
            lastStatus: Type.Union([Type.String(), Type.Null()]),
            unacknowledged: Type.Object({ errors: Type.Integer(), notifications: Type.Integer() }),
            acknowledged: Type.Union([
              Type.Composite([Brief, Type.Object({ upToSeq: Type.Integer() })]),
              Type.Null(),
            ]),
          }),
        ),
        upToSeq: Type.Integer({
          description:
            'The log’s size when the summary was read: every event up to it is counted above. ' +
            'Acknowledge with it, so that an error recorded after this answer is never covered.',
        }),
      }),
    },
    errors: READ_ERRORS,
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      requireCategory(principal, 'integrations');
      // Read first: events recorded while the summary is read are at most counted in it too.
      const upToSeq = await ctx.store.logSize(tenant);
      const integrations = await ctx.store.integrations(tenant);
      await ctx.audit.viewed(principal, req, {
        tenant,
        log: 'integrations',
        description: 'viewed the integrations log',
        metadata: { category: 'integrations', events: integrations.length },
        fold: 'integrations',
      });
      return { integrations, upToSeq };
    },
  },
  {
    method: 'POST',
    path: '/v1/tenants/:tenant/integrations/:system/acknowledge',
    operationId: 'acknowledgeIntegration',
    summary: 'Acknowledge a system’s errors and notifications',
    description:
      'Records an `integration.acknowledged` event (category `integrations`) saying who saw ' +
      'the system’s events up to `upToSeq` (default: everything stored so far); nothing is ' +
      'changed in place. `actor` names the person acknowledging when a backend calls on their ' +
      'behalf; without it the API key is the actor.',
    scope: 'events:write',
    params: Type.Object(
      {
        tenant: TenantParams.properties.tenant,
        system: Type.String({ minLength: 1, maxLength: 128 }),
      },
      { additionalProperties: false },
    ),
    body: AcknowledgeBody,
    success: {
      status: 202,
      description: 'The acknowledgement, stored durably.',
      schema: Type.Object({
        event: Type.Object({
          id: Type.String(),
          tenant: Type.String(),
          seq: Type.Integer(),
          hash: Type.String(),
        }),
        integration: Type.Object({}, { additionalProperties: true }),
      }),
    },
    errors: ['not_found', 'invalid_event', ...READ_ERRORS],
    handler: async (ctx, req, reply, principal) => {
      const { tenant, system } = req.params as { tenant: string; system: string };
      const body = checkBody(AcknowledgeBody, req.body ?? {});
      const known = (await ctx.store.integrations(tenant)).find((i) => i.system === system);
      if (!known) {
        throw new HindsightError('not_found', `Tenant "${tenant}" has no integration "${system}".`);
      }
      // Never past the log as it stands: errors recorded later are not acknowledged yet.
      const size = await ctx.store.logSize(tenant);
      const upToSeq = Math.min(body.upToSeq ?? size, size);
      const actor =
        body.actor ??
        (principal ? actorOf(principal) : { type: 'api_key' as const, id: 'unknown' });
      const input: EventInput = {
        tenant,
        category: 'integrations',
        action: 'integration.acknowledged',
        actor,
        channel: body.actor ? 'ui' : 'api',
        description: `Acknowledged the errors and notifications of ${known.name}`,
        targets: [{ type: 'integration', id: system, name: known.name }],
        metadata: {
          system: known.name,
          upToSeq,
          ...(body.note === undefined ? {} : { note: body.note }),
        },
      };
      const [ref] = await recordEvents(ctx, { events: [input] }, principal);
      const integration = (await ctx.store.integrations(tenant)).find((i) => i.system === system);
      return reply.code(202).send({ event: ref, integration });
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/stats',
    operationId: 'eventStats',
    summary: 'Counts by action, actor and outcome, and activity over time',
    description:
      'Takes the filters of the event list. `since` defaults to 30 days before `until` ' +
      '(default now); the range is widened to whole UTC days for day and week buckets, else ' +
      'to whole hours (`from`, `to`). Filters by category, action and outcome are answered ' +
      'from counts kept as events are stored; other filters count the newest 5,000 matching ' +
      'events and say so with `exact: false`.',
    scope: 'events:read',
    params: TenantParams,
    querystring: StatsParams,
    success: {
      status: 200,
      description: 'The counts.',
      schema: Type.Object({
        from: Type.String(),
        to: Type.String(),
        interval: Type.Integer({ description: 'Bucket width in milliseconds.' }),
        total: Type.Integer(),
        outcomes: Type.Object({ success: Type.Integer(), failure: Type.Integer() }),
        byAction: Type.Array(Type.Object({ action: Type.String(), count: Type.Integer() })),
        byActor: Type.Array(
          Type.Object({
            actor: Type.Object({}, { additionalProperties: true }),
            count: Type.Integer(),
          }),
        ),
        histogram: Type.Array(Type.Object({ start: Type.String(), count: Type.Integer() })),
        exact: Type.Boolean(),
        scanned: Type.Optional(Type.Integer()),
      }),
    },
    errors: ['invalid_query', ...READ_ERRORS],
    handler: async (ctx, req, _reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const { interval, top = 10, since, until, ...filters } = req.query as StatsParams;
      const bounds = filterClauses({
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
      });
      const boundOf = (kind: 'after' | 'before') => {
        const c = bounds.find((b) => b.kind === kind);
        return c?.kind === 'after' || c?.kind === 'before' ? c.timeMs : undefined;
      };
      const untilMs = boundOf('before') ?? Date.now();
      const sinceMs = boundOf('after') ?? untilMs - 30 * DAY_MS;
      if (sinceMs >= untilMs) {
        throw new HindsightError('invalid_request', '`since` must be before `until`.', {
          details: [{ path: '/querystring/since', message: 'must be before until' }],
        });
      }
      const bucketMs = bucketOf(interval, untilMs - sinceMs);
      // The range is widened to whole buckets' units: days for day and week buckets, else hours.
      const unit = bucketMs >= DAY_MS ? DAY_MS : HOUR_MS;
      const fromMs = Math.floor(sinceMs / unit) * unit;
      const toMs = Math.ceil(untilMs / unit) * unit;
      if ((toMs - fromMs) / bucketMs > MAX_BUCKETS) {
        throw new HindsightError(
          'invalid_request',
          `That range has more than ${MAX_BUCKETS} ${interval ?? 'day'} buckets; choose a wider interval.`,
          { details: [{ path: '/querystring/interval', message: 'too many buckets' }] },
        );
      }
      // Time bounds inside `q` narrow the scan; the range itself is [from, to).
      const clauses = withinCategories(principal, filterClauses(filters));
      const stats = await ctx.store.stats(tenant, { clauses, fromMs, toMs, bucketMs, top });
      const log = namedCategories(clauses)[0] ?? 'all';
      await ctx.audit.viewed(principal, req, {
        tenant,
        log,
        description: `viewed the statistics of the ${log} log`,
        metadata: { category: log, filters, events: stats.total },
        fold: ['stats', filters, since, until, interval],
      });
      return {
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        interval: bucketMs,
        ...stats,
        histogram: stats.histogram.map((b) => ({
          start: new Date(b.start).toISOString(),
          count: b.count,
        })),
      };
    },
  },
];

/**
 * Refuses default filters the event list would refuse (an action that is not one, a channel
 * outside SPEC §2, a `q` that does not parse): stored, the view could never be shown.
 */
function checkViewDefaults(defaults: ViewDefaults): void {
  const at = (path: string) => `/body/defaults${path}`;
  if (!Value.Check(EventFilters, defaults)) {
    const [first] = Value.Errors(EventFilters, defaults);
    if (!first) return;
    throw new HindsightError(
      'invalid_request',
      `Invalid body: ${at(first.path)} ${first.message}.`,
      { details: [{ path: at(first.path), message: first.message }] },
    );
  }
  try {
    filterClauses(defaults);
  } catch (error) {
    if (!(error instanceof HindsightError)) throw error;
    throw new HindsightError('invalid_request', `Invalid body: ${at('/q')}: ${error.message}`, {
      details: [{ path: at('/q'), message: error.message }],
      cause: error,
    });
  }
}
