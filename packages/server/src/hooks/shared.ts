/**
 * What the provider modules share: the request and result shapes, the delivery table of
 * docs/event-conventions.md ("Delivery"), the event builder and small parsing helpers.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  DELIVERY_ACTIONS,
  type DeliveryStatus,
  type EventInput,
  TENANT_PATTERN,
} from '@hindsight/core';
import { type ErrorDetail, HindsightError } from '../errors.js';

/** A provider whose delivery-status webhooks Hindsight understands. */
export type HookProvider = 'sendgrid' | 'mailgun' | 'twilio';

/** The per-provider secrets of this server; a provider without one is not configured. */
export interface HookSecrets {
  /** SendGrid's signed-webhook verification key: base64 DER SPKI, as SendGrid shows it (or PEM). */
  readonly sendgridPublicKey?: string | undefined;
  /** Mailgun's HTTP webhook signing key. */
  readonly mailgunSigningKey?: string | undefined;
  /** The Twilio account's (primary) auth token. */
  readonly twilioAuthToken?: string | undefined;
}

/** One webhook call, as the HTTP layer received it. */
export interface HookRequest {
  /** The full external URL the provider called, query included (what Twilio signs). */
  readonly url: string;
  /** The decoded query parameters, e.g. `{ tenant: 'acme' }`. */
  readonly query: Readonly<Record<string, string>>;
  /** The request headers; names in any case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body exactly as received: signatures cover these bytes. */
  readonly rawBody: Buffer;
  /** The `Content-Type` header. */
  readonly contentType: string;
}

/** What a webhook call amounts to: events to record, and how many reports were not deliveries. */
export interface HookResult {
  readonly events: EventInput[];
  readonly ignored: number;
  /**
   * What makes this call's signature one of a kind among the provider's (Mailgun's token,
   * SendGrid's signature), and until when it is taken: the same signature on another call is a
   * replay (see `RecordedCalls`). None for Twilio, whose signature covers the whole call, URL
   * included, so that a replay records the same events again, which their ids make harmless.
   */
  readonly signature?: { readonly key: string; readonly untilMs: number };
}

export type { DeliveryStatus };

/** How each status reads in a report's description. */
const LABELS: Readonly<Record<DeliveryStatus, string>> = {
  sent: 'sent',
  delivered: 'delivered',
  pending: 'queued',
  deferred: 'deferred',
  hard_bounce: 'hard bounce',
  soft_bounce: 'soft bounce',
  spam: 'reported as spam',
  blocked: 'blocked',
  unsubscribed: 'unsubscribed',
  invalid_email: 'invalid address',
  external_error: 'not delivered',
  internal_error: 'not sent',
};

/** One provider report about one receiver of one message, before it becomes an event. */
export interface Delivery {
  readonly provider: HookProvider;
  readonly tenant: string;
  /** The idempotency key, e.g. `sendgrid:<sg_event_id>`. */
  readonly id: string;
  /** Our message id (from the custom argument), or the provider's. */
  readonly messageId: string;
  readonly status: DeliveryStatus;
  /** The provider's own event or status word, e.g. `bounce`. */
  readonly providerStatus: string;
  readonly type: 'email' | 'sms';
  /** The receiver's e-mail address or phone number. */
  readonly address: string;
  readonly reason?: string | undefined;
  readonly providerMessageId?: string | undefined;
  readonly subject?: string | undefined;
  /** RFC 3339. */
  readonly time?: string | undefined;
}

/** Display names, for messages and descriptions. */
export const PROVIDER_NAMES: Readonly<Record<HookProvider, string>> = {
  sendgrid: 'SendGrid',
  mailgun: 'Mailgun',
  twilio: 'Twilio',
};

const TENANT = new RegExp(TENANT_PATTERN);
// biome-ignore lint/suspicious/noControlCharactersInRegex: provider texts become one clean line.
const BLANK = /[\s\u0000-\u001f\u007f-\u009f]+/g;
const MAX_ID = 128;
const MAX_REASON = 500;

/**
 * The `communications` event of a delivery report (docs/event-conventions.md, "Delivery").
 * @example deliveryEvent({ provider: 'twilio', tenant: 'acme', id: 'twilio:SM1:sent', messageId: 'MSG-1', status: 'sent', providerStatus: 'sent', type: 'sms', address: '+447700900512' })
 */
export function deliveryEvent(d: Delivery): EventInput {
  const { action, failure } = DELIVERY_ACTIONS[d.status];
  const label = LABELS[d.status];
  const reason = d.status === 'delivered' ? undefined : clean(d.reason);
  const what = d.type === 'email' ? 'E-mail' : 'SMS';
  const subject = clean(d.subject);
  checkId(d.provider, 'message id', d.messageId);
  checkId(d.provider, 'event id', d.id);
  return {
    tenant: d.tenant,
    id: d.id,
    action,
    category: 'communications',
    ...(d.time === undefined ? {} : { time: d.time }),
    actor: { type: 'system' },
    channel: 'system',
    ...(failure ? { outcome: 'failure' as const } : {}),
    status: d.status,
    description:
      `${what}${subject === undefined ? '' : ` "${subject}"`} to ${d.address}: ${label}` +
      (reason === undefined ? '' : ` (${reason})`),
    targets: [
      { type: 'message', id: d.messageId, ...(subject === undefined ? {} : { name: subject }) },
    ],
    metadata: {
      type: d.type,
      ...(subject === undefined ? {} : { subject }),
      receiver: { address: d.address },
      provider: d.provider,
      providerStatus: d.providerStatus,
      ...(reason === undefined ? {} : { reason }),
      ...(d.providerMessageId === undefined ? {} : { providerMessageId: d.providerMessageId }),
    },
  };
}

/** The result of a call's reports, `null` standing for a report that is not a delivery. */
export function collect(reports: readonly (Delivery | null)[]): HookResult {
  const deliveries = reports.filter((r): r is Delivery => r !== null);
  return { events: deliveries.map(deliveryEvent), ignored: reports.length - deliveries.length };
}

/** The tenant of a report: the custom argument wins over the URL's `?tenant=`. */
export function tenantOf(
  provider: HookProvider,
  custom: string | undefined,
  request: HookRequest,
): string {
  const tenant = custom ?? text(request.query['tenant']);
  if (tenant === undefined) {
    throw invalid(
      provider,
      'no tenant: add ?tenant=<tenant> to the webhook URL' +
        (provider === 'twilio' ? '' : ' or send the hindsight_tenant custom argument'),
    );
  }
  if (!TENANT.test(tenant)) {
    throw invalid(provider, `"${tenant}" is not a tenant (1–128 characters of A-Za-z0-9._:@-)`);
  }
  return tenant;
}

/** A 400 `invalid_request` about a provider's payload; `path` points into the body. */
export function invalid(provider: HookProvider, message: string, path?: string): HindsightError {
  const details: ErrorDetail[] | undefined = path === undefined ? undefined : [{ path, message }];
  return new HindsightError('invalid_request', `${PROVIDER_NAMES[provider]} webhook: ${message}.`, {
    ...(details === undefined ? {} : { details }),
  });
}

/** A 401 `invalid_signature`: nothing of the call may be recorded. */
export function badSignature(provider: HookProvider, message: string): HindsightError {
  return new HindsightError(
    'invalid_signature',
    `${PROVIDER_NAMES[provider]} webhook signature rejected: ${message}. Nothing was recorded.`,
  );
}

/** A header's (first) value, whatever the case of its name. */
export function header(request: HookRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== wanted) continue;
    return text(Array.isArray(value) ? value[0] : value);
  }
  return undefined;
}

/** Constant-time equality of two strings (unequal lengths are simply unequal). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The body as JSON; `invalid_request` when it is not UTF-8 JSON. */
export function parseJson(provider: HookProvider, rawBody: Buffer, hint = ''): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(rawBody));
  } catch {
    throw invalid(provider, `the body is not UTF-8 JSON${hint}`);
  }
}

/** Whether a value is a JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string (numbers as their JSON text), else `undefined`. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** A required string field of a provider object. */
export function required(
  provider: HookProvider,
  record: Record<string, unknown>,
  key: string,
  path: string,
): string {
  const value = text(record[key]);
  if (value === undefined) throw invalid(provider, `"${key}" is missing`, `${path}/${key}`);
  return value;
}

/** RFC 3339 (UTC, milliseconds) of a Unix time in (fractional) seconds. */
export function unixTime(provider: HookProvider, value: unknown, path: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1e11) {
    throw invalid(provider, 'the timestamp is not a Unix time in seconds', path);
  }
  return new Date(Math.round(value * 1000)).toISOString();
}

function checkId(provider: HookProvider, what: string, id: string): void {
  if (id.length > MAX_ID)
    throw invalid(provider, `the ${what} is longer than ${MAX_ID} characters`);
}

/** One line of at most 500 characters, or `undefined` when empty. */
function clean(value: string | undefined): string | undefined {
  const line = value?.replace(BLANK, ' ').trim();
  if (!line) return undefined;
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}
