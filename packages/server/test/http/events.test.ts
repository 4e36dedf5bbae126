import { readFileSync } from 'node:fs';
import { Agent, type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { ERROR_CODES } from '../../src/errors.js';
import { createApp } from '../../src/http/app.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { event, type TestApp, tempDir, testApp, testEnricher } from '../helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.close();
});

/** Every event id stored for a tenant, oldest first. */
async function storedIds(tenant: string): Promise<string[]> {
  const res = await t.get(`/v1/tenants/${tenant}/events?order=asc&limit=500`);
  return (res.json() as { events: Array<{ id: string }> }).events.map((e) => e.id);
}

interface ErrorBody {
  code: string;
  message: string;
  details?: Array<{ index?: number; path?: string; position?: number; message: string }>;
}

function expectError(res: Awaited<ReturnType<TestApp['get']>>, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json() as { error: ErrorBody };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(ERROR_CODES[code as keyof typeof ERROR_CODES].status).toBe(status);
  return body.error;
}

describe('POST /v1/events', () => {
  it('stores an event and reads it back with seq, hash, location and client', async () => {
    const res = await t.post(
      event({
        tenant: 'read-back',
        id: 'evt-1',
        actor: { id: 'u1', name: 'Ann Lee', email: 'ann@acme.test' },
        context: {
          ip: '81.2.69.142',
          userAgent:
            'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        },
      }),
    );
    expect(res.statusCode).toBe(202);
    const [ref] = (res.json() as { events: Array<Record<string, unknown>> }).events;
    expect(ref).toMatchObject({ id: 'evt-1', tenant: 'read-back', seq: 1 });
    expect(ref?.['hash']).toMatch(/^[0-9a-f]{64}$/);

    const got = await t.get('/v1/tenants/read-back/events/evt-1');
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({
      id: 'evt-1',
      seq: 1,
      hash: ref?.['hash'],
      category: 'changes',
      outcome: 'success',
      actor: { type: 'user', id: 'u1' },
      context: {
        ip: '81.2.69.142',
        location: { country: 'GB', city: 'London' },
        client: { browser: 'Chrome 126', os: 'Windows 10', device: 'desktop' },
      },
    });
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    expect(got.headers['x-content-type-options']).toBe('nosniff');
  });

  it('assigns a ULID when the producer sends no id', async () => {
    const res = await t.post(event({ tenant: 'ulid' }));
    const [ref] = (res.json() as { events: Array<{ id: string }> }).events;
    expect(ref?.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('accepts a batch and answers in order', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => event({ tenant: 'batch', id: `b${i}` }));
    const res = await t.post({ events });
    expect(res.statusCode).toBe(202);
    const refs = (res.json() as { events: Array<{ id: string; seq: number }> }).events;
    expect(refs.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(refs[999]?.id).toBe('b999');
  });

  it('keeps seq gap-free and unique under 50 concurrent requests', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.post({ events: Array.from({ length: 1 + (i % 5) }, () => event({ tenant: 'conc' })) }),
      ),
    );
    const seqs = responses
      .flatMap((r) => (r.json() as { events: Array<{ seq: number }> }).events.map((e) => e.seq))
      .sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('answers an identical retry with the original, and a changed reuse with 409', async () => {
    const first = await t.post(event({ tenant: 'idem', id: 'same', description: 'one' }));
    const retry = await t.post(event({ tenant: 'idem', id: 'same', description: 'one' }));
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual(first.json());
    const changed = await t.post({
      events: [
        event({ tenant: 'idem', id: 'new' }),
        event({ tenant: 'idem', id: 'same', description: 'two' }),
      ],
    });
    expectError(changed, 409, 'conflict');
    expect(await storedIds('idem')).toEqual(['same']);
  });

  // regression: ids past 100 characters were stored, then answered `404 No route` by id.
  it('reads back by id an event whose id is as long as ids may be, in any script', async () => {
    const ids = ['e'.repeat(128), 'é/😀 ?#'.repeat(18).slice(0, 128)];
    for (const id of ids) {
      expect((await t.post(event({ tenant: 'long-ids', id }))).statusCode).toBe(202);
      const res = await t.get(`/v1/tenants/long-ids/events/${encodeURIComponent(id)}`);
      expect(res.statusCode, res.body).toBe(200);
      expect((res.json() as { id: string }).id).toBe(id);
    }
  });
});

describe('bad input gets its documented code and stores nothing', () => {
  const tenant = 'bad-input';
  const cases: Array<[string, unknown, number, string, string?]> = [
    ['malformed JSON', '{"tenant": "bad-input", ', 400, 'invalid_json'],
    [
      'wrong types',
      event({ tenant, action: 42 as unknown as string }),
      400,
      'invalid_event',
      '/action',
    ],
    [
      'unknown top-level field',
      { ...event({ tenant }), colour: 'red' },
      400,
      'invalid_event',
      '/colour',
    ],
    [
      'unknown actor field',
      event({ tenant, actor: { id: 'u', age: 3 } as never }),
      400,
      'invalid_event',
      '/actor/age',
    ],
    [
      'a 5,000-event batch',
      { events: Array.from({ length: 5000 }, () => event({ tenant })) },
      400,
      'invalid_event',
      '/events',
    ],
    [
      'invalid IPv4',
      event({ tenant, context: { ip: '300.1.2.3' } }),
      400,
      'invalid_event',
      '/context/ip',
    ],
    [
      'invalid IPv6',
      event({ tenant, context: { ip: '2001:db8:::1' } }),
      400,
      'invalid_event',
      '/context/ip',
    ],
    ['control character in id', event({ tenant, id: 'a\u0000b' }), 400, 'invalid_event', '/id'],
    [
      'newline in actor id',
      event({ tenant, actor: { id: 'u\n1' } }),
      400,
      'invalid_event',
      '/actor/id',
    ],
    [
      '__proto__ key in metadata',
      `{"tenant":"${tenant}","action":"a.b","actor":{"id":"u"},"metadata":{"x":{"__proto__":{"admin":true}}}}`,
      400,
      'invalid_event',
      '/metadata/x/__proto__',
    ],
    [
      'constructor key in metadata',
      event({ tenant, metadata: { constructor: { prototype: 1 } } }),
      400,
      'invalid_event',
      '/metadata/constructor',
    ],
    [
      'future timestamp',
      event({ tenant, time: new Date(Date.now() + 3_600_000).toISOString() }),
      400,
      'invalid_event',
      '/time',
    ],
    [
      'timestamp without offset',
      event({ tenant, time: '2026-01-01T10:00:00' }),
      400,
      'invalid_event',
      '/time',
    ],
    // regression: a time before 1970 once made a position the store could not hold.
    [
      'timestamp before 1970',
      event({ tenant, time: '0001-01-01T00:00:00Z' }),
      400,
      'invalid_event',
      '/time',
    ],
    [
      'missing actor id for a user',
      event({ tenant, actor: { name: 'x' } }),
      400,
      'invalid_event',
      '/actor/id',
    ],
    ['action without a dot', event({ tenant, action: 'login' }), 400, 'invalid_event', '/action'],
    [
      'javascript: deep link',
      event({ tenant, targets: [{ type: 'user', id: 'u', url: 'javascript:alert(1)' }] }),
      400,
      'invalid_event',
      '/targets/0/url',
    ],
    [
      'metadata deeper than 5 levels',
      event({ tenant, metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } } }),
      400,
      'invalid_event',
      '/metadata/a/b/c/d/e',
    ],
    // regression: nested thousands deep, the event could not be serialised to be measured (500).
    [
      'metadata nested 5,000 deep',
      `{"tenant":"${tenant}","action":"a.b","actor":{"id":"u"},"metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
      400,
      'invalid_event',
      '/metadata/a/a/a/a/a',
    ],
    [
      'a change value nested 5,000 deep',
      `{"tenant":"${tenant}","action":"a.b","actor":{"id":"u"},"changes":[{"field":"f","before":${'['.repeat(5000)}${']'.repeat(5000)}}]}`,
      400,
      'invalid_event',
      '/changes/0/before/0/0/0/0/0',
    ],
    // regression: a number past JSON's range parses as Infinity, which no hash can take (500).
    [
      'a number past the range of JSON numbers',
      `{"tenant":"${tenant}","action":"a.b","actor":{"id":"u"},"metadata":{"n":1e400}}`,
      400,
      'invalid_event',
      '/metadata/n',
    ],
    [
      'an integer past 2^53, which the log would keep rounded',
      `{"tenant":"${tenant}","action":"a.b","actor":{"id":"u"},"metadata":{"order":12345678901234567891}}`,
      400,
      'invalid_event',
      '/metadata/order',
    ],
    [
      'lone surrogate',
      `{"tenant":"${tenant}","action":"a.b","actor":{"id":"\\ud800"}}`,
      400,
      'invalid_event',
      '/actor/id',
    ],
    ['an array body', [event({ tenant })], 400, 'invalid_event'],
    ['an empty batch', { events: [] }, 400, 'invalid_event', '/events'],
  ];

  it.each(cases)('%s', async (_label, body, status, code, path) => {
    const res = await t.post(body);
    const error = expectError(res, status, code);
    if (path !== undefined) expect(error.details?.map((d) => d.path)).toContain(path);
    expect(await storedIds(tenant)).toEqual([]);
  });

  it('says so in words when a whole event is larger than 64 KiB', async () => {
    const changes = Array.from({ length: 10 }, (_, i) => ({
      field: `f${i}`,
      after: 'x'.repeat(7000),
    }));
    const error = expectError(await t.post(event({ tenant, changes })), 400, 'invalid_event');
    expect(error.message).toBe(
      'An event is invalid: event is larger than 65536 bytes. Nothing was stored.',
    );
    expect(error.details).toEqual([
      { index: 0, path: '', message: 'event is larger than 65536 bytes' },
    ]);
    expect(await storedIds(tenant)).toEqual([]);
  });

  it('refuses a whole batch when one event is invalid, naming its index and path', async () => {
    const res = await t.post({
      events: [event({ tenant }), event({ tenant }), event({ tenant, actor: {} as never })],
    });
    const error = expectError(res, 400, 'invalid_event');
    expect(error.details).toContainEqual(
      expect.objectContaining({ index: 2, path: '/events/2/actor/id' }),
    );
    expect(await storedIds(tenant)).toEqual([]);
  });

  it('rejects invalid UTF-8', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
      payload: Buffer.concat([
        Buffer.from('{"tenant":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]),
    });
    expectError(res, 400, 'invalid_json');
  });

  it('answers 413 to a 10 MiB body', async () => {
    const big = JSON.stringify({ ...event({ tenant }), description: 'x'.repeat(10 * 1024 * 1024) });
    expectError(await t.post(big), 413, 'payload_too_large');
    expect(await storedIds(tenant)).toEqual([]);
  });

  it('answers 415 to a body that is not JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expectError(res, 415, 'unsupported_media_type');
  });

  it('takes a body compressed with gzip, deflate or br (Content-Encoding)', async () => {
    const encoded = 'encoded-bodies';
    const codings = {
      gzip: gzipSync,
      deflate: deflateSync,
      br: brotliCompressSync,
      'x-gzip': gzipSync,
    } as const;
    for (const [coding, compress] of Object.entries(codings)) {
      const batch = { events: [event({ tenant: encoded, id: `by-${coding}` })] };
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: {
          authorization: `Bearer ${t.admin}`,
          'content-type': 'application/json',
          'content-encoding': coding.toUpperCase(),
        },
        payload: compress(Buffer.from(JSON.stringify(batch))),
      });
      expect(res.statusCode, res.body).toBe(202);
    }
    expect(await storedIds(encoded)).toEqual(['by-gzip', 'by-deflate', 'by-br', 'by-x-gzip']);
    const stored = await t.get(`/v1/tenants/${encoded}/events/by-br`);
    expect(stored.json()).toMatchObject({ id: 'by-br', action: 'user.created' });
    // And the API's description says so, on every route that takes a body.
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as {
      paths: Record<string, { post?: { parameters: Array<{ name: string; in: string }> } }>;
    };
    expect(doc.paths['/v1/events']?.post?.parameters).toContainEqual(
      expect.objectContaining({ name: 'Content-Encoding', in: 'header' }),
    );
  });

  it('refuses a compressed body it cannot read, whatever it would expand to, and stores nothing', async () => {
    const encoded = 'encoded-refused';
    const send = (coding: string, payload: Buffer) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: {
          authorization: `Bearer ${t.admin}`,
          'content-type': 'application/json',
          'content-encoding': coding,
        },
        payload,
      });
    const json = Buffer.from(JSON.stringify(event({ tenant: encoded })));
    // A coding it does not know: 415, naming those it takes.
    const unknown = await send('compress', json);
    expectError(unknown, 415, 'unsupported_media_type');
    expect(unknown.headers['accept-encoding']).toBe('gzip, deflate, br');
    // Not data of its coding.
    expectError(await send('gzip', json), 400, 'invalid_json');
    // 6 MiB of JSON in 6 KiB of gzip: refused once 4 MiB are out, as an uncompressed body is.
    const bomb = gzipSync(
      JSON.stringify({ ...event({ tenant: encoded }), description: ' '.repeat(6 * 1024 * 1024) }),
    );
    expect(bomb.length).toBeLessThan(64 * 1024);
    expectError(await send('gzip', bomb), 413, 'payload_too_large');
    expect(await storedIds(encoded)).toEqual([]);
    expect((await send('gzip', gzipSync(json))).statusCode).toBe(202);
    expect(await storedIds(encoded)).toHaveLength(1);
  });

  it('answers what Node.js refuses before routing in the API’s error shape too', async () => {
    const served = await testApp();
    try {
      await served.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = served.app.server.address() as AddressInfo;
      /** Sends raw bytes; resolves the status line and the JSON body of the answer. */
      const raw = (request: string) =>
        new Promise<{ status: string; body: unknown }>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(request));
          let text = '';
          socket.on('data', (d) => {
            text += d.toString();
          });
          socket.on('error', reject);
          socket.on('close', () => {
            const [head = '', body = ''] = text.split('\r\n\r\n');
            resolve({ status: head.split('\r\n')[0] ?? '', body: JSON.parse(body) });
          });
        });
      const big = await raw(
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expect(big.status).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expect(big.body).toMatchObject({ error: { code: 'headers_too_large' } });
      const garbled = await raw('NOT HTTP AT ALL\r\n\r\n');
      expect(garbled.status).toBe('HTTP/1.1 400 Bad Request');
      expect(garbled.body).toMatchObject({ error: { code: 'invalid_request' } });
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it('stops promptly when requests were in flight, closing their connections once answered', async () => {
    const served = await testApp();
    await served.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = served.app.server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true });
    const headers = { authorization: `Bearer ${served.admin}`, 'content-type': 'application/json' };
    // A big export whose answer has started (headers out) and waits for the reader.
    const lines = Array.from({ length: 8000 }, (_, i) =>
      event({ tenant: 'stopping', description: `${i} ${'x'.repeat(400)}` }),
    );
    for (let i = 0; i < lines.length; i += 1000) {
      expect((await served.post({ events: lines.slice(i, i + 1000) })).statusCode).toBe(202);
    }
    const exported = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        { port, host: '127.0.0.1', path: '/v1/tenants/stopping/export?format=ndjson', agent },
        resolve,
      );
      req.setHeader('authorization', headers.authorization);
      req.on('error', reject).end();
    });
    exported.pause();
    // An event whose body is still arriving.
    const body = JSON.stringify(event({ tenant: 'stopping', action: 'user.late' }));
    const posted = request({
      port,
      host: '127.0.0.1',
      path: '/v1/events',
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    const answered = new Promise<IncomingMessage>((resolve, reject) =>
      posted.on('response', resolve).on('error', reject),
    );
    posted.write(body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const socketsClosed = [exported.socket, posted.socket].map(
      (socket) => new Promise((resolve) => socket?.once('close', resolve)),
    );
    let stopped = false;
    const stopping = served.close().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stopped).toBe(false);
    posted.end(body.slice(10));
    const late = await answered;
    expect(late.statusCode).toBe(202);
    // Told not to send another request on it…
    expect(late.headers.connection).toBe('close');
    late.resume();
    // …and the export's connection, whose answer began before the stop, is closed once done.
    let exportedBytes = 0;
    exported.on('data', (chunk: Buffer) => {
      exportedBytes += chunk.length;
    });
    await new Promise((resolve) => exported.on('end', resolve).resume());
    expect(exportedBytes).toBeGreaterThan(8000 * 400);
    // Both closed by the server well before their keep-alive timeout (72 s), which held up
    // the stop before.
    await Promise.all(socketsClosed);
    await stopping;
    agent.destroy();
  });

  // regression: a connection on which no request came yet (browsers open some ahead of need)
  // counted as busy until its headers timed out, and held up the stop for 30–60 s.
  it('stops promptly with a connection open on which no request came', async () => {
    const served = await testApp();
    await served.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = served.app.server.address() as AddressInfo;
    const idle = connect(port, '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    const closed = new Promise((resolve) => idle.once('close', resolve));
    const stopped = served.close().then(() => 'stopped');
    const late = new Promise((resolve) => setTimeout(resolve, 10_000, 'still running')).then(
      String,
    );
    expect(await Promise.race([stopped, late])).toBe('stopped');
    await closed;
  });

  it('sheds writes with 503 overloaded while too many events wait to be stored, and takes their retry', async () => {
    const tmp = tempDir();
    const store = await openStore({ data: tmp.dir });
    const app = await createApp({ store, enricher: testEnricher(), maxPendingEvents: 150 });
    const admin = (await createApiKey(store, { scopes: ['admin'], tenant: null })).token;
    const post = (body: unknown) =>
      app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const batch = (name: string, n: number) => ({
      events: Array.from({ length: n }, (_, i) => event({ tenant: 'busy', id: `${name}-${i}` })),
    });
    // Another process holds the database's write lock: the writer waits, and what was
    // accepted waits with it.
    const intruder = new Database(sqlitePath(tmp.dir));
    try {
      intruder.exec('BEGIN IMMEDIATE');
      const first = post(batch('a', 100));
      await new Promise((r) => setTimeout(r, 200));
      const shed = await post(batch('b', 100));
      expect(shed.statusCode, shed.body).toBe(503);
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.json()).toMatchObject({ error: { code: 'overloaded' } });
      expect(shed.json().error.message).toMatch(/holds 100 events .* at most 150/);
      // Room is left for 50 events; reads are served meanwhile.
      const single = post(event({ tenant: 'busy', id: 'c-0' }));
      const rest = post(batch('d', 49));
      const read = await app.inject({
        url: '/v1/tenants/busy/events',
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(read.statusCode).toBe(200);
      // Full: refused before the body is even read (a malformed one would be invalid_json).
      await new Promise((r) => setTimeout(r, 300));
      expect((await post('{"events": [')).json()).toMatchObject({ error: { code: 'overloaded' } });
      const metrics = await app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(metrics.body).toMatch(/^hindsight_ingest_pending_events 150$/m);
      expect(metrics.body).toMatch(/^hindsight_http_errors_total\{code="overloaded"\} 2$/m);
      intruder.exec('COMMIT');
      expect((await first).statusCode).toBe(202);
      expect((await single).statusCode).toBe(202);
      expect((await rest).statusCode).toBe(202);
      expect((await post(batch('b', 100))).statusCode).toBe(202);
      const page = await store.queryEvents('busy', { clauses: [], limit: 500, order: 'asc' });
      const seqs = page.events.map((e) => e.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
      expect(page.events.filter((e) => e.id.startsWith('b-'))).toHaveLength(100);
    } finally {
      if (intruder.inTransaction) intruder.exec('ROLLBACK');
      intruder.close();
      await app.close();
      await store.close();
      tmp.remove();
    }
  });

  it('keeps serving after all of that', async () => {
    expect((await t.post(event({ tenant: 'still-alive' }))).statusCode).toBe(202);
  });
});

describe('keys and scopes', () => {
  it('refuses requests without a key, with an unknown key or a malformed header', async () => {
    for (const authorization of [undefined, 'Bearer nope', 'Basic abc', `Bearer ${t.admin}x`]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/tenants/acme/events',
        headers: authorization === undefined ? {} : { authorization },
      });
      expectError(res, 401, 'unauthorized');
    }
  });

  it('refuses a caller without a key before reading the body', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ ...event(), description: 'x'.repeat(10 * 1024 * 1024) }),
    });
    expectError(res, 401, 'unauthorized');
  });

  it('enforces scopes', async () => {
    const reader = await t.key(['events:read']);
    const writer = await t.key(['events:write']);
    expectError(await t.post(event({ tenant: 'scopes' }), reader), 403, 'forbidden');
    expectError(await t.get('/v1/tenants/scopes/events', writer), 403, 'forbidden');
    expect((await t.post(event({ tenant: 'scopes' }), writer)).statusCode).toBe(202);
    expect((await t.get('/v1/tenants/scopes/events', reader)).statusCode).toBe(200);
  });

  it('limits a tenant key to its tenant, refusing a mixed batch whole and naming the others', async () => {
    const key = await t.key(['events:write', 'events:read'], 'tenant-a');
    expect((await t.post(event({ tenant: 'tenant-a' }), key)).statusCode).toBe(202);
    const mixed = await t.post(
      {
        events: [
          event({ tenant: 'tenant-a', id: 'm1' }),
          event({ tenant: 'tenant-b', id: 'm2' }),
          event({ tenant: 'tenant-a', id: 'm3' }),
          event({ tenant: 'tenant-c', id: 'm4' }),
        ],
      },
      key,
    );
    expectError(mixed, 403, 'forbidden');
    // Each event of another tenant is named, so that a client can send the others again.
    expect(mixed.json()).toMatchObject({
      error: {
        message:
          'This key may write only tenant "tenant-a": /events/1/tenant is "tenant-b". Nothing was stored.',
        details: [
          {
            index: 1,
            path: '/events/1/tenant',
            message: 'this key may not write tenant "tenant-b"',
          },
          {
            index: 3,
            path: '/events/3/tenant',
            message: 'this key may not write tenant "tenant-c"',
          },
        ],
      },
    });
    const single = await t.post(event({ tenant: 'tenant-b', id: 'm5' }), key);
    expectError(single, 403, 'forbidden');
    expect(single.json().error.details).toEqual([
      { index: 0, path: '/tenant', message: 'this key may not write tenant "tenant-b"' },
    ]);
    expect(await storedIds('tenant-b')).toEqual([]);
    expect(await storedIds('tenant-a')).not.toContain('m1');
    expectError(await t.get('/v1/tenants/tenant-b/events', key), 403, 'forbidden');
    expectError(await t.get('/v1/tenants/tenant-b/events/m2', key), 403, 'forbidden');
  });
});

describe('GET /v1/tenants/{tenant}/events', () => {
  const tenant = 'search';
  const base = Date.now() - 3_600_000;
  beforeAll(async () => {
    const events = Array.from({ length: 120 }, (_, i) =>
      event({
        tenant,
        id: `s${i}`,
        time: new Date(base + i * 1000).toISOString(),
        action: i % 3 === 0 ? 'login.failed' : 'user.updated',
        category: i % 3 === 0 ? 'logins' : 'users',
        outcome: i % 3 === 0 ? 'failure' : 'success',
        actor: { id: `u${i % 4}`, email: `user${i % 4}@acme.test` },
        description: i % 10 === 0 ? 'Bulk export of invoices' : 'Updated profile',
        context: { ip: `10.0.${i % 2}.${i}` },
      }),
    );
    expect((await t.post({ events })).statusCode).toBe(202);
  });

  async function pageAll(query: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const res = await t.get(`/v1/tenants/${tenant}/events?${query}${suffix}`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { events: Array<{ id: string }>; nextCursor: string | null };
      ids.push(...body.events.map((e) => e.id));
      cursor = body.nextCursor;
    } while (cursor !== null);
    return ids;
  }

  it('filters with query parameters and q together', async () => {
    const ids = await pageAll(
      `limit=7&category=logins&actor=user0@acme.test&ip=10.0.0.0/24&q=${encodeURIComponent('-invoices')}`,
    );
    const expected = Array.from({ length: 120 }, (_, i) => i)
      .filter((i) => i % 3 === 0 && i % 4 === 0 && i % 2 === 0 && i % 10 !== 0)
      .reverse()
      .map((i) => `s${i}`);
    expect(ids).toEqual(expected);
  });

  it('pages newest first by default and oldest first with order=asc', async () => {
    const desc = await pageAll('limit=50');
    expect(desc).toHaveLength(120);
    expect(desc[0]).toBe('s119');
    expect(await pageAll('limit=33&order=asc')).toEqual(desc.slice().reverse());
  });

  it('supports action prefixes, suffixes and time bounds', async () => {
    const since = new Date(base + 100_000).toISOString();
    const ids = await pageAll(`action=login.*&since=${encodeURIComponent(since)}&limit=500`);
    expect(ids.every((id) => Number(id.slice(1)) % 3 === 0 && Number(id.slice(1)) >= 100)).toBe(
      true,
    );
    expect(ids).toEqual(['s117', 's114', 's111', 's108', 's105', 's102']);
    // A suffix: every update, whatever was updated.
    const updates = await pageAll(`action=${encodeURIComponent('*.updated')}&limit=500`);
    expect(updates).toHaveLength(80);
    expect(updates.every((id) => Number(id.slice(1)) % 3 !== 0)).toBe(true);
    for (const action of ['*', '**', '*user.*', '*.Updated']) {
      const bad = await t.get(`/v1/tenants/${tenant}/events?action=${encodeURIComponent(action)}`);
      expect(expectError(bad, 400, 'invalid_request').details?.[0]?.path).toBe(
        '/querystring/action',
      );
    }
  });

  it('refuses since after until, which an empty page would hide, and takes them equal', async () => {
    const swapped = await t.get(`/v1/tenants/${tenant}/events?since=2026-03-02&until=2026-03-01`);
    const error = expectError(swapped, 400, 'invalid_request');
    expect(error.details).toEqual([
      { path: '/querystring/since', message: 'is after until (2026-03-01)' },
    ]);
    const stats = await t.get(`/v1/tenants/${tenant}/stats?since=2026-03-02&until=2026-03-01`);
    expectError(stats, 400, 'invalid_request');
    const same = await t.get(`/v1/tenants/${tenant}/events?since=2026-03-01&until=2026-03-01`);
    expect(same.statusCode).toBe(200);
    expect(same.json().events).toEqual([]);
  });

  it('answers a q too long or with too many terms with invalid_query and the position', async () => {
    for (const q of ['x'.repeat(1001), Array.from({ length: 33 }, (_, i) => `w${i}`).join(' ')]) {
      const res = await t.get(`/v1/tenants/${tenant}/events?q=${encodeURIComponent(q)}`);
      const error = expectError(res, 400, 'invalid_query');
      expect(error.details?.[0]).toMatchObject({
        position: q.length > 1000 ? 1000 : q.indexOf('w32'),
      });
    }
  });

  it('answers a malformed q with invalid_query and the position', async () => {
    const res = await t.get(
      `/v1/tenants/${tenant}/events?q=${encodeURIComponent('actor:ann "open')}`,
    );
    const error = expectError(res, 400, 'invalid_query');
    expect(error.details?.[0]?.position).toBe(10);
  });

  it('refuses a forged cursor and a cursor reused with other filters', async () => {
    expectError(
      await t.get(`/v1/tenants/${tenant}/events?cursor=not-a-cursor`),
      400,
      'invalid_cursor',
    );
    const forged = Buffer.from(JSON.stringify({ p: '1', d: 'x' })).toString('base64url');
    expectError(
      await t.get(`/v1/tenants/${tenant}/events?cursor=${forged}`),
      400,
      'invalid_cursor',
    );
    const first = (await t.get(`/v1/tenants/${tenant}/events?limit=5`)).json() as {
      nextCursor: string;
    };
    const reused = await t.get(
      `/v1/tenants/${tenant}/events?limit=5&category=users&cursor=${first.nextCursor}`,
    );
    expectError(reused, 400, 'invalid_cursor');
  });

  it('rejects unknown and malformed parameters', async () => {
    for (const qs of [
      'actr=x',
      'limit=0',
      'limit=501',
      'order=up',
      'outcome=maybe',
      'ip=1.2.3',
      'since=yesterday',
      'category=Not%20A%20Category',
      // Escapes that are malformed or not UTF-8 (an overlong form, a surrogate's bytes).
      'actor=%zz',
      'q=invoice%',
      'q=%FF',
      'q=%C0%AF',
      'actor=%ED%A0%80',
      'order=asc&q=%E2%82',
    ]) {
      expectError(await t.get(`/v1/tenants/${tenant}/events?${qs}`), 400, 'invalid_request');
    }
    expectError(await t.get('/v1/tenants/bad%20tenant/events'), 400, 'invalid_request');
    // A route that takes no parameters refuses them too: a misspelt one never does nothing.
    for (const path of ['integrations', 'checkpoint', 'settings']) {
      const refused = expectError(
        await t.get(`/v1/tenants/${tenant}/${path}?x=1`),
        400,
        'invalid_request',
      );
      expect(refused.details).toEqual([
        { path: '/querystring/x', message: 'must NOT have additional properties' },
      ]);
      expect((await t.get(`/v1/tenants/${tenant}/${path}`)).statusCode).not.toBe(400);
    }
    // A choice among words names the words.
    const order = expectError(
      await t.get(`/v1/tenants/${tenant}/events?order=up`),
      400,
      'invalid_request',
    );
    expect(order.message).toBe(
      'Invalid querystring: querystring/order must be one of "desc", "asc".',
    );
    expect(order.details).toEqual([
      { path: '/querystring/order', message: 'must be one of "desc", "asc"' },
    ]);
    // Well-formed escapes read as what they encode.
    const escaped = await t.get(
      `/v1/tenants/${tenant}/events?q=%22caf%C3%A9%22+x&actor=a%40b.test`,
    );
    expect(escaped.statusCode, escaped.body).toBe(200);
  });

  // Ajv coerces the text "Infinity" (and 1e309) to a number and checks `maximum` on finite
  // numbers only: the store then failed on it (500).
  it('refuses a number that is not finite in every numeric parameter of every route', async () => {
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: Array<{
              in: string;
              name: string;
              required?: boolean;
              schema: { type?: string };
            }>;
          }
        >
      >;
    };
    const numeric: Array<{ method: string; path: string; name: string; others: string[] }> = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const p of operation.parameters ?? []) {
          if (p.in === 'query' && ['integer', 'number'].includes(p.schema.type ?? '')) {
            // The route's other required parameters get a valid value.
            const others = (operation.parameters ?? [])
              .filter((o) => o.in === 'query' && o.required && o.name !== p.name)
              .map((o) => `&${o.name}=1`);
            numeric.push({ method: method.toUpperCase(), path, name: p.name, others });
          }
        }
      }
    }
    // limit (events, logins, messages, a message's receivers), top, seq, size, from, to ...
    expect(numeric.length).toBeGreaterThanOrEqual(8);
    for (const { method, path, name, others } of numeric) {
      const url = path.replace('{tenant}', tenant).replace(/\{\w+\}/g, 'x');
      for (const value of ['Infinity', '-Infinity', '1e309']) {
        const res = await t.app.inject({
          method: method as 'GET',
          url: `${url}?${name}=${value}${others.join('')}`,
          headers: { authorization: `Bearer ${t.admin}` },
        });
        expectError(res, 400, 'invalid_request');
        const { error } = res.json() as { error: ErrorBody };
        expect(error.details?.[0]?.path, `${method} ${path} ${name}`).toBe(`/querystring/${name}`);
      }
    }
    expect((await t.get(`/v1/tenants/${tenant}/events?limit=1`)).statusCode).toBe(200);
  });

  // No stored value holds one, and PostgreSQL's text cannot hold U+0000 (it failed with 500).
  it('refuses a control character in a parameter, which no stored value holds', async () => {
    for (const [url, path] of [
      [`/v1/tenants/${tenant}/events/a%00b`, '/params/id'],
      [`/v1/tenants/${tenant}/events/a%00b/proof`, '/params/id'],
      [`/v1/tenants/${tenant}/events?actor=u%00`, '/querystring/actor'],
      [`/v1/tenants/${tenant}/events?target=t%01`, '/querystring/target'],
      [`/v1/tenants/${tenant}/events?status=%1B`, '/querystring/status'],
      [`/v1/tenants/${tenant}/messages/m%00`, '/params/messageId'],
      [`/v1/tenants/${tenant}/logins/users?search=%00`, '/querystring/search'],
    ] as const) {
      const res = await t.get(url);
      expectError(res, 400, 'invalid_request');
      expect((res.json() as { error: ErrorBody }).error.details?.[0]?.path, url).toBe(path);
    }
    // Tab and line breaks are text.
    expect((await t.get(`/v1/tenants/${tenant}/events?q=a%0Ab%09c`)).statusCode).toBe(200);
  });

  it('answers 404 for an unknown event and an unknown route', async () => {
    expectError(await t.get(`/v1/tenants/${tenant}/events/nope`), 404, 'not_found');
    expectError(await t.get('/v1/nothing-here'), 404, 'not_found');
  });
});

describe('public routes', () => {
  it('serves health without a key', async () => {
    const res = await t.app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', store: 'sqlite' });
    expect((res.json() as { geoSource: string }).geoSource).toMatch(/DB-IP/);
  });

  it('serves an OpenAPI 3.1 document naming every route and error code', async () => {
    const res = await t.app.inject({ url: '/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    // The server package's version, as `hindsight --version` says it.
    const manifest = new URL('../../package.json', import.meta.url);
    expect(doc.info.version).toBe(
      (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version,
    );
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/metrics',
      '/v1/events',
      '/v1/hooks/{provider}',
      '/v1/keys/public',
      '/v1/openapi.json',
      '/v1/session',
      '/v1/tenants',
      '/v1/tenants/{tenant}/checkpoint',
      '/v1/tenants/{tenant}/deletions',
      '/v1/tenants/{tenant}/erasures',
      '/v1/tenants/{tenant}/events',
      '/v1/tenants/{tenant}/events/{id}',
      '/v1/tenants/{tenant}/events/{id}/proof',
      '/v1/tenants/{tenant}/export',
      '/v1/tenants/{tenant}/exports',
      '/v1/tenants/{tenant}/exports/{id}',
      '/v1/tenants/{tenant}/exports/{id}/file',
      '/v1/tenants/{tenant}/integrations',
      '/v1/tenants/{tenant}/integrations/{system}/acknowledge',
      '/v1/tenants/{tenant}/integrity',
      '/v1/tenants/{tenant}/legal-hold',
      '/v1/tenants/{tenant}/logins/users',
      '/v1/tenants/{tenant}/messages',
      '/v1/tenants/{tenant}/messages/{messageId}',
      '/v1/tenants/{tenant}/proofs/consistency',
      '/v1/tenants/{tenant}/proofs/inclusion',
      '/v1/tenants/{tenant}/settings',
      '/v1/tenants/{tenant}/stats',
      '/v1/tenants/{tenant}/views',
      '/v1/tenants/{tenant}/views/{id}',
      '/v1/viewer-tokens',
      '/v1/viewer-tokens/revocations',
      '/v1/views',
    ]);
    expect(Object.keys(doc.paths['/v1/events']?.['post']?.responses ?? {})).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '409', '413', '415', '503']),
    );
  });
});

describe('when the store is gone', () => {
  it('answers 503 store_unavailable to writes, reads and health, and stores nothing', async () => {
    const other = await testApp();
    await other.store.close();
    expectError(await other.post(event({ tenant: 'gone' })), 503, 'store_unavailable');
    expectError(await other.get('/v1/tenants/gone/events'), 503, 'store_unavailable');
    expectError(await other.app.inject({ url: '/healthz' }), 503, 'store_unavailable');
    await other.close();
  });
});
