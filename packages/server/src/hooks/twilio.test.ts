import { createHmac } from 'node:crypto';
import { type EventInput, validateEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { HindsightError } from '../errors.js';
import { type HookRequest, hookEvents } from './index.js';
import { twilioSignature } from './twilio.js';

const AUTH_TOKEN = '9f86d081884c7d659a2feaa0c55ad015';
const secrets = { twilioAuthToken: AUTH_TOKEN };
const URL_BASE = 'https://audit.example.com/v1/hooks/twilio';
const NOW = new Date('2026-03-01T12:00:00Z');

/** The parameters of a Messaging status callback, as Twilio's guide lists them. */
function params(status: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    ApiVersion: '2010-04-01',
    From: '+15017122661',
    MessageSid: 'SM1342fe1b2c904d1ab04f0fc7a58abca9',
    MessageStatus: status,
    SmsSid: 'SM1342fe1b2c904d1ab04f0fc7a58abca9',
    SmsStatus: status,
    To: '+15558675310',
    ...extra,
  };
}

/** A status callback as Twilio signs it: HMAC-SHA1 of URL + sorted key/value pairs. */
function callback(
  body: Record<string, string>,
  options: { query?: Record<string, string>; token?: string; url?: string } = {},
): HookRequest {
  const query = options.query ?? { tenant: 'acme', message: 'MSG-300139' };
  const url = options.url ?? `${URL_BASE}?${new URLSearchParams(query)}`;
  const signed =
    url +
    Object.keys(body)
      .sort()
      .map((key) => key + body[key])
      .join('');
  return {
    url,
    query,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': createHmac('sha1', options.token ?? AUTH_TOKEN)
        .update(signed)
        .digest('base64'),
    },
    rawBody: Buffer.from(new URLSearchParams(body).toString()),
    contentType: 'application/x-www-form-urlencoded; charset=utf-8',
  };
}

function run(request: HookRequest) {
  return hookEvents('twilio', request, secrets, NOW);
}

function only(request: HookRequest): EventInput {
  const { events, ignored } = run(request);
  expect(ignored).toBe(0);
  const [event] = events;
  if (event === undefined || events.length !== 1) throw new Error('expected one event');
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

describe('twilioSignature', () => {
  it("matches the worked example of Twilio's request-validation docs", () => {
    const example = new URLSearchParams({
      CallSid: 'CA1234567890ABCDE',
      Caller: '+14158675309',
      Digits: '1234',
      From: '+14158675309',
      To: '+18005551212',
    });
    expect(twilioSignature('https://mycompany.com/myapp.php?foo=1&bar=2', example, '12345')).toBe(
      'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
    );
  });
});

describe('Twilio status callbacks', () => {
  it('records a delivery under the message id of the callback URL, without a time', () => {
    expect(only(callback(params('delivered')))).toEqual({
      tenant: 'acme',
      id: 'twilio:SM1342fe1b2c904d1ab04f0fc7a58abca9:delivered',
      action: 'message.delivered',
      category: 'communications',
      actor: { type: 'system' },
      channel: 'system',
      status: 'delivered',
      description: 'SMS to +15558675310: delivered',
      targets: [{ type: 'message', id: 'MSG-300139' }],
      metadata: {
        type: 'sms',
        receiver: { address: '+15558675310' },
        provider: 'twilio',
        providerStatus: 'delivered',
        providerMessageId: 'SM1342fe1b2c904d1ab04f0fc7a58abca9',
      },
    });
  });

  it('maps every message status', () => {
    const cases: [string, string, string][] = [
      ['accepted', 'pending', 'message.queued'],
      ['scheduled', 'pending', 'message.queued'],
      ['queued', 'pending', 'message.queued'],
      ['sending', 'pending', 'message.queued'],
      ['sent', 'sent', 'message.dispatched'],
      ['delivered', 'delivered', 'message.delivered'],
      ['undelivered', 'external_error', 'message.failed'],
      ['failed', 'internal_error', 'message.failed'],
      ['canceled', 'internal_error', 'message.failed'],
    ];
    for (const [twilio, status, action] of cases) {
      const event = only(callback(params(twilio)));
      expect([event.status, event.action], twilio).toEqual([status, action]);
    }
  });

  it('never turns a provider "sent" report into message.sent', () => {
    const event = only(callback(params('sent')));
    expect(event.action).toBe('message.dispatched');
    expect(event.outcome).toBeUndefined();
    expect(event.description).toBe('SMS to +15558675310: sent');
  });

  it('refines failures by ErrorCode and keeps it as the reason', () => {
    const cases: [string, string, string, string][] = [
      ['undelivered', '30003', 'external_error', '30003 Unreachable destination handset'],
      ['undelivered', '30005', 'external_error', '30005 Unknown destination handset'],
      ['undelivered', '30006', 'external_error', '30006 Landline or unreachable carrier'],
      ['undelivered', '30007', 'blocked', '30007 Message filtered'],
      ['failed', '21610', 'unsubscribed', '21610 Attempt to send to unsubscribed recipient'],
      ['failed', '30001', 'internal_error', '30001 Queue overflow'],
      ['failed', '30034', 'internal_error', '30034 Twilio error'],
    ];
    for (const [twilio, code, status, reason] of cases) {
      const event = only(callback(params(twilio, { ErrorCode: code })));
      expect(event.outcome).toBe('failure');
      expect([event.status, event.metadata?.['reason']], code).toEqual([status, reason]);
      expect(event.description).toContain(`(${reason})`);
    }
  });

  it('ignores read receipts and inbound statuses', () => {
    for (const status of ['read', 'received', 'receiving']) {
      expect(run(callback(params(status)))).toEqual({ events: [], ignored: 1 });
    }
  });

  it('falls back to the MessageSid without ?message=', () => {
    const event = only(callback(params('sent'), { query: { tenant: 'acme' } }));
    expect(event.targets).toEqual([{ type: 'message', id: 'SM1342fe1b2c904d1ab04f0fc7a58abca9' }]);
  });

  it('gives one id per message and status, the same on a retry', () => {
    const ids = ['queued', 'sent', 'delivered', 'delivered'].map(
      (status) => only(callback(params(status))).id,
    );
    expect(ids).toEqual([
      'twilio:SM1342fe1b2c904d1ab04f0fc7a58abca9:queued',
      'twilio:SM1342fe1b2c904d1ab04f0fc7a58abca9:sent',
      'twilio:SM1342fe1b2c904d1ab04f0fc7a58abca9:delivered',
      'twilio:SM1342fe1b2c904d1ab04f0fc7a58abca9:delivered',
    ]);
  });

  it('refuses a missing or wrong signature, a tampered body and another URL', () => {
    const good = callback(params('delivered'));
    const cases: HookRequest[] = [
      { ...good, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      callback(params('delivered'), { token: 'another token' }),
      { ...good, rawBody: Buffer.from(good.rawBody.toString().replace('delivered', 'failed')) },
      { ...good, url: `${URL_BASE}?tenant=acme&message=MSG-1` },
      { ...good, url: good.url.replace('https:', 'http:') },
    ];
    for (const request of cases) {
      const error = thrown(() => run(request));
      expect(error.code).toBe('invalid_signature');
      expect(error.status).toBe(401);
    }
  });

  it('refuses a signed call that is not a status callback', () => {
    const json = { ...callback(params('delivered')), contentType: 'application/json' };
    expect(thrown(() => run(json)).code).toBe('invalid_request');
    const { MessageSid, SmsSid, ...noSid } = params('delivered');
    expect(thrown(() => run(callback(noSid))).message).toContain('MessageSid');
    const { To, ...noTo } = params('delivered');
    expect(thrown(() => run(callback(noTo))).message).toContain('"To" is missing');
  });

  it('needs ?tenant= in the callback URL', () => {
    const error = thrown(() => run(callback(params('sent'), { query: { message: 'MSG-1' } })));
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('?tenant=');
  });
});
