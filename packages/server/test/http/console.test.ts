/**
 * The web console's files at `/` (issue #6): index.html for client-side routes, hashed assets
 * cached for good, strict security headers, nothing outside the directory, and the API's JSON
 * answers unchanged.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { CONSOLE_HEADERS, defaultConsoleDir } from '../../src/http/console.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir, testEnricher } from '../helpers.js';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-3f2a.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = 'console.log("hindsight");';
const SECRET = 'not for the web';

const tmp = tempDir();
const dist = join(tmp.dir, 'dist');
let store: Store;
const apps: FastifyInstance[] = [];

async function appWith(consoleDir: string | null): Promise<FastifyInstance> {
  const app = await createApp({ store, enricher: testEnricher(), consoleDir });
  apps.push(app);
  return app;
}

let app: FastifyInstance;
beforeAll(async () => {
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'app-3f2a.js'), SCRIPT);
  writeFileSync(join(dist, 'assets', 'app-3f2a.css'), 'body{margin:0}');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dist, '.env'), SECRET);
  writeFileSync(join(tmp.dir, 'secret.txt'), SECRET);
  symlinkSync(join(tmp.dir, 'secret.txt'), join(dist, 'assets', 'link.txt'));
  store = await openStore({ data: join(tmp.dir, 'data') });
  app = await appWith(dist);
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await store.close();
  tmp.remove();
});

function expectConsoleHeaders(res: LightMyRequestResponse) {
  expect(res.headers['content-security-policy']).toBe(
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
      "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

function expectNotFound(res: LightMyRequestResponse) {
  expect(res.statusCode, res.body).toBe(404);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
  expect(res.body).not.toContain(SECRET);
}

describe('the console at /', () => {
  it.each(['/', '/events', '/some/deep/path', '/events?tenant=acme&q=%22admin%22&view=users'])(
    'answers %s with index.html, not cached, with a strict CSP',
    async (url) => {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
      expectConsoleHeaders(res);
    },
  );

  it('serves hashed assets with their type, cached as immutable', async () => {
    const js = await app.inject({ url: '/assets/app-3f2a.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body).toBe(SCRIPT);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expectConsoleHeaders(js);
    const css = await app.inject({ url: '/assets/app-3f2a.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await app.inject({ method: 'HEAD', url: '/assets/app-3f2a.js' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(SCRIPT.length));
  });

  it('serves other files of the build, revalidated', async () => {
    const icon = await app.inject({ url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers a missing file with the JSON 404, not index.html', async () => {
    expectNotFound(await app.inject({ url: '/assets/app-0000.js' }));
    expectNotFound(await app.inject({ url: '/robots.txt' }));
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/.env',
    '/assets/link.txt',
    '/assets/%00.js',
  ])('serves nothing outside the directory or hidden: %s', async (url) => {
    expectNotFound(await app.inject({ url }));
  });

  it('answers a malformed URL with the API error body', async () => {
    for (const url of ['/%E0%A4%A.js', '/v1/tenants/%E0%A4%A/events']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'invalid_request' } });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('leaves the API as it was: JSON 404s, no-store, only GET and HEAD', async () => {
    const unknown = await app.inject({ url: '/v1/unknown' });
    expectNotFound(unknown);
    expect(unknown.json()).toMatchObject({ error: { message: expect.stringMatching(/No route/) } });
    expectNotFound(await app.inject({ url: '/v1' }));
    expectNotFound(await app.inject({ url: '/healthz/more' }));
    const openapi = await app.inject({ url: '/v1/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    expect(openapi.headers['cache-control']).toBe('no-store');
    expect(openapi.headers['content-security-policy']).toBeUndefined();
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expectNotFound(await app.inject({ method: 'POST', url: '/', payload: {} }));
    expectNotFound(await app.inject({ method: 'DELETE', url: '/assets/app-3f2a.js' }));
  });
});

describe('without a built console', () => {
  it('answers / with a 404 that says how to build it, and serves the API', async () => {
    const bare = await appWith(join(tmp.dir, 'nowhere'));
    for (const url of ['/', '/events']) {
      const res = await bare.inject({ url });
      expectNotFound(res);
      expect(res.json()).toMatchObject({
        error: { message: expect.stringMatching(/not built.*npm run build/) },
      });
    }
    expect((await bare.inject({ url: '/v1/keys/public' })).statusCode).toBe(200);
  });

  it('serves no console at all with consoleDir null', async () => {
    const none = await appWith(null);
    const res = await none.inject({ url: '/' });
    expectNotFound(res);
    expect(res.json()).toMatchObject({
      error: { message: 'No route GET /. See GET /v1/openapi.json.' },
    });
  });

  it('looks for the build of @hindsight/console by default', () => {
    expect(defaultConsoleDir()).toBe(
      resolve(fileURLToPath(new URL('../../../console/dist', import.meta.url))),
    );
    expect(Object.keys(CONSOLE_HEADERS)).toEqual([
      'content-security-policy',
      'referrer-policy',
      'x-frame-options',
    ]);
  });
});
