/**
 * Viewer tokens (issue #8) over HTTP: issued by a key, enforced on every request (tenant,
 * permissions, categories, expiry, revocation), and every read a viewer makes recorded once in
 * the tenant's `audit` log.
 */
import { note, type StoredEvent } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { DEFAULT_ORIGIN } from '../../src/checkpoints.js';
import { ACCESS_ROUTES } from '../../src/http/access-routes.js';
import { createApp } from '../../src/http/app.js';
import { ERASURE_ROUTES } from '../../src/http/erasure-routes.js';
import { EXPORT_JOB_ROUTES } from '../../src/http/export-job-routes.js';
import { RETENTION_ROUTES } from '../../src/http/retention-routes.js';
import { ROUTES } from '../../src/http/routes.js';
import { VIEW_ROUTES } from '../../src/http/view-routes.js';
import { type ViewerTokenRequest, ViewerTokens } from '../../src/viewer-tokens.js';
import { event, type TestApp, testApp, testEnricher } from '../helpers.js';

const signer = note.signerFromSeed(DEFAULT_ORIGIN, Buffer.alloc(32, 7));
let t: TestApp;

const request = (overrides: Partial<ViewerTokenRequest> = {}): ViewerTokenRequest => ({
  tenant: 'acme',
  viewer: { id: 'u-1', name: 'Alice Admin', email: 'alice@acme.test', role: 'admin' },
  permissions: ['view', 'export', 'verify'],
  ...overrides,
});

async function issue(body: unknown, key = t.admin) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/viewer-tokens',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

async function token(overrides: Partial<ViewerTokenRequest> = {}): Promise<string> {
  const res = await issue(request(overrides));
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { token: string }).token;
}

/** The tenant's `audit` events, oldest first (read with the admin key, which is not audited). */
async function auditLog(tenant = 'acme'): Promise<StoredEvent[]> {
  const res = await t.get(`/v1/tenants/${tenant}/events?category=audit&order=asc&limit=500`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { events: StoredEvent[] }).events;
}

beforeAll(async () => {
  t = await testApp({ signer, origin: DEFAULT_ORIGIN });
  const events = [
    event({ tenant: 'acme', category: 'logins', action: 'login.succeeded', id: 'acme-login' }),
    event({ tenant: 'acme', category: 'users', action: 'user.created', id: 'acme-user' }),
    event({ tenant: 'acme', category: 'changes', action: 'workflow.updated', id: 'acme-change' }),
    event({ tenant: 'globex', category: 'logins', action: 'login.failed', id: 'globex-login' }),
  ];
  expect((await t.post({ events })).statusCode).toBe(202);
});
afterAll(async () => {
  await t.close();
});

describe('issuing', () => {
  it('gives a key with the scope a token that reads the tenant, and records the issue', async () => {
    const key = await t.key(['viewer-tokens:create'], 'acme');
    const res = await issue(request({ expiresIn: 600 }), key);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { token: string; tokenId: string; expiresAt: string };
    const expires = Date.parse(body.expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(590_000);
    expect(expires).toBeLessThanOrEqual(600_000);
    const list = await t.get('/v1/tenants/acme/events', body.token);
    expect(list.statusCode, list.body).toBe(200);
    const issued = (await auditLog()).find((e) => e.metadata?.['tokenId'] === body.tokenId);
    expect(issued).toMatchObject({
      action: 'viewer_token.issued',
      actor: { type: 'api_key', id: key.split('_')[1] },
      targets: [
        { type: 'audit_log', id: 'all' },
        { type: 'viewer', id: 'u-1', name: 'Alice Admin' },
      ],
      // The viewer's name is in the target, which an erasure reaches, not in the description.
      description: `Issued a viewer token: u-1 (admin) may read the audit log until ${body.expiresAt}`,
    });
    expect(issued?.actor).not.toHaveProperty('name');
    // A key with a name is named, as the administrator reading the audit log knows it.
    const named = await createApiKey(t.store, {
      scopes: ['viewer-tokens:create'],
      tenant: 'acme',
      name: 'Product backend',
    });
    const again = (await issue(request(), named.token)).json() as { tokenId: string };
    expect((await auditLog()).find((e) => e.metadata?.['tokenId'] === again.tokenId)).toMatchObject(
      { actor: { type: 'api_key', id: named.record.id, name: 'Product backend' } },
    );
  });

  it('refuses keys without the scope or for another tenant, employees, and greedy supervisors', async () => {
    expect((await issue(request(), await t.key(['events:read']))).statusCode).toBe(403);
    expect(
      (await issue(request(), await t.key(['viewer-tokens:create'], 'globex'))).statusCode,
    ).toBe(403);
    const employee = await issue(
      request({ viewer: { id: 'u-9', role: 'employee' }, permissions: ['view'] }),
    );
    expect(employee.statusCode).toBe(403);
    expect(employee.json().error.message).toMatch(/Employees have no access/);
    const supervisor = request({
      viewer: { id: 'u-2', role: 'supervisor' },
      permissions: ['view', 'export'],
    });
    expect((await issue(supervisor)).statusCode).toBe(403);
    expect((await issue({ ...supervisor, permissions: ['view'] })).statusCode).toBe(201);
  });

  it('answers 400 with a path to a malformed request', async () => {
    for (const body of [
      { ...request(), expiresIn: 7200 },
      { ...request(), permissions: ['view', 'root'] },
      { ...request(), tenant: 'a b' },
      { ...request(), extra: true },
      { ...request(), viewer: { id: 'x\u0000y', role: 'admin' } },
    ]) {
      const res = await issue(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
      expect(res.json().error.details[0].path).toMatch(/^\/body/);
    }
  });
});

describe('a token is refused when', () => {
  const tokens = () => ViewerTokens.fromSecret(signer.privateKeyText);

  it('expired, altered, signed by another key, or not a token at all', async () => {
    const expired = await tokens().issue(request({ expiresIn: 60 }), Date.now() - 3_600_000);
    const good = await token();
    const [head, payload, signature] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const altered = [
      head,
      Buffer.from(JSON.stringify({ ...claims, ten: 'globex' })).toString('base64url'),
      signature,
    ].join('.');
    const other = await ViewerTokens.fromSecret('another server').issue(request());
    for (const [name, bad] of [
      ['expired', expired.token],
      ['altered', altered],
      ['other key', other.token],
      ['garbage', 'a.b.c'],
    ] as const) {
      const res = await t.get('/v1/tenants/acme/events', bad);
      expect(res.statusCode, name).toBe(401);
      expect(res.json().error.code, name).toBe('unauthorized');
    }
    expect((await t.get('/v1/tenants/acme/events', expired.token)).json().error.message).toMatch(
      /expired/,
    );
  });

  it('revoked by its id, or by its viewer (tokens issued later work)', async () => {
    const revoke = (body: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/viewer-tokens/revocations',
        headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const one = await issue(request({ viewer: { id: 'u-5', role: 'admin' } }));
    const { token: first, tokenId } = one.json() as { token: string; tokenId: string };
    const second = await token({ viewer: { id: 'u-5', role: 'admin' } });
    expect((await revoke({ tenant: 'acme', tokenId })).statusCode).toBe(201);
    expect((await t.get('/v1/tenants/acme/events', first)).statusCode).toBe(401);
    expect((await t.get('/v1/tenants/acme/events', second)).statusCode).toBe(200);
    expect((await revoke({ tenant: 'acme', viewerId: 'u-5' })).statusCode).toBe(201);
    expect((await t.get('/v1/tenants/acme/events', second)).statusCode).toBe(401);
    // A token issued after the revocation, even within the same second (tokens carry the
    // millisecond they were issued).
    const revokedAt = Date.now();
    while (Date.now() === revokedAt) await new Promise((r) => setImmediate(r));
    const later = await token({ viewer: { id: 'u-5', role: 'admin' } });
    expect((await t.get('/v1/tenants/acme/events', later)).statusCode).toBe(200);
    const actions = (await auditLog()).map((e) => e.action);
    expect(actions.filter((a) => a === 'viewer_token.revoked')).toHaveLength(2);
    expect((await revoke({ tenant: 'acme' })).statusCode).toBe(400);

    // A token id the tenant never issued, or another tenant's token, is not found: answering
    // "revoked" would be untrue, as a token is checked against its own tenant's revocations.
    const other = await issue(request({ viewer: { id: 'u-6', role: 'admin' } }));
    const otherId = (other.json() as { tokenId: string }).tokenId;
    const otherToken = (other.json() as { token: string }).token;
    for (const body of [
      { tenant: 'globex', tokenId: otherId },
      { tenant: 'acme', tokenId: 'never-issued' },
    ]) {
      const res = await revoke(body);
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect((await t.get('/v1/tenants/acme/events', otherToken)).statusCode).toBe(200);
    expect((await auditLog('globex')).map((e) => e.action)).not.toContain('viewer_token.revoked');
  });
});

describe('enforcement', () => {
  it('keeps a token to its tenant on every route', async () => {
    const tok = await token({ permissions: ['view', 'export', 'delete', 'verify'] });
    const routes = [
      ...ROUTES,
      ...VIEW_ROUTES,
      ...ACCESS_ROUTES,
      ...EXPORT_JOB_ROUTES,
      ...ERASURE_ROUTES,
      ...RETENTION_ROUTES,
    ].filter((r) => r.path.includes(':tenant'));
    expect(routes.length).toBeGreaterThan(15);
    for (const route of routes) {
      const url = route.path
        .replace(':tenant', 'globex')
        .replace(/:(\w+)/g, (_m, name: string) => `some-${name}`);
      const res = await t.app.inject({
        method: route.method,
        url,
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{}' }),
      });
      expect(res.statusCode, `${route.method} ${url}`).toBe(403);
    }
    const tenants = await t.get('/v1/tenants', tok);
    expect(tenants.json()).toEqual({ tenants: [{ name: 'acme', events: expect.any(Number) }] });
  });

  it('grants only the permissions it names', async () => {
    const viewOnly = await token({ permissions: ['view'] });
    expect((await t.get('/v1/tenants/acme/events', viewOnly)).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/acme/export?format=csv', viewOnly)).statusCode).toBe(403);
    expect((await t.get('/v1/tenants/acme/checkpoint', viewOnly)).statusCode).toBe(403);
    expect((await t.get('/v1/tenants/acme/proofs/inclusion?seq=1', viewOnly)).statusCode).toBe(403);
    expect((await t.post(event({ tenant: 'acme' }), viewOnly)).statusCode).toBe(403);
    const settings = await t.app.inject({
      method: 'PUT',
      url: '/v1/tenants/acme/settings',
      headers: { authorization: `Bearer ${viewOnly}`, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(settings.statusCode).toBe(403);
    const full = await token({ permissions: ['view', 'export'] });
    const csv = await t.get('/v1/tenants/acme/export?format=csv', full);
    expect(csv.statusCode, csv.body).toBe(200);
  });

  it('keeps a token of one category to it, on lists, details, views, stats and exports', async () => {
    const logins = await token({ permissions: ['view', 'export'], categories: ['logins'] });
    const list = await t.get('/v1/tenants/acme/events', logins);
    expect(list.statusCode, list.body).toBe(200);
    const events = (list.json() as { events: StoredEvent[] }).events;
    expect(events.map((e) => e.id)).toEqual(['acme-login']);
    expect((await t.get('/v1/tenants/acme/events?category=users', logins)).statusCode).toBe(403);
    expect((await t.get('/v1/tenants/acme/events?q=category:users', logins)).statusCode).toBe(403);
    expect((await t.get('/v1/tenants/acme/events/acme-login', logins)).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/acme/events/acme-user', logins)).statusCode).toBe(404);
    expect((await t.get('/v1/tenants/acme/logins/users', logins)).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/acme/messages', logins)).statusCode).toBe(403);
    expect((await t.get('/v1/tenants/acme/integrations', logins)).statusCode).toBe(403);
    const stats = await t.get('/v1/tenants/acme/stats', logins);
    expect(stats.statusCode, stats.body).toBe(200);
    expect(stats.json().total).toBe(1);
    const views = (await t.get('/v1/tenants/acme/views', logins)).json() as {
      views: Array<{ category: string | null }>;
    };
    expect(views.views.map((v) => v.category)).toEqual(['logins']);
    expect((await t.get('/v1/tenants/acme/export?format=ndjson', logins)).statusCode).toBe(403);
    const csv = await t.get('/v1/tenants/acme/export?format=csv', logins);
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.body).toContain('login.succeeded');
    expect(csv.body).not.toContain('user.created');
    const picked = await t.get(
      '/v1/tenants/acme/export?format=csv&ids=acme-login,acme-user',
      logins,
    );
    expect(picked.body).toContain('login.succeeded');
    expect(picked.body).not.toContain('user.created');

    const two = await token({ permissions: ['view'], categories: ['logins', 'users'] });
    const unnamed = await t.get('/v1/tenants/acme/events', two);
    expect(unnamed.statusCode).toBe(403);
    expect(unnamed.json().error.message).toMatch(/Filter by one of them/);
    const users = await t.get('/v1/tenants/acme/events?category=users', two);
    expect((users.json() as { events: StoredEvent[] }).events.map((e) => e.id)).toEqual([
      'acme-user',
    ]);
  });

  it('tells the console who is reading', async () => {
    const tok = await token({ permissions: ['view'], categories: ['logins'] });
    expect((await t.get('/v1/session', tok)).json()).toMatchObject({
      kind: 'viewer',
      tenant: 'acme',
      viewer: { id: 'u-1', name: 'Alice Admin', role: 'admin' },
      permissions: ['view'],
      categories: ['logins'],
    });
    expect((await t.get('/v1/session')).json()).toMatchObject({
      kind: 'key',
      tenant: null,
      categories: null,
    });
  });
});

describe('the audit of the audit log', () => {
  it('records each read of a viewer once, with the viewer, folding repeats', async () => {
    const viewer = { id: 'u-7', name: 'Vera Viewer', role: 'admin' as const };
    const tok = await token({ viewer, permissions: ['view', 'export', 'verify'] });
    const before = (await auditLog()).length;
    for (let i = 0; i < 3; i++) {
      expect((await t.get('/v1/tenants/acme/events?category=logins', tok)).statusCode).toBe(200);
    }
    expect((await t.get('/v1/tenants/acme/events/acme-user', tok)).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/acme/events/acme-user', tok)).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/acme/export?format=csv&category=users', tok)).statusCode).toBe(
      200,
    );
    expect((await t.get('/v1/tenants/acme/logins/users', tok)).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/acme/proofs/inclusion?seq=1', tok)).statusCode).toBe(200);
    const added = (await auditLog()).slice(before);
    expect(added.map((e) => [e.action, e.targets?.[0]?.id])).toEqual([
      ['audit_log.viewed', 'logins'],
      ['audit_log.viewed', 'users'],
      ['audit_log.exported', 'users'],
      ['audit_log.viewed', 'logins'],
      ['audit_log.verified', 'all'],
    ]);
    for (const e of added) {
      expect(e.actor).toEqual({ type: 'user', id: 'u-7', name: 'Vera Viewer', role: 'admin' });
      expect(e.channel).toBe('ui');
    }
    // Who read is the actor, which an erasure reaches; the description names no one.
    expect(added.map((e) => e.description)).toEqual([
      'Searched the logins log',
      'Viewed event acme-user of the users log',
      'Exported events of the users log as CSV',
      'Viewed the sign-ins per account',
      'Verified the integrity of the log',
    ]);
    expect(added[0]?.metadata).toMatchObject({ category: 'logins', events: 1 });
    expect(added[1]?.targets?.[1]).toEqual({ type: 'event', id: 'acme-user' });
    expect(added[2]?.metadata).toMatchObject({ format: 'csv', filters: { category: 'users' } });
  });

  it('does not record a program reading with an API key', async () => {
    const before = (await auditLog()).length;
    expect((await t.get('/v1/tenants/acme/events?category=changes')).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/acme/export?format=csv')).statusCode).toBe(200);
    expect((await auditLog()).length).toBe(before);
  });
});

describe('the embedded console', () => {
  it('serves /embed to the frames the tenant allows, and a plain refusal to a bad token', async () => {
    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/tenants/acme/settings',
      headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        embed: {
          frameAncestors: ['https://app.acme.test'],
          accentColor: '#aa3300',
          logoUrl: 'https://cdn.acme.test/logo.png',
        },
      }),
    });
    expect(put.statusCode, put.body).toBe(200);
    const tok = await token({ permissions: ['view'] });
    const page = await t.app.inject({ method: 'GET', url: `/embed?token=${tok}` });
    expect(page.statusCode, page.body).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain('frame-ancestors https://app.acme.test');
    expect(csp).toContain("img-src 'self' data: https://cdn.acme.test");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBeUndefined();

    for (const bad of ['nope', t.admin, '']) {
      const refused = await t.app.inject({ method: 'GET', url: `/embed?token=${bad}` });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['content-type']).toMatch(/^text\/plain/);
      expect(refused.body).not.toContain(bad || 'x-none');
    }
    const bad = await t.app.inject({
      method: 'PUT',
      url: '/v1/tenants/acme/settings',
      headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ embed: { frameAncestors: ['https://x.test; script-src *'] } }),
    });
    expect(bad.statusCode).toBe(400);
    const element = await t.app.inject({ method: 'GET', url: '/embed.js' });
    expect(element.statusCode).toBe(200);
    expect(element.body).toContain("customElements.define('hindsight-audit-log'");
    // The console itself may not be framed.
    const root = await t.app.inject({ method: 'GET', url: '/' });
    expect(String(root.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });
});

describe('rate limits', () => {
  it('answers 429 rate_limited with Retry-After per key and per token, others unaffected', async () => {
    const limited = await testApp({ signer, origin: DEFAULT_ORIGIN }, undefined, {
      read: 3,
      write: 2,
    });
    try {
      const reader = await limited.key(['events:read']);
      for (let i = 0; i < 3; i++) {
        expect((await limited.get('/v1/tenants/acme/events', reader)).statusCode).toBe(200);
      }
      const refused = await limited.get('/v1/tenants/acme/events', reader);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error.code).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Another caller has its own allowance; writes are counted apart.
      expect((await limited.get('/v1/tenants/acme/events')).statusCode).toBe(200);
      expect((await limited.post(event())).statusCode).toBe(202);
      expect((await limited.post(event())).statusCode).toBe(202);
      expect((await limited.post(event())).statusCode).toBe(429);
      const res = await limited.app.inject({
        method: 'POST',
        url: '/v1/viewer-tokens',
        headers: { authorization: `Bearer ${limited.admin}`, 'content-type': 'application/json' },
        payload: JSON.stringify(request()),
      });
      const viewer = (res.json() as { token: string }).token;
      for (let i = 0; i < 3; i++) {
        expect((await limited.get('/v1/tenants/acme/events', viewer)).statusCode).toBe(200);
      }
      expect((await limited.get('/v1/tenants/acme/events', viewer)).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe('invalid credentials', () => {
  it('are answered 429 past 30 a minute from one address, while valid ones still pass', async () => {
    const app = await testApp({ signer, origin: DEFAULT_ORIGIN });
    try {
      const bad = 'hsk_0000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
      for (let i = 0; i < 30; i++) {
        expect((await app.get('/v1/tenants/acme/events', bad)).statusCode).toBe(401);
      }
      const refused = await app.get('/v1/tenants/acme/events', bad);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error.code).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await app.get('/v1/tenants/acme/events', 'e.y.j')).statusCode).toBe(429);
      expect((await app.get('/v1/tenants/acme/events')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('the server log', () => {
  it('never holds a key or a token, at any level, whatever the request', async () => {
    const lines: string[] = [];
    const app = await createApp({
      store: t.store,
      enricher: testEnricher(),
      checkpoints: { signer, origin: DEFAULT_ORIGIN },
      logger: { level: 'trace', stream: { write: (line: string) => lines.push(line) } },
    });
    try {
      const tok = await token();
      const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
      const requests = [
        { url: `/embed?token=${tok}` },
        { url: '/v1/tenants/acme/events?q=a', headers: bearer(tok) },
        { url: '/v1/tenants/acme/events?q=(', headers: bearer(tok) },
        { url: '/v1/tenants/globex/events', headers: bearer(tok) },
        { url: '/v1/tenants/acme/events', headers: bearer(`${tok}x`) },
        { url: '/v1/tenants/acme/events', headers: bearer(`${t.admin}x`) },
        { url: '/v1/tenants/acme/export?format=csv', headers: bearer(t.admin) },
      ];
      for (const r of requests) {
        const res = await app.inject({ method: 'GET', ...r });
        expect(res.statusCode, r.url).toBeLessThan(500);
      }
      const issued = await app.inject({
        method: 'POST',
        url: '/v1/viewer-tokens',
        headers: { ...bearer(t.admin), 'content-type': 'application/json' },
        payload: JSON.stringify(request()),
      });
      expect(issued.statusCode).toBe(201);
      const log = lines.join('');
      const secret = t.admin.split('_').at(-1) as string;
      for (const value of [tok, secret, (issued.json() as { token: string }).token]) {
        // Any part of it: a token's signature, a key's secret.
        for (const part of value.split(/[._]/).filter((p) => p.length >= 16)) {
          expect(log).not.toContain(part);
        }
      }
    } finally {
      await app.close();
    }
  });
});
