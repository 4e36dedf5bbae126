/**
 * `GET /metrics`: what an operator scrapes. Counted from real requests to a real app on SQLite;
 * read only with a key of the `metrics:read` scope that no tenant limits; never names a tenant.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsOf } from '../../src/http/app.js';
import { listenForMetrics } from '../../src/metrics.js';
import { event, type TestApp, testApp } from '../helpers.js';

let t: TestApp;
let scraper: string;

/** The value of one series of the exposition (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(key = scraper) {
  return t.get('/metrics', key);
}

beforeAll(async () => {
  t = await testApp();
  scraper = await t.key(['metrics:read']);
});
afterAll(async () => {
  await t.close();
});

describe('metrics', () => {
  it('counts requests by route template and status, error codes, and accepted events', async () => {
    const before = (await scrape()).body;
    const posted = (n: number, tenant: string) =>
      t.post({ events: Array.from({ length: n }, () => event({ tenant })) });
    expect((await posted(3, 'acme')).statusCode).toBe(202);
    expect((await posted(2, 'globex')).statusCode).toBe(202);
    expect((await t.post('{"events": [')).statusCode).toBe(400);
    expect((await t.get('/v1/tenants/acme/events?limit=5')).statusCode).toBe(200);
    expect((await t.get('/v1/tenants/globex/events?limit=5')).statusCode).toBe(200);
    expect((await t.get('/v1/no-such-route')).statusCode).toBe(404);

    const res = await scrape();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = res.body;
    const grew = (series: string) => (sample(text, series) ?? 0) - (sample(before, series) ?? 0);
    expect(
      grew('hindsight_http_requests_total{method="POST",route="/v1/events",status="202"}'),
    ).toBe(2);
    expect(
      grew('hindsight_http_requests_total{method="POST",route="/v1/events",status="400"}'),
    ).toBe(1);
    // Both tenants' reads under one route template: no tenant in any label.
    expect(
      grew(
        'hindsight_http_requests_total{method="GET",route="/v1/tenants/:tenant/events",status="200"}',
      ),
    ).toBe(2);
    expect(grew('hindsight_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(
      1,
    );
    expect(grew('hindsight_http_errors_total{code="invalid_json"}')).toBe(1);
    expect(grew('hindsight_http_errors_total{code="not_found"}')).toBe(1);
    expect(grew('hindsight_events_accepted_total')).toBe(5);
    expect(grew('hindsight_group_commit_events_sum')).toBe(5);
    expect(grew('hindsight_group_commit_events_count')).toBeGreaterThanOrEqual(1);
    expect(
      grew('hindsight_http_request_duration_seconds_count{method="POST",route="/v1/events"}'),
    ).toBe(3);
    expect(sample(text, 'hindsight_commit_queue_events')).toBe(0);
    expect(sample(text, 'hindsight_ingest_pending_events')).toBe(0);
    expect(sample(text, 'hindsight_ingest_max_pending_events')).toBe(20_000);
    expect(sample(text, 'hindsight_group_commit_failures_total')).toBe(0);
    expect(sample(text, 'hindsight_info{store="sqlite"}')).toBe(1);
    // The process's own metrics come with them.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/acme|globex/);
  });

  it('counts the checkpoints signed', async () => {
    const before = sample((await scrape()).body, 'hindsight_checkpoints_signed_total') ?? 0;
    expect((await t.post({ events: [event({ tenant: 'initech' })] })).statusCode).toBe(202);
    // Signed on request when the log grew past the newest stored checkpoint.
    expect((await t.get('/v1/tenants/initech/checkpoint')).statusCode).toBe(200);
    const text = (await scrape()).body;
    expect(sample(text, 'hindsight_checkpoints_signed_total')).toBeGreaterThan(before);
    expect(sample(text, 'hindsight_anchor_backlog_checkpoints{anchor="url"}')).toBe(0);
  });

  it('is read only with the scope, by a key no tenant limits', async () => {
    expect((await scrape(t.admin)).statusCode).toBe(200);
    const reader = await t.key(['events:read']);
    expect((await scrape(reader)).statusCode).toBe(403);
    const limited = await t.key(['metrics:read'], 'acme');
    const refused = await scrape(limited);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'forbidden' } });
    const anonymous = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('is also served without a key on a listener of its own, which serves nothing else', async () => {
    const server = await listenForMetrics(metricsOf(t.app), { host: '127.0.0.1', port: 0 });
    try {
      const { port } = server.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      expect((await t.post({ events: [event({ tenant: 'acme' })] })).statusCode).toBe(202);
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      // The same counts as the API's /metrics: this app's requests.
      expect(sample(text, 'hindsight_events_accepted_total')).toBeGreaterThan(0);
      expect(text).toContain('process_cpu_user_seconds_total');
      for (const [method, path] of [
        ['GET', '/'],
        ['GET', '/v1/tenants/acme/events'],
        ['POST', '/metrics'],
      ] as const) {
        const other = await fetch(`${base}${path}`, { method });
        expect(other.status, `${method} ${path}`).toBe(404);
        expect(await other.json()).toMatchObject({ error: { code: 'not_found' } });
      }
      // The API's own /metrics still wants a key.
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
