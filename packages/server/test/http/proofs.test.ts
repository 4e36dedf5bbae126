/**
 * The proof endpoints over the real app and a real SQLite store: the proofs they serve verify
 * with `core`'s verifier against roots computed from the events themselves.
 */
import { merkle } from '@hindsight/core';
import { verifyEventProof } from '@hindsight/core/event-proof';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, type TestApp, testApp } from '../helpers.js';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('GET /v1/tenants/{tenant}/proofs/…', () => {
  let t: TestApp;
  let leaves: Uint8Array[];
  const root = (size: number) => merkle.rootHash(leaves.slice(0, size));

  beforeAll(async () => {
    t = await testApp();
    for (let i = 0; i < 4; i++) {
      const res = await t.post({
        events: Array.from({ length: 5 + i }, () => event({ tenant: 'proofs' })),
      });
      expect(res.statusCode).toBe(202);
    }
    const res = await t.get('/v1/tenants/proofs/events?limit=500&order=asc');
    const events = (res.json() as { events: Array<{ seq: number; hash: string }> }).events;
    leaves = events.sort((a, b) => a.seq - b.seq).map((e) => bytes(e.hash));
    expect(leaves).toHaveLength(26);
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves inclusion proofs that verify against the root of the events', async () => {
    const cases: Array<[number, number]> = [
      [1, 26],
      [26, 26],
      [13, 20],
      [1, 1],
    ];
    for (const [seq, size] of cases) {
      const res = await t.get(`/v1/tenants/proofs/proofs/inclusion?seq=${seq}&size=${size}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { seq: number; size: number; leafHash: string; proof: string[] };
      expect(body).toMatchObject({
        seq,
        size,
        leafHash: Buffer.from(leaves[seq - 1] as Uint8Array).toString('hex'),
      });
      expect(
        merkle.verifyInclusion(
          seq - 1,
          size,
          bytes(body.leafHash),
          body.proof.map(bytes),
          root(size),
        ),
      ).toBe(true);
    }
    // The whole log by default.
    const res = await t.get('/v1/tenants/proofs/proofs/inclusion?seq=7');
    expect(res.json()).toMatchObject({ seq: 7, size: 26 });
  });

  it('serves consistency proofs that verify between any two sizes', async () => {
    const cases: Array<[number, number]> = [
      [1, 26],
      [5, 11],
      [16, 26],
      [26, 26],
      [0, 3],
    ];
    for (const [from, to] of cases) {
      const res = await t.get(`/v1/tenants/proofs/proofs/consistency?from=${from}&to=${to}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { from: number; to: number; proof: string[] };
      expect(body).toMatchObject({ from, to });
      expect(merkle.verifyConsistency(from, to, body.proof.map(bytes), root(from), root(to))).toBe(
        true,
      );
    }
    expect((await t.get('/v1/tenants/proofs/proofs/consistency?from=4')).json()).toMatchObject({
      to: 26,
    });
  });

  it.each([
    ['/v1/tenants/proofs/proofs/inclusion', '/querystring'],
    ['/v1/tenants/proofs/proofs/inclusion?seq=0', '/querystring/seq'],
    ['/v1/tenants/proofs/proofs/inclusion?seq=abc', '/querystring/seq'],
    ['/v1/tenants/proofs/proofs/inclusion?seq=27', '/querystring/seq'],
    ['/v1/tenants/proofs/proofs/inclusion?seq=5&size=4', '/querystring/seq'],
    ['/v1/tenants/proofs/proofs/inclusion?seq=5&size=27', '/querystring/size'],
    ['/v1/tenants/proofs/proofs/inclusion?seq=5&extra=1', '/querystring/extra'],
    ['/v1/tenants/proofs/proofs/consistency?from=5&to=4', '/querystring/from'],
    ['/v1/tenants/proofs/proofs/consistency?from=-1', '/querystring/from'],
    ['/v1/tenants/proofs/proofs/consistency?from=1&to=99', '/querystring/to'],
    ['/v1/tenants/nobody/proofs/inclusion?seq=1', '/querystring/seq'],
  ])('answers %s with 400 invalid_request naming %s', async (url, path) => {
    const res = await t.get(url);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect(res.json().error.details?.[0]?.path).toBe(path);
  });

  it('serves one event with its salts, the newest checkpoint and its proof, which verify', async () => {
    const res = await t.post({
      events: [
        event({ tenant: 'proven', id: 'p1' }),
        event({
          tenant: 'proven',
          id: 'p2',
          actor: { id: 'u-7', name: 'Ann Ng', email: 'ann@acme.test' },
          context: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0' },
          changes: [{ field: 'role', before: 'viewer', after: 'admin' }],
        }),
        event({ tenant: 'proven', id: 'p3' }),
      ],
    });
    expect(res.statusCode).toBe(202);
    const key = (await t.app.inject({ url: '/v1/keys/public' })).json() as {
      verifierKey: string;
      origin: string;
    };
    const trust = { verifierKey: key.verifierKey, origin: `${key.origin}/proven` };
    for (const id of ['p1', 'p2', 'p3']) {
      const proof = await t.get(`/v1/tenants/proven/events/${id}/proof`);
      expect(proof.statusCode).toBe(200);
      const body = proof.json();
      expect(body.event).toEqual((await t.get(`/v1/tenants/proven/events/${id}`)).json());
      expect(body.checkpoint).toBe((await t.get('/v1/tenants/proven/checkpoint')).body);
      expect(await verifyEventProof(body, trust)).toMatchObject({ ok: true, size: 3 });
    }
    const p2 = (await t.get('/v1/tenants/proven/events/p2/proof')).json();
    expect(Object.keys(p2.salts).sort()).toEqual([
      '/actor/email',
      '/actor/name',
      '/changes/0/after',
      '/changes/0/before',
      '/context/ip',
      '/context/userAgent',
    ]);
    // Served for another tenant's key, or another tenant, it is not there.
    const other = await t.key(['events:read'], 'someone-else');
    expect((await t.get('/v1/tenants/proven/events/p1/proof', other)).statusCode).toBe(403);
    const missing = await t.get('/v1/tenants/proven/events/nope/proof');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await t.get('/v1/tenants/proofs/events/p1/proof')).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/tenants/proven/events/p1/proof' })).statusCode,
    ).toBe(401);
  });

  it("keeps a tenant-limited key to its tenant's proofs, and needs a key", async () => {
    const other = await t.key(['events:read'], 'someone-else');
    const res = await t.get('/v1/tenants/proofs/proofs/inclusion?seq=1', other);
    expect(res.statusCode).toBe(403);
    const writer = await t.key(['events:write']);
    expect((await t.get('/v1/tenants/proofs/proofs/consistency?from=1', writer)).statusCode).toBe(
      403,
    );
    const anonymous = await t.app.inject({
      method: 'GET',
      url: '/v1/tenants/proofs/proofs/inclusion?seq=1',
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
