import { generateKeyPairSync, sign } from 'node:crypto';
import { type EventInput, validateEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { HindsightError } from '../errors.js';
import { type HookRequest, hookEvents } from './index.js';

// A key pair like the one SendGrid keeps: we get the public half as base64 DER SPKI.
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const secrets = { sendgridPublicKey: publicKey };
const NOW = new Date('2026-03-01T12:00:00Z');

const base = {
  email: 'example@test.com',
  timestamp: 1513299569,
  'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
  category: 'cat facts',
  sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
};

// The events of SendGrid's "Event Webhook Reference", one of each kind.
const SAMPLE = [
  { ...base, event: 'processed', sg_event_id: 'rbtnWrG1DVDGGGFHFyun0A==' },
  {
    ...base,
    event: 'deferred',
    sg_event_id: 'qK1MxfAaE_ukyyNsjxTpkw==',
    response: '400 try again later',
    attempt: '5',
  },
  { ...base, event: 'delivered', sg_event_id: 'hqFbp3HH9WxIM0R2-x2M1Q==', response: '250 OK' },
  {
    ...base,
    event: 'open',
    sg_event_id: 'FOTFFO0ecsBE-zxFXfs6WA==',
    useragent:
      'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
    ip: '255.255.255.255',
  },
  {
    ...base,
    event: 'click',
    sg_event_id: 'kCAi1KttyQdEKHhdC-nuEA==',
    useragent:
      'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
    ip: '255.255.255.255',
    url: 'http://www.sendgrid.com/',
  },
  {
    ...base,
    event: 'bounce',
    sg_event_id: '6g4ZI7SA-xmRDv57GoPIPw==',
    reason: '500 unknown recipient',
    status: '5.0.0',
    type: 'bounce',
    bounce_classification: 'Invalid Address',
  },
  {
    ...base,
    event: 'bounce',
    sg_event_id: 'H5x3vM0bTqK7cW3OZyXoyw==',
    reason: '421 4.7.0 Our system has detected an unusual rate of unsolicited mail',
    status: '4.7.0',
    type: 'blocked',
    bounce_classification: 'Reputation',
  },
  {
    ...base,
    event: 'dropped',
    sg_event_id: 'zmzJhfJgAfUSOW80yEbPyw==',
    reason: 'Bounced Address',
    status: '5.0.0',
  },
  { ...base, event: 'spamreport', sg_event_id: '37nvH5QBz858KGVYCM4uOA==' },
  { ...base, event: 'unsubscribe', sg_event_id: 'zz_BjPgU_5pS-J8vlfB1sg==' },
  {
    ...base,
    event: 'group_unsubscribe',
    sg_event_id: 'ahSCB7xYcXFb-hEaawsPRw==',
    useragent:
      'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
    ip: '255.255.255.255',
    url: 'http://www.sendgrid.com/',
    asm_group_id: 10,
  },
  {
    ...base,
    event: 'group_resubscribe',
    sg_event_id: 'jWmZXTZbtHTV2-S47asrww==',
    useragent:
      'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
    ip: '255.255.255.255',
    url: 'http://www.sendgrid.com/',
    asm_group_id: 10,
  },
];

/** A webhook call as SendGrid signs it: ECDSA over timestamp + raw body. */
function signed(
  body: string,
  options: {
    query?: Record<string, string>;
    key?: typeof keys.privateKey;
    /** Unix seconds; a minute before NOW by default. */
    signedAt?: number;
  } = {},
): HookRequest {
  const timestamp = String(options.signedAt ?? NOW.getTime() / 1000 - 60);
  const rawBody = Buffer.from(body);
  const signature = sign(
    'sha256',
    Buffer.concat([Buffer.from(timestamp), rawBody]),
    options.key ?? keys.privateKey,
  ).toString('base64');
  const query = options.query ?? { tenant: 'acme' };
  return {
    url: `https://audit.example.com/v1/hooks/sendgrid?${new URLSearchParams(query)}`,
    query,
    headers: {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': timestamp,
    },
    rawBody,
    contentType: 'application/json',
  };
}

function run(request: HookRequest) {
  return hookEvents('sendgrid', request, secrets, NOW);
}

function expectValid(events: EventInput[]) {
  for (const event of events) expect(validateEvent(event, { now: NOW })).toEqual([]);
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

describe('SendGrid Event Webhook', () => {
  it('maps every delivery event of the reference sample and ignores engagement', () => {
    const { events, ignored } = run(signed(JSON.stringify(SAMPLE)));
    expect(ignored).toBe(3); // open, click, group_resubscribe
    expect(
      events.map((e) => [e.metadata?.['providerStatus'], e.status, e.action, e.outcome]),
    ).toEqual([
      ['processed', 'pending', 'message.queued', undefined],
      ['deferred', 'deferred', 'message.deferred', undefined],
      ['delivered', 'delivered', 'message.delivered', undefined],
      ['bounce', 'hard_bounce', 'message.bounced', 'failure'],
      ['bounce', 'blocked', 'message.blocked', 'failure'],
      ['dropped', 'hard_bounce', 'message.bounced', 'failure'],
      ['spamreport', 'spam', 'message.spam_reported', 'failure'],
      ['unsubscribe', 'unsubscribed', 'message.suppressed', 'failure'],
      ['group_unsubscribe', 'unsubscribed', 'message.suppressed', 'failure'],
    ]);
    expectValid(events);
  });

  it('builds the conventional delivery event', () => {
    const { events } = run(signed(JSON.stringify([SAMPLE[5]])));
    expect(events).toEqual([
      {
        tenant: 'acme',
        id: 'sendgrid:6g4ZI7SA-xmRDv57GoPIPw==',
        action: 'message.bounced',
        category: 'communications',
        time: '2017-12-15T00:59:29.000Z',
        actor: { type: 'system' },
        channel: 'system',
        outcome: 'failure',
        status: 'hard_bounce',
        description: 'E-mail to example@test.com: hard bounce (500 unknown recipient)',
        targets: [{ type: 'message', id: '14c5d75ce93.dfd.64b469' }],
        metadata: {
          type: 'email',
          receiver: { address: 'example@test.com' },
          provider: 'sendgrid',
          providerStatus: 'bounce',
          reason: '500 unknown recipient',
          providerMessageId: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
        },
      },
    ]);
  });

  it('keeps reasons: deferral response, drop reason, unsubscribe group; none when delivered', () => {
    const { events } = run(signed(JSON.stringify(SAMPLE)));
    const reasons = events.map((e) => e.metadata?.['reason']);
    expect(reasons).toEqual([
      undefined,
      '400 try again later',
      undefined,
      '500 unknown recipient',
      '421 4.7.0 Our system has detected an unusual rate of unsolicited mail',
      'Bounced Address',
      undefined,
      undefined,
      'unsubscribed from unsubscribe group 10',
    ]);
  });

  it('maps drops by their reason', () => {
    const reasons = {
      'Bounced Address': 'hard_bounce',
      'Unsubscribed Address': 'unsubscribed',
      'Spam Reporting Address': 'spam',
      Invalid: 'invalid_email',
      'Spam Content': 'blocked',
      'Invalid SMTPAPI header': 'internal_error',
      'Recipient List over Package Quota': 'internal_error',
    };
    const batch = Object.keys(reasons).map((reason, i) => ({
      ...base,
      event: 'dropped',
      sg_event_id: `drop-${i}`,
      reason,
    }));
    const { events } = run(signed(JSON.stringify(batch)));
    expect(events.map((e) => e.status)).toEqual(Object.values(reasons));
    expectValid(events);
  });

  it('takes the message id and tenant from custom arguments', () => {
    const event = {
      ...SAMPLE[2],
      hindsight_message_id: 'MSG-300139',
      hindsight_tenant: 'globex',
    };
    const { events } = run(signed(JSON.stringify([event])));
    expect(events[0]?.tenant).toBe('globex');
    expect(events[0]?.targets).toEqual([{ type: 'message', id: 'MSG-300139' }]);
    expect(events[0]?.metadata?.['providerMessageId']).toBe(base.sg_message_id);
  });

  it('gives the same ids to a retried call, so nothing is recorded twice', () => {
    const body = JSON.stringify(SAMPLE);
    const first = run(signed(body)).events.map((e) => e.id);
    const again = run(signed(body)).events.map((e) => e.id);
    expect(again).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    for (const id of first) expect(id).toMatch(/^sendgrid:.{1,119}$/);
  });

  it('refuses a missing, wrong or foreign signature, and a tampered body', () => {
    const body = JSON.stringify(SAMPLE);
    const good = signed(body);
    const unsigned = { ...good, headers: { 'content-type': 'application/json' } };
    const foreign = signed(body, { key: other.privateKey });
    const tampered = { ...good, rawBody: Buffer.from(body.replace('bounce', 'delivered')) };
    const garbage = {
      ...good,
      headers: {
        ...good.headers,
        'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl',
      },
    };
    const otherTime = {
      ...good,
      headers: {
        ...good.headers,
        'x-twilio-email-event-webhook-timestamp': String(NOW.getTime() / 1000 - 59),
      },
    };
    for (const request of [unsigned, foreign, tampered, garbage, otherTime]) {
      const error = thrown(() => run(request));
      expect(error.code).toBe('invalid_signature');
      expect(error.status).toBe(401);
    }
  });

  it('accepts the key as PEM too, and headers in any case', () => {
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const request = signed(JSON.stringify([SAMPLE[2]]));
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([k, v]) => [k.toUpperCase(), v]),
    );
    const { events } = hookEvents(
      'sendgrid',
      { ...request, headers },
      { sendgridPublicKey: pem },
      NOW,
    );
    expect(events).toHaveLength(1);
  });

  it('refuses malformed payloads after the signature holds', () => {
    const cases: [string, string][] = [
      ['{"not":"an array"}', 'not a JSON array'],
      ['[{"event":"delivered"', 'not UTF-8 JSON'],
      ['[42]', 'not a JSON object'],
      [JSON.stringify([{ ...SAMPLE[2], sg_event_id: undefined }]), '"sg_event_id" is missing'],
      [JSON.stringify([{ ...SAMPLE[2], email: undefined }]), '"email" is missing'],
      [JSON.stringify([{ ...SAMPLE[2], timestamp: 'yesterday' }]), 'Unix time'],
    ];
    for (const [body, message] of cases) {
      const error = thrown(() => run(signed(body)));
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(message);
    }
  });

  it('needs a tenant, from the URL or a custom argument', () => {
    const error = thrown(() => run(signed(JSON.stringify([SAMPLE[2]]), { query: {} })));
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('?tenant=');
    const bad = thrown(() =>
      run(signed(JSON.stringify([SAMPLE[2]]), { query: { tenant: 'a b' } })),
    );
    expect(bad.message).toContain('is not a tenant');
  });
});
