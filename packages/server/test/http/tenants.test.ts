/**
 * `GET /v1/tenants`, the console's tenant picker: every tenant with events for an unlimited key,
 * the key's own tenant alone for a key limited to one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, type TestApp, testApp } from '../helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  const events = [
    ...Array.from({ length: 3 }, () => event({ tenant: 'globex' })),
    ...Array.from({ length: 2 }, () => event({ tenant: 'acme' })),
    event({ tenant: 'Zeta' }),
  ];
  expect((await t.post({ events })).statusCode).toBe(202);
});
afterAll(async () => {
  await t.close();
});

describe('GET /v1/tenants', () => {
  it('lists every tenant with its number of events, sorted by name', async () => {
    const res = await t.get('/v1/tenants', await t.key(['events:read']));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      tenants: [
        { name: 'Zeta', events: 1 },
        { name: 'acme', events: 2 },
        { name: 'globex', events: 3 },
      ],
    });
  });

  it('shows a key limited to one tenant that tenant alone, also before its first event', async () => {
    expect((await t.get('/v1/tenants', await t.key(['events:read'], 'acme'))).json()).toEqual({
      tenants: [{ name: 'acme', events: 2 }],
    });
    expect((await t.get('/v1/tenants', await t.key(['events:read'], 'initech'))).json()).toEqual({
      tenants: [{ name: 'initech', events: 0 }],
    });
  });

  it('needs a key with the read scope', async () => {
    expect((await t.app.inject({ url: '/v1/tenants' })).statusCode).toBe(401);
    const writer = await t.key(['events:write']);
    const res = await t.get('/v1/tenants', writer);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'forbidden' } });
  });
});
