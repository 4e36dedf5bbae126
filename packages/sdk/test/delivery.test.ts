/**
 * Delivery against a real Hindsight (and, where a test needs an answer the server does not
 * give by itself, a real proxy in front of it): batching, retries, backoff, Retry-After,
 * refusals, the queue policy, and exactly-once storage whatever happens in between.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { EventInput } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { createClient, HindsightError } from '../src/index.js';
import {
  numbered as event,
  eventually,
  expectExactlyOnce as exactlyOnce,
  uniqueTenant,
  useHindsight,
} from './hindsight.js';
import { startProxy } from './proxy.js';

const ctx = useHindsight();

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Refusals collected from `onError`. */
function errorLog() {
  const seen: Array<{ error: HindsightError; events: EventInput[] }> = [];
  return {
    seen,
    onError: (error: HindsightError, events: EventInput[]) => seen.push({ error, events }),
  };
}

const expectExactlyOnce = (tenant: string, n: number) => exactlyOnce(ctx.hindsight, tenant, n);

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('record() and batching', () => {
  it('returns at once, sends full batches at once and the rest after flushIntervalMs', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url, () => ({
      forward: true,
      delayAnswerMs: 300,
    }));
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      batchSize: 10,
      flushIntervalMs: 400,
    });
    const t0 = performance.now();
    for (let i = 0; i < 25; i++) await client.record(event(tenant, i));
    expect(performance.now() - t0).toBeLessThan(250);
    expect(client.pending).toBe(25);
    await eventually(
      async () => (await ctx.hindsight.events(tenant)).length === 25,
      5000,
      '25 events',
    );
    const posts = proxy.posts();
    expect(posts.map((p) => p.events.length)).toEqual([10, 10, 5]);
    // The two full batches left at once, the last one when its first event had waited 400 ms.
    expect((posts[2]?.at ?? 0) - t0).toBeGreaterThanOrEqual(390);
    expect((posts[1]?.at ?? 0) - t0).toBeLessThan(390);
    await client.close();
    await proxy.close();
    await expectExactlyOnce(tenant, 25);
  });

  it('fills in a ULID id, the time of record() and the system actor; query() reads every page', async () => {
    const tenant = uniqueTenant();
    const client = createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key });
    const before = Date.now();
    for (let i = 0; i < 23; i++) {
      await client.record({
        tenant,
        action: 'invoice.sent',
        description: `Invoice ${i}`,
        metadata: { i },
      });
    }
    await client.flush();
    expect(client.pending).toBe(0);
    const read = [];
    for await (const e of client.query(tenant, {
      pageSize: 5,
      order: 'asc',
      action: 'invoice.*',
    })) {
      read.push(e);
    }
    expect(read).toHaveLength(23);
    for (const e of read) {
      expect(e.id).toMatch(ULID);
      expect(e.actor).toEqual({ type: 'system' });
      expect(Date.parse(e.time)).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(e.time)).toBeLessThanOrEqual(Date.parse(e.receivedAt));
    }
    await expectExactlyOnce(tenant, 23);
    await client.close();
  });

  it('throws invalid_event at the call site, with the path of each problem', () => {
    const client = createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key });
    const tenant = uniqueTenant();
    let thrown: unknown;
    try {
      client.record({ tenant, action: 'user.created', actor: { type: 'user', name: 'No Id' } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HindsightError);
    const error = thrown as HindsightError;
    expect(error.code).toBe('invalid_event');
    expect(error.message).toContain('/actor/id is required for an actor of type "user"');
    expect(error.stack).toContain('delivery.test.ts');
    expect(() =>
      client.record({
        tenant,
        action: 'user.created',
        metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } },
      }),
    ).toThrow(/\/metadata\/a\/b\/c\/d\/e nesting deeper than 5 levels/);
    expect(() =>
      client.record({ tenant, action: 'Bad Action', context: { ip: '300.1.1.1' } } as EventInput),
    ).toThrow(HindsightError);
    expect(client.pending).toBe(0);
  });

  it('sends batches compressed with gzip when asked, and the server stores them', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url);
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      batchSize: 50,
      compression: 'gzip',
    });
    try {
      for (let i = 0; i < 120; i++) client.record(event(tenant, i));
      await client.flush();
      const posts = proxy.requests.filter((r) => r.url === '/v1/events');
      expect(posts).toHaveLength(3);
      for (const post of posts) expect(post.encoding).toBe('gzip');
      expect(proxy.posts().flatMap((p) => p.events)).toHaveLength(120);
      await expectExactlyOnce(tenant, 120);
    } finally {
      await client.close();
      await proxy.close();
    }
    expect(() =>
      createClient({
        url: ctx.hindsight.url,
        key: ctx.hindsight.key,
        compression: 'zstd' as 'gzip',
      }),
    ).toThrow(/compression is "gzip" or "none"/);
  });

  // A Node.js timer past 2^31 − 1 ms fires after 1 ms: a 30-day timeout would have aborted
  // every request at once, a 30-day flush interval flushed every millisecond.
  it('refuses a time option longer than a timer can wait', async () => {
    const month = 30 * 86_400_000;
    for (const options of [
      { timeoutMs: month },
      { flushIntervalMs: month },
      { retry: { initialDelayMs: month } },
      { retry: { maxDelayMs: month } },
    ]) {
      expect(() =>
        createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key, ...options }),
      ).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    }
    const longest = createClient({
      url: ctx.hindsight.url,
      key: ctx.hindsight.key,
      timeoutMs: 2_147_483_647,
    });
    await longest.close();
  });
});

describe('delivery when things go wrong', () => {
  it('Hindsight down for seconds, then back: every event is stored exactly once', async () => {
    const tenant = uniqueTenant();
    const errors = errorLog();
    const client = createClient({
      url: ctx.hindsight.url,
      key: ctx.hindsight.key,
      batchSize: 20,
      flushIntervalMs: 50,
      retry: { initialDelayMs: 50, maxDelayMs: 400 },
      onError: errors.onError,
    });
    let i = 0;
    for (; i < 60; i++) await client.record(event(tenant, i));
    await sleep(100);
    await ctx.hindsight.stop();
    const downSince = Date.now();
    // Keep recording while it is down.
    while (Date.now() - downSince < 3000) {
      for (let k = 0; k < 10; k++, i++) await client.record(event(tenant, i));
      await sleep(200);
    }
    expect(client.pending).toBeGreaterThan(0);
    await ctx.hindsight.restart();
    await client.flush();
    expect(errors.seen).toEqual([]);
    await expectExactlyOnce(tenant, i);
    await client.close();
  });

  it('an answer lost after the server stored the batch: the retry stores nothing twice', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url, (_request, index) =>
      index < 2 ? { forward: true, dropAnswer: true } : { forward: true },
    );
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      retry: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    for (let i = 0; i < 30; i++) await client.record(event(tenant, i));
    await client.flush();
    expect(proxy.posts().length).toBeGreaterThanOrEqual(3);
    await expectExactlyOnce(tenant, 30);
    await client.close();
    await proxy.close();
  });

  it('honours 429 Retry-After', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url, (_request, index) =>
      index === 0
        ? {
            status: 429,
            headers: { 'retry-after': '1' },
            body: '{"error":{"code":"rate_limited","message":"Slow down."}}',
          }
        : { forward: true },
    );
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      retry: { initialDelayMs: 10 },
    });
    for (let i = 0; i < 5; i++) await client.record(event(tenant, i));
    await client.flush();
    const posts = proxy.posts();
    expect(posts).toHaveLength(2);
    // Without Retry-After the first retry would come after 5–10 ms.
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(995);
    await expectExactlyOnce(tenant, 5);
    await client.close();
    await proxy.close();
  });

  // regression: `Retry-After: 0` (or a value read as a past date) turned the backoff off, and
  // the batch was resent as fast as the answers came.
  it('never waits less than its backoff, whatever Retry-After says', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url, (_request, index) =>
      index < 3
        ? {
            status: 429,
            headers: { 'retry-after': ['0', '-5', '1.5'][index] ?? '0' },
            body: '{"error":{"code":"rate_limited","message":"Slow down."}}',
          }
        : { forward: true },
    );
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      retry: { initialDelayMs: 200, maxDelayMs: 1000 },
    });
    await client.record(event(tenant, 0));
    await client.flush();
    const at = proxy.posts().map((p) => p.at);
    expect(at).toHaveLength(4);
    // Backoff after the n-th failure: at least half of 200 × 2^(n−1) ms.
    for (const [i, least] of [100, 200, 400].entries()) {
      expect((at[i + 1] ?? 0) - (at[i] ?? 0)).toBeGreaterThanOrEqual(least - 5);
    }
    await expectExactlyOnce(tenant, 1);
    await client.close();
    await proxy.close();
  });

  it('backs off exponentially, with jitter, on 5xx', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url, (_request, index) =>
      index < 4
        ? { status: 503, body: '{"error":{"code":"store_unavailable","message":"Busy."}}' }
        : { forward: true },
    );
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      retry: { initialDelayMs: 80, maxDelayMs: 10_000 },
    });
    await client.record(event(tenant, 0));
    await client.flush();
    const at = proxy.posts().map((p) => p.at);
    expect(at).toHaveLength(5);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    // Retry n waits between half and all of 80 ms × 2^(n−1).
    for (const [n, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(40 * 2 ** n - 2);
    expect(gaps[3]).toBeGreaterThan(gaps[0] ?? 0);
    await expectExactlyOnce(tenant, 1);
    await client.close();
    await proxy.close();
  });

  it('a conflicting event (409) goes to onError alone and is not retried; the rest is stored', async () => {
    const tenant = uniqueTenant();
    const original = {
      tenant,
      id: 'dup-1',
      action: 'user.updated',
      actor: { id: 'u-1' },
      description: 'first',
    };
    const first = await fetch(`${ctx.hindsight.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.hindsight.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(original),
    });
    expect(first.status).toBe(202);
    const proxy = await startProxy(ctx.hindsight.url);
    const errors = errorLog();
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      onError: errors.onError,
    });
    await client.record({ ...event(tenant, 0) });
    await client.record({ ...original, description: 'changed' });
    await client.record({ ...event(tenant, 1) });
    await client.flush();
    expect(errors.seen).toHaveLength(1);
    const [{ error, events } = errors.seen[0] ?? { error: undefined, events: [] }] = errors.seen;
    expect(error?.code).toBe('conflict');
    expect(error?.status).toBe(409);
    expect(error?.details).toEqual([{ path: '/id', message: 'id already used' }]);
    expect(events.map((e) => [e.id, e.description])).toEqual([['dup-1', 'changed']]);
    const posts = proxy.posts();
    expect(posts.filter((p) => p.events.some((e) => e.id === 'dup-1'))).toHaveLength(1);
    expect(posts.map((p) => p.events.length)).toEqual([3, 2]);
    const stored = await ctx.hindsight.events(tenant);
    expect(stored.map((e) => e.description).sort()).toEqual(['Report 0', 'Report 1', 'first']);
    await client.close();
    await proxy.close();
  });

  it('a key limited to one tenant (403): the events of other tenants go to onError, the rest is stored', async () => {
    const tenant = uniqueTenant();
    const other = uniqueTenant();
    const key = await ctx.hindsight.createKey(['events:write'], tenant);
    const proxy = await startProxy(ctx.hindsight.url);
    const errors = errorLog();
    const client = createClient({ url: proxy.url, key, onError: errors.onError });
    await client.record(event(tenant, 0));
    await client.record(event(other, 1));
    await client.record(event(tenant, 2));
    await client.close();
    expect(
      errors.seen.map((s) => [
        s.error.code,
        s.error.status,
        s.error.details,
        s.events.map((e) => e.description),
      ]),
    ).toEqual([
      [
        'forbidden',
        403,
        [{ path: '/tenant', message: `this key may not write tenant "${other}"` }],
        ['Report 1'],
      ],
    ]);
    expect(proxy.posts().map((p) => p.events.length)).toEqual([3, 2]);
    expect((await ctx.hindsight.events(tenant)).map((e) => e.description)).toEqual([
      'Report 0',
      'Report 2',
    ]);
    expect(await ctx.hindsight.events(other)).toEqual([]);
    await proxy.close();
  });

  it('a key without the scope (403): the whole batch goes to onError, once', async () => {
    const tenant = uniqueTenant();
    const key = await ctx.hindsight.createKey(['events:read']);
    const proxy = await startProxy(ctx.hindsight.url);
    const errors = errorLog();
    const client = createClient({ url: proxy.url, key, onError: errors.onError });
    for (let i = 0; i < 3; i++) await client.record(event(tenant, i));
    await client.close();
    expect(errors.seen.map((s) => [s.error.code, s.error.status, s.events.length])).toEqual([
      ['forbidden', 403, 3],
    ]);
    expect(proxy.posts()).toHaveLength(1);
    expect(await ctx.hindsight.events(tenant)).toEqual([]);
    await proxy.close();
  });

  it('a 400 from the server (a client clock 10 minutes fast) goes to onError and is not retried', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url);
    const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        fixture('fast-clock.mjs'),
        fixture('record-one.mjs'),
        proxy.url,
        ctx.hindsight.key,
        tenant,
      ],
      { timeout: 20_000 },
    );
    const reported = JSON.parse(stdout) as Array<{
      code: string;
      status: number;
      details: unknown;
      events: number;
    }>;
    expect(reported).toEqual([
      {
        code: 'invalid_event',
        status: 400,
        details: [{ path: '/time', message: 'is more than 5 minutes in the future' }],
        events: 1,
      },
    ]);
    expect(proxy.posts()).toHaveLength(1);
    expect(await ctx.hindsight.events(tenant)).toEqual([]);
    await proxy.close();
  });

  it('a 413 halves the batches, and nothing is lost', async () => {
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url, (_request, index) =>
      index === 0
        ? { status: 413, body: '{"error":{"code":"payload_too_large","message":"Too big."}}' }
        : { forward: true },
    );
    const client = createClient({ url: proxy.url, key: ctx.hindsight.key, batchSize: 40 });
    for (let i = 0; i < 40; i++) await client.record(event(tenant, i));
    await client.flush();
    expect(proxy.posts().map((p) => p.events.length)).toEqual([40, 20, 20]);
    await expectExactlyOnce(tenant, 40);
    await client.close();
    await proxy.close();
  });
});

describe('the queue and closing', () => {
  it('whenQueueFull "throw": record() throws queue_full at maxQueue and keeps nothing', async () => {
    const port = await closedPort();
    const client = createClient({
      url: `http://127.0.0.1:${port}`,
      key: 'hsk_x',
      maxQueue: 3,
      retry: { initialDelayMs: 60_000 },
      onError: () => {},
    });
    const tenant = uniqueTenant();
    for (let i = 0; i < 3; i++) await client.record(event(tenant, i));
    expect(() => client.record(event(tenant, 3))).toThrow(
      expect.objectContaining({ code: 'queue_full' }),
    );
    expect(client.pending).toBe(3);
    await client.close({ timeoutMs: 10 });
  });

  it('whenQueueFull "drop-oldest" drops and reports the oldest; close({ timeoutMs }) reports the rest', async () => {
    const port = await closedPort();
    const errors = errorLog();
    const client = createClient({
      url: `http://127.0.0.1:${port}`,
      key: 'hsk_x',
      maxQueue: 3,
      whenQueueFull: 'drop-oldest',
      flushIntervalMs: 60_000,
      onError: errors.onError,
    });
    const tenant = uniqueTenant();
    for (let i = 0; i < 5; i++) await client.record(event(tenant, i));
    expect(client.pending).toBe(3);
    const dropped = errors.seen.map((s) => [s.error.code, s.events.map((e) => e.description)]);
    expect(dropped).toEqual([
      ['queue_full', ['Report 0']],
      ['queue_full', ['Report 1']],
    ]);
    await client.close({ timeoutMs: 100 });
    expect(
      errors.seen.slice(2).map((s) => [s.error.code, s.events.map((e) => e.description)]),
    ).toEqual([['undelivered', ['Report 2', 'Report 3', 'Report 4']]]);
    expect(() => client.record(event(tenant, 5))).toThrow(
      expect.objectContaining({ code: 'client_closed' }),
    );
  });

  it('close() delivers everything still queued', async () => {
    const tenant = uniqueTenant();
    const client = createClient({
      url: ctx.hindsight.url,
      key: ctx.hindsight.key,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 7; i++) await client.record(event(tenant, i));
    await client.close();
    await expectExactlyOnce(tenant, 7);
  });
});
