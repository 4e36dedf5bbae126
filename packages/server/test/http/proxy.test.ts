/**
 * Behind a reverse proxy (`trustProxy`, `hindsight serve --trust-proxy`): the caller's address
 * is the one the trusted proxy forwards — in the audit log's reads and for slowing invalid
 * credentials — and a forwarded address from anyone else is not believed.
 */
import { createHmac } from 'node:crypto';
import type { StoredEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { createApp } from '../../src/http/app.js';
import { openStore } from '../../src/store/index.js';
import { tempDir, testEnricher } from '../helpers.js';

const TWILIO_TOKEN = '12345abcde12345abcde12345abcde12';

async function appBehind(trustProxy?: number | string[]) {
  const tmp = tempDir();
  const store = await openStore({ data: tmp.dir });
  const app = await createApp({
    store,
    enricher: testEnricher(),
    hooks: { twilioAuthToken: TWILIO_TOKEN },
    ...(trustProxy === undefined ? {} : { trustProxy }),
  });
  const admin = (await createApiKey(store, { scopes: ['admin'], tenant: null })).token;
  return {
    app,
    admin,
    close: async () => {
      await app.close();
      await store.close();
      tmp.remove();
    },
  };
}

const BAD = 'hsk_0000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

/** What 31 requests with an invalid key from `first`, then one from `second`, are answered. */
async function guesses(
  app: Awaited<ReturnType<typeof appBehind>>['app'],
  first: string,
  second: string,
  remoteAddress = '127.0.0.1',
): Promise<{ first: number[]; second: number }> {
  const send = (client: string) =>
    app.inject({
      method: 'GET',
      url: '/v1/tenants/acme/events',
      remoteAddress,
      headers: { 'x-forwarded-for': client, authorization: `Bearer ${BAD}` },
    });
  const answers: number[] = [];
  for (let i = 0; i < 31; i++) answers.push((await send(first)).statusCode);
  return { first: answers, second: (await send(second)).statusCode };
}

describe('behind a reverse proxy', () => {
  it('slows invalid credentials per client the trusted proxy names, not per proxy', async () => {
    for (const trust of [['127.0.0.1'], ['loopback'], 1] as const) {
      const t = await appBehind(typeof trust === 'number' ? trust : [...trust]);
      try {
        const { first, second } = await guesses(t.app, '203.0.113.9', '198.51.100.7');
        expect(first.slice(0, 30).every((s) => s === 401)).toBe(true);
        expect(first[30], String(trust)).toBe(429);
        expect(second, String(trust)).toBe(401);
      } finally {
        await t.close();
      }
    }
  });

  it('believes no forwarded address without a trusted proxy, nor from anyone else', async () => {
    const none = await appBehind();
    try {
      // Every caller behind the one address shares its allowance.
      expect((await guesses(none.app, '203.0.113.9', '198.51.100.7')).second).toBe(429);
    } finally {
      await none.close();
    }
    const t = await appBehind(['10.0.0.0/8']);
    try {
      // A client that sends the header itself is known by its own address.
      const forged = await guesses(t.app, '203.0.113.9', '198.51.100.7', '192.0.2.50');
      expect(forged.second).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('records the forwarded client address of a viewer’s read in the audit log', async () => {
    const t = await appBehind(['127.0.0.1']);
    try {
      const issued = await t.app.inject({
        method: 'POST',
        url: '/v1/viewer-tokens',
        headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
        payload: JSON.stringify({
          tenant: 'acme',
          viewer: { id: 'u-1', name: 'Alice Admin', role: 'admin' },
          permissions: ['view'],
        }),
      });
      expect(issued.statusCode, issued.body).toBe(201);
      const { token } = issued.json() as { token: string };
      const read = await t.app.inject({
        method: 'GET',
        url: '/v1/tenants/acme/events?q=invoice',
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' },
      });
      expect(read.statusCode, read.body).toBe(200);
      const audit = await t.app.inject({
        method: 'GET',
        url: '/v1/tenants/acme/events?category=audit&action=audit_log.viewed',
        headers: { authorization: `Bearer ${t.admin}` },
      });
      const [viewed] = (audit.json() as { events: StoredEvent[] }).events;
      expect(viewed?.context?.ip).toBe('203.0.113.9');
    } finally {
      await t.close();
    }
  });

  it('checks a Twilio callback against the URL the proxy was called at', async () => {
    const path = '/v1/hooks/twilio?tenant=acme&message=MSG-1';
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered', To: '+15558675310' };
    const signed = `https://audit.example.com${path}${Object.entries(params)
      .map(([k, v]) => k + v)
      .join('')}`;
    const callback = (app: Awaited<ReturnType<typeof appBehind>>['app']) =>
      app.inject({
        method: 'POST',
        url: path,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'audit.example.com',
          'x-twilio-signature': createHmac('sha1', TWILIO_TOKEN).update(signed).digest('base64'),
        },
        payload: new URLSearchParams(params).toString(),
      });
    const behind = await appBehind(['127.0.0.1']);
    const direct = await appBehind();
    try {
      const accepted = await callback(behind.app);
      expect(accepted.statusCode, accepted.body).toBe(200);
      // Not trusted, the headers are not believed: the URL is the connection's, unsigned.
      expect((await callback(direct.app)).statusCode).toBe(401);
    } finally {
      await behind.close();
      await direct.close();
    }
  });
});
