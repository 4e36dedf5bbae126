/**
 * Mailgun webhooks: one JSON event per call, `{ signature: { timestamp, token, signature },
 * "event-data": {...} }`, where `signature` is hex HMAC-SHA256(signing key, timestamp + token).
 * User variables (`event-data["user-variables"]`) carry our message id and tenant.
 */
import { createHmac } from 'node:crypto';
import {
  badSignature,
  collect,
  type Delivery,
  type DeliveryStatus,
  type HookRequest,
  type HookResult,
  invalid,
  isRecord,
  parseJson,
  required,
  safeEqual,
  tenantOf,
  text,
  unixTime,
} from './shared.js';

/** How far the signature's timestamp may be from the server's clock. */
export const MAILGUN_MAX_AGE_MS = 15 * 60 * 1000;

/** Permanent `failed` events by `reason`; others are hard bounces. */
const PERMANENT: Readonly<Record<string, DeliveryStatus>> = {
  'suppress-bounce': 'hard_bounce',
  'suppress-unsubscribe': 'unsubscribed',
  'suppress-complaint': 'spam',
  espblock: 'blocked',
  old: 'soft_bounce',
};

/** The delivery status of a Mailgun event; `null` for engagement and other events. */
function statusOf(data: Record<string, unknown>): DeliveryStatus | null {
  switch (data['event']) {
    case 'accepted':
      return 'pending';
    case 'delivered':
      return 'delivered';
    case 'failed':
      if (data['severity'] === 'temporary') return 'deferred';
      return PERMANENT[text(data['reason']) ?? ''] ?? 'hard_bounce';
    case 'rejected':
      return 'internal_error';
    case 'complained':
      return 'spam';
    case 'unsubscribed':
      return 'unsubscribed';
    default: // opened, clicked, stored, list events, anything new
      return null;
  }
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function reasonOf(data: Record<string, unknown>): string | undefined {
  if (data['event'] === 'rejected') {
    const reject = record(data['reject']);
    return text(reject['reason']) ?? text(reject['description']);
  }
  if (data['event'] !== 'failed') return undefined;
  const status = record(data['delivery-status']);
  const message = text(status['message']) ?? text(status['description']) ?? text(data['reason']);
  const code = text(status['code']);
  if (code === undefined || message === undefined) return message ?? code;
  return message.startsWith(code) ? message : `${code} ${message}`;
}

/** The address in `Name <address>`, or the whole text. */
function addressIn(value: string | undefined): string | undefined {
  return value?.match(/<([^<>]+)>/)?.[1] ?? value;
}

function delivery(data: Record<string, unknown>, request: HookRequest): Delivery | null {
  const path = '/event-data';
  const event = required('mailgun', data, 'event', path);
  const status = statusOf(data);
  if (status === null) return null;
  const variables = record(data['user-variables']);
  const headers = record(record(data['message'])['headers']);
  const providerMessageId = text(headers['message-id']);
  const messageId = text(variables['hindsight_message_id']) ?? providerMessageId;
  if (messageId === undefined) {
    throw invalid('mailgun', 'the event names no message (message.headers.message-id)', path);
  }
  const address = text(data['recipient']) ?? addressIn(text(headers['to']));
  if (address === undefined)
    throw invalid('mailgun', '"recipient" is missing', `${path}/recipient`);
  return {
    provider: 'mailgun',
    tenant: tenantOf('mailgun', text(variables['hindsight_tenant']), request),
    // Mailgun promises ids unique within a day only: the timestamp makes them unique for good.
    id: `mailgun:${required('mailgun', data, 'id', path)}:${String(data['timestamp'])}`,
    messageId,
    status,
    providerStatus: event,
    type: 'email',
    address,
    reason: reasonOf(data),
    providerMessageId,
    subject: text(headers['subject']),
    time: unixTime('mailgun', data['timestamp'], `${path}/timestamp`),
  };
}

/** Checks the signature of a call; answers its token and timestamp (unix seconds). */
function checkSignature(
  body: Record<string, unknown>,
  signingKey: string,
  now: Date,
): { token: string; timestamp: number } {
  const signature = record(body['signature']);
  const timestamp = text(signature['timestamp']);
  const token = text(signature['token']);
  const given = text(signature['signature']);
  if (timestamp === undefined || token === undefined || given === undefined) {
    throw badSignature('mailgun', 'the body has no "signature": { timestamp, token, signature }');
  }
  const expected = createHmac('sha256', signingKey)
    .update(timestamp + token)
    .digest('hex');
  if (!safeEqual(expected, given.toLowerCase())) {
    throw badSignature('mailgun', 'the signature does not match the configured signing key');
  }
  const age = now.getTime() - Number(timestamp) * 1000;
  if (!(Math.abs(age) <= MAILGUN_MAX_AGE_MS)) {
    throw badSignature(
      'mailgun',
      'the signature timestamp is more than 15 minutes from the server clock (a replay, or a ' +
        'clock to fix)',
    );
  }
  return { token, timestamp: Number(timestamp) };
}

/**
 * Events of one Mailgun webhook call. The signature sits in the JSON body, so the body is parsed
 * first; nothing is read from `event-data` before the signature holds.
 * @example mailgunEvents(request, 'key-…', new Date())
 */
export function mailgunEvents(request: HookRequest, signingKey: string, now: Date): HookResult {
  const body = parseJson(
    'mailgun',
    request.rawBody,
    ' (the legacy form-encoded Mailgun webhooks are not supported)',
  );
  if (!isRecord(body)) throw invalid('mailgun', 'the body is not a JSON object');
  const { token, timestamp } = checkSignature(body, signingKey, now);
  const data = body['event-data'];
  if (!isRecord(data)) throw invalid('mailgun', '"event-data" is missing', '/event-data');
  // The signature covers the timestamp and token only, not the events: a token is good for one
  // call (Mailgun's advice), until the signature is too old anyway.
  return {
    ...collect([delivery(data, request)]),
    signature: { key: token, untilMs: timestamp * 1000 + MAILGUN_MAX_AGE_MS },
  };
}
