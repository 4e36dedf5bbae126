/**
 * PostgreSQL faults, with a real server of this file's own that is stopped and restarted:
 * requests fail with `503 store_unavailable` while it is gone, nothing half-written stays, and
 * the store recovers by itself. Also migrations run twice and at once, and a pool of a few
 * connections under 200 concurrent requests.
 */
import { type EventInput, parseQuery } from '@hindsight/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { HindsightError } from '../../src/errors.js';
import { createApp } from '../../src/http/app.js';
import { prepareEvents } from '../../src/ingest.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { migratePostgres, SCHEMA_VERSION } from '../../src/store/postgres-schema.js';
import type { Store } from '../../src/store/types.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../embedded-postgres.js';
import { testEnricher } from '../helpers.js';
import { providedPostgres, testDatabase } from '../postgres.js';

const provided = providedPostgres();
const ci = process.env['CI'] === 'true';

const batch = (tenant: string, n: number, extra: Partial<EventInput> = {}) =>
  prepareEvents(
    {
      events: Array.from({ length: n }, () => ({
        tenant,
        action: 'a.b',
        actor: { id: 'u' },
        ...extra,
      })),
    },
    testEnricher(),
  );

/** Every seq of a tenant, ascending (events are ordered by time, which may differ). */
async function allSeqs(store: Store, tenant: string): Promise<number[]> {
  const seqs: number[] = [];
  let after: string | undefined;
  do {
    const page = await store.queryEvents(tenant, {
      clauses: [],
      limit: 500,
      order: 'asc',
      ...(after === undefined ? {} : { after }),
    });
    seqs.push(...page.events.map((e) => e.seq));
    after = page.next ?? undefined;
  } while (after !== undefined);
  return seqs.sort((a, b) => a - b);
}

describe.skipIf('skip' in provided && !ci)('PostgreSQL restarts', () => {
  let server: EmbeddedServer;
  let store: Store;
  beforeAll(async () => {
    server = await startEmbeddedPostgres();
    store = await openPostgresStore({ url: server.url, connectTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await store?.close();
    await server?.remove();
  });

  it('answers store_unavailable while the database is gone, keeps every acknowledged batch, and recovers by itself', async () => {
    const tenant = 'restart';
    const acknowledged: number[][] = [];
    const refused: unknown[] = [];
    let stop = false;
    // Writers keep appending while the database stops and starts under them.
    const writers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const [outcome] = await store.append([batch(tenant, 5)]);
          if (outcome?.ok) acknowledged.push(outcome.events.map((e) => e.seq));
        } catch (error) {
          refused.push(error);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    await server.stop();
    await expect(store.append([batch(tenant, 1)])).rejects.toMatchObject({
      code: 'store_unavailable',
    });
    await expect(
      store.queryEvents(tenant, { clauses: [], limit: 5, order: 'desc' }),
    ).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.ping()).rejects.toBeInstanceOf(HindsightError);
    await server.start();
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(writers);

    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) expect(error).toMatchObject({ code: 'store_unavailable' });
    // Recovered: a new batch commits, and the log is gap-free with every acknowledged event.
    const [after] = await store.append([batch(tenant, 2)]);
    expect(after?.ok).toBe(true);
    const seqs = await allSeqs(store, tenant);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const stored = new Set(seqs);
    for (const seq of acknowledged.flat()) expect(stored.has(seq)).toBe(true);
    // Batches are whole: every stored seq belongs to a batch of 5 or the final 2.
    expect((seqs.length - 2) % 5).toBe(0);
  });
});

describe.skipIf('skip' in provided)('PostgreSQL migrations and pool', () => {
  const url = 'url' in provided ? provided.url : '';
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await testDatabase(url);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('applies each migration once when servers migrate at once, and again is a no-op', async () => {
    const clients = Array.from({ length: 3 }, () => new pg.Client({ connectionString: db.url }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      // pg's Client has the query() of a PoolClient that migrations use.
      const asPool = (c: pg.Client) => c as unknown as pg.PoolClient;
      await Promise.all(clients.map((c) => migratePostgres(asPool(c))));
      await migratePostgres(asPool(clients[0] as pg.Client));
      const { rows } = await (clients[0] as pg.Client).query(
        'SELECT version FROM hindsight_migrations ORDER BY version',
      );
      expect(rows.map((r: { version: number }) => r.version)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('refuses a database migrated by a newer Hindsight', async () => {
    const newer = await testDatabase(url);
    try {
      const client = new pg.Client({ connectionString: newer.url });
      await client.connect();
      await client.query('CREATE TABLE hindsight_migrations (version integer PRIMARY KEY)');
      await client.query('INSERT INTO hindsight_migrations VALUES ($1)', [SCHEMA_VERSION + 1]);
      await client.end();
      await expect(openPostgresStore({ url: newer.url })).rejects.toMatchObject({
        code: 'store_unavailable',
        cause: { message: expect.stringMatching(/newer than this Hindsight/) },
      });
    } finally {
      await newer.drop();
    }
  });

  it('queues 200 concurrent requests on a pool of 3 connections, answering each', async () => {
    const store = await openPostgresStore({ url: db.url, poolSize: 3 });
    const app = await createApp({ store, enricher: testEnricher() });
    try {
      const { token } = await createApiKey(store, { scopes: ['admin'] });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          i % 4 === 3
            ? app.inject({ method: 'GET', url: '/v1/tenants/pool/events?q=busy', headers })
            : app.inject({
                method: 'POST',
                url: '/v1/events',
                headers,
                payload: JSON.stringify({
                  events: [
                    { tenant: 'pool', action: 'a.b', actor: { id: 'u' }, description: 'busy' },
                  ],
                }),
              }),
        ),
      );
      const statuses = responses.map((r) => r.statusCode);
      for (const r of responses) {
        if (r.statusCode >= 500)
          expect(r.json()).toMatchObject({ error: { code: 'store_unavailable' } });
      }
      const accepted = statuses.filter((s) => s === 202).length;
      expect(accepted).toBe(150);
      const page = await store.queryEvents('pool', {
        clauses: parseQuery('busy').clauses,
        limit: 500,
        order: 'asc',
      });
      const seqs = page.events.map((e) => e.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
