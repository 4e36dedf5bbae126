/**
 * Exports of a filtered view (issue #6): CSV and NDJSON of exactly the events the list shows, or
 * of rows picked by id; the unfiltered NDJSON export stays the verifiable log.
 */
import { EVENTS_FORMAT, EXPORT_FORMAT, type StoredEvent } from '@hindsight/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { CSV_COLUMNS } from '../../src/export-csv.js';
import { createApp } from '../../src/http/app.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { cliVerify, event, type TestApp, tempDir, testApp, testEnricher } from '../helpers.js';

const tenant = 'exp';
const base = Date.now() - 86_400_000;
let t: TestApp;

beforeAll(async () => {
  t = await testApp();
  // More than two export pages (500), some events sharing a millisecond.
  const events = Array.from({ length: 1150 }, (_, i) =>
    event({
      tenant,
      id: `x${i}`,
      time: new Date(base + Math.floor(i / 3) * 1000).toISOString(),
      category: i % 4 === 0 ? 'access' : 'changes',
      action: i % 4 === 0 ? 'code.accessed' : i % 2 ? 'user.updated' : 'invoice.exported',
      outcome: i % 5 === 0 ? 'failure' : 'success',
      actor: { id: `u${i % 7}`, name: `User ${i % 7}` },
      description: i % 10 === 0 ? 'Bulk export of invoices' : 'Updated profile',
    }),
  );
  for (let i = 0; i < events.length; i += 1000) {
    expect((await t.post({ events: events.slice(i, i + 1000) })).statusCode).toBe(202);
  }
});
afterAll(async () => {
  await t.close();
});

/** Every event of the list with these filters, through its cursors. */
async function listed(query: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let cursor: string | null = null;
  do {
    const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await t.get(`/v1/tenants/${tenant}/events?limit=500&${query}${suffix}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { events: StoredEvent[]; nextCursor: string | null };
    out.push(...body.events);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return out;
}

/**
 * RFC 4180 CSV as rows of cells, read as spreadsheets read it: CRLF, or a bare CR or LF, outside
 * quotes ends a record.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') cell += c;
      else if (text[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' || c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** A CSV export as objects by column name; checks the BOM and the header row. */
function csvRecords(body: string): Array<Record<string, string>> {
  expect(body.startsWith('\uFEFF')).toBe(true);
  const [header, ...rows] = parseCsv(body.slice(1));
  expect(header).toEqual([...CSV_COLUMNS]);
  for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
  return rows.map((row) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, row[i] ?? ''])));
}

function ndjson(body: string): Array<Record<string, unknown>> {
  expect(body.endsWith('\n')).toBe(true);
  return body
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('GET /v1/tenants/{tenant}/export?format=csv', () => {
  it.each([
    ['no filters', ''],
    ['outcome', 'outcome=failure'],
    ['action prefix and q', `action=user.*&q=${encodeURIComponent('invoices OR profile')}`],
    ['category, oldest first', 'category=access&order=asc'],
    ['time bounds and actor', `actor=u3&since=${new Date(base + 60_000).toISOString()}`],
  ])('has exactly the rows of the event list (%s), in its order', async (_, query) => {
    const events = await listed(query);
    const res = await t.get(`/v1/tenants/${tenant}/export?format=csv&${query}`);
    expect(res.statusCode, res.body).toBe(200);
    const rows = csvRecords(res.body);
    expect(rows.map((r) => r['id'])).toEqual(events.map((e) => e.id));
    expect(rows.map((r) => [r['seq'], r['time'], r['hash']])).toEqual(
      events.map((e) => [String(e.seq), e.time, e.hash]),
    );
  });

  it('is an attachment of UTF-8 CSV with a BOM, CRLF line ends and readable columns', async () => {
    const ref = await t.post(
      event({
        tenant: 'csv',
        id: 'full',
        category: 'users',
        action: 'user.admin_rights.updated',
        actor: { id: 'u-1002', name: 'Ann Lee', email: 'ann@acme.test' },
        targets: [
          { type: 'user', id: 'u-1013', name: 'Bo Chen' },
          { type: 'team', id: 't-7' },
        ],
        channel: 'ui',
        status: 'ok',
        description: 'Granted "admin", then\nrevoked, again',
        changes: [
          { field: 'admin', before: false, after: true },
          { field: 'role', before: 'member', after: 'owner' },
          { field: 'limits', after: { seats: 5 } },
          { field: 'password', before: 'a', after: 'b', sensitive: true },
        ],
        context: { ip: '81.2.69.142' },
      }),
    );
    expect(ref.statusCode).toBe(202);
    await t.post(event({ tenant: 'csv', id: 'sys', actor: { type: 'system' } }));
    const res = await t.get('/v1/tenants/csv/export?format=csv&order=asc');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="csv-events-${new Date().toISOString().slice(0, 10)}.csv"`,
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.slice(1).split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const [full, sys] = csvRecords(res.body);
    expect(full).toMatchObject({
      seq: '1',
      category: 'users',
      action: 'user.admin_rights.updated',
      actor: 'Ann Lee',
      actor_id: 'u-1002',
      description: 'Granted "admin", then\nrevoked, again',
      targets: 'user:u-1013 Bo Chen; team:t-7',
      outcome: 'success',
      status: 'ok',
      channel: 'ui',
      ip: '81.2.69.142',
      location: 'London, England, GB',
      changes:
        'admin: false → true; role: member → owner; limits: → {"seats":5}; password: changed',
      id: 'full',
    });
    expect(sys).toMatchObject({ actor: 'System', actor_id: '', id: 'sys' });
  });

  it('neutralises cells a spreadsheet would run as a formula', async () => {
    const payloads = ['=HYPERLINK("http://x.test","y")', '+SUM(1,2)', '-2+3', '@cmd', '\tx', '\rx'];
    const names = ['=1+1', '+1', '-1', '@A1', '\uFF1D1+1', 'Ann'];
    const stored = await t.post({
      events: payloads.map((p, i) =>
        event({
          tenant: 'formula',
          id: `f${i}`,
          description: p,
          actor: { id: `u${i}`, name: names[i] ?? '' },
        }),
      ),
    });
    expect(stored.statusCode, stored.body).toBe(202);
    const rows = csvRecords((await t.get('/v1/tenants/formula/export?format=csv&order=asc')).body);
    expect(rows.map((r) => r['description'])).toEqual(payloads.map((p) => `'${p}`));
    expect(rows.map((r) => r['actor'])).toEqual([...names.slice(0, 5).map((n) => `'${n}`), 'Ann']);
    expect(rows.map((r) => r['seq'])).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  // A bare line break left unquoted split the row in two, and the formula after it began a
  // cell of its own.
  it('quotes every cell with a line break, so no row splits and no formula starts a cell', async () => {
    const description = "Profile updated\n=cmd|'/C calc'!A0";
    const stored = await t.post(
      event({
        tenant: 'csv-breaks',
        id: 'b1',
        description,
        changes: [{ field: 'nickname', before: 'bob', after: "x\r=cmd|'/C calc'!A0" }],
      }),
    );
    expect(stored.statusCode, stored.body).toBe(202);
    const rows = csvRecords((await t.get('/v1/tenants/csv-breaks/export?format=csv')).body);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      description,
      changes: "nickname: bob → x\r=cmd|'/C calc'!A0",
      id: 'b1',
    });
  });

  it('exports picked rows in the order given, skipping unknown ids', async () => {
    const res = await t.get(`/v1/tenants/${tenant}/export?format=csv&ids=x7,x1100,nope,x2,x7`);
    expect(res.statusCode, res.body).toBe(200);
    expect(csvRecords(res.body).map((r) => r['id'])).toEqual(['x7', 'x1100', 'x2']);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="exp-selected-${new Date().toISOString().slice(0, 10)}.csv"`,
    );
    const empty = await t.get(`/v1/tenants/${tenant}/export?format=csv&ids=nope`);
    expect(csvRecords(empty.body)).toEqual([]);
  });
});

describe('GET /v1/tenants/{tenant}/export?format=ndjson with filters or ids', () => {
  it('is a labelled export of the selected events, not the verifiable log', async () => {
    const query = 'category=access&outcome=failure&order=asc';
    const events = await listed(query);
    expect(events.length).toBeGreaterThan(10);
    const res = await t.get(`/v1/tenants/${tenant}/export?format=ndjson&${query}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="exp-access-${new Date().toISOString().slice(0, 10)}.ndjson"`,
    );
    const [header, ...lines] = ndjson(res.body);
    expect(header).toEqual({
      type: 'header',
      format: EVENTS_FORMAT,
      tenant,
      filters: { category: 'access', outcome: 'failure' },
      order: 'asc',
      exportedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(lines).toEqual(events.map((e) => ({ type: 'event', event: e })));
  });

  it('names the picked ids in its header', async () => {
    const res = await t.get(`/v1/tenants/${tenant}/export?format=ndjson&ids=x3,x1`);
    const [header, ...lines] = ndjson(res.body);
    expect(header).toMatchObject({ format: EVENTS_FORMAT, filters: {}, ids: ['x3', 'x1'] });
    expect(header).not.toHaveProperty('order');
    expect(lines.map((l) => (l['event'] as StoredEvent).id)).toEqual(['x3', 'x1']);
  });

  it('is refused by `hindsight verify` as a filtered export', async () => {
    const tmp = tempDir();
    const result = await cliVerify(
      tmp.dir,
      (await t.get(`/v1/tenants/${tenant}/export?format=ndjson&q=invoices`)).body,
      (await t.app.inject({ url: '/v1/keys/public' })).body,
    );
    tmp.remove();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAILED: tenant exp, 0 events, 1 problem:/);
    expect(result.stdout).toMatch(/export of selected events .* not a verifiable log/);
  });

  it('stays the verifiable log without filters, whatever the order asked', async () => {
    const res = await t.get(`/v1/tenants/${tenant}/export?format=ndjson&order=desc`);
    const [header] = ndjson(res.body);
    expect(header).toMatchObject({ format: EXPORT_FORMAT, tenant });
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="exp-log-${new Date().toISOString().slice(0, 10)}.ndjson"`,
    );
  });

  it('names the file so that file systems take it, whatever the tenant name', async () => {
    await t.post(event({ tenant: 'org:acme@eu', id: 'f1' }));
    const res = await t.get('/v1/tenants/org:acme@eu/export?format=ndjson');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="org_acme_eu-log-${new Date().toISOString().slice(0, 10)}.ndjson"`,
    );
  });
});

describe('export requests that are refused', () => {
  it.each([
    ['too many ids', `ids=${Array.from({ length: 501 }, (_, i) => `x${i}`).join(',')}`],
    ['an empty id', 'ids=x1,,x2'],
    ['a trailing comma', 'ids=x1,'],
    ['an id longer than 128 characters', `ids=${'a'.repeat(129)}`],
    ['ids with filters', 'ids=x1&outcome=failure'],
    ['an unknown parameter', 'limit=5'],
    ['an unknown format', 'format=xlsx'],
    ['a bad order', 'order=newest'],
    ['a bad time bound', 'since=yesterday'],
  ])('answers 400 invalid_request to %s', async (_, query) => {
    const format = query.startsWith('format=') ? '' : 'format=csv&';
    const res = await t.get(`/v1/tenants/${tenant}/export?${format}${query}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect(res.headers['content-disposition']).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('answers 400 invalid_query to a malformed q', async () => {
    const res = await t.get(
      `/v1/tenants/${tenant}/export?format=csv&q=${encodeURIComponent('"open')}`,
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_query' } });
  });

  it('answers a store failing before the first event as JSON, not as a cut-off download', async () => {
    const tmp = tempDir();
    const store = await openStore({ data: tmp.dir });
    const app = await createApp({ store, enricher: testEnricher(), consoleDir: null });
    const { token } = await createApiKey(store, { scopes: ['admin'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const stored = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers,
      payload: event({ tenant }),
    });
    expect(stored.statusCode).toBe(202);
    const db = new Database(sqlitePath(tmp.dir));
    db.exec('DROP TABLE events');
    db.close();
    for (const query of ['format=csv', 'format=ndjson&q=x', 'format=csv&ids=a']) {
      const res = await app.inject({
        url: `/v1/tenants/${tenant}/export?${query}`,
        headers,
      });
      expect(res.statusCode, query).toBe(500);
      expect(res.json()).toMatchObject({ error: { code: 'internal_error' } });
      expect(res.headers['content-disposition']).toBeUndefined();
    }
    await app.close();
    await store.close();
    tmp.remove();
  });

  it('refuses a key limited to another tenant, and one without the export scope', async () => {
    const other = await t.key(['events:export'], 'elsewhere');
    const refused = await t.get(`/v1/tenants/${tenant}/export?format=csv`, other);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'forbidden' } });
    const own = await t.key(['events:export'], tenant);
    expect((await t.get(`/v1/tenants/${tenant}/export?format=csv&ids=x1`, own)).statusCode).toBe(
      200,
    );
    const reader = await t.key(['events:read']);
    expect((await t.get(`/v1/tenants/${tenant}/export?format=csv`, reader)).statusCode).toBe(403);
  });
});
