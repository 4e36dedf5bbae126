/**
 * PostgreSQL faults, with a real server of this file's own that is stopped and restarted:
 * requests fail with `503 store_unavailable` while it is gone, nothing half-written stays, and
 * the store recovers by itself. Also migrations run twice and at once, an upgrade that computes
 * the derived views from the events stored before, and a pool of a few connections under 200
 * concurrent requests.
 */
import { type EventInput, leafHashOf, merkle, parseQuery, type QueryClause } from '@hindsight/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { HindsightError } from '../../src/errors.js';
import { createApp } from '../../src/http/app.js';
import { prepareEvents } from '../../src/ingest.js';
import { writerEvent } from '../../src/store/append-plan.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { rebuildTenantProjectionsSql } from '../../src/store/postgres-projections.js';
import {
  addRow,
  createPartitions,
  EVENT_COLUMNS,
  emptyColumns,
  eventRows,
  INSERT_TARGETS_SQL,
  migratePostgres,
  monthOf,
  SCHEMA_VERSION,
} from '../../src/store/postgres-schema.js';
import {
  LOGIN_SORTS,
  type PreparedEvent,
  type Stats,
  type StatsQuery,
  type Store,
} from '../../src/store/types.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../embedded-postgres.js';
import {
  EMAIL_CASE_EVENTS,
  expectEmailInAnyCase,
  expectNewCountry,
  NEW_COUNTRY_EVENTS,
  SENSITIVE_CHANGE_EVENTS,
  testEnricher,
} from '../helpers.js';
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

/** Every event of the views, out of time order, across two tenants (see `views-conformance.ts`). */
function viewEvents(now: number): EventInput[][] {
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const batches: EventInput[][] = [];
  for (let b = 0; b < 12; b++) {
    const batch: EventInput[] = [];
    for (let j = 0; j < 10; j++) {
      const i = b * 10 + j;
      const tenant = i % 3 === 0 ? 'views-b' : 'views-a';
      // Times jump back and forth over three days.
      const time = at(((i * 677) % 4300) + 1);
      const user = { id: `u${i % 4}`, name: `User ${i % 4} v${b}`, email: `u${i % 4}@acme.test` };
      const message = { type: 'message', id: `M${i % 3}` };
      const system = i % 2 ? 'xero' : 'gcal';
      const kinds: EventInput[] = [
        {
          tenant,
          category: 'logins',
          action: i % 3 ? 'login.succeeded' : 'login.failed',
          ...(i % 3 ? {} : { outcome: 'failure', metadata: { reason: 'a\u0000b' } }),
          actor: i % 5 ? user : { type: 'anonymous', email: `ghost${i % 2}@evil.test` },
          time,
          context: { ip: i % 2 ? '81.2.69.142' : '89.160.20.112', userAgent: 'Firefox/127.0' },
        },
        {
          tenant,
          category: 'communications',
          action: 'message.sent',
          actor: user,
          time,
          targets: [message],
          metadata: {
            receivers: [`a${i % 4}`, `b${i % 2}`, `a${i % 4}`].map((r, k) => ({
              address: `${r}@x.test`,
              ...(k === 1 ? { name: `R${i}` } : {}),
            })),
          },
        },
        {
          tenant,
          category: 'communications',
          action: 'message.delivered',
          status: ['delivered', 'sent', 'hard_bounce', 'deferred'][i % 4] as string,
          actor: { type: 'system' },
          time,
          targets: [message],
          metadata: { receiver: { address: `a${i % 5}@x.test`, name: `A${i}` } },
        },
        {
          tenant,
          category: 'integrations',
          action: 'integration.synced',
          status: ['ok', 'error', 'notification'][i % 3] as string,
          actor: { type: 'integration', id: system },
          time,
          description: `${system} ${i}`,
          targets: [{ type: 'integration', id: system, name: system.toUpperCase() }],
          metadata: { system: system.toUpperCase() },
        },
        {
          tenant,
          category: 'integrations',
          action: 'integration.acknowledged',
          actor: { id: 'admin' },
          time,
          targets: [{ type: 'integration', id: system }],
          metadata: { upToSeq: i - 6 },
        },
        { tenant, action: 'workflow.updated', actor: { type: 'system', name: `Job ${i}` }, time },
        { tenant, action: 'workflow.created', channel: 'api', actor: user, time },
      ];
      batch.push(kinds[(i * 5) % kinds.length] as EventInput);
    }
    batches.push(batch);
  }
  return batches;
}

/**
 * Stores prepared batches as a store of schema version 1 did: events, targets, sizes and Merkle
 * trees, no projections.
 */
async function storeAtVersion1(client: pg.Client, batches: readonly PreparedEvent[][]) {
  const asPool = client as unknown as pg.PoolClient;
  const events = batches.flat().map(writerEvent);
  // Version 1 had no `event_search`: the words were a column of `events`.
  await createPartitions(asPool, new Set(events.map((e) => monthOf(e.timeMs))), [
    'events',
    'event_targets',
  ]);
  const sizes = new Map<number, number>();
  const frontiers = new Map<number, Map<number, Uint8Array>>();
  for (const batch of batches) {
    const columns = emptyColumns();
    for (const e of batch.map(writerEvent)) {
      const { rows } = await client.query<{ id: number }>(
        'INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = $1 RETURNING id',
        [e.tenant],
      );
      const tenantId = rows[0]?.id as number;
      const seq = (sizes.get(tenantId) ?? 0) + 1;
      sizes.set(tenantId, seq);
      const prepared = batch.find((p) => p.event.id === e.id) as PreparedEvent;
      const hash = leafHashOf(prepared.hashParts, seq);
      addRow(columns, tenantId, seq, hash, e);
      const frontier = frontiers.get(tenantId) ?? new Map<number, Uint8Array>();
      frontiers.set(tenantId, frontier);
      for (const node of merkle.appendLeaves(frontier, seq - 1, [Buffer.from(hash, 'hex')])) {
        await client.query('INSERT INTO tree_nodes VALUES ($1, $2, $3, $4)', [
          tenantId,
          node.level,
          node.index,
          Buffer.from(node.hash),
        ]);
      }
    }
    await client.query(
      `INSERT INTO events (${EVENT_COLUMNS}, words) SELECT ${EVENT_COLUMNS}, words::tsvector ` +
        'FROM unnest($1::integer[], $2::timestamptz[], $3::bigint[], $4::text[], $5::text[], ' +
        '$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[], ' +
        `$13::bytea[], $14::bytea[], $15::text[], $16::text[], $17::text[]) AS u(${EVENT_COLUMNS}, words)`,
      [...eventRows(columns.events), columns.events.words],
    );
    const t = columns.targets;
    await client.query(INSERT_TARGETS_SQL, [t.tenantId, t.targetId, t.time, t.seq]);
  }
  for (const [id, size] of sizes) {
    await client.query('UPDATE tenants SET size = $2 WHERE id = $1', [id, size]);
  }
}

/** Everything the derived views answer about a tenant. */
async function viewsOf(store: Store, tenant: string, now: number) {
  const logins: Record<string, unknown[]> = {};
  for (const sort of LOGIN_SORTS) {
    for (const order of ['asc', 'desc'] as const) {
      const users: unknown[] = [];
      let after: string | undefined;
      do {
        const page = await store.loginUsers(tenant, {
          sort,
          order,
          limit: 2,
          recentSince: new Date(now - 86_400_000).toISOString(),
          newCountrySince: new Date(now - 30 * 86_400_000).toISOString(),
          ...(after === undefined ? {} : { after }),
        });
        users.push(...page.users);
        after = page.next ?? undefined;
      } while (after !== undefined);
      logins[`${sort} ${order}`] = users;
    }
  }
  const messages = ['M0', 'M1', 'M2'];
  const receivers = await Promise.all(messages.map((m) => store.messageReceivers(tenant, m, 50)));
  const clause = (c: Record<string, unknown>) =>
    ({ negate: false, position: 0, ...c }) as unknown as QueryClause;
  const hour = 3_600_000;
  const day = 24 * hour;
  const queries: StatsQuery[] = [
    { clauses: [], fromMs: now - 4 * day, toMs: now, bucketMs: 6 * hour, top: 5 },
    {
      clauses: [],
      fromMs: Math.floor(now / day) * day - 4 * day,
      toMs: Math.floor(now / day) * day + day,
      bucketMs: day,
      top: 5,
    },
    {
      clauses: [clause({ kind: 'category', value: 'logins' })],
      fromMs: now - 50 * hour,
      toMs: now,
      bucketMs: hour,
      top: 3,
    },
    {
      clauses: [clause({ kind: 'action', value: 'workflow.', prefix: true })],
      fromMs: now - 3 * day,
      toMs: now,
      bucketMs: hour,
      top: 5,
    },
    {
      clauses: [clause({ kind: 'channel', value: 'api' })],
      fromMs: now - 3 * day,
      toMs: now,
      bucketMs: hour,
      top: 5,
    },
  ];
  const stats: Stats[] = [];
  for (const q of queries) stats.push(await store.stats(tenant, q));
  return {
    logins,
    deliveries: await store.deliveryCounts(tenant, messages),
    receivers,
    integrations: await store.integrations(tenant),
    stats,
  };
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

  /**
   * Stores `events` in a new database, takes it back with `downgrade` to what an older version
   * had, and opens it again — which migrates it — for `check`.
   */
  async function afterUpgrade(
    events: readonly EventInput[],
    downgrade: (client: pg.Client) => Promise<void>,
    check: (store: Store, client: pg.Client) => Promise<void>,
  ): Promise<void> {
    const database = await testDatabase(url);
    const client = new pg.Client({ connectionString: database.url });
    let store: Store | undefined;
    try {
      await client.connect();
      store = await openPostgresStore({ url: database.url });
      await store.append([prepareEvents({ events: [...events] }, testEnricher(), new Date())]);
      await store.close();
      store = undefined;
      await downgrade(client);
      store = await openPostgresStore({ url: database.url });
      await check(store, client);
    } finally {
      await store?.close();
      await client.end();
      await database.drop();
    }
  }

  it('forgets, on upgrade, the input digests computed over sensitive values (migration 11)', async () => {
    const digests = async (client: pg.Client) =>
      (await client.query('SELECT id, digest IS NOT NULL AS kept FROM events ORDER BY seq')).rows;
    await afterUpgrade(
      SENSITIVE_CHANGE_EVENTS,
      async (client) => {
        expect(await digests(client)).toEqual([
          { id: 'pin', kept: true },
          { id: 'role', kept: true },
        ]);
        // As a database of version 10 holds them.
        await client.query('DELETE FROM hindsight_migrations WHERE version >= 11');
      },
      async (_store, client) => {
        expect(await digests(client)).toEqual([
          { id: 'pin', kept: false },
          { id: 'role', kept: true },
        ]);
      },
    );
  });

  it('writes, on upgrade, each actor e-mail as its key and keys the views by it (migration 12)', async () => {
    const keys = async (client: pg.Client) => ({
      logins: (
        await client.query(
          'SELECT actor_key, failures::integer AS failures FROM login_users ORDER BY 1',
        )
      ).rows.map((r: { actor_key: string; failures: number }) => [r.actor_key, r.failures]),
      search: (await client.query('SELECT DISTINCT actor FROM event_search ORDER BY 1')).rows.map(
        (r: { actor: string }) => r.actor,
      ),
      emails: (
        await client.query('SELECT DISTINCT actor_email AS e FROM events ORDER BY 1')
      ).rows.map((r: { e: string }) => r.e),
    });
    await afterUpgrade(
      EMAIL_CASE_EVENTS,
      async (client) => {
        // What version 11 kept: the address as sent, and what is keyed by it.
        const tenantId = (await client.query('SELECT DISTINCT tenant_id AS t FROM events')).rows[0]
          .t;
        await client.query("UPDATE events SET actor_email = 'Alice@ACME.test' WHERE id = 'a'");
        await client.query(
          "UPDATE event_search s SET actor = 'email:Alice@ACME.test' FROM events e " +
            "WHERE e.id = 'a' AND s.tenant_id = e.tenant_id AND s.time = e.time AND s.seq = e.seq",
        );
        await client.query(rebuildTenantProjectionsSql(tenantId));
        expect(await keys(client)).toEqual({
          logins: [
            ['email:Alice@ACME.test', 1],
            ['email:alice@acme.test', 1],
          ],
          search: ['email:Alice@ACME.test', 'email:alice@acme.test'],
          emails: ['Alice@ACME.test', 'alice@acme.test'],
        });
        await client.query('DELETE FROM hindsight_migrations WHERE version >= 12');
      },
      async (store, client) => {
        expect(await keys(client)).toEqual({
          logins: [['email:alice@acme.test', 2]],
          search: ['email:alice@acme.test'],
          emails: ['alice@acme.test'],
        });
        await expectEmailInAnyCase(store);
      },
    );
  });

  it('adds the webhook signatures on upgrade, which every store on the database then sees (migration 13)', async () => {
    const database = await testDatabase(url);
    const client = new pg.Client({ connectionString: database.url });
    const stores: Store[] = [];
    try {
      await client.connect();
      // What version 12 had: no table of webhook signatures.
      await migratePostgres(client as unknown as pg.PoolClient, 12);
      const table = async () =>
        (await client.query("SELECT to_regclass('hook_signatures') AS t")).rows[0].t;
      expect(await table()).toBeNull();
      const [upgraded, second] = [
        await openPostgresStore({ url: database.url }),
        await openPostgresStore({ url: database.url }),
      ];
      stores.push(upgraded, second);
      expect(await table()).toBe('hook_signatures');
      expect(
        (await client.query('SELECT max(version) AS v FROM hindsight_migrations')).rows[0].v,
      ).toBe(SCHEMA_VERSION);
      const claim = { provider: 'mailgun', key: 'token-1', call: 'call-a', untilMs: 2_000 };
      expect(await upgraded.claimHookSignature(claim, 1_000)).toBe('claimed');
      expect(await second.claimHookSignature({ ...claim, call: 'call-b' }, 1_000)).toBe(
        'other_call',
      );
    } finally {
      for (const store of stores) await store.close();
      await client.end();
      await database.drop();
    }
  });

  it("computes each account's first successful sign-in per country on upgrade, and keeps it from then on (migration 14)", async () => {
    await afterUpgrade(
      NEW_COUNTRY_EVENTS,
      async (client) => {
        // What version 13 had: no first successful sign-in per country, and a trigger that
        // keeps none (here one that keeps nothing: the upgrade must replace it).
        await client.query(`
ALTER TABLE login_countries DROP COLUMN first_ms, DROP COLUMN first_seq;
CREATE OR REPLACE FUNCTION hindsight_project_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END $$;
DELETE FROM hindsight_migrations WHERE version >= 14;`);
      },
      (store) => expectNewCountry(store, testEnricher()),
    );
  });

  it('upgrades a database of version 1: the views computed from its events equal those kept as they arrive', async () => {
    const now = Date.parse('2026-06-15T12:00:00.000Z');
    const batches = viewEvents(now).map((b) =>
      prepareEvents({ events: b }, testEnricher(), new Date(now)),
    );
    // Later events, a month before the others: their partition is attached after the upgrade.
    const later = viewEvents(now - 40 * 86_400_000)
      .slice(0, 4)
      .map((b) => prepareEvents({ events: b }, testEnricher(), new Date(now)));
    const old = await testDatabase(url);
    const fresh = await testDatabase(url);
    const client = new pg.Client({ connectionString: old.url });
    let upgraded: Store | undefined;
    let live: Store | undefined;
    try {
      await client.connect();
      await migratePostgres(client as unknown as pg.PoolClient, 1);
      await storeAtVersion1(client, batches);
      const version = async () =>
        (await client.query('SELECT max(version) AS v FROM hindsight_migrations')).rows[0].v;
      expect(await version()).toBe(1);
      upgraded = await openPostgresStore({ url: old.url });
      expect(await version()).toBe(SCHEMA_VERSION);
      live = await openPostgresStore({ url: fresh.url });
      for (const batch of batches) expect((await live.append([batch]))[0]?.ok).toBe(true);
      for (const tenant of ['views-a', 'views-b']) {
        const expected = await viewsOf(live, tenant, now);
        expect(await viewsOf(upgraded, tenant, now)).toEqual(expected);
        // Something to compare: every view has content.
        expect(expected.logins['lastAttempt desc']?.length).toBeGreaterThan(2);
        expect(expected.deliveries.length).toBeGreaterThan(2);
        expect(expected.integrations.some((i) => i.acknowledged !== null)).toBe(true);
        expect(expected.stats[0]?.total).toBeGreaterThan(20);
      }
      for (const batch of later) {
        expect((await upgraded.append([batch]))[0]?.ok).toBe(true);
        expect((await live.append([batch]))[0]?.ok).toBe(true);
      }
      for (const tenant of ['views-a', 'views-b']) {
        const month = now - 40 * 86_400_000;
        const expected = await viewsOf(live, tenant, month);
        expect(await viewsOf(upgraded, tenant, month)).toEqual(expected);
        expect(expected.stats[0]?.total).toBeGreaterThan(5);
        expect(await viewsOf(upgraded, tenant, now)).toEqual(await viewsOf(live, tenant, now));
      }
    } finally {
      await upgraded?.close();
      await live?.close();
      await client.end();
      await old.drop();
      await fresh.drop();
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
