/**
 * Exports as background jobs (issue #9): started with the export's parameters, polled for
 * progress, downloaded when done — the same bytes as the streamed export — kept to their
 * tenant, and withdrawn by an erasure.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportJobs } from '../../src/export-jobs.js';
import { event, type TestApp, tempDir, testApp } from '../helpers.js';

let t: TestApp;
const tenant = 'jobs';

beforeAll(async () => {
  t = await testApp();
  const events = Array.from({ length: 1200 }, (_, i) =>
    event({ tenant, id: `j${i}`, category: i % 3 ? 'changes' : 'logins', description: `Row ${i}` }),
  );
  for (let i = 0; i < events.length; i += 1000) {
    expect((await t.post({ events: events.slice(i, i + 1000) })).statusCode).toBe(202);
  }
});
afterAll(async () => {
  await t.close();
});

const start = (query: string, key = t.admin) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/tenants/${tenant}/exports?${query}`,
    headers: { authorization: `Bearer ${key}` },
  });

async function finished(id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const res = await t.get(`/v1/tenants/${tenant}/exports/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    const job = res.json() as Record<string, unknown>;
    if (job['status'] !== 'running') return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the job did not finish');
}

describe('background exports', () => {
  it('writes the same file as the streamed export, with its progress', async () => {
    const res = await start('format=csv&category=changes&order=asc');
    expect(res.statusCode, res.body).toBe(202);
    const job = res.json() as { id: string; status: string; file: string | null };
    expect(job.status).toBe('running');
    expect(job.file).toBeNull();
    const done = await finished(job.id);
    expect(done).toMatchObject({
      status: 'done',
      format: 'csv',
      progress: { events: 800, total: null },
      error: null,
      file: `/v1/tenants/${tenant}/exports/${job.id}/file`,
    });
    const file = await t.get(String(done['file']));
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/^text\/csv/);
    expect(String(file.headers['content-disposition'])).toMatch(
      /^attachment; filename="jobs-changes-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const streamed = await t.get(
      `/v1/tenants/${tenant}/export?format=csv&category=changes&order=asc`,
    );
    expect(file.body).toBe(streamed.body);
    expect((done['progress'] as { bytes: number }).bytes).toBe(file.rawPayload.length);
  });

  it('counts picked ids against their total, and exports the whole log', async () => {
    const picked = (await start('format=ndjson&ids=j1,j2,nope')).json() as { id: string };
    expect(await finished(picked.id)).toMatchObject({
      status: 'done',
      progress: { events: 2, total: 3 },
    });
    const log = (await start('format=ndjson')).json() as { id: string };
    const done = await finished(log.id);
    expect(done).toMatchObject({ status: 'done', progress: { events: null } });
    const lines = (await t.get(String(done['file']))).body.trim().split('\n');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      type: 'header',
      format: 'hindsight-export/1',
    });
    expect(lines.filter((l) => l.includes('"type":"event"'))).toHaveLength(1200);
  });

  it('keeps jobs to their tenant and scope, and refuses bad parameters before starting', async () => {
    const job = (await start('format=csv')).json() as { id: string };
    await finished(job.id);
    const other = await t.key(['events:export'], 'other');
    expect((await t.get(`/v1/tenants/${tenant}/exports/${job.id}`, other)).statusCode).toBe(403);
    expect((await t.get(`/v1/tenants/other/exports/${job.id}`, other)).statusCode).toBe(404);
    expect((await t.get(`/v1/tenants/other/exports/${job.id}/file`, other)).statusCode).toBe(404);
    expect((await t.get(`/v1/tenants/${tenant}/exports/unknown`)).statusCode).toBe(404);
    expect((await start('format=csv', await t.key(['events:read']))).statusCode).toBe(403);
    expect((await start('format=xml')).statusCode).toBe(400);
    expect((await start('format=csv&q=%22open')).json().error.code).toBe('invalid_query');
  });

  it('withdraws the tenant’s exports when a person is erased or events deleted: a file may hold them', async () => {
    const job = (await start('format=ndjson')).json() as { id: string };
    const done = await finished(job.id);
    expect((await t.get(String(done['file']))).statusCode).toBe(200);
    const erased = await t.send('POST', `/v1/tenants/${tenant}/erasures`, {
      subject: { actorId: 'nobody-in-particular' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    expect((erased.json() as { exports: number }).exports).toBeGreaterThanOrEqual(1);
    const after = await t.get(`/v1/tenants/${tenant}/exports/${job.id}`);
    expect(after.json()).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^Withdrawn by erasure \S+: .*Export again\.$/),
    });
    expect((await t.get(`/v1/tenants/${tenant}/exports/${job.id}/file`)).statusCode).toBe(404);
    // A new export after the erasure is served as before, until events are deleted.
    const again = await finished(((await start('format=csv')).json() as { id: string }).id);
    expect(again['status']).toBe('done');
    const allow = { deletion: { allowed: true } };
    expect((await t.send('PUT', `/v1/tenants/${tenant}/settings`, allow)).statusCode).toBe(200);
    const deleted = await t.send('POST', `/v1/tenants/${tenant}/deletions`, { ids: ['j5'] });
    expect(deleted.json()).toMatchObject({ deleted: [{ id: 'j5' }], exports: 1 });
    expect((await t.get(`/v1/tenants/${tenant}/exports/${again['id']}`)).json()).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^Withdrawn by a deletion of events/),
    });
  });

  it('stops a running export that is withdrawn, and removes its file', async () => {
    const dir = tempDir();
    const jobs = new ExportJobs(dir.dir);
    let written = 0;
    const view = jobs.start('t1', 'csv', 'text/csv', {
      chunks: (async function* () {
        for (let i = 0; i < 100; i++) {
          written++;
          yield `row ${i}\n`;
          await sleep(10);
        }
      })(),
      events: () => written,
      total: 100,
      subject: 'events',
    });
    await sleep(60);
    expect(jobs.withdraw('t2', 'not this tenant')).toBe(0);
    expect(jobs.withdraw('t1', 'Withdrawn for the test.')).toBe(1);
    for (let i = 0; i < 100 && jobs.get('t1', view.id)?.status === 'running'; i++) await sleep(10);
    expect(jobs.get('t1', view.id)).toMatchObject({
      status: 'failed',
      error: 'Withdrawn for the test.',
    });
    expect(written).toBeLessThan(100);
    expect(existsSync(join(dir.dir, `${view.id}.csv`))).toBe(false);
    await jobs.close();
    dir.remove();
  });
});
