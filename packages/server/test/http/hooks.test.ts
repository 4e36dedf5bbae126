/**
 * `POST /v1/hooks/{provider}` over the real app and store: signed provider webhooks become
 * delivery events that the messages view shows; a bad signature records nothing; a signature
 * used on another call is refused by every server on the store, also after a restart.
 */
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import type { HookOptions } from '../../src/http/hook-routes.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { type TestApp, tempDir, testApp, testEnricher } from '../helpers.js';
import { providedPostgres, testDatabase } from '../postgres.js';

const MAILGUN_KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
const TWILIO_TOKEN = '12345abcde12345abcde12345abcde12';
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SENDGRID_PUBLIC = sendgridKeys.publicKey
  .export({ type: 'spki', format: 'der' })
  .toString('base64');
const PUBLIC_URL = 'https://audit.example.com';

const HOOKS: HookOptions = {
  mailgunSigningKey: MAILGUN_KEY,
  twilioAuthToken: TWILIO_TOKEN,
  sendgridPublicKey: SENDGRID_PUBLIC,
  publicUrl: PUBLIC_URL,
};

let t: TestApp;
let bare: TestApp;
beforeAll(async () => {
  t = await testApp(undefined, HOOKS);
  bare = await testApp();
  const sent = await t.post({
    tenant: 'hooks-co',
    category: 'communications',
    action: 'message.sent',
    status: 'sent',
    actor: { type: 'system' },
    channel: 'system',
    targets: [{ type: 'message', id: 'MSG-7' }],
    metadata: {
      type: 'email',
      mode: 'automated',
      receivers: [
        { name: 'Ann', address: 'ann@example.com' },
        { name: 'Bob', address: 'bob@example.com' },
        { name: 'Cy', address: '+15558675310' },
      ],
    },
  });
  expect(sent.statusCode).toBe(202);
});
afterAll(async () => {
  await t.close();
  await bare.close();
});

function mailgunBody(event: string, recipient: string, id: string, signingKey = MAILGUN_KEY) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  // Mailgun gives every call a token of its own.
  const token = randomBytes(25).toString('hex');
  return {
    signature: {
      timestamp,
      token,
      signature: createHmac('sha256', signingKey)
        .update(timestamp + token)
        .digest('hex'),
    },
    'event-data': {
      event,
      id,
      timestamp: Date.now() / 1000,
      'log-level': event === 'failed' ? 'error' : 'info',
      ...(event === 'failed'
        ? {
            severity: 'permanent',
            reason: 'bounce',
            'delivery-status': { code: 550, message: 'No such user', description: '' },
          }
        : { 'delivery-status': { code: 250, message: 'OK', description: '' } }),
      recipient,
      'user-variables': { hindsight_message_id: 'MSG-7', hindsight_tenant: 'hooks-co' },
      message: {
        headers: {
          'message-id': '20260101.1@mg.example.com',
          to: recipient,
          subject: 'Visit reminder',
        },
      },
    },
  };
}

function post(
  app: { readonly app: FastifyInstance },
  url: string,
  payload: string,
  headers: Record<string, string>,
) {
  return app.app.inject({ method: 'POST', url, payload, headers });
}

async function receivers() {
  const res = await t.get('/v1/tenants/hooks-co/messages/MSG-7');
  return Object.fromEntries(
    (res.json().receiverList as Array<{ address: string; status: string }>).map((r) => [
      r.address,
      r.status,
    ]),
  );
}

describe('POST /v1/hooks/{provider}', () => {
  it('records signed Mailgun reports once, and the message view shows them', async () => {
    const body = JSON.stringify(mailgunBody('failed', 'bob@example.com', 'Ase-ZlLwQ1uXGmMnUTPnSw'));
    const headers = { 'content-type': 'application/json' };
    const res = await post(t, '/v1/hooks/mailgun', body, headers);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ recorded: 1, ignored: 0 });
    // The provider retries: nothing new is stored.
    expect((await post(t, '/v1/hooks/mailgun', body, headers)).statusCode).toBe(200);
    const events = (await t.get('/v1/tenants/hooks-co/events?action=message.bounced')).json()
      .events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      status: 'hard_bounce',
      outcome: 'failure',
      channel: 'system',
    });
    expect((await receivers())['bob@example.com']).toBe('hard_bounce');
    const opened = JSON.stringify(mailgunBody('opened', 'bob@example.com', 'Opened-1'));
    expect((await post(t, '/v1/hooks/mailgun', opened, headers)).json()).toEqual({
      recorded: 0,
      ignored: 1,
    });
  });

  it('refuses a Mailgun signature on another call (its events are not signed), not a retry', async () => {
    const headers = { 'content-type': 'application/json' };
    const genuine = mailgunBody('delivered', 'carl@example.com', 'Replay-1');
    genuine['event-data']['user-variables'] = {
      hindsight_message_id: 'M',
      hindsight_tenant: 'replays',
    };
    const body = JSON.stringify(genuine);
    expect((await post(t, '/v1/hooks/mailgun', body, headers)).statusCode).toBe(200);
    // The same call again (a retry whose answer was lost) is fine.
    expect((await post(t, '/v1/hooks/mailgun', body, headers)).statusCode).toBe(200);
    const forged = mailgunBody('failed', 'ceo@acme.test', 'Forged-1');
    forged.signature = genuine.signature;
    forged['event-data']['user-variables'] = {
      hindsight_message_id: 'M',
      hindsight_tenant: 'victim',
    };
    const res = await post(t, '/v1/hooks/mailgun', JSON.stringify(forged), headers);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error).toMatchObject({
      code: 'invalid_signature',
      message: expect.stringContaining('this signature was used already, on another call'),
    });
    expect((await t.get('/v1/tenants/victim/events')).json().events).toEqual([]);
  });

  it('refuses a SendGrid signature on another call (?tenant= is not signed), and a too old one', async () => {
    const body = sendgridDelivered('replay-sg-1', 'replay.filter0001', 'MSG-8');
    const headers = sendgridHeaders(body);
    expect((await post(t, '/v1/hooks/sendgrid?tenant=replays', body, headers)).statusCode).toBe(
      200,
    );
    const replayed = await post(t, '/v1/hooks/sendgrid?tenant=victim', body, headers);
    expect(replayed.statusCode, replayed.body).toBe(401);
    expect(replayed.json().error.code).toBe('invalid_signature');
    expect((await t.get('/v1/tenants/victim/events')).json().events).toEqual([]);
    const old = sendgridHeaders(body, Math.floor(Date.now() / 1000) - 25 * 3600);
    const stale = await post(t, '/v1/hooks/sendgrid?tenant=replays', body, old);
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.message).toContain('more than 24 hours old');
  });

  it('records a signed SendGrid batch', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify([
      {
        email: 'ann@example.com',
        timestamp: Math.floor(Date.now() / 1000),
        'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
        event: 'delivered',
        category: ['cat facts'],
        sg_event_id: 'rbtnWrG1DVDGGGFHFyun0A==',
        sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
        response: '250 OK',
        hindsight_message_id: 'MSG-7',
        hindsight_tenant: 'hooks-co',
      },
    ]);
    const signature = sign(
      'sha256',
      Buffer.from(timestamp + body),
      sendgridKeys.privateKey,
    ).toString('base64');
    const res = await post(t, '/v1/hooks/sendgrid', body, {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': timestamp,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ recorded: 1, ignored: 0 });
    expect((await receivers())['ann@example.com']).toBe('delivered');
  });

  it('records a signed Twilio status callback sent as a form', async () => {
    const path = '/v1/hooks/twilio?tenant=hooks-co&message=MSG-7';
    const params = {
      AccountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      ApiVersion: '2010-04-01',
      From: '+15017122661',
      MessageSid: 'SM1342fe1b2c904d1ab04f0fc7a58abca9',
      MessageStatus: 'delivered',
      SmsSid: 'SM1342fe1b2c904d1ab04f0fc7a58abca9',
      SmsStatus: 'delivered',
      To: '+15558675310',
    };
    const signed =
      PUBLIC_URL +
      path +
      Object.entries(params)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => k + v)
        .join('');
    const res = await post(t, path, new URLSearchParams(params).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': createHmac('sha1', TWILIO_TOKEN).update(signed).digest('base64'),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((await receivers())['+15558675310']).toBe('delivered');
  });

  it('refuses a bad signature with 401 and records nothing', async () => {
    const forged = JSON.stringify(
      mailgunBody('delivered', 'bob@example.com', 'Forged-1', 'key-wrong'),
    );
    const res = await post(t, '/v1/hooks/mailgun', forged, { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_signature');
    const twilio = await post(
      t,
      '/v1/hooks/twilio?tenant=hooks-co',
      'MessageSid=SM1&MessageStatus=failed&To=%2B1',
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl',
      },
    );
    expect(twilio.statusCode).toBe(401);
    expect((await receivers())['bob@example.com']).toBe('hard_bounce');
    expect(
      (await t.get('/v1/tenants/hooks-co/events?action=message.delivered')).json().events,
    ).toHaveLength(2);
  });

  it('answers 404 for a provider this server has no secret for', async () => {
    const body = JSON.stringify(mailgunBody('delivered', 'bob@example.com', 'X-1'));
    const res = await post(bare, '/v1/hooks/mailgun', body, { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('hook_not_configured');
    expect(
      (await post(bare, '/v1/hooks/postmark', '{}', { 'content-type': 'application/json' }))
        .statusCode,
    ).toBe(400);
  });

  it('takes form bodies only on the webhook route', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: 'tenant=acme&action=user.created',
      headers: {
        authorization: `Bearer ${t.admin}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });
});

/** A Mailgun call of one delivery report of message M to `tenant` (its user variable). */
function mailgunCall(
  tenant: string,
  id: string,
  event = 'delivered',
  recipient = 'carl@example.com',
) {
  const body = mailgunBody(event, recipient, id);
  body['event-data']['user-variables'] = { hindsight_message_id: 'M', hindsight_tenant: tenant };
  return body;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The headers of a SendGrid call of `body` signed now (or at `seconds` since the epoch). */
function sendgridHeaders(
  body: string,
  seconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestamp = String(seconds);
  return {
    ...JSON_HEADERS,
    'x-twilio-email-event-webhook-signature': sign(
      'sha256',
      Buffer.from(timestamp + body),
      sendgridKeys.privateKey,
    ).toString('base64'),
    'x-twilio-email-event-webhook-timestamp': timestamp,
  };
}

/** The body of a SendGrid call reporting one delivery to dora@example.com now. */
function sendgridDelivered(eventId: string, sgMessageId: string, messageId: string): string {
  return JSON.stringify([
    {
      email: 'dora@example.com',
      timestamp: Math.floor(Date.now() / 1000),
      event: 'delivered',
      sg_event_id: eventId,
      sg_message_id: sgMessageId,
      hindsight_message_id: messageId,
    },
  ]);
}

/** A server: the app on a store of its own, opened on a database other servers share. */
async function server(open: () => Promise<Store>) {
  const store = await open();
  const app = await createApp({ store, enricher: testEnricher(), hooks: HOOKS });
  return {
    app,
    store,
    events: async (tenant: string) =>
      (await store.queryEvents(tenant, { clauses: [], limit: 50, order: 'asc' })).events,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

/**
 * Two servers on one database: a signature one of them recorded is refused on another call by
 * the other, and by both once they restarted; the provider's retries are recorded by either.
 */
async function refusesReplaysOnEveryServer(open: () => Promise<Store>): Promise<void> {
  let one = await server(open);
  let two = await server(open);
  try {
    const genuine = mailgunCall('replays', 'Across-1');
    const mailgun = JSON.stringify(genuine);
    expect((await post(one, '/v1/hooks/mailgun', mailgun, JSON_HEADERS)).statusCode).toBe(200);
    // The provider retrying the call, to the other server behind the load balancer.
    expect((await post(two, '/v1/hooks/mailgun', mailgun, JSON_HEADERS)).statusCode).toBe(200);
    const forged = mailgunCall('victim', 'Forged-across-1', 'failed', 'ceo@acme.test');
    forged.signature = genuine.signature;
    const replay = JSON.stringify(forged);
    const refused = await post(two, '/v1/hooks/mailgun', replay, JSON_HEADERS);
    expect(refused.statusCode, refused.body).toBe(401);
    expect(refused.json().error).toMatchObject({
      code: 'invalid_signature',
      message: expect.stringContaining('this signature was used already, on another call'),
    });
    const sendgrid = sendgridDelivered('across-sg-1', 'across.filter0001', 'MSG-9');
    const headers = sendgridHeaders(sendgrid);
    const first = await post(two, '/v1/hooks/sendgrid?tenant=replays', sendgrid, headers);
    expect(first.statusCode, first.body).toBe(200);
    const victim = await post(one, '/v1/hooks/sendgrid?tenant=victim', sendgrid, headers);
    expect(victim.statusCode, victim.body).toBe(401);

    // Both servers restart (a deployment): the signatures stay taken.
    await one.close();
    await two.close();
    one = await server(open);
    two = await server(open);
    expect((await post(one, '/v1/hooks/mailgun', replay, JSON_HEADERS)).statusCode).toBe(401);
    const after = await post(two, '/v1/hooks/sendgrid?tenant=victim', sendgrid, headers);
    expect(after.statusCode, after.body).toBe(401);
    expect(after.json().error.code).toBe('invalid_signature');
    expect((await post(two, '/v1/hooks/mailgun', mailgun, JSON_HEADERS)).statusCode).toBe(200);
    const retried = await post(one, '/v1/hooks/sendgrid?tenant=replays', sendgrid, headers);
    expect(retried.statusCode, retried.body).toBe(200);

    expect(await one.events('victim')).toEqual([]);
    // Each of the two calls recorded once.
    expect((await two.events('replays')).map((e) => e.id).sort()).toEqual([
      expect.stringMatching(/^mailgun:Across-1:/),
      'sendgrid:across-sg-1',
    ]);
  } finally {
    await one.close();
    await two.close();
  }
}

describe('POST /v1/hooks/{provider}: replays on several servers and after a restart', () => {
  it('refuses them with SQLite, servers sharing the data directory', async () => {
    const tmp = tempDir();
    try {
      await refusesReplaysOnEveryServer(() => openStore({ data: tmp.dir }));
    } finally {
      tmp.remove();
    }
  });

  const postgres = providedPostgres();
  it.skipIf('skip' in postgres)(
    'refuses them with PostgreSQL, servers sharing the database',
    async () => {
      const db = await testDatabase('url' in postgres ? postgres.url : '');
      try {
        await refusesReplaysOnEveryServer(() => openStore({ databaseUrl: db.url }));
      } finally {
        await db.drop();
      }
    },
  );

  it('gives the signature of a call it could not record back, to the next call', async () => {
    const tmp = tempDir();
    const one = await server(() => openStore({ data: tmp.dir }));
    try {
      // The database refuses the call's event: the call is not recorded.
      const db = new Database(sqlitePath(tmp.dir));
      db.exec(
        "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.id LIKE 'mailgun:Refused-1:%' " +
          "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END",
      );
      db.close();
      const refused = mailgunCall('replays', 'Refused-1');
      const failed = await post(one, '/v1/hooks/mailgun', JSON.stringify(refused), JSON_HEADERS);
      expect(failed.statusCode, failed.body).toBe(503);
      // Its signature is free again: another call with it is recorded.
      const next = mailgunCall('replays', 'Next-1');
      next.signature = refused.signature;
      const res = await post(one, '/v1/hooks/mailgun', JSON.stringify(next), JSON_HEADERS);
      expect(res.statusCode, res.body).toBe(200);
      expect((await one.events('replays')).map((e) => e.id)).toEqual([
        expect.stringMatching(/^mailgun:Next-1:/),
      ]);
      // And taken by it now.
      const again = await post(one, '/v1/hooks/mailgun', JSON.stringify(refused), JSON_HEADERS);
      expect(again.statusCode, again.body).toBe(401);
    } finally {
      await one.close();
      tmp.remove();
    }
  });
});
