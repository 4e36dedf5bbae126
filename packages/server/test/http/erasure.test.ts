/**
 * GDPR erasure and permitted deletion over HTTP (issue #9): scopes, tenant settings, what
 * readers see afterwards (API, CSV, logins view), the `audit` entries, and `hindsight verify`
 * on an export with redacted leaves.
 */
import { note, type StoredEvent } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliVerify, type TestApp, tempDir, testApp } from '../helpers.js';

const signer = note.signerFromSeed('erase.example', Buffer.alloc(32, 5));
const tenant = 'gdpr';
const ann = { id: 'u-1013', name: 'Ann Lee', email: 'ann.lee@acme.test' };
const admin = { id: 'u-1', name: 'Tomasz Kowalski', email: 'tomasz@acme.test' };
let t: TestApp;
let deleter: string;
const tmp = tempDir();

const send = (method: 'POST' | 'PUT', url: string, body: unknown, key = deleter) =>
  t.send(method, url, body, key);

async function events(query = ''): Promise<StoredEvent[]> {
  const res = await t.get(`/v1/tenants/${tenant}/events?limit=500${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { events: StoredEvent[] }).events;
}

beforeAll(async () => {
  t = await testApp({ signer, origin: 'erase.example', intervalMs: 0 });
  deleter = await t.key(['events:delete', 'events:read'], tenant);
  const res = await t.post({
    events: [
      {
        tenant,
        id: 'signin',
        category: 'logins',
        action: 'login.succeeded',
        actor: ann,
        context: { ip: '81.2.69.142', userAgent: 'Mozilla/5.0 Firefox/127.0' },
      },
      {
        tenant,
        id: 'created',
        category: 'users',
        action: 'user.created',
        actor: admin,
        targets: [{ type: 'user', id: ann.id, name: ann.name }],
        changes: [{ field: 'license', after: 'Field' }],
      },
      { tenant, id: 'other', action: 'invoice.exported', actor: admin, description: 'zebra' },
    ],
  });
  expect(res.statusCode, res.body).toBe(202);
});
afterAll(async () => {
  await t.close();
  tmp.remove();
});

describe('POST /v1/tenants/{tenant}/erasures', () => {
  it('needs events:delete and a well-formed subject', async () => {
    const reader = await t.key(['events:read']);
    const url = `/v1/tenants/${tenant}/erasures`;
    expect((await send('POST', url, { subject: { actorId: ann.id } }, reader)).statusCode).toBe(
      403,
    );
    const both = await send('POST', url, { subject: { actorId: ann.id, email: ann.email } });
    expect(both.json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect((await send('POST', url, { subject: {} })).statusCode).toBe(400);
  });

  it('refuses with 409 legal_hold while the tenant is under legal hold', async () => {
    const hold = await send(
      'PUT',
      `/v1/tenants/${tenant}/legal-hold`,
      { reason: 'Case 7' },
      t.admin,
    );
    expect(hold.statusCode, hold.body).toBe(200);
    const res = await send('POST', `/v1/tenants/${tenant}/erasures`, {
      subject: { actorId: ann.id },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'legal_hold' } });
    const lifted = await t.app.inject({
      method: 'DELETE',
      url: `/v1/tenants/${tenant}/legal-hold`,
      headers: { authorization: `Bearer ${t.admin}` },
    });
    expect(lifted.statusCode, lifted.body).toBe(200);
  });

  it('shows the person as Deleted User everywhere and records it without naming them', async () => {
    const res = await send('POST', `/v1/tenants/${tenant}/erasures`, {
      subject: { actorId: ann.id },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { erasureId: string; events: number; values: number };
    expect(body).toMatchObject({ events: 2, values: 6 });

    const list = await events();
    const signin = list.find((e) => e.id === 'signin');
    expect(signin?.actor.name).toBe('Deleted User');
    expect(list.find((e) => e.id === 'created')?.targets?.[0]?.name).toBe('Deleted User');
    const csv = await t.get(`/v1/tenants/${tenant}/export?format=csv`);
    expect(csv.body).toContain('Deleted User');
    expect(csv.body).toContain('license: erased');
    const logins = await t.get(`/v1/tenants/${tenant}/logins/users`);
    expect(logins.statusCode, logins.body).toBe(200);
    expect(logins.body).toContain('Deleted User');
    expect((await events('&q=lee')).map((e) => e.id)).toEqual([]);

    const [entry] = await events('&category=audit');
    expect(entry).toMatchObject({
      action: 'audit_log.erased',
      description: expect.stringMatching(
        /^Erased a person's personal values from 2 events \(erasure /,
      ),
      actor: { type: 'api_key' },
      metadata: { erasureId: body.erasureId, subject: 'actorId', events: 2, values: 6 },
    });
    const everything = (await t.get(`/v1/tenants/${tenant}/export?format=ndjson`)).body;
    expect(everything.toLowerCase()).not.toContain('ann lee');
    expect(everything.toLowerCase()).not.toContain('ann.lee');
    expect(everything).not.toContain('81.2.69.142');

    const again = await send('POST', `/v1/tenants/${tenant}/erasures`, {
      subject: { actorId: ann.id },
    });
    expect(again.json()).toMatchObject({ events: 0, values: 0 });
  });

  it('reaches an entry of the person that was still waiting to be appended', async () => {
    // An admin change's entry whose append failed: kept by the store, appended later. The
    // erasure appends it first, so that it does not arrive afterwards with the person's values.
    const pendingTenant = 'gdpr-pending';
    const now = Date.now();
    await t.store.revokeViewerTokens(
      { tenant: pendingTenant, viewerId: 'u-77', revokedAtMs: now, expiresAtMs: now + 3_600_000 },
      {
        tenant: pendingTenant,
        id: '01JDPENDINGAUDITENTRY00000',
        time: new Date(now).toISOString(),
        category: 'audit',
        action: 'viewer_token.revoked',
        actor: { type: 'user', ...ann },
        context: { ip: '81.2.69.142' },
        description: 'Revoked the viewer tokens of a viewer',
        targets: [{ type: 'audit_log', id: 'all' }],
      },
    );
    const res = await send(
      'POST',
      `/v1/tenants/${pendingTenant}/erasures`,
      { subject: { actorId: ann.id } },
      t.admin,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ events: 1 });
    const stored = await t.get(`/v1/tenants/${pendingTenant}/events/01JDPENDINGAUDITENTRY00000`);
    expect(stored.json()).toMatchObject({ actor: { id: ann.id, name: 'Deleted User' } });
    expect(stored.body).not.toContain('81.2.69.142');
    expect(await t.store.pendingAudits(Number.MAX_SAFE_INTEGER, 100)).toEqual([]);
  });
});

describe('POST /v1/tenants/{tenant}/deletions', () => {
  const url = `/v1/tenants/${tenant}/deletions`;

  it('is refused with 403 deletion_not_allowed unless the tenant allows it', async () => {
    const res = await send('POST', url, { ids: ['other'] });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'deletion_not_allowed' } });
    const many = await send('POST', url, { ids: Array.from({ length: 1001 }, (_, i) => `x${i}`) });
    expect(many.statusCode).toBe(400);
  });

  it('answers events of other categories as not found to a token limited to some', async () => {
    const allow = { deletion: { allowed: true } };
    expect((await send('PUT', '/v1/tenants/gdpr-cats/settings', allow, t.admin)).statusCode).toBe(
      200,
    );
    const posted = await t.post({
      events: [
        { tenant: 'gdpr-cats', id: 'a-change', action: 'user.updated', actor: admin },
        {
          tenant: 'gdpr-cats',
          id: 'a-login',
          category: 'logins',
          action: 'login.succeeded',
          actor: ann,
        },
      ],
    });
    expect(posted.statusCode, posted.body).toBe(202);
    const issued = await send(
      'POST',
      '/v1/viewer-tokens',
      {
        tenant: 'gdpr-cats',
        viewer: { id: 'u-7', role: 'admin' },
        permissions: ['view', 'delete'],
        categories: ['logins'],
      },
      t.admin,
    );
    expect(issued.statusCode, issued.body).toBe(201);
    const { token } = issued.json() as { token: string };
    const res = await send(
      'POST',
      '/v1/tenants/gdpr-cats/deletions',
      { ids: ['a-change', 'nope'] },
      token,
    );
    expect(res.statusCode, res.body).toBe(200);
    // As an id that does not exist: the token learns neither that it does nor its log.
    expect(res.json()).toEqual({
      deleted: [],
      alreadyDeleted: [],
      notFound: ['a-change', 'nope'],
      exports: 0,
    });
    expect((await t.get('/v1/tenants/gdpr-cats/events/a-change')).statusCode).toBe(200);
    const both = await send(
      'POST',
      '/v1/tenants/gdpr-cats/deletions',
      { ids: ['a-change', 'a-login'] },
      token,
    );
    expect(both.json()).toMatchObject({ deleted: [{ id: 'a-login' }], notFound: ['a-change'] });
    expect((await t.get('/v1/tenants/gdpr-cats/events/a-change')).statusCode).toBe(200);
  });

  it('deletes as redacted leaves that `hindsight verify` reports, never as tampering', async () => {
    const allow = { deletion: { allowed: true } };
    expect((await send('PUT', `/v1/tenants/${tenant}/settings`, allow, t.admin)).statusCode).toBe(
      200,
    );
    const res = await send('POST', url, { ids: ['other', 'missing'] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      deleted: [{ id: 'other', seq: 3 }],
      alreadyDeleted: [],
      notFound: ['missing'],
      exports: 0,
    });
    expect((await t.get(`/v1/tenants/${tenant}/events/other`)).statusCode).toBe(404);
    expect((await events('&q=zebra')).length).toBe(0);
    const audit = await events('&category=audit');
    expect(audit[0]).toMatchObject({
      action: 'audit_log.deleted',
      description: 'Deleted 1 event',
      metadata: { events: 1, seqs: [3] },
    });

    const exported = await t.get(`/v1/tenants/${tenant}/export?format=ndjson`);
    expect(exported.body).toContain('"type":"redacted"');
    const key = note.verifierKeyText(signer);
    const { code, stdout } = await cliVerify(tmp.dir, exported.body, key);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^OK: tenant gdpr, /);
    expect(stdout).toMatch(/redacted \(seq 3\): event "other" was redacted at \S+ by api_key:/);

    // The same export with the redacted event's line removed, as if its row were deleted by hand.
    const cut = exported.body
      .split('\n')
      .filter((l) => !l.includes('"type":"redacted"'))
      .join('\n');
    const failed = await cliVerify(tmp.dir, cut, key);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/missing \(seq 3\)/);
  });
});
