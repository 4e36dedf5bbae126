/**
 * Tenant isolation on every route, taken from the OpenAPI document rather than from a list kept
 * by hand: a route added later is covered as soon as it is documented. A key limited to one
 * tenant, holding every scope, is refused (403 `forbidden`) on each route of another tenant,
 * before the route reads or writes anything of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/auth.js';
import { event, type TestApp, testApp } from '../helpers.js';

let t: TestApp;
let acmeKey: string;

/** Every operation of the OpenAPI document: its method and path template. */
async function documentedRoutes(): Promise<Array<{ method: string; path: string }>> {
  const doc = (await t.get('/v1/openapi.json')).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((method) => ({ method: method.toUpperCase(), path })),
  );
}

/** What globex holds, read with the unlimited admin key: it must not change. */
async function globexState(): Promise<unknown> {
  const events = await t.get('/v1/tenants/globex/events?limit=500');
  const settings = await t.get('/v1/tenants/globex/settings');
  const views = await t.get('/v1/tenants/globex/views');
  return { events: events.json(), settings: settings.json(), views: views.json() };
}

beforeAll(async () => {
  t = await testApp();
  const events = [
    event({ tenant: 'acme', id: 'acme-1' }),
    event({ tenant: 'globex', id: 'globex-1', actor: { id: 'g-1', email: 'gina@globex.test' } }),
    event({ tenant: 'globex', category: 'logins', action: 'login.failed', id: 'globex-2' }),
  ];
  expect((await t.post({ events })).statusCode).toBe(202);
  acmeKey = await t.key([...SCOPES], 'acme');
});
afterAll(async () => {
  await t.close();
});

describe('tenant isolation', () => {
  it("refuses a key limited to one tenant on every documented route of another's", async () => {
    const before = await globexState();
    const routes = (await documentedRoutes()).filter((r) => r.path.includes('{tenant}'));
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const url = route.path
        .replace('{tenant}', 'globex')
        .replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'id' ? 'globex-1' : `some-${name}`));
      // The tenant is checked before the request's query or body is read: a route that refused
      // for another reason first (a 400 of its query, a 404) would fail here too.
      const res = await t.app.inject({
        method: route.method as 'GET',
        url,
        headers: { authorization: `Bearer ${acmeKey}`, 'content-type': 'application/json' },
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{}' }),
      });
      expect(res.statusCode, `${route.method} ${url}: ${res.body}`).toBe(403);
      expect((res.json() as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect(await globexState()).toEqual(before);
  });

  it('refuses events and viewer tokens for another tenant named in the body', async () => {
    const post = (url: string, body: unknown) =>
      t.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${acmeKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    // One event of its own tenant beside one of another: the whole batch is refused.
    const mixed = await post('/v1/events', {
      events: [event({ tenant: 'acme' }), event({ tenant: 'globex', id: 'sneaked' })],
    });
    expect(mixed.statusCode).toBe(403);
    expect((await t.get('/v1/tenants/globex/events/sneaked')).statusCode).toBe(404);
    const viewer = await post('/v1/viewer-tokens', {
      tenant: 'globex',
      viewer: { id: 'u-1', role: 'admin' },
      permissions: ['view'],
    });
    expect(viewer.statusCode).toBe(403);
    // Nor may it revoke another tenant's viewer tokens.
    const issued = await t.app.inject({
      method: 'POST',
      url: '/v1/viewer-tokens',
      headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        tenant: 'globex',
        viewer: { id: 'g-admin', role: 'admin' },
        permissions: ['view'],
      }),
    });
    expect(issued.statusCode, issued.body).toBe(201);
    const globexToken = (issued.json() as { token: string }).token;
    const revoke = await post('/v1/viewer-tokens/revocations', {
      tenant: 'globex',
      viewerId: 'g-admin',
    });
    expect(revoke.statusCode).toBe(403);
    expect((await t.get('/v1/tenants/globex/events', globexToken)).statusCode).toBe(200);
  });

  it('lists only its own tenant, and reads its own tenant', async () => {
    const tenants = await t.get('/v1/tenants', acmeKey);
    expect(tenants.json()).toEqual({ tenants: [{ name: 'acme', events: 1 }] });
    const own = await t.get('/v1/tenants/acme/events/acme-1', acmeKey);
    expect(own.statusCode).toBe(200);
    // The server's metrics count every tenant together: not for a key limited to one.
    expect((await t.get('/metrics', acmeKey)).statusCode).toBe(403);
  });
});
