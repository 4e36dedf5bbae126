import { createHmac } from 'node:crypto';
import { type EventInput, validateEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { HindsightError } from '../errors.js';
import { type HookRequest, hookEvents } from './index.js';

const SIGNING_KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6-1b2c3d4e-5f6a7b8c';
const secrets = { mailgunSigningKey: SIGNING_KEY };
const TIMESTAMP = 1534110500;
const NOW = new Date((TIMESTAMP + 60) * 1000);

type EventData = Record<string, unknown>;

// "event-data" as Mailgun's webhook payload samples show them (trimmed of routing details).
const delivered: EventData = {
  tags: [],
  timestamp: 1534108637.153125,
  storage: {
    url: 'https://sw.api.mailgun.net/v3/domains/example.org/messages/eyJwI',
    key: 'eyJwI',
  },
  'recipient-domain': 'example.com',
  id: 'hTWCTD81RtiDN-fHTO2FuA',
  campaigns: [],
  'user-variables': {},
  flags: {
    'is-routed': false,
    'is-authenticated': true,
    'is-system-test': false,
    'is-test-mode': false,
  },
  'log-level': 'info',
  envelope: {
    'sending-ip': '209.61.154.250',
    sender: 'test@example.org',
    transport: 'smtp',
    targets: 'recipient@example.com',
  },
  message: {
    headers: {
      to: 'recipient@example.com',
      'message-id': '20180812211713.1.DF5966851B4BAA99@example.org',
      from: 'test@example.org',
      subject: 'Testing',
    },
    attachments: [],
    size: 809,
  },
  recipient: 'recipient@example.com',
  event: 'delivered',
  'delivery-status': {
    tls: true,
    'mx-host': 'smtp-in.example.com',
    'attempt-no': 1,
    description: '',
    'session-seconds': 3.5700838565826416,
    utf8: true,
    code: 250,
    message: 'OK',
    'certificate-verified': true,
  },
};

const bounced: EventData = {
  event: 'failed',
  id: 'G9Bn5sl1TC6nu79C8C0bwg',
  severity: 'permanent',
  reason: 'bounce',
  recipient: 'reception@example.com',
  timestamp: 1534110422.389832,
  'log-level': 'error',
  message: {
    headers: {
      to: 'reception@example.com',
      'message-id': '20180812214658.1.0DF563D0B3597700@example.org',
      from: 'Test Sender <test@example.org>',
      subject: 'This month: 20% off window cleaning',
    },
  },
  'user-variables': { hindsight_message_id: 'MSG-300139', hindsight_tenant: 'globex' },
  'delivery-status': {
    tls: true,
    'mx-host': 'aspmx.l.example.org',
    'attempt-no': 1,
    description: '',
    'session-seconds': 2.952177047729492,
    utf8: true,
    code: 550,
    message:
      '5.1.1 The email account that you tried to reach does not exist. Please try\n' +
      "5.1.1 double-checking the recipient's email address for typos",
    'certificate-verified': true,
  },
};

const suppressed = (reason: string, code: number, description: string): EventData => ({
  event: 'failed',
  id: `suppressed-${code}`,
  severity: 'permanent',
  reason,
  recipient: 'alice@example.com',
  timestamp: 1534110400.5,
  'log-level': 'error',
  message: { headers: { 'message-id': '20130503182626.18666.16540@example.org' } },
  'delivery-status': { 'attempt-no': 1, message: '', code, description, 'session-seconds': 0 },
});

const others: EventData[] = [
  {
    event: 'accepted',
    id: 'CCXMjJ7nQi2N3BPigGOdgQ',
    timestamp: 1534110400.1,
    'log-level': 'info',
    method: 'HTTP',
    recipient: 'recipient@example.com',
    message: { headers: { 'message-id': '20260203192638.000be97f99f8cea1@example.org' } },
  },
  {
    event: 'failed',
    id: 'temporary-1',
    severity: 'temporary',
    reason: 'generic',
    timestamp: 1534110399.659519,
    'log-level': 'warn',
    message: { headers: { 'message-id': '20180812214638.1.4A7D468E9BC18C5D@example.org' } },
    recipient: 'undeliverable@nomx.example.com',
    'delivery-status': {
      'attempt-no': 3,
      description: 'No MX for nomx.example.com',
      'session-seconds': 0,
      'retry-seconds': 1800,
      code: 498,
      message: 'No MX for nomx.example.com',
    },
  },
  suppressed('suppress-bounce', 605, 'Not delivering to previously bounced address'),
  suppressed('suppress-unsubscribe', 606, 'Not delivering to unsubscribed address'),
  suppressed(
    'suppress-complaint',
    607,
    'Not delivering to a user who marked your messages as spam',
  ),
  {
    event: 'rejected',
    id: 'rejected-1',
    timestamp: 1529704976.104692,
    'log-level': 'warn',
    reject: { reason: 'Sandbox subdomains are for test purposes only.', description: '' },
    message: {
      headers: {
        to: 'Recipient Name <recipient@example.org>',
        'message-id': '20180622220256.1.B31A451A2E5422BB@sandbox55887.mailgun.org',
      },
    },
  },
  {
    event: 'complained',
    id: 'ncV2XwymRUKbPek_MIM-Gw',
    timestamp: 1377214260.049634,
    'log-level': 'warn',
    recipient: 'recipient@example.com',
    message: { headers: { 'message-id': '20130718032413.263EE2E0926@example.org' } },
  },
  {
    event: 'unsubscribed',
    id: 'W3X4JOhFT-OZidZGKKr9iA',
    timestamp: 1377213791.421473,
    'log-level': 'info',
    recipient: 'recipient@example.com',
    message: { headers: { 'message-id': '20130822232216.13966.79700@samples.mailgun.org' } },
  },
];

/** A call as Mailgun signs it: hex HMAC-SHA256 of timestamp + token, inside the body. */
function call(
  data: EventData | undefined,
  options: { key?: string; timestamp?: number; query?: Record<string, string> } = {},
): HookRequest {
  const timestamp = String(options.timestamp ?? TIMESTAMP);
  const token = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0';
  const signature = createHmac('sha256', options.key ?? SIGNING_KEY)
    .update(timestamp + token)
    .digest('hex');
  const query = options.query ?? { tenant: 'acme' };
  return {
    url: 'https://audit.example.com/v1/hooks/mailgun?tenant=acme',
    query,
    headers: { 'content-type': 'application/json' },
    rawBody: Buffer.from(
      JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': data }),
    ),
    contentType: 'application/json',
  };
}

function run(request: HookRequest, now = NOW) {
  return hookEvents('mailgun', request, secrets, now);
}

function only(request: HookRequest): EventInput {
  const { events, ignored } = run(request);
  expect(ignored).toBe(0);
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event === undefined) throw new Error('no event');
  expect(validateEvent(event, { now: NOW })).toEqual([]);
  return event;
}

function thrown(action: () => unknown): HindsightError {
  try {
    action();
  } catch (error) {
    if (error instanceof HindsightError) return error;
    throw error;
  }
  throw new Error('expected a HindsightError');
}

describe('Mailgun webhooks', () => {
  it('records a delivery with the provider message id, subject and event time', () => {
    expect(only(call(delivered))).toEqual({
      tenant: 'acme',
      id: 'mailgun:hTWCTD81RtiDN-fHTO2FuA:1534108637.153125',
      action: 'message.delivered',
      category: 'communications',
      time: '2018-08-12T21:17:17.153Z',
      actor: { type: 'system' },
      channel: 'system',
      status: 'delivered',
      description: 'E-mail "Testing" to recipient@example.com: delivered',
      targets: [
        { type: 'message', id: '20180812211713.1.DF5966851B4BAA99@example.org', name: 'Testing' },
      ],
      metadata: {
        type: 'email',
        subject: 'Testing',
        receiver: { address: 'recipient@example.com' },
        provider: 'mailgun',
        providerStatus: 'delivered',
        providerMessageId: '20180812211713.1.DF5966851B4BAA99@example.org',
      },
    });
  });

  it('records a hard bounce under our message id and tenant from user variables', () => {
    const event = only(call(bounced));
    expect(event).toMatchObject({
      tenant: 'globex',
      id: 'mailgun:G9Bn5sl1TC6nu79C8C0bwg:1534110422.389832',
      action: 'message.bounced',
      outcome: 'failure',
      status: 'hard_bounce',
      targets: [{ type: 'message', id: 'MSG-300139' }],
      description:
        'E-mail "This month: 20% off window cleaning" to reception@example.com: hard bounce ' +
        '(550 5.1.1 The email account that you tried to reach does not exist. Please try 5.1.1 ' +
        "double-checking the recipient's email address for typos)",
    });
    expect(event.metadata?.['providerMessageId']).toBe(
      '20180812214658.1.0DF563D0B3597700@example.org',
    );
  });

  it('maps every delivery event', () => {
    const mapped = others.map((data) => {
      const event = only(call(data));
      return [data['event'], event.status, event.action, event.outcome, event.metadata?.['reason']];
    });
    expect(mapped).toEqual([
      ['accepted', 'pending', 'message.queued', undefined, undefined],
      ['failed', 'deferred', 'message.deferred', undefined, '498 No MX for nomx.example.com'],
      [
        'failed',
        'hard_bounce',
        'message.bounced',
        'failure',
        '605 Not delivering to previously bounced address',
      ],
      [
        'failed',
        'unsubscribed',
        'message.suppressed',
        'failure',
        '606 Not delivering to unsubscribed address',
      ],
      [
        'failed',
        'spam',
        'message.spam_reported',
        'failure',
        '607 Not delivering to a user who marked your messages as spam',
      ],
      [
        'rejected',
        'internal_error',
        'message.failed',
        'failure',
        'Sandbox subdomains are for test purposes only.',
      ],
      ['complained', 'spam', 'message.spam_reported', 'failure', undefined],
      ['unsubscribed', 'unsubscribed', 'message.suppressed', 'failure', undefined],
    ]);
  });

  it('takes the receiver of a rejected message from its To header', () => {
    const event = only(call(others[5] ?? {}));
    expect(event.metadata?.['receiver']).toEqual({ address: 'recipient@example.org' });
  });

  it('ignores opens and clicks', () => {
    for (const event of ['opened', 'clicked']) {
      const data = { ...delivered, event, id: `${event}-1` };
      expect(run(call(data))).toMatchObject({ events: [], ignored: 1 });
    }
  });

  it('gives a retried call the same event id', () => {
    const a = only(call(bounced));
    const b = only(call(bounced, { timestamp: TIMESTAMP + 30 }));
    expect(b.id).toBe(a.id);
  });

  it('refuses a missing or wrong signature, a tampered body and a stale timestamp', () => {
    const good = call(bounced);
    const body = JSON.parse(good.rawBody.toString()) as Record<string, unknown>;
    const withBody = (value: unknown) => ({ ...good, rawBody: Buffer.from(JSON.stringify(value)) });
    const cases: [HookRequest, Date, string][] = [
      [withBody({ 'event-data': bounced }), NOW, 'no "signature"'],
      [call(bounced, { key: 'another-key' }), NOW, 'does not match'],
      [
        withBody({
          ...body,
          signature: { ...(body['signature'] as object), token: 'x'.repeat(50) },
        }),
        NOW,
        'does not match',
      ],
      [call(bounced), new Date((TIMESTAMP + 16 * 60) * 1000), 'more than 15 minutes'],
      [call(bounced), new Date((TIMESTAMP - 16 * 60) * 1000), 'more than 15 minutes'],
    ];
    for (const [request, now, message] of cases) {
      const error = thrown(() => run(request, now));
      expect(error.code).toBe('invalid_signature');
      expect(error.status).toBe(401);
      expect(error.message).toContain(message);
    }
    expect(run(call(bounced), new Date((TIMESTAMP + 14 * 60) * 1000)).events).toHaveLength(1);
  });

  it('refuses a body that is not JSON, and malformed event data', () => {
    const form = {
      ...call(delivered),
      rawBody: Buffer.from('event=delivered&recipient=a%40example.com'),
      contentType: 'application/x-www-form-urlencoded',
    };
    expect(thrown(() => run(form)).message).toContain('legacy');
    const cases: [EventData | undefined, string][] = [
      [undefined, '"event-data" is missing'],
      [{}, '"event" is missing'],
      [{ ...delivered, id: undefined }, '"id" is missing'],
      [{ ...delivered, recipient: undefined, message: {} }, 'names no message'],
      [{ ...delivered, timestamp: '2018-08-12' }, 'Unix time'],
    ];
    for (const [data, message] of cases) {
      const error = thrown(() => run(call(data)));
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(message);
    }
  });

  it('needs a tenant', () => {
    const error = thrown(() => run(call(delivered, { query: {} })));
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('hindsight_tenant');
  });
});
