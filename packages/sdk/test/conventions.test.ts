/**
 * The helpers build the events the server's views read: recorded through the SDK into a real
 * Hindsight, they show up in `GET …/logins/users` and `GET …/messages/{id}` as docs/views.md
 * describes.
 */
import { describe, expect, it } from 'vitest';
import { login, message, messageStatus } from '../src/index.js';
import { uniqueTenant, useHindsight } from './hindsight.js';

const ctx = useHindsight();

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${ctx.hindsight.url}${path}`, {
    headers: { authorization: `Bearer ${ctx.hindsight.key}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

describe('login()', () => {
  it('feeds the logins view: per account, last success and failure with reason, anonymous e-mails', async () => {
    const tenant = uniqueTenant();
    const alice = { id: 'u-1001', name: 'Alice Hughes', email: 'alice@acme.test', role: 'owner' };
    const agent =
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
    await ctx.client.record(
      login({
        tenant,
        user: alice,
        succeeded: true,
        ip: '81.2.69.142',
        userAgent: agent,
        sessionId: 's-1',
        time: '2026-01-05T09:00:00Z',
      }),
    );
    await ctx.client.record(
      login({
        tenant,
        user: alice,
        succeeded: false,
        reason: 'invalid_password',
        ip: '175.16.199.0',
        time: '2026-01-05T10:00:00Z',
      }),
    );
    await ctx.client.record(
      login({
        tenant,
        user: { email: 'nobody@acme.test' },
        succeeded: false,
        reason: 'unknown_user',
        ip: '81.2.69.142',
      }),
    );
    await ctx.client.flush();

    const { users } = await get<{ users: Array<Record<string, unknown>> }>(
      `/v1/tenants/${tenant}/logins/users?sort=name&order=asc`,
    );
    const byKey = new Map(users.map((u) => [u['key'], u]));
    expect(byKey.get('u-1001')).toMatchObject({
      actor: { type: 'user', ...alice },
      lastAttempt: 'failed',
      successes: 1,
      failures: 1,
      lastSuccess: {
        ip: '81.2.69.142',
        time: '2026-01-05T09:00:00.000Z',
        location: { country: 'GB' },
      },
      lastFailure: { ip: '175.16.199.0', reason: 'invalid_password' },
    });
    expect(byKey.get('email:nobody@acme.test')).toMatchObject({
      actor: { type: 'anonymous', email: 'nobody@acme.test' },
      lastAttempt: 'failed',
      failures: 1,
      successes: 0,
      lastFailure: { reason: 'unknown_user' },
    });
    const stored = await ctx.hindsight.events(tenant);
    expect(stored.map((e) => [e.action, e.category, e.channel, e.outcome, e.description])).toEqual([
      ['login.succeeded', 'logins', 'ui', 'success', 'Signed in'],
      ['login.failed', 'logins', 'ui', 'failure', 'Failed sign-in: invalid password'],
      ['login.failed', 'logins', 'ui', 'failure', 'Failed sign-in: unknown user'],
    ]);
    expect(stored[0]?.context).toMatchObject({
      sessionId: 's-1',
      client: { browser: 'Safari 17' },
    });
  });
});

describe('message() and messageStatus()', () => {
  it('feed the messages view: receivers, each status, and mixed', async () => {
    const tenant = uniqueTenant();
    const dental = {
      name: 'Harbour View Dental',
      address: 'reception@harbourview.example',
      target: { type: 'customer', id: 'CUS-104233', name: 'Harbour View Dental' },
    };
    const physio = { name: 'Riverside Physiotherapy', address: 'info@riverside.example' };
    await ctx.client.record(
      message({
        tenant,
        messageId: 'MSG-300139',
        subject: 'This month: 20% off window cleaning',
        type: 'email',
        sender: { id: 'u-1003', name: 'Priya Raman', email: 'priya@acme.test' },
        receivers: [dental, physio],
        url: 'https://app.acme.test/event-log/communications/MSG-300139',
      }),
    );
    await ctx.client.record(
      messageStatus({
        tenant,
        messageId: 'MSG-300139',
        type: 'email',
        mode: 'manual',
        receiver: dental,
        status: 'delivered',
      }),
    );
    await ctx.client.record(
      messageStatus({
        tenant,
        messageId: 'MSG-300139',
        type: 'email',
        subject: 'This month: 20% off window cleaning',
        receiver: physio,
        status: 'hard_bounce',
        reason: '550 5.1.1 no such user',
      }),
    );
    await ctx.client.flush();

    const { messages } = await get<{ messages: Array<Record<string, unknown>> }>(
      `/v1/tenants/${tenant}/messages`,
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      id: 'MSG-300139',
      status: 'mixed',
      receivers: 2,
      failed: 1,
      deliveries: { delivered: 1, hard_bounce: 1 },
    });
    const one = await get<{ receiverList: Array<Record<string, unknown>> }>(
      `/v1/tenants/${tenant}/messages/MSG-300139`,
    );
    const statuses = Object.fromEntries(one.receiverList.map((r) => [r['address'], r['status']]));
    expect(statuses).toEqual({ [dental.address]: 'delivered', [physio.address]: 'hard_bounce' });

    const stored = await ctx.hindsight.events(tenant);
    expect(stored[0]).toMatchObject({
      action: 'message.sent',
      category: 'communications',
      channel: 'ui',
      status: 'sent',
      description: 'Sent the e-mail "This month: 20% off window cleaning" to 2 receivers',
      targets: [
        { type: 'message', id: 'MSG-300139', name: 'This month: 20% off window cleaning' },
        dental.target,
      ],
      metadata: {
        type: 'email',
        mode: 'manual',
        receivers: [{ name: dental.name, address: dental.address }, physio],
      },
    });
    expect(stored[2]).toMatchObject({
      action: 'message.bounced',
      actor: { type: 'system' },
      channel: 'system',
      outcome: 'failure',
      status: 'hard_bounce',
      metadata: { receiver: physio, reason: '550 5.1.1 no such user' },
    });
  });
});
