/**
 * The derived-view routes of issue #5 over a real SQLite store and the real app: view
 * definitions, logins per account, messages, integrations with acknowledgement, stats.
 */
import type { EventInput, ViewDefinition } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src/demo-loader.js';
import { type TestApp, testApp, testEnricher } from '../helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.close();
});

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

async function store(events: EventInput[]): Promise<void> {
  const res = await t.post({ events });
  expect(res.statusCode, res.body).toBe(202);
}

describe('GET /v1/views', () => {
  it('lists the built-in view of every SPEC §4 log with columns and filters', async () => {
    const res = await t.get('/v1/views');
    expect(res.statusCode).toBe(200);
    const { views } = res.json() as { views: ViewDefinition[] };
    expect(views.map((v) => v.id)).toEqual([
      'all',
      'changes',
      'access',
      'communications',
      'integrations',
      'requests',
      'api',
      'sms',
      'logins',
      'users',
      'audit',
    ]);
    const communications = views.find((v) => v.id === 'communications');
    expect(communications).toMatchObject({ category: 'communications', summary: 'messages' });
    expect(
      ((communications?.columns ?? []) as Array<{ label: string }>).map((c) => c.label),
    ).toEqual(['Time', 'Sender', 'Receiver', 'Subject', 'Type', 'Status']);
    const statuses = communications?.statuses ?? [];
    expect(statuses.find((s) => s.value === 'mixed')?.explanation).toMatch(/some receivers/);
    expect((await t.get('/v1/views', 'not-a-key')).statusCode).toBe(401);
  });
});

describe("tenants' own views", () => {
  const view = {
    label: 'Failed sign-ins',
    category: 'logins',
    columns: [
      { field: 'time', label: 'When', format: 'time' },
      { field: 'actor.email', label: 'Who', format: 'text' },
    ],
    defaults: { outcome: 'failure' },
  };

  it('adds, lists, replaces and removes a view (admin only)', async () => {
    const put = await t.send('PUT', '/v1/tenants/views-co/views/failed-logins', view);
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ id: 'failed-logins', builtin: false, ...view });
    const list = (await t.get('/v1/tenants/views-co/views')).json() as {
      views: Array<{ id: string; builtin: boolean }>;
    };
    expect(list.views.filter((v) => !v.builtin).map((v) => v.id)).toEqual(['failed-logins']);
    expect(list.views.filter((v) => v.builtin)).toHaveLength(11);
    const other = (await t.get('/v1/tenants/other-co/views')).json() as {
      views: Array<{ builtin: boolean }>;
    };
    expect(other.views.every((v) => v.builtin)).toBe(true);

    const reader = await t.key(['events:read']);
    expect((await t.send('PUT', '/v1/tenants/views-co/views/x', view, reader)).statusCode).toBe(
      403,
    );
    expect((await t.send('DELETE', '/v1/tenants/views-co/views/failed-logins')).statusCode).toBe(
      204,
    );
    const again = await t.send('DELETE', '/v1/tenants/views-co/views/failed-logins');
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('not_found');
  });

  it('refuses built-in ids and malformed views with details', async () => {
    const builtin = await t.send('PUT', '/v1/tenants/views-co/views/logins', view);
    expect(builtin.statusCode).toBe(400);
    expect(builtin.json().error.details[0].path).toBe('/params/id');
    const bad = await t.send('PUT', '/v1/tenants/views-co/views/bad', {
      ...view,
      columns: [{ field: 'time', label: 'When', format: 'sparkline' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_request');
    expect(bad.json().error.details[0].path).toMatch(/^\/body\/columns\/0/);
    const badId = await t.send('PUT', '/v1/tenants/views-co/views/Not%20ok', view);
    expect(badId.statusCode).toBe(400);
    // Default filters the event list would refuse: stored, the view could never be shown.
    for (const [defaults, path] of [
      [{ q: '"unterminated' }, '/body/defaults/q'],
      [{ q: 'colour:red' }, '/body/defaults/q'],
      [{ action: 'A..B*x' }, '/body/defaults/action'],
      [{ channel: 'fax' }, '/body/defaults/channel'],
    ] as const) {
      const res = await t.send('PUT', '/v1/tenants/views-co/views/bad-defaults', {
        ...view,
        defaults,
      });
      expect(res.statusCode, JSON.stringify(defaults)).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_request', details: [{ path }] });
    }
    const ids = (await t.get('/v1/tenants/views-co/views'))
      .json()
      .views.map((v: { id: string }) => v.id);
    expect(ids).not.toContain('bad-defaults');
    const good = await t.send('PUT', '/v1/tenants/views-co/views/good-defaults', {
      ...view,
      defaults: { q: '-outcome:success "admin rights"', action: 'user.*', channel: 'ui' },
    });
    expect(good.statusCode, good.body).toBe(200);
    expect((await t.get('/v1/tenants/views-co/views')).statusCode).toBe(200);
  });
});

describe('GET /v1/tenants/{tenant}/logins/users', () => {
  const tenant = 'logins-co';
  beforeAll(async () => {
    const people = Array.from({ length: 7 }, (_, i) => ({
      id: `u${i}`,
      name: `User ${i}`,
      email: `user${i}@acme.test`,
    }));
    await store(
      people.flatMap((actor, i): EventInput[] => [
        {
          tenant,
          category: 'logins',
          action: 'login.succeeded',
          actor,
          time: ago(600 + i),
          context: { ip: '81.2.69.142' },
        },
        {
          tenant,
          category: 'logins',
          action: 'login.failed',
          outcome: 'failure',
          actor,
          time: ago(i === 0 ? 60 : 3000),
          context: { ip: '89.160.20.112' },
          metadata: { reason: 'invalid_password' },
        },
      ]),
    );
  });

  it('serves each account with its last success, last failure and location', async () => {
    const res = await t.get(`/v1/tenants/${tenant}/logins/users?sort=lastFailure`);
    expect(res.statusCode, res.body).toBe(200);
    const { users, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(users).toHaveLength(7);
    expect(users[0]).toMatchObject({
      key: 'u0',
      actor: { name: 'User 0', email: 'user0@acme.test' },
      lastAttempt: 'failed',
      lastSuccess: { ip: '81.2.69.142', location: { country: 'GB', city: 'London' } },
      lastFailure: { ip: '89.160.20.112', location: { country: 'SE' }, reason: 'invalid_password' },
      failuresLast24h: 1,
      countries: ['SE', 'GB'],
    });
    expect(users[1]).toMatchObject({ lastAttempt: 'succeeded', failuresLast24h: 0 });
  });

  it('pages with a cursor bound to the query', async () => {
    const first = (await t.get(`/v1/tenants/${tenant}/logins/users?sort=name&limit=3`)).json();
    expect(first.users.map((u: { key: string }) => u.key)).toEqual(['u0', 'u1', 'u2']);
    const second = (
      await t.get(`/v1/tenants/${tenant}/logins/users?sort=name&limit=3&cursor=${first.nextCursor}`)
    ).json();
    expect(second.users.map((u: { key: string }) => u.key)).toEqual(['u3', 'u4', 'u5']);
    const foreign = await t.get(
      `/v1/tenants/${tenant}/logins/users?sort=email&limit=3&cursor=${first.nextCursor}`,
    );
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().error.code).toBe('invalid_cursor');
    const filtered = (
      await t.get(`/v1/tenants/${tenant}/logins/users?lastAttempt=failed&search=user0`)
    ).json();
    expect(filtered.users.map((u: { key: string }) => u.key)).toEqual(['u0']);
    expect((await t.get(`/v1/tenants/${tenant}/logins/users?sort=colour`)).statusCode).toBe(400);
  });

  it('marks and filters the accounts whose last sign-in came from a new country', async () => {
    const travel = 'logins-travel';
    const signIn = (id: string, ip: string, minutes: number): EventInput => ({
      tenant: travel,
      category: 'logins',
      action: 'login.succeeded',
      actor: { id },
      time: ago(minutes),
      context: { ip },
    });
    await store([
      signIn('u-home', '81.2.69.142', 300),
      signIn('u-home', '81.2.69.142', 200),
      signIn('u-away', '81.2.69.142', 300),
      signIn('u-away', '89.160.20.112', 100),
    ]);
    const keys = async (query: string) => {
      const res = await t.get(`/v1/tenants/${travel}/logins/users?sort=name${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res
        .json()
        .users.map((u: { key: string; newCountry: boolean }) => [u.key, u.newCountry]);
    };
    expect(await keys('')).toEqual([
      ['u-away', true],
      ['u-home', false],
    ]);
    expect(await keys('&newCountry=true')).toEqual([['u-away', true]]);
    expect(await keys('&newCountry=false')).toEqual([['u-home', false]]);
    const bad = await t.get(`/v1/tenants/${travel}/logins/users?newCountry=maybe`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_request' });
    expect(JSON.stringify(bad.json().error.details)).toContain('newCountry');
  });
});

/** Message `id`, sent by hand `minutes` ago to `receivers` (addresses, named by their local part). */
function messageSent(
  tenant: string,
  id: string,
  subject: string,
  receivers: readonly string[],
  minutes: number,
): EventInput {
  return {
    tenant,
    category: 'communications',
    action: 'message.sent',
    status: 'sent',
    actor: { id: 'u1', name: 'Priya Raman' },
    channel: 'ui',
    time: ago(minutes),
    targets: [{ type: 'message', id, name: subject }],
    metadata: {
      type: 'email',
      mode: 'manual',
      subject,
      receivers: receivers.map((address) => ({ name: address.split('@')[0], address })),
    },
  };
}

/** A delivery report of one receiver of message `id`, `minutes` ago. */
function deliveryReport(
  tenant: string,
  id: string,
  address: string,
  status: string,
  minutes: number,
  metadata: Record<string, unknown> = {},
): EventInput {
  return {
    tenant,
    category: 'communications',
    action: status === 'delivered' ? 'message.delivered' : 'message.bounced',
    status,
    ...(status === 'delivered' ? {} : { outcome: 'failure' as const }),
    actor: { type: 'system' },
    channel: 'system',
    time: ago(minutes),
    targets: [{ type: 'message', id }],
    metadata: { receiver: { address }, ...metadata },
  };
}

describe('messages', () => {
  const tenant = 'messages-co';
  const message = (id: string, receivers: string[], minutes: number) =>
    messageSent(tenant, id, 'Window cleaning offer', receivers, minutes);
  const report = (id: string, address: string, status: string, minutes: number) =>
    deliveryReport(tenant, id, address, status, minutes, { reason: status });

  beforeAll(async () => {
    // The first report arrives before its message.
    await store([report('MSG-1', 'ann@x.test', 'delivered', 58)]);
    await store([
      message('MSG-1', ['ann@x.test', 'bob@x.test'], 60),
      message('MSG-2', ['cy@x.test'], 30),
      report('MSG-1', 'bob@x.test', 'hard_bounce', 57),
      report('MSG-2', 'cy@x.test', 'delivered', 29),
      report('MSG-3', 'early@x.test', 'delivered', 1),
    ]);
  });

  it('lists messages with per-status counts and an overall status', async () => {
    const res = await t.get(`/v1/tenants/${tenant}/messages`);
    expect(res.statusCode, res.body).toBe(200);
    const { messages, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(messages.map((m: { id: string }) => m.id)).toEqual(['MSG-2', 'MSG-1']);
    expect(messages[0]).toMatchObject({ status: 'delivered', receivers: 1, failed: 0 });
    expect(messages[1]).toMatchObject({
      status: 'mixed',
      receivers: 2,
      failed: 1,
      deliveries: { delivered: 1, hard_bounce: 1 },
      event: { action: 'message.sent', metadata: { subject: 'Window cleaning offer' } },
    });
    const paged = (await t.get(`/v1/tenants/${tenant}/messages?limit=1`)).json();
    const next = (
      await t.get(`/v1/tenants/${tenant}/messages?limit=1&cursor=${paged.nextCursor}`)
    ).json();
    expect(next.messages.map((m: { id: string }) => m.id)).toEqual(['MSG-1']);
  });

  it('shows one message with each receiver and its reports', async () => {
    const res = await t.get(`/v1/tenants/${tenant}/messages/MSG-1`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: 'MSG-1', status: 'mixed', receivers: 2 });
    expect(body.receiverList).toMatchObject([
      { address: 'ann@x.test', name: 'ann', status: 'delivered' },
      {
        address: 'bob@x.test',
        name: 'bob',
        status: 'hard_bounce',
        report: { reason: 'hard_bounce' },
      },
    ]);
    expect(body.reports.map((e: { status: string }) => e.status)).toEqual([
      'hard_bounce',
      'delivered',
    ]);
    const page = (await t.get(`/v1/tenants/${tenant}/messages/MSG-1?limit=1`)).json();
    expect(page.receiverList.map((r: { address: string }) => r.address)).toEqual(['ann@x.test']);
    const rest = (
      await t.get(`/v1/tenants/${tenant}/messages/MSG-1?limit=1&cursor=${page.nextCursor}`)
    ).json();
    expect(rest.receiverList.map((r: { address: string }) => r.address)).toEqual(['bob@x.test']);
    expect(rest.nextCursor).toBeNull();
  });

  it('serves a message known only from its reports, and 404 for none', async () => {
    const early = (await t.get(`/v1/tenants/${tenant}/messages/MSG-3`)).json();
    expect(early).toMatchObject({ event: null, status: 'delivered', receivers: 1 });
    const none = await t.get(`/v1/tenants/${tenant}/messages/MSG-404`);
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe('not_found');
  });
});

describe('messages by delivery status', () => {
  const tenant = 'undelivered-co';
  const message = (id: string, receivers: string[], minutes: number) =>
    messageSent(tenant, id, `Offer ${id}`, receivers, minutes);
  const report = (id: string, address: string, status: string, minutes: number) =>
    deliveryReport(tenant, id, address, status, minutes);
  const ids = (body: { messages: Array<{ id: string }> }) => body.messages.map((m) => m.id);
  const list = async (query: string) => {
    const res = await t.get(`/v1/tenants/${tenant}/messages?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { messages: Array<{ id: string; failed: number }>; nextCursor: string };
  };

  beforeAll(async () => {
    // D1 … D7, newest last: D2, D4 and D6 did not reach one of their receivers (a bounce, spam,
    // an invalid address); D7 has not been reported on yet.
    const events: EventInput[] = [];
    const failures: Record<string, string> = { D2: 'hard_bounce', D4: 'spam', D6: 'invalid_email' };
    for (let i = 1; i <= 7; i++) {
      const id = `D${i}`;
      events.push(message(id, ['ann@x.test', 'bob@x.test'], 100 - i));
      if (i === 7) continue;
      events.push(report(id, 'ann@x.test', 'delivered', 90 - i));
      events.push(report(id, 'bob@x.test', failures[id] ?? 'delivered', 90 - i));
    }
    await store(events);
  });

  it('lists only the messages someone did not get, page after page', async () => {
    const first = await list('delivery=failed&limit=2');
    expect(ids(first)).toEqual(['D6', 'D4']);
    expect(first.messages.every((m) => m.failed === 1)).toBe(true);
    const second = await list(`delivery=failed&limit=2&cursor=${first.nextCursor}`);
    expect(ids(second)).toEqual(['D2']);
    expect(second.nextCursor).toBeNull();
    expect(ids(await list('delivery=failed&order=asc'))).toEqual(['D2', 'D4', 'D6']);
    expect(ids(await list('delivery=spam'))).toEqual(['D4']);
    expect(ids(await list('delivery=sent'))).toEqual(['D7']);
    expect(ids(await list('delivery=mixed'))).toEqual(['D6', 'D4', 'D2']);
    expect(ids(await list('delivery=delivered&limit=50'))).toEqual([
      'D6',
      'D5',
      'D4',
      'D3',
      'D2',
      'D1',
    ]);
    expect(ids(await list('delivery=failed&q=D4'))).toEqual(['D4']);
  });

  it('moves a message into the list when a later report says it bounced', async () => {
    expect(ids(await list('delivery=failed'))).not.toContain('D5');
    await store([report('D5', 'ann@x.test', 'soft_bounce', 10)]);
    expect(ids(await list('delivery=failed'))).toEqual(['D6', 'D5', 'D4', 'D2']);
    const d5 = (await list('delivery=soft_bounce')).messages[0];
    expect(d5).toMatchObject({ id: 'D5', status: 'mixed', failed: 1 });
  });

  it('refuses an unknown status, naming the ones it takes', async () => {
    const res = await t.get(`/v1/tenants/${tenant}/messages?delivery=bounced`);
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(/^Invalid querystring: querystring\/delivery must be one of /);
    expect(error.message).toContain('"failed"');
    expect(error.message).toContain('"hard_bounce"');
    expect(error.details).toEqual([
      { path: '/querystring/delivery', message: expect.stringMatching(/^must be one of /) },
    ]);
  });

  it('refuses a cursor of another filter', async () => {
    const all = await list('limit=2');
    const failed = await list('delivery=failed&limit=1');
    const delivered = await list('delivery=delivered&limit=1');
    for (const [query, cursor] of [
      ['delivery=failed&limit=1', all.nextCursor],
      ['delivery=failed&limit=1', delivered.nextCursor],
      ['limit=2', failed.nextCursor],
      ['delivery=failed&limit=1&order=asc', failed.nextCursor],
    ] as const) {
      const res = await t.get(`/v1/tenants/${tenant}/messages?${query}&cursor=${cursor}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('invalid_cursor');
    }
  });
});

describe('integrations', () => {
  const tenant = 'integrations-co';
  const xero = (status: string, minutes: number, action = 'integration.invoices_exported') => ({
    tenant,
    category: 'integrations',
    action,
    status,
    ...(status === 'error' ? { outcome: 'failure' as const } : {}),
    actor: { type: 'integration' as const, id: 'xero', name: 'Xero' },
    channel: 'integration' as const,
    time: ago(minutes),
    description: `Xero ${status}`,
    targets: [{ type: 'integration', id: 'xero', name: 'Xero' }],
    metadata: { system: 'Xero' },
  });

  it('lists systems and records an acknowledgement as an event', async () => {
    await store([xero('error', 30), xero('notification', 20), xero('ok', 10)]);
    const list = (await t.get(`/v1/tenants/${tenant}/integrations`)).json();
    expect(list.integrations).toMatchObject([
      {
        system: 'xero',
        name: 'Xero',
        lastStatus: 'ok',
        unacknowledged: { errors: 1, notifications: 1 },
        acknowledged: null,
      },
    ]);
    // What the summary covers, for the console to acknowledge: the log's three events.
    expect(list.upToSeq).toBe(3);
    const writer = await t.key(['events:read']);
    const url = `/v1/tenants/${tenant}/integrations/xero/acknowledge`;
    expect((await t.send('POST', url, {}, writer)).statusCode).toBe(403);
    const res = await t.send('POST', url, {
      actor: { id: 'u-9', name: 'Ada Admin' },
      note: 'fixed',
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().integration).toMatchObject({
      unacknowledged: { errors: 0, notifications: 0 },
      acknowledged: { actor: { name: 'Ada Admin' }, upToSeq: 3 },
      lastStatus: 'ok',
    });
    const recorded = (
      await t.get(`/v1/tenants/${tenant}/events?action=integration.acknowledged`)
    ).json();
    expect(recorded.events[0]).toMatchObject({
      actor: { id: 'u-9' },
      metadata: { system: 'Xero', upToSeq: 3, note: 'fixed' },
    });
    await store([xero('error', 1)]);
    const after = (await t.get(`/v1/tenants/${tenant}/integrations`)).json();
    expect(after.integrations[0].unacknowledged).toEqual({ errors: 1, notifications: 0 });
    expect(after.upToSeq).toBe(5);
    expect((await t.get('/v1/tenants/no-such-co/integrations')).json()).toEqual({
      integrations: [],
      upToSeq: 0,
    });
    expect(
      (await t.send('POST', `/v1/tenants/${tenant}/integrations/nope/acknowledge`, {})).statusCode,
    ).toBe(404);
    expect((await t.send('POST', url, { upToSeq: 'all' })).statusCode).toBe(400);

    // Past the end of the log: up to its end, never over errors recorded afterwards.
    const ahead = await t.send('POST', url, { upToSeq: 1_000_000 });
    expect(ahead.statusCode, ahead.body).toBe(202);
    expect(ahead.json().integration.acknowledged.upToSeq).toBe(5);
    await store([xero('error', 0)]);
    const later = (await t.get(`/v1/tenants/${tenant}/integrations`)).json();
    expect(later.integrations[0].unacknowledged).toEqual({ errors: 1, notifications: 0 });
  });
});

describe('GET /v1/tenants/{tenant}/stats', () => {
  const tenant = 'stats-co';
  /** The events' times, every 90 minutes back from now. */
  const times: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 30; i++) times.push(ago(i * 90));
    await store(
      times.map((time, i) => ({
        tenant,
        action: i % 3 ? 'workflow.updated' : 'login.failed',
        category: i % 3 ? 'changes' : 'logins',
        ...(i % 3 ? {} : { outcome: 'failure' as const }),
        actor: { id: `u${i % 2}`, name: `User ${i % 2}` },
        time,
      })),
    );
  });

  it('counts by action, actor and outcome with a histogram', async () => {
    const hour = 3_600_000;
    const since = Math.floor((Date.now() - 24 * hour) / hour) * hour;
    const res = await t.get(
      `/v1/tenants/${tenant}/stats?since=${encodeURIComponent(new Date(since).toISOString())}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const s = res.json();
    expect(s.interval).toBe(hour);
    expect(s.from).toBe(new Date(since).toISOString());
    expect(s.exact).toBe(true);
    const inRange = times.filter((time) => Date.parse(time) >= since);
    expect(s.total).toBe(inRange.length);
    expect(s.histogram.length).toBeGreaterThanOrEqual(24);
    expect(s.histogram.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(s.total);
    expect(s.byAction.map((a: { action: string }) => a.action)).toEqual([
      'workflow.updated',
      'login.failed',
    ]);
    expect(s.byActor.map((a: { actor: { name: string } }) => a.actor.name).sort()).toEqual([
      'User 0',
      'User 1',
    ]);
    const failures = (
      await t.get(`/v1/tenants/${tenant}/stats?outcome=failure&interval=day`)
    ).json();
    expect(failures.total).toBe(10);
    expect(failures.interval).toBe(86_400_000);
    const scanned = (await t.get(`/v1/tenants/${tenant}/stats?actor=u1`)).json();
    expect(scanned.byActor).toEqual([
      { actor: { type: 'user', id: 'u1', name: 'User 1' }, count: 15 },
    ]);
  });

  it('refuses a malformed range or query', async () => {
    const backwards = await t.get(`/v1/tenants/${tenant}/stats?since=2026-02-01&until=2026-01-01`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error.code).toBe('invalid_request');
    const q = await t.get(`/v1/tenants/${tenant}/stats?q=${encodeURIComponent('actor:')}`);
    expect(q.json().error.code).toBe('invalid_query');
    const many = await t.get(`/v1/tenants/${tenant}/stats?since=2000-01-01&interval=hour`);
    expect(many.statusCode).toBe(400);
  });
});

describe('OpenAPI', () => {
  it('documents every view route', async () => {
    const doc = (await t.get('/v1/openapi.json')).json();
    for (const path of [
      '/v1/views',
      '/v1/tenants/{tenant}/views/{id}',
      '/v1/tenants/{tenant}/logins/users',
      '/v1/tenants/{tenant}/messages',
      '/v1/tenants/{tenant}/messages/{messageId}',
      '/v1/tenants/{tenant}/integrations',
      '/v1/tenants/{tenant}/integrations/{system}/acknowledge',
      '/v1/tenants/{tenant}/stats',
      '/v1/hooks/{provider}',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths['/v1/tenants/{tenant}/views/{id}'].delete.responses['204']).toBeDefined();
    const messages = doc.paths['/v1/tenants/{tenant}/messages'].get;
    const delivery = messages.parameters.find((p: { name: string }) => p.name === 'delivery');
    expect(delivery).toMatchObject({ in: 'query', required: false });
    expect(delivery.description).toMatch(/`failed`: with a receiver it did not reach/);
    expect(delivery.schema.anyOf.map((s: { const: string }) => s.const)).toEqual([
      'failed',
      'sent',
      'delivered',
      'pending',
      'internal_error',
      'blocked',
      'spam',
      'deferred',
      'external_error',
      'hard_bounce',
      'soft_bounce',
      'unsubscribed',
      'invalid_email',
      'mixed',
    ]);
    expect(Object.keys(messages.responses)).toContain('400');
  });
});

describe('the demo tenant', () => {
  let demo: TestApp;
  beforeAll(async () => {
    demo = await testApp();
    await loadDemo(demo.store, testEnricher());
  });
  afterAll(async () => {
    await demo.close();
  });

  it('shows realistic data in every view', async () => {
    const logins = (await demo.get('/v1/tenants/acme/logins/users?limit=100')).json();
    expect(logins.users.length).toBeGreaterThan(8);
    expect(logins.users.some((u: { countries: string[] }) => u.countries.length > 1)).toBe(true);
    expect(logins.users.some((u: { key: string }) => u.key.startsWith('email:'))).toBe(true);
    expect(
      logins.users.every(
        (u: { lastSuccess: unknown; lastFailure: unknown }) => u.lastSuccess || u.lastFailure,
      ),
    ).toBe(true);

    const messages = (await demo.get('/v1/tenants/acme/messages?limit=500')).json();
    const statuses = new Set(messages.messages.map((m: { status: string }) => m.status));
    for (const status of ['mixed', 'delivered', 'hard_bounce']) expect(statuses).toContain(status);

    const { integrations } = (await demo.get('/v1/tenants/acme/integrations')).json();
    expect(integrations.map((i: { name: string }) => i.name)).toEqual(['Google Calendar', 'Xero']);
    expect(integrations[0]).toMatchObject({
      unacknowledged: { errors: 0, notifications: 0 },
      acknowledged: { actor: { name: 'Lars Eriksson' } },
    });
    expect(integrations[1].acknowledged.actor.name).toBe('Hannah Schmidt');

    const stats = (await demo.get('/v1/tenants/acme/stats?since=2000-01-01&interval=week')).json();
    expect(stats.total).toBe(await demo.store.logSize('acme'));
    expect(stats.byActor[0].count).toBeGreaterThan(10);

    const views = (await demo.get('/v1/views')).json().views as Array<{ category: string | null }>;
    for (const view of views.filter((v) => v.category !== null)) {
      const page = (
        await demo.get(`/v1/tenants/acme/events?category=${view.category}&limit=1`)
      ).json();
      expect(page.events, String(view.category)).toHaveLength(1);
    }
  });
});
