/**
 * SendGrid's signed Event Webhook: a JSON array of events, signed with ECDSA P-256/SHA-256 over
 * `timestamp + rawBody` (headers `X-Twilio-Email-Event-Webhook-Signature` and `-Timestamp`).
 * Custom arguments appear as top-level keys of each event.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { HindsightError } from '../errors.js';
import {
  badSignature,
  collect,
  type Delivery,
  type DeliveryStatus,
  type HookRequest,
  type HookResult,
  header,
  invalid,
  isRecord,
  parseJson,
  required,
  tenantOf,
  text,
  unixTime,
} from './shared.js';

/** Header with the base64 DER ECDSA signature. */
export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
/** Header with the signed timestamp. */
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

/** `dropped` by `reason`: the suppression list or check that stopped the message. */
const DROPPED: Readonly<Record<string, DeliveryStatus>> = {
  'Bounced Address': 'hard_bounce',
  'Unsubscribed Address': 'unsubscribed',
  'Spam Reporting Address': 'spam',
  Invalid: 'invalid_email',
  'Spam Content': 'blocked',
};

/** The delivery status of a SendGrid event; `null` for engagement and account events. */
function statusOf(event: Record<string, unknown>): DeliveryStatus | null {
  switch (event['event']) {
    case 'processed':
      return 'pending';
    case 'deferred':
      return 'deferred';
    case 'delivered':
      return 'delivered';
    case 'bounce':
      return event['type'] === 'blocked' ? 'blocked' : 'hard_bounce';
    case 'dropped':
      return DROPPED[text(event['reason']) ?? ''] ?? 'internal_error';
    case 'spamreport':
      return 'spam';
    case 'unsubscribe':
    case 'group_unsubscribe':
      return 'unsubscribed';
    default: // open, click, group_resubscribe, account_status_change, anything new
      return null;
  }
}

function reasonOf(event: Record<string, unknown>): string | undefined {
  if (event['event'] === 'deferred') return text(event['response']);
  if (event['event'] === 'group_unsubscribe') {
    const group = text(event['asm_group_id']);
    return group === undefined ? undefined : `unsubscribed from unsubscribe group ${group}`;
  }
  return text(event['reason']);
}

function delivery(item: unknown, index: number, request: HookRequest): Delivery | null {
  const path = `/${index}`;
  if (!isRecord(item)) throw invalid('sendgrid', 'an event is not a JSON object', path);
  const event = required('sendgrid', item, 'event', path);
  const status = statusOf(item);
  if (status === null) return null;
  const sgMessageId = text(item['sg_message_id']);
  const smtpId = text(item['smtp-id'])?.replace(/^<|>$/g, '');
  const messageId =
    text(item['hindsight_message_id']) ?? sgMessageId?.replace(/\.filter.*$/, '') ?? smtpId;
  if (messageId === undefined) {
    throw invalid('sendgrid', 'the event names no message (sg_message_id)', path);
  }
  return {
    provider: 'sendgrid',
    tenant: tenantOf('sendgrid', text(item['hindsight_tenant']), request),
    id: `sendgrid:${required('sendgrid', item, 'sg_event_id', path)}`,
    messageId,
    status,
    providerStatus: event,
    type: 'email',
    address: required('sendgrid', item, 'email', path),
    reason: reasonOf(item),
    providerMessageId: sgMessageId ?? smtpId,
    time: unixTime('sendgrid', item['timestamp'], `${path}/timestamp`),
  };
}

/**
 * Reads the configured key: base64 DER SPKI as SendGrid shows it, or PEM. Throws
 * `internal_error` for anything else (the server checks it on start).
 */
export function sendgridPublicKey(configured: string): KeyObject {
  try {
    return configured.includes('-----BEGIN')
      ? createPublicKey(configured)
      : createPublicKey({ key: Buffer.from(configured, 'base64'), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new HindsightError(
      'internal_error',
      'The configured SendGrid public key (--sendgrid-public-key) is not a base64 DER or PEM ' +
        'public key; copy the verification key from SendGrid again.',
      { cause },
    );
  }
}

/**
 * How old a SendGrid signature may be: SendGrid retries a call it could not deliver for 24
 * hours, and does not say that it signs a retry anew.
 */
export const SENDGRID_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Checks the signature of a call; answers it and its timestamp (unix seconds). */
function checkSignature(
  request: HookRequest,
  configuredKey: string,
  now: Date,
): { signature: string; timestamp: number } {
  const signature = header(request, SENDGRID_SIGNATURE_HEADER);
  const timestamp = header(request, SENDGRID_TIMESTAMP_HEADER);
  if (signature === undefined || timestamp === undefined) {
    throw badSignature(
      'sendgrid',
      `the ${SENDGRID_SIGNATURE_HEADER} and ${SENDGRID_TIMESTAMP_HEADER} headers are required: ` +
        'enable the Signed Event Webhook in SendGrid',
    );
  }
  const key = sendgridPublicKey(configuredKey);
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), request.rawBody]);
  let valid: boolean;
  try {
    valid = verify('sha256', signed, key, Buffer.from(signature, 'base64'));
  } catch {
    valid = false; // not a DER signature at all
  }
  if (!valid) {
    throw badSignature(
      'sendgrid',
      'the signature does not match the body and the configured public key',
    );
  }
  const signedAt = Number(timestamp);
  const age = now.getTime() - signedAt * 1000;
  if (!/^\d{1,12}$/.test(timestamp) || age > SENDGRID_MAX_AGE_MS || age < -MAX_CLOCK_AHEAD_MS) {
    throw badSignature(
      'sendgrid',
      'the signature timestamp is more than 24 hours old, or ahead of the server clock (a ' +
        'replay, or a clock to fix)',
    );
  }
  return { signature, timestamp: signedAt };
}

/** How far ahead of the server's clock a signature may be (the provider's clock drifting). */
const MAX_CLOCK_AHEAD_MS = 15 * 60 * 1000;

/**
 * Events of one SendGrid Event Webhook call; the signature is checked first.
 * @example sendgridEvents(request, 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…')
 */
export function sendgridEvents(request: HookRequest, configuredKey: string, now: Date): HookResult {
  const { signature, timestamp } = checkSignature(request, configuredKey, now);
  const body = parseJson('sendgrid', request.rawBody);
  if (!Array.isArray(body)) throw invalid('sendgrid', 'the body is not a JSON array of events');
  // `?tenant=` is not signed: the signature is good for one call, lest a captured call be
  // sent again to another tenant.
  return {
    ...collect(body.map((item, index) => delivery(item, index, request))),
    signature: { key: signature, untilMs: timestamp * 1000 + SENDGRID_MAX_AGE_MS },
  };
}
