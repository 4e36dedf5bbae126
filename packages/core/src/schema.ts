/**
 * The event model of SPEC §2, as TypeBox schemas: one source for the TypeScript types, the
 * runtime validator (see `validate.ts`) and the JSON Schema published in OpenAPI.
 *
 * Rules that JSON Schema cannot express (size of serialised values, nesting depth, IP syntax,
 * future timestamps, control characters, forbidden keys) live in `validate.ts`.
 */
import { type Static, Type } from '@sinclair/typebox';

/** The five ways an event can be triggered. */
export const CHANNELS = ['ui', 'api', 'import', 'system', 'integration'] as const;
/** Kinds of actor; `user` is the default. */
export const ACTOR_TYPES = ['user', 'system', 'api_key', 'integration', 'anonymous'] as const;
/** Outcomes; `success` is the default. */
export const OUTCOMES = ['success', 'failure'] as const;
/** The category an event without one belongs to. */
export const DEFAULT_CATEGORY = 'changes';

/** Limits of SPEC §2, exported so that clients can check before sending. */
export const LIMITS = {
  eventBytes: 64 * 1024,
  metadataBytes: 16 * 1024,
  metadataDepth: 5,
  changeValueBytes: 8 * 1024,
  targets: 20,
  changes: 200,
  batch: 1000,
  futureSkewMs: 5 * 60 * 1000,
} as const;

export const TENANT_PATTERN = '^[A-Za-z0-9._:@-]{1,128}$';
export const ACTION_PATTERN = '^[a-z0-9_-]+(\\.[a-z0-9_-]+)+$';
export const CATEGORY_PATTERN = '^[a-z0-9_-]{1,64}$';

const line = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });
export const Tenant = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: TENANT_PATTERN,
  description: 'The customer organisation the event belongs to.',
});

export const Action = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: ACTION_PATTERN,
  description: 'What happened, as `resource.verb` in lowercase segments, e.g. `user.created`.',
});

export const Category = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: CATEGORY_PATTERN,
  description: 'Which log of the tenant the event belongs to (SPEC §4); default `changes`.',
});

export const Channel = Type.Union([
  Type.Literal('ui'),
  Type.Literal('api'),
  Type.Literal('import'),
  Type.Literal('system'),
  Type.Literal('integration'),
]);
export const Outcome = Type.Union([Type.Literal('success'), Type.Literal('failure')]);
export const ActorType = Type.Union([
  Type.Literal('user'),
  Type.Literal('system'),
  Type.Literal('api_key'),
  Type.Literal('integration'),
  Type.Literal('anonymous'),
]);

export const Actor = Type.Object(
  {
    id: Type.Optional(line(128)),
    type: Type.Optional(ActorType),
    name: Type.Optional(line(256)),
    email: Type.Optional(line(320)),
    role: Type.Optional(line(64)),
  },
  { additionalProperties: false, description: 'Who did it.' },
);

export const Target = Type.Object(
  {
    type: line(64),
    id: line(128),
    name: Type.Optional(line(256)),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'Deep link back into the product: an http(s) URL or a path starting with `/`.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Change = Type.Object(
  {
    field: line(256),
    before: Type.Optional(Type.Unknown()),
    after: Type.Optional(Type.Unknown()),
    sensitive: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const HttpContext = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Z]+$' }),
    url: line(2048),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    durationMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const ContextInput = Type.Object(
  {
    ip: Type.Optional(Type.String({ minLength: 2, maxLength: 45 })),
    userAgent: Type.Optional(line(1024)),
    requestId: Type.Optional(line(128)),
    sessionId: Type.Optional(line(128)),
    http: Type.Optional(HttpContext),
  },
  { additionalProperties: false },
);

/** What a producer sends (SPEC §2). Unknown top-level keys are rejected. */
export const EventInput = Type.Object(
  {
    tenant: Tenant,
    action: Action,
    category: Type.Optional(Category),
    time: Type.Optional(
      Type.String({ description: 'RFC 3339 with offset; default: the time it was received.' }),
    ),
    id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'Idempotency key, unique per tenant; the server assigns a ULID when absent.',
      }),
    ),
    actor: Actor,
    targets: Type.Optional(Type.Array(Target, { maxItems: LIMITS.targets })),
    channel: Type.Optional(Channel),
    outcome: Type.Optional(Outcome),
    status: Type.Optional(line(64)),
    description: Type.Optional(Type.String({ minLength: 0, maxLength: 2000 })),
    changes: Type.Optional(Type.Array(Change, { maxItems: LIMITS.changes })),
    context: Type.Optional(ContextInput),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false, $id: 'EventInput' },
);

/** The body of `POST /v1/events`: one event, or a batch of 1–1,000. */
export const EventBatchInput = Type.Object(
  { events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: LIMITS.batch }) },
  { additionalProperties: false },
);

export const Location = Type.Object({
  country: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  city: Type.Optional(Type.String()),
});

export const Client = Type.Object({
  browser: Type.Optional(Type.String()),
  os: Type.Optional(Type.String()),
  device: Type.Optional(Type.String()),
});

/** An event as readers get it: the normalised input plus what the server adds. */
export const StoredEvent = Type.Object(
  {
    id: Type.String(),
    seq: Type.Integer({ minimum: 1 }),
    tenant: Tenant,
    category: Category,
    action: Action,
    time: Type.String({ description: 'RFC 3339, UTC, milliseconds.' }),
    receivedAt: Type.String({ description: 'RFC 3339, UTC, milliseconds.' }),
    actor: Type.Object({
      type: ActorType,
      id: Type.Optional(Type.String()),
      name: Type.Optional(Type.String()),
      email: Type.Optional(Type.String()),
      role: Type.Optional(Type.String()),
    }),
    targets: Type.Optional(Type.Array(Target)),
    channel: Type.Optional(Channel),
    outcome: Outcome,
    status: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    changes: Type.Optional(Type.Array(Change)),
    context: Type.Optional(
      Type.Object({
        ip: Type.Optional(Type.String()),
        userAgent: Type.Optional(Type.String()),
        requestId: Type.Optional(Type.String()),
        sessionId: Type.Optional(Type.String()),
        http: Type.Optional(HttpContext),
        location: Type.Optional(Location),
        client: Type.Optional(Client),
      }),
    ),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    erased: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
        description:
          'Personal values erased (GDPR, docs/erasure.md), by JSON Pointer: the commitment ' +
          'the leaf hash was computed over (`null`: a name the event did not have). Erased ' +
          'names show as "Deleted User"; other erased values are absent.',
      }),
    ),
    hash: Type.String({ description: 'Hex SHA-256 leaf hash (SPEC §6).' }),
  },
  { $id: 'StoredEvent' },
);

export type Channel = Static<typeof Channel>;
export type Outcome = Static<typeof Outcome>;
export type ActorType = Static<typeof ActorType>;
export type Actor = Static<typeof Actor>;
export type Target = Static<typeof Target>;
export type Change = Static<typeof Change>;
export type HttpContext = Static<typeof HttpContext>;
export type EventInput = Static<typeof EventInput>;
export type Location = Static<typeof Location>;
export type Client = Static<typeof Client>;
export type StoredEvent = Static<typeof StoredEvent>;
/** A stored event before the store has numbered and hashed it. */
export type UnsealedEvent = Omit<StoredEvent, 'seq' | 'hash'>;
