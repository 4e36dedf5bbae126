/**
 * Twilio Messaging status callbacks: one form-encoded POST per status change of a message,
 * signed in `X-Twilio-Signature` = base64 HMAC-SHA1(auth token, URL + sorted key+value pairs).
 * Our message id and tenant travel in the status-callback URL (`?tenant=acme&message=MSG-1`).
 */
import { createHmac } from 'node:crypto';
import {
  badSignature,
  collect,
  type DeliveryStatus,
  type HookRequest,
  type HookResult,
  header,
  invalid,
  safeEqual,
  tenantOf,
  text,
} from './shared.js';

/** The header with Twilio's signature. */
export const TWILIO_SIGNATURE_HEADER = 'X-Twilio-Signature';

/** Well-known error codes that say more than the status; text as in Twilio's error list. */
const ERRORS: Readonly<Record<string, { status: DeliveryStatus; text: string }>> = {
  '21610': { status: 'unsubscribed', text: 'Attempt to send to unsubscribed recipient' },
  '30001': { status: 'internal_error', text: 'Queue overflow' },
  '30002': { status: 'internal_error', text: 'Account suspended' },
  '30003': { status: 'external_error', text: 'Unreachable destination handset' },
  '30004': { status: 'blocked', text: 'Message blocked' },
  '30005': { status: 'external_error', text: 'Unknown destination handset' },
  '30006': { status: 'external_error', text: 'Landline or unreachable carrier' },
  '30007': { status: 'blocked', text: 'Message filtered' },
  '30008': { status: 'external_error', text: 'Unknown error' },
};

/** The delivery status of a Twilio `MessageStatus`; `null` for read receipts and inbound. */
function statusOf(status: string, errorCode: string | undefined): DeliveryStatus | null {
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
    case 'sending':
      return 'pending';
    case 'sent':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'undelivered':
      return ERRORS[errorCode ?? '']?.status ?? 'external_error';
    case 'failed':
      return ERRORS[errorCode ?? '']?.status ?? 'internal_error';
    case 'canceled':
      return 'internal_error';
    default: // read, receiving, received, anything new
      return null;
  }
}

function reasonOf(
  status: string,
  errorCode: string | undefined,
  errorMessage: string | undefined,
): string | undefined {
  if (status === 'canceled') return 'canceled before it was sent';
  if (errorCode === undefined) return errorMessage;
  return `${errorCode} ${errorMessage ?? ERRORS[errorCode]?.text ?? 'Twilio error'}`;
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The `X-Twilio-Signature` Twilio computes for a form POST to `url`.
 * @example twilioSignature('https://mycompany.com/myapp.php?foo=1&bar=2', params, '12345')
 */
export function twilioSignature(url: string, params: URLSearchParams, authToken: string): string {
  const pairs = [...params].sort(([a, x], [b, y]) => order(a, b) || order(x, y));
  const signed = url + pairs.map(([key, value]) => key + value).join('');
  return createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
}

/**
 * Events of one Twilio status callback (zero or one); the signature is checked first.
 * @example twilioEvents(request, '9f86d081884c7d659a2feaa0c55ad015')
 */
export function twilioEvents(request: HookRequest, authToken: string): HookResult {
  const params = new URLSearchParams(request.rawBody.toString('utf8'));
  const given = header(request, TWILIO_SIGNATURE_HEADER);
  if (given === undefined) {
    throw badSignature('twilio', `the ${TWILIO_SIGNATURE_HEADER} header is missing`);
  }
  if (!safeEqual(twilioSignature(request.url, params, authToken), given)) {
    throw badSignature(
      'twilio',
      'the signature does not match: check the auth token and that --public-url gives the URL ' +
        'Twilio called',
    );
  }
  if (
    request.contentType.split(';')[0]?.trim().toLowerCase() !== 'application/x-www-form-urlencoded'
  ) {
    throw invalid('twilio', 'a status callback is application/x-www-form-urlencoded');
  }
  const param = (key: string) => text(params.get(key));
  const sid = param('MessageSid') ?? param('SmsSid');
  const providerStatus = param('MessageStatus') ?? param('SmsStatus');
  if (sid === undefined || providerStatus === undefined) {
    throw invalid(
      'twilio',
      'MessageSid and MessageStatus are required (a message status callback)',
    );
  }
  const errorCode = param('ErrorCode');
  const status = statusOf(providerStatus, errorCode);
  if (status === null) return collect([null]);
  const address = param('To');
  if (address === undefined) throw invalid('twilio', '"To" is missing', '/To');
  return collect([
    {
      provider: 'twilio',
      tenant: tenantOf('twilio', undefined, request),
      id: `twilio:${sid}:${providerStatus}`,
      messageId: text(request.query['message']) ?? param('message') ?? sid,
      status,
      providerStatus,
      type: 'sms',
      address,
      reason: reasonOf(providerStatus, errorCode, param('ErrorMessage')),
      providerMessageId: sid,
    },
  ]);
}
