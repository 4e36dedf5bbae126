/**
 * Request logging in each framework — real Express, Fastify, Hono (on @hono/node-server) and
 * node:http servers on 127.0.0.1, recording into a real Hindsight. One suite, run for every
 * framework: method, redacted URL, status, client address behind a trusted proxy, user agent,
 * actor, never the body; exclusions and sampling; clients that go away; absolute-form targets.
 */
import { createServer, type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Actor, StoredEvent } from '@hindsight/core';
import { serve } from '@hono/node-server';
import express, { type Request } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { type Context, Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  expressRequestLogger,
  fastifyRequestLogger,
  type HindsightClient,
  honoRequestLogger,
  nodeRequestLogger,
  type RequestLogOptions,
  withActor,
} from '../src/index.js';
import { eventually, uniqueTenant, useHindsight } from './hindsight.js';

/** Options of the suite's apps, whatever the framework's request type. */
type Options = Omit<RequestLogOptions<unknown>, 'actor' | 'tenant' | 'sessionId'> & {
  readonly tenant: string;
};

/** A running app of one framework with the suite's routes. */
interface App {
  readonly url: string;
  close(): Promise<void>;
}

/** The actor the apps' authentication finds: an API key named by the `x-key` header. */
function actorOf(header: (name: string) => string | undefined): Actor | undefined {
  const key = header('x-key');
  return key === undefined ? undefined : { type: 'api_key', id: key, name: `Key ${key}` };
}

/** The user a later middleware sets with `withActor`: the one named by the `x-user` header. */
function userOf(header: (name: string) => string | undefined): Actor | undefined {
  const id = header('x-user');
  return id === undefined ? undefined : { id, name: `User ${id}` };
}

/** Runs `next` as the `x-user` user, as an authentication middleware would. */
function asUser<T>(header: (name: string) => string | undefined, next: () => T): T {
  const user = userOf(header);
  return user === undefined ? next() : withActor(user, next);
}

/** Told by /slow that a request arrived (it answers only once its client has gone away). */
const arrivals: (() => void)[] = [];
const arrived = () => arrivals.shift()?.();

const SECRET_BODY = 'body-secret-xyz';

/**
 * Every framework, with the same routes: /reports, /denied (401), /login (POST), /boom,
 * /healthz, /slow; a middleware after the logger sets the `x-user` user with `withActor`.
 */
const FRAMEWORKS: Record<string, (client: HindsightClient, options: Options) => Promise<App>> = {
  'node:http': async (client, options) => {
    const logRequest = nodeRequestLogger(client, {
      ...options,
      tenant: () => options.tenant,
      actor: (req: IncomingMessage) => actorOf((name) => req.headers[name] as string | undefined),
    });
    const server = createServer((req, res) => {
      logRequest(req, res);
      asUser(
        (name) => req.headers[name] as string | undefined,
        () => {
          const path = (req.url ?? '/').split('?')[0];
          req.resume();
          req.on('end', () => {
            if (path === '/slow') {
              res.once('close', () => res.end('late'));
              arrived();
              return;
            }
            const status = path === '/denied' ? 401 : path === '/boom' ? 500 : 200;
            res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
          });
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
  express: async (client, options) => {
    const app = express();
    app.use(
      expressRequestLogger<Request>(client, {
        ...options,
        tenant: () => options.tenant,
        actor: (req) => actorOf((name) => req.get(name)),
      }),
    );
    app.use((req, _res, next) => asUser((name) => req.get(name), next));
    app.use(express.json());
    app.get('/reports', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/denied', (_req, res) => {
      res.status(401).json({ error: 'no' });
    });
    app.post('/login', (req, res) => {
      res.json({ got: Object.keys(req.body as object) });
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/slow', (_req, res) => {
      res.once('close', () => res.json({ late: true }));
      arrived();
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
  fastify: async (client, options) => {
    const app = Fastify();
    await app.register(
      fastifyRequestLogger<FastifyRequest>(client, {
        ...options,
        tenant: () => options.tenant,
        actor: (req) => actorOf((name) => req.headers[name] as string | undefined),
      }),
    );
    app.addHook('preHandler', (req, _reply, done) =>
      asUser((name) => req.headers[name] as string | undefined, done),
    );
    app.get('/reports', async () => ({ ok: true }));
    app.get('/denied', async (_req, reply) => reply.code(401).send({ error: 'no' }));
    app.post('/login', async (req) => ({ got: Object.keys(req.body as object) }));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    app.get('/healthz', async () => ({ ok: true }));
    app.get('/slow', async (_req, reply) => {
      await new Promise((resolve) => {
        reply.raw.once('close', resolve);
        arrived();
      });
      return { late: true };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  hono: async (client, options) => {
    const app = new Hono();
    app.use(
      honoRequestLogger<Context>(client, {
        ...options,
        tenant: () => options.tenant,
        actor: (c) => actorOf((name) => c.req.header(name)),
      }),
    );
    app.use((c, next) => asUser((name) => c.req.header(name), next));
    app.get('/reports', (c) => c.json({ ok: true }));
    app.get('/denied', (c) => c.json({ error: 'no' }, 401));
    app.post('/login', async (c) => c.json({ got: Object.keys(await c.req.json()) }));
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.onError((_error, c) => c.json({ error: 'boom' }, 500));
    app.get('/healthz', (c) => c.json({ ok: true }));
    app.get('/slow', async (c) => {
      await new Promise((resolve) => {
        c.req.raw.signal.addEventListener('abort', resolve);
        arrived();
      });
      return c.json({ late: true });
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
};

const ctx = useHindsight();

const byUrl = (events: StoredEvent[]) =>
  new Map(events.map((e) => [e.context?.http?.url.split('?')[0] ?? '', e]));

/**
 * Sends `head` (a request line and headers) on a socket of its own: the answer, or, with
 * `leave`, nothing — the socket is closed as soon as the app has the request.
 */
async function rawRequest(url: string, head: string, leave = false): Promise<string> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  if (leave) {
    const there = new Promise<void>((resolve) => arrivals.push(resolve));
    socket.write(`${head}\r\n\r\n`);
    await there;
    socket.destroy();
  } else {
    socket.write(`${head}\r\nConnection: close\r\n\r\n`);
  }
  await closed;
  return Buffer.concat(chunks).toString();
}

/** Every event of a tenant once there are `n` (the last may be recorded after the answer). */
async function eventsOnce(tenant: string, n: number): Promise<StoredEvent[]> {
  let stored: StoredEvent[] = [];
  await eventually(async () => {
    await ctx.client.flush();
    stored = await ctx.hindsight.events(tenant);
    return stored.length >= n;
  });
  return stored;
}

describe.each(Object.keys(FRAMEWORKS))('%s', (framework) => {
  const start = FRAMEWORKS[framework] as (typeof FRAMEWORKS)[string];

  it('records method, redacted URL, status, client IP, user agent and actor — never the body', async () => {
    const tenant = uniqueTenant();
    const app = await start(ctx.client, {
      log: 'api',
      tenant,
      trustProxy: ['loopback', 'private'],
      exclude: ['/healthz'],
    });
    const call = (path: string, init: RequestInit = {}) => fetch(`${app.url}${path}`, init);
    await call('/reports?period=week&token=abc123&api_key=k-999&Password=hunter2&x=1', {
      headers: {
        'x-key': 'key-17',
        'user-agent': 'report-bot/1.0',
        'x-forwarded-for': '203.0.113.7',
        'x-request-id': 'req-1',
      },
    });
    await call('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.9, 10.0.0.1' },
      body: JSON.stringify({ email: 'alice@acme.test', password: SECRET_BODY }),
    });
    await call('/denied', { headers: { 'x-key': 'key-18' } });
    await call('/boom');
    await call('/healthz');
    await app.close();
    await ctx.client.flush();

    const stored = await ctx.hindsight.events(tenant);
    expect(stored).toHaveLength(4);
    expect(JSON.stringify(stored)).not.toContain(SECRET_BODY);
    const events = byUrl(stored);
    expect(events.has('/healthz')).toBe(false);
    const reports = events.get('/reports');
    expect(reports).toMatchObject({
      action: 'api.request',
      category: 'api',
      channel: 'api',
      outcome: 'success',
      actor: { type: 'api_key', id: 'key-17', name: 'Key key-17' },
      description: 'Key key-17: GET /reports → 200',
      context: {
        ip: '203.0.113.7',
        userAgent: 'report-bot/1.0',
        requestId: 'req-1',
        http: {
          method: 'GET',
          url: '/reports?period=week&token=REDACTED&api_key=REDACTED&Password=REDACTED&x=1',
          status: 200,
        },
      },
    });
    expect(reports?.context?.http?.durationMs).toBeGreaterThanOrEqual(0);
    expect(events.get('/login')).toMatchObject({
      actor: { type: 'anonymous' },
      outcome: 'success',
      context: { ip: '198.51.100.9', http: { method: 'POST', url: '/login', status: 200 } },
    });
    expect(events.get('/denied')).toMatchObject({
      actor: { type: 'api_key', id: 'key-18' },
      outcome: 'failure',
      context: { ip: '127.0.0.1', http: { method: 'GET', url: '/denied', status: 401 } },
    });
    expect(events.get('/boom')).toMatchObject({
      outcome: 'failure',
      context: { http: { status: 500 } },
    });
  });

  it('the requests log, sampling (failures always kept) and no proxy trust by default', async () => {
    const tenant = uniqueTenant();
    const app = await start(ctx.client, { log: 'requests', tenant, sampleRate: 0 });
    const headers = { 'x-forwarded-for': '203.0.113.7', 'x-key': 'u-1' };
    for (let i = 0; i < 5; i++) await fetch(`${app.url}/reports?i=${i}`, { headers });
    await fetch(`${app.url}/denied?secret=s3`, { headers });
    await app.close();
    await ctx.client.flush();
    const stored = await ctx.hindsight.events(tenant);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      action: 'http.request',
      category: 'requests',
      channel: 'ui',
      outcome: 'failure',
      context: { ip: '127.0.0.1', http: { url: '/denied?secret=REDACTED', status: 401 } },
    });
  });

  // regression: QA of the request middleware — Fastify recorded nothing, Hono a 200, the
  // others no IP (the socket had forgotten its peer).
  it('records a client that went away: failure, no status, reason client_closed, its IP', async () => {
    const tenant = uniqueTenant();
    const app = await start(ctx.client, { log: 'api', tenant });
    await rawRequest(
      app.url,
      'GET /slow?token=t1 HTTP/1.1\r\nHost: app\r\nUser-Agent: quitter/1\r\nX-Key: key-5',
      true,
    );
    const stored = await eventsOnce(tenant, 1);
    await app.close();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      outcome: 'failure',
      actor: { type: 'api_key', id: 'key-5' },
      description: 'Key key-5: GET /slow → no response (the client went away)',
      context: {
        ip: '127.0.0.1',
        userAgent: 'quitter/1',
        http: { method: 'GET', url: '/slow?token=REDACTED' },
      },
      metadata: { reason: 'client_closed' },
    });
    expect(stored[0]?.context?.http?.status).toBeUndefined();
    expect(stored[0]?.context?.http?.durationMs).toBeGreaterThanOrEqual(0);
  });

  // regression: QA of the request middleware — the user name and password were recorded.
  it('records an absolute-form target as its path and query, without its credentials', async () => {
    const tenant = uniqueTenant();
    const app = await start(ctx.client, { log: 'api', tenant, exclude: ['/healthz'] });
    await rawRequest(
      app.url,
      'GET http://user:s3cret@app.test/reports?api_key=k-1&x=1 HTTP/1.1\r\nHost: app.test',
    );
    await rawRequest(app.url, 'GET http://app.test/healthz HTTP/1.1\r\nHost: app.test');
    await app.close();
    await ctx.client.flush();
    const stored = await ctx.hindsight.events(tenant);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toMatch(/s3cret|user:|app\.test/);
    expect(stored[0]).toMatchObject({
      description: expect.stringMatching(/^GET \/reports → \d{3}$/),
      context: { http: { url: '/reports?api_key=REDACTED&x=1' } },
    });
  });

  // regression: QA of the request middleware — Hono did not see a later middleware's actor.
  it('sees the actor that a middleware after it set with withActor', async () => {
    const tenant = uniqueTenant();
    const app = await start(ctx.client, { log: 'requests', tenant });
    await fetch(`${app.url}/reports`, { headers: { 'x-user': 'u-9' } });
    await fetch(`${app.url}/denied`, { headers: { 'x-user': 'u-10' } });
    await app.close();
    await ctx.client.flush();
    const events = byUrl(await ctx.hindsight.events(tenant));
    expect(events.get('/reports')).toMatchObject({
      actor: { id: 'u-9', name: 'User u-9' },
      description: 'User u-9: GET /reports → 200',
    });
    expect(events.get('/denied')).toMatchObject({ actor: { id: 'u-10' }, outcome: 'failure' });
  });
});

describe('node:http: clients that go away, patterns, descriptions', () => {
  it('records a request whose client left before the answer, and honours regex and predicate exclusions', async () => {
    const tenant = uniqueTenant();
    const logRequest = nodeRequestLogger(ctx.client, {
      log: 'requests',
      tenant: () => tenant,
      exclude: [/\.css$/, '/assets/'],
      describe: (_req, http) => `Opened ${http.url}`,
      requestId: (req) => req.headers['x-trace'] as string | undefined,
    });
    const skipBots = nodeRequestLogger(ctx.client, {
      log: 'requests',
      tenant: () => tenant,
      exclude: (req) => (req.headers['user-agent'] ?? '').includes('bot'),
    });
    const server = createServer((req, res) => {
      if (req.url === '/bot') {
        skipBots(req, res);
        res.end('ok');
        return;
      }
      logRequest(req, res);
      if (req.url === '/slow') return; // never answers
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fetch(`${url}/site.css`);
    await fetch(`${url}/assets/app.js`);
    await fetch(`${url}/bot`, { headers: { 'user-agent': 'crawler-bot/2' } });
    await fetch(`${url}/page?q=1`, { headers: { 'x-trace': 'trace-7' } });
    await fetch(`${url}/slow`, { signal: AbortSignal.timeout(100) }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await ctx.client.flush();
    const stored = byUrl(await ctx.hindsight.events(tenant));
    expect([...stored.keys()].sort()).toEqual(['/page', '/slow']);
    expect(stored.get('/page')).toMatchObject({
      description: 'Opened /page?q=1',
      outcome: 'success',
      context: { requestId: 'trace-7', http: { status: 200 } },
    });
    const slow = stored.get('/slow');
    expect(slow).toMatchObject({ outcome: 'failure', description: 'Opened /slow' });
    expect(slow?.context?.http?.status).toBeUndefined();
  });
});

describe('a remoteAddress that throws', () => {
  it('goes to onError when the request starts; the request is answered and recorded', async () => {
    const tenant = uniqueTenant();
    const errors: unknown[] = [];
    const logRequest = nodeRequestLogger(ctx.client, {
      log: 'api',
      tenant: () => tenant,
      remoteAddress: () => {
        throw new Error('no address here');
      },
      onError: (error) => errors.push(error),
    });
    const server = createServer((req, res) => {
      logRequest(req, res);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/p`);
    expect(await answer.text()).toBe('ok');
    await new Promise((resolve) => server.close(resolve));
    await ctx.client.flush();
    expect(errors).toEqual([expect.objectContaining({ message: 'no address here' })]);
    const stored = await ctx.hindsight.events(tenant);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.context).toMatchObject({ ip: '127.0.0.1', http: { url: '/p', status: 200 } });
  });
});

describe('hono by its fetch alone (as on Bun, Deno or workers: no Node socket)', () => {
  // regression: QA of the request middleware — Hono recorded a client that went away as a 200.
  it('tells a client that went away by the request signal; the address is remoteAddress', async () => {
    const tenant = uniqueTenant();
    const app = new Hono();
    app.use(
      honoRequestLogger<Context>(ctx.client, {
        log: 'requests',
        tenant: () => tenant,
        remoteAddress: (c) => c.req.header('x-peer'),
      }),
    );
    app.get('/slow', async (c) => {
      await new Promise((resolve) => {
        c.req.raw.signal.addEventListener('abort', resolve);
        arrived();
      });
      return c.json({ late: true });
    });
    app.get('/page', (c) => c.json({ ok: true }));
    const controller = new AbortController();
    const there = new Promise<void>((resolve) => arrivals.push(resolve));
    const answer = app.request('/slow', {
      headers: { 'x-peer': '198.51.100.4' },
      signal: controller.signal,
    });
    await there;
    controller.abort();
    await answer;
    await app.request('/page', { headers: { 'x-peer': '198.51.100.5' } });
    await ctx.client.flush();
    const events = byUrl(await ctx.hindsight.events(tenant));
    expect(events.get('/slow')).toMatchObject({
      outcome: 'failure',
      description: 'GET /slow → no response (the client went away)',
      context: { ip: '198.51.100.4', http: { url: '/slow' } },
      metadata: { reason: 'client_closed' },
    });
    expect(events.get('/slow')?.context?.http?.status).toBeUndefined();
    expect(events.get('/page')).toMatchObject({
      outcome: 'success',
      context: { ip: '198.51.100.5', http: { url: '/page', status: 200 } },
    });
    expect(events.get('/page')?.metadata).toBeUndefined();
  });
});

/** A link-local IPv6 address of this machine and its zone (`fe80::1`, `eth0`), if it has one. */
const LINK_LOCAL = Object.entries(networkInterfaces())
  .flatMap(([zone, addresses]) =>
    (addresses ?? [])
      .filter((a) => a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'))
      .map((a) => ({ address: a.address, zone })),
  )
  .at(0);

describe('node:http: a client on a link-local IPv6 address', () => {
  // regression: QA of the request middleware — a zoned peer (`fe80::1%eth0`) gave no IP.
  it.skipIf(LINK_LOCAL === undefined)(
    'records its address without the zone (skipped where no interface has a link-local IPv6 address)',
    async () => {
      const { address, zone } = LINK_LOCAL as { address: string; zone: string };
      const tenant = uniqueTenant();
      const logRequest = nodeRequestLogger(ctx.client, { log: 'api', tenant: () => tenant });
      let peer: string | undefined;
      const server = createServer((req, res) => {
        peer = req.socket.remoteAddress;
        logRequest(req, res);
        res.end('ok');
      });
      const host = `${address}%${zone}`;
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      const port = (server.address() as AddressInfo).port;
      await new Promise<void>((resolve, reject) => {
        request({ host, port, path: '/zoned', agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
          .on('error', reject)
          .end();
      });
      await new Promise((resolve) => server.close(resolve));
      await ctx.client.flush();
      expect(peer).toBe(host);
      const stored = await ctx.hindsight.events(tenant);
      expect(stored).toHaveLength(1);
      expect(stored[0]?.context).toMatchObject({ ip: address, http: { url: '/zoned' } });
    },
  );
});
