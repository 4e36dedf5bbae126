/**
 * Views: how a log of SPEC §4 is shown — which events (a category and default filters), which
 * columns (field paths with labels and formats), which filters a reader is offered. The
 * built-in views are the seeds' logs; a tenant may add its own. The console renders columns
 * from these definitions and never hard-codes them.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Category } from './schema.js';

/**
 * How a column's value is shown. `text` is plain; the others are rendered by the console:
 * `time` in the reader's time zone, `actor` as name or e-mail ("System" for the system),
 * `target` as its name linking to its `url`, `verb` as the action's last segment ("updated"),
 * `status` / `outcome` as a badge with text, `changes` as before → after, `location` as
 * "city, region, country", `client` as "browser on OS", `receivers` as names with addresses
 * on demand, `message-type` as "E-mail, manual", `json` as a readable tree.
 */
export const COLUMN_FORMATS = [
  'text',
  'time',
  'seq',
  'actor',
  'action',
  'verb',
  'target',
  'status',
  'outcome',
  'channel',
  'changes',
  'location',
  'client',
  'ip',
  'number',
  'receivers',
  'message-type',
  'json',
] as const;

/** The filters a view may offer its reader (SPEC §3 filters). */
export const VIEW_FILTERS = [
  'since',
  'until',
  'actor',
  'action',
  'target',
  'outcome',
  'status',
  'channel',
  'ip',
  'q',
] as const;

/** The id of a view; built-in ids are reserved. */
export const ViewId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
  description: 'Lowercase letters, digits, `_` and `-`.',
});

export const ViewColumn = Type.Object(
  {
    field: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$',
      description:
        'Dotted path into the stored event; array items by index: `targets.0`, `metadata.subject`.',
    }),
    label: Type.String({ minLength: 1, maxLength: 64 }),
    format: Type.Union(
      COLUMN_FORMATS.map((f) => Type.Literal(f)),
      { description: 'How the value is shown.' },
    ),
  },
  { additionalProperties: false },
);
export type ViewColumn = Static<typeof ViewColumn>;

/** Default filters of a view, as the §3 query parameters they stand for. */
export const ViewDefaults = Type.Object(
  {
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ViewDefaults = Static<typeof ViewDefaults>;

/** A label for a value of a filter, e.g. the action `user.created` shown as "User creation". */
export const FilterChoice = Type.Object(
  { value: Type.String({ minLength: 1, maxLength: 128 }), label: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);

/** What a tenant sends to add or replace one of its own views. */
export const ViewInput = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    category: Type.Union([Category, Type.Null()], {
      description: 'The category shown; `null` for every category.',
    }),
    columns: Type.Array(ViewColumn, { minItems: 1, maxItems: 20 }),
    defaults: Type.Optional(ViewDefaults),
    filters: Type.Optional(
      Type.Array(Type.Union(VIEW_FILTERS.map((f) => Type.Literal(f))), {
        maxItems: VIEW_FILTERS.length,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false },
);
export type ViewInput = Static<typeof ViewInput>;

/** A view as `GET /v1/views` serves it. */
export const ViewDefinition = Type.Object(
  {
    id: ViewId,
    builtin: Type.Boolean(),
    label: Type.String(),
    description: Type.Optional(Type.String()),
    category: Type.Union([Type.String(), Type.Null()]),
    columns: Type.Array(ViewColumn),
    defaults: Type.Optional(ViewDefaults),
    filters: Type.Array(Type.String()),
    /** Labels of the filters that mean something particular in this view ("Key ring"). */
    filterLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** The actions this log records, for an "activity type" filter. */
    actions: Type.Optional(Type.Array(FilterChoice)),
    /** The status words this log uses, with what each means to a reader (SPEC §4). */
    statuses: Type.Optional(
      Type.Array(
        Type.Object({
          value: Type.String(),
          label: Type.String(),
          tone: Type.Union([
            Type.Literal('good'),
            Type.Literal('neutral'),
            Type.Literal('warning'),
            Type.Literal('bad'),
          ]),
          explanation: Type.Optional(Type.String()),
        }),
      ),
    ),
    /** A derived summary of this log served beside its events, e.g. `messages`. */
    summary: Type.Optional(
      Type.Union([Type.Literal('logins'), Type.Literal('messages'), Type.Literal('integrations')]),
    ),
  },
  { $id: 'ViewDefinition', additionalProperties: false },
);
export type ViewDefinition = Static<typeof ViewDefinition>;

type Status = NonNullable<ViewDefinition['statuses']>[number];

/** The delivery statuses of SPEC §4, with the seed's explanation of each. */
export const DELIVERY_STATUSES: readonly Status[] = [
  {
    value: 'sent',
    label: 'Sent',
    tone: 'neutral',
    explanation: 'The message has been handed over for delivery.',
  },
  {
    value: 'delivered',
    label: 'Delivered',
    tone: 'good',
    explanation: "The receiver's server or phone has accepted the message.",
  },
  {
    value: 'pending',
    label: 'Pending',
    tone: 'neutral',
    explanation: 'The message is waiting to be delivered.',
  },
  {
    value: 'internal_error',
    label: 'Internal delivery error',
    tone: 'bad',
    explanation: 'An internal error occurred while sending; contact support for help.',
  },
  {
    value: 'blocked',
    label: 'Blocked',
    tone: 'bad',
    explanation: 'The receiver has received the message but has actively chosen to block it.',
  },
  {
    value: 'spam',
    label: 'Spam',
    tone: 'bad',
    explanation: 'Your address has been registered as spam by the receiver.',
  },
  {
    value: 'deferred',
    label: 'Deferred',
    tone: 'warning',
    explanation: "The receiver's server asked to try again later; delivery is retried.",
  },
  {
    value: 'external_error',
    label: 'External delivery error',
    tone: 'bad',
    explanation:
      "An error on the receiver's side prevented delivery, for instance a mistake in the " +
      'e-mail address or phone number.',
  },
  {
    value: 'hard_bounce',
    label: 'Hard bounce',
    tone: 'bad',
    explanation:
      "A permanent error at the receiver's end: the address does not exist, or the receiver's " +
      'server blocks all deliveries.',
  },
  {
    value: 'soft_bounce',
    label: 'Soft bounce',
    tone: 'bad',
    explanation:
      "A temporary error prevented delivery: a full mailbox, a message too big, the receiver's " +
      'anti-spam or antivirus system.',
  },
  {
    value: 'unsubscribed',
    label: 'Unsubscribed',
    tone: 'bad',
    explanation: 'The receiver has unsubscribed, so the message was not sent.',
  },
  {
    value: 'invalid_email',
    label: 'Invalid e-mail',
    tone: 'bad',
    explanation: "The receiver's e-mail address is not correct.",
  },
  {
    value: 'mixed',
    label: 'Mixed status',
    tone: 'warning',
    explanation:
      'The message reached some receivers but not others; see each receiver. Correct the ' +
      'errors and send it again to those it did not reach.',
  },
];

/** The integration statuses of SPEC §4. */
export const INTEGRATION_STATUSES: readonly Status[] = [
  { value: 'ok', label: 'OK', tone: 'good', explanation: 'The event went through.' },
  {
    value: 'error',
    label: 'Error',
    tone: 'bad',
    explanation: 'Something failed and needs to be taken care of.',
  },
  {
    value: 'notification',
    label: 'Notification',
    tone: 'warning',
    explanation: 'Something an administrator should act on.',
  },
];

/** The delivery words of SPEC §4 a report can carry (`mixed` is for views only). */
export type DeliveryStatus =
  | 'sent'
  | 'delivered'
  | 'pending'
  | 'deferred'
  | 'hard_bounce'
  | 'soft_bounce'
  | 'spam'
  | 'blocked'
  | 'unsubscribed'
  | 'invalid_email'
  | 'external_error'
  | 'internal_error';

/**
 * The action and outcome of a delivery report of each status (docs/event-conventions.md,
 * "Delivery"). A provider's "sent" report is `message.dispatched`: `message.sent` is the
 * message itself.
 */
export const DELIVERY_ACTIONS: Readonly<
  Record<DeliveryStatus, { readonly action: string; readonly failure: boolean }>
> = {
  sent: { action: 'message.dispatched', failure: false },
  delivered: { action: 'message.delivered', failure: false },
  pending: { action: 'message.queued', failure: false },
  deferred: { action: 'message.deferred', failure: false },
  hard_bounce: { action: 'message.bounced', failure: true },
  soft_bounce: { action: 'message.bounced', failure: true },
  spam: { action: 'message.spam_reported', failure: true },
  blocked: { action: 'message.blocked', failure: true },
  unsubscribed: { action: 'message.suppressed', failure: true },
  invalid_email: { action: 'message.failed', failure: true },
  external_error: { action: 'message.failed', failure: true },
  internal_error: { action: 'message.failed', failure: true },
};

/** Statuses a message's receivers can end in that mean it did not arrive. */
export const FAILED_DELIVERY = new Set(
  DELIVERY_STATUSES.filter((s) => s.tone === 'bad').map((s) => s.value),
);

const col = (field: string, label: string, format: ViewColumn['format'] = 'text'): ViewColumn => ({
  field,
  label,
  format,
});
const TIME = col('time', 'Time', 'time');
// The event's number in the log, as the console's details call it ("Number (seq)"): not its id.
const SEQ = col('seq', 'No.', 'seq');
const EVENT = col('description', 'Event');
const ALL_FILTERS = [...VIEW_FILTERS];
const choices = (pairs: Array<[string, string]>) =>
  pairs.map(([value, label]) => ({ value, label }));

/** The built-in views: "All events" and one per category of SPEC §4, in console tab order. */
export const BUILTIN_VIEWS: readonly ViewDefinition[] = [
  {
    id: 'all',
    builtin: true,
    label: 'All events',
    description: 'Every event of every log, newest first.',
    category: null,
    columns: [
      SEQ,
      col('time', 'Date', 'time'),
      col('actor', 'User', 'actor'),
      col('action', 'Action', 'action'),
      col('description', 'Description'),
      col('context.ip', 'IP address', 'ip'),
    ],
    filters: ALL_FILTERS,
  },
  {
    id: 'changes',
    builtin: true,
    label: 'Changes',
    description: 'Configuration and data changes, with before and after values.',
    category: 'changes',
    columns: [
      TIME,
      EVENT,
      col('actor', 'Performed by', 'actor'),
      col('action', 'Type of change', 'verb'),
      col('metadata.module', 'Module'),
      col('changes', 'Before → after', 'changes'),
    ],
    filters: ALL_FILTERS,
    filterLabels: { actor: 'Performed by', target: 'Changed object' },
  },
  {
    id: 'access',
    builtin: true,
    label: 'Codes',
    description: 'When employees accessed the codes of key rings.',
    category: 'access',
    columns: [
      TIME,
      EVENT,
      col('actor', 'Employee', 'actor'),
      col('targets.0', 'Key ring', 'target'),
      col('targets.1', 'Customer', 'target'),
    ],
    filters: ['since', 'until', 'actor', 'target', 'outcome', 'q'],
    filterLabels: { actor: 'Employee', target: 'Key ring or customer' },
  },
  {
    id: 'communications',
    builtin: true,
    label: 'Communications',
    description: 'E-mails and SMS sent from the product, with their delivery status.',
    category: 'communications',
    columns: [
      TIME,
      col('actor', 'Sender', 'actor'),
      col('metadata.receivers', 'Receiver', 'receivers'),
      col('metadata.subject', 'Subject'),
      col('metadata', 'Type', 'message-type'),
      col('status', 'Status', 'status'),
    ],
    filters: ['since', 'until', 'actor', 'target', 'action', 'status', 'channel', 'q'],
    filterLabels: { actor: 'Sender', target: 'Receiver or message' },
    actions: choices([
      ['message.sent', 'Sent'],
      ['message.delivered', 'Delivered'],
      ['message.queued', 'Pending'],
      ['message.deferred', 'Deferred'],
      ['message.bounced', 'Bounced'],
      ['message.spam_reported', 'Spam'],
      ['message.blocked', 'Blocked'],
      ['message.suppressed', 'Unsubscribed'],
      ['message.failed', 'Failed'],
    ]),
    statuses: [...DELIVERY_STATUSES],
    summary: 'messages',
  },
  {
    id: 'integrations',
    builtin: true,
    label: 'Integrations',
    description: 'What happened with the systems the product is connected to.',
    category: 'integrations',
    columns: [
      col('time', 'Date', 'time'),
      col('metadata.system', 'System'),
      EVENT,
      col('status', 'Status', 'status'),
    ],
    filters: ['since', 'until', 'target', 'action', 'status', 'outcome', 'q'],
    filterLabels: { target: 'System' },
    statuses: [...INTEGRATION_STATUSES],
    summary: 'integrations',
  },
  {
    id: 'requests',
    builtin: true,
    label: 'Panel logs',
    description: 'Pages and forms users opened in the product.',
    category: 'requests',
    columns: [
      SEQ,
      col('time', 'Date', 'time'),
      col('context.http.url', 'URL'),
      col('context.http.method', 'Method'),
      col('actor.email', 'E-mail'),
      col('context.ip', 'Remote IP', 'ip'),
      col('context.client', 'Browser', 'client'),
    ],
    filters: ['since', 'until', 'actor', 'outcome', 'ip', 'q'],
  },
  {
    id: 'api',
    builtin: true,
    label: 'API logs',
    description: "Calls to the product's API (never their content).",
    category: 'api',
    columns: [
      SEQ,
      col('time', 'Date', 'time'),
      col('context.http.url', 'URL'),
      col('context.http.method', 'Method'),
      col('context.http.status', 'Status', 'number'),
      col('context.ip', 'Remote IP', 'ip'),
    ],
    filters: ['since', 'until', 'actor', 'outcome', 'ip', 'q'],
    filterLabels: { actor: 'API key' },
  },
  {
    id: 'sms',
    builtin: true,
    label: 'SMS logs',
    description: 'SMS and MMS messages handed to a gateway.',
    category: 'sms',
    columns: [
      SEQ,
      col('time', 'Date', 'time'),
      col('metadata.messageId', 'Message ID'),
      col('metadata.campaign', 'Campaign'),
      col('metadata.phone', 'Phone'),
      col('metadata.gateway', 'Gateway'),
      col('metadata.error', 'Error'),
    ],
    filters: ['since', 'until', 'target', 'action', 'status', 'outcome', 'q'],
    filterLabels: { target: 'Campaign' },
    statuses: [...DELIVERY_STATUSES],
  },
  {
    id: 'logins',
    builtin: true,
    label: 'User logins',
    description: 'Every successful and failed sign-in, with where it came from.',
    category: 'logins',
    columns: [
      col('actor.name', 'Name'),
      col('actor.email', 'E-mail'),
      col('outcome', 'Login', 'outcome'),
      col('time', 'Date', 'time'),
      col('context.location', 'Country / state / city', 'location'),
      col('context.ip', 'IP', 'ip'),
      col('context.client', 'Browser', 'client'),
    ],
    filters: ['since', 'until', 'actor', 'outcome', 'ip', 'q'],
    actions: choices([
      ['login.succeeded', 'Successful login'],
      ['login.failed', 'Failed login'],
    ]),
    summary: 'logins',
  },
  {
    id: 'users',
    builtin: true,
    label: 'User management',
    description: 'Users created and deleted, licence and admin-rights changes.',
    category: 'users',
    columns: [
      TIME,
      col('action', 'Activity', 'action'),
      col('actor', 'Admin', 'actor'),
      col('targets.0', 'Affected user', 'target'),
      col('changes', 'Old → new', 'changes'),
      col('channel', 'Channel', 'channel'),
    ],
    filters: ['since', 'until', 'actor', 'target', 'action', 'channel', 'outcome', 'q'],
    filterLabels: { actor: 'Admin', target: 'Affected user', action: 'Activity type' },
    actions: choices([
      ['user.created', 'User creation'],
      ['user.deleted', 'User deletion'],
      ['user.license.updated', 'User license update'],
      ['user.admin_rights.updated', 'Admin rights update'],
    ]),
  },
  {
    id: 'audit',
    builtin: true,
    label: 'Audit',
    description: 'Who read, exported, deleted or erased what in these logs.',
    category: 'audit',
    columns: [
      TIME,
      col('actor', 'Who', 'actor'),
      col('action', 'Action', 'action'),
      EVENT,
      col('metadata.events', 'Events', 'number'),
    ],
    filters: ['since', 'until', 'actor', 'action', 'q'],
  },
];

/**
 * A tenant's own view as served, from what the tenant sent.
 * @example customView('night-logins', { label: 'Night logins', category: 'logins', columns })
 */
export function customView(id: string, input: ViewInput): ViewDefinition {
  return {
    id,
    builtin: false,
    label: input.label,
    ...(input.description === undefined ? {} : { description: input.description }),
    category: input.category,
    columns: input.columns,
    ...(input.defaults === undefined ? {} : { defaults: input.defaults }),
    filters: input.filters ?? [...VIEW_FILTERS],
  };
}
