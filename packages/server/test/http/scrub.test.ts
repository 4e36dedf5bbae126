/**
 * The integrity scrub in a running app (docs/operations.md#the-integrity-scrub): on its
 * schedule it checks every tenant's stored log; an event changed in the database behind the
 * server's back shows in the metrics and, once, in that tenant's own `audit` log; when the
 * database is put back, the tenant verifies again. The metrics never name the tenant.
 */
import { type EventInput, note, type StoredEvent } from '@hindsight/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { Checkpointer } from '../../src/checkpoints.js';
import { createApp } from '../../src/http/app.js';
import { ScrubJob } from '../../src/scrub.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { event, tempDir, testEnricher } from '../helpers.js';

const tmp = tempDir();
const signer = note.signerFromSeed('scrub.test', Buffer.alloc(32, 5));
let store: Store;
let app: Awaited<ReturnType<typeof createApp>>;
let admin: string;

const get = (url: string) =>
  app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${admin}` } });

/** The value of one series of `GET /metrics`. */
async function metric(series: string): Promise<number> {
  const text = (await get('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

/** Runs raw SQL on the database file, as someone with write access to it would. */
function intrude(sql: string, ...params: unknown[]): number {
  const db = new Database(sqlitePath(tmp.dir));
  try {
    db.pragma('busy_timeout = 10000');
    return db.prepare(sql).run(...params).changes;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  store = await openStore({ data: tmp.dir });
  app = await createApp({
    store,
    enricher: testEnricher(),
    checkpoints: {
      signer,
      origin: 'scrub.test',
      intervalMs: 0,
    },
    scrub: { intervalMs: 150, firstRunMs: 10, pauseMs: 0 },
  });
  await app.ready();
  admin = (await createApiKey(store, { scopes: ['admin'] })).token;
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  tmp.remove();
});

it('finds a log changed in the database, tells its tenant once, and clears when it is put back', async () => {
  const post = (tenant: string, n: number) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        events: Array.from({ length: n }, (_, i) =>
          event({ tenant, description: `change ${i}`, actor: { id: 'u1', name: 'Ann Ng' } }),
        ),
      }),
    });
  expect((await post('acme', 30)).statusCode).toBe(202);
  expect((await post('globex', 5)).statusCode).toBe(202);
  expect((await get('/v1/tenants/acme/checkpoint')).statusCode).toBe(200);
  expect((await get('/v1/tenants/globex/checkpoint')).statusCode).toBe(200);

  // Untouched: whole runs over both logs, nothing failed.
  const runs = await metric('hindsight_scrub_runs_total');
  await expect
    .poll(() => metric('hindsight_scrub_runs_total'), { timeout: 10_000 })
    .toBeGreaterThan(runs + 1);
  expect(await metric('hindsight_scrub_failed_tenants')).toBe(0);
  expect(await metric('hindsight_scrub_events_total')).toBeGreaterThanOrEqual(35);
  expect(await metric('hindsight_scrub_last_run_timestamp_seconds')).toBeGreaterThan(
    Date.now() / 1000 - 60,
  );

  const { events } = (await get('/v1/tenants/acme/events?order=asc&limit=10')).json() as {
    events: StoredEvent[];
  };
  const target = events[6] as StoredEvent;
  expect(
    intrude(
      'UPDATE events SET body = replace(body, ?, ?) WHERE id = ?',
      'change 6',
      'change 7',
      target.id,
    ),
  ).toBe(1);

  await expect.poll(() => metric('hindsight_scrub_failed_tenants'), { timeout: 10_000 }).toBe(1);
  const audit = async () =>
    (
      (
        await get('/v1/tenants/acme/events?category=audit&action=audit_log.verification_failed')
      ).json() as {
        events: StoredEvent[];
      }
    ).events;
  await expect.poll(async () => (await audit()).length, { timeout: 10_000 }).toBe(1);
  const [entry] = await audit();
  expect(entry).toMatchObject({
    category: 'audit',
    outcome: 'failure',
    channel: 'system',
    actor: { type: 'system', name: 'Hindsight integrity check' },
  });
  expect(entry?.description).toContain(`at seq ${target.seq} does not match its hash`);
  // More runs find the same problem: still one entry. The other tenant has none.
  const later = await metric('hindsight_scrub_runs_total');
  await expect
    .poll(() => metric('hindsight_scrub_runs_total'), { timeout: 10_000 })
    .toBeGreaterThan(later + 1);
  expect(await audit()).toHaveLength(1);
  const globex = (await get('/v1/tenants/globex/events?category=audit')).json() as {
    events: StoredEvent[];
  };
  expect(globex.events).toEqual([]);
  expect((await get('/metrics')).body).not.toMatch(/acme|globex/);

  // The verdict, as the console reads it: the problems for a reader of every log; only that
  // there are some for a viewer limited to some logs; nothing for one without `verify`.
  const integrity = await get('/v1/tenants/acme/integrity');
  expect(integrity.statusCode).toBe(200);
  expect(integrity.json()).toMatchObject({
    verdict: {
      ok: false,
      id: entry?.id,
      description: entry?.description,
      problems: expect.arrayContaining([
        expect.objectContaining({ kind: 'altered', seq: target.seq }),
      ]),
    },
  });
  const viewer = async (permissions: string[]) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/viewer-tokens',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        tenant: 'acme',
        viewer: { id: 'u-adm', role: 'admin' },
        permissions,
        categories: ['changes'],
      }),
    });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { token: string }).token;
  };
  const limited = await app.inject({
    url: '/v1/tenants/acme/integrity',
    headers: { authorization: `Bearer ${await viewer(['view', 'verify'])}` },
  });
  expect(limited.json()).toEqual({
    verdict: {
      ok: false,
      at: entry?.receivedAt,
      id: entry?.id,
      description: "The server's integrity check found problems in this log.",
      problems: [],
    },
  });
  const unverified = await app.inject({
    url: '/v1/tenants/acme/integrity',
    headers: { authorization: `Bearer ${await viewer(['view'])}` },
  });
  expect(unverified.statusCode).toBe(403);
  expect((await get('/v1/tenants/globex/integrity')).json()).toEqual({ verdict: null });

  // A server started afresh, or another one sharing the database, finds the same changes: they
  // are recorded already.
  const again: EventInput[] = [];
  await new ScrubJob(
    store,
    new Checkpointer(store, { signer, origin: 'scrub.test', intervalMs: 0 }),
    { intervalMs: 3_600_000, pauseMs: 0 },
    {
      quiet: async () => {},
      record: async (e) => {
        again.push(e);
      },
      failed: () => {},
      onError: (error) => {
        throw error;
      },
    },
  ).runOnce();
  expect(again).toEqual([]);
  expect(await audit()).toHaveLength(1);

  // Put back: the tenant verifies again.
  expect(
    intrude(
      'UPDATE events SET body = replace(body, ?, ?) WHERE id = ?',
      'change 7',
      'change 6',
      target.id,
    ),
  ).toBe(1);
  await expect.poll(() => metric('hindsight_scrub_failed_tenants'), { timeout: 10_000 }).toBe(0);
  const verdict = (await get('/v1/tenants/acme/integrity')).json() as {
    verdict: { ok: boolean; description: string };
  };
  expect(verdict.verdict.ok).toBe(true);
  expect(verdict.verdict.description).toMatch(
    /^The server's integrity check verified this log again: \d+ events, signed up to seq \d+\.$/,
  );
});

it('refuses the integrity check’s verdicts from producers: only the server records them', async () => {
  const post = (payload: unknown) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
  const forged = event({
    tenant: 'initech',
    category: 'audit',
    action: 'audit_log.verification_passed',
    actor: { type: 'system', name: 'Hindsight integrity check' },
  });
  const single = await post(forged);
  expect(single.statusCode).toBe(400);
  expect(single.json()).toMatchObject({
    error: {
      code: 'invalid_event',
      details: [{ index: 0, path: '/action', message: expect.stringContaining('integrity check') }],
    },
  });
  const batch = await post({
    events: [event({ tenant: 'initech' }), { ...forged, action: 'audit_log.verification_failed' }],
  });
  expect(batch.statusCode).toBe(400);
  expect(batch.json()).toMatchObject({
    error: { code: 'invalid_event', details: [{ index: 1, path: '/events/1/action' }] },
  });
  // Nothing of either batch was stored.
  expect((await get('/v1/tenants/initech/events')).json()).toMatchObject({ events: [] });
  expect((await get('/v1/tenants/initech/integrity')).json()).toEqual({ verdict: null });
});
