/**
 * Legal hold and retention policies over HTTP (issue #9): an admin places and lifts a hold,
 * the settings route keeps it as it is, and each change is recorded in the tenant's `audit`
 * log.
 */
import type { StoredEvent } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { AuditTrail } from '../../src/http/audit.js';
import { prepareEvents } from '../../src/ingest.js';
import { legalHoldOf, liftLegalHold, placeLegalHold } from '../../src/legal-hold.js';
import { openStore } from '../../src/store/index.js';
import type { PendingAudit } from '../../src/store/types.js';
import { type TestApp, tempDir, testApp, testEnricher } from '../helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.close();
});

async function auditActions(tenant: string): Promise<string[]> {
  const res = await t.get(`/v1/tenants/${tenant}/events?category=audit&order=asc`);
  return (res.json() as { events: StoredEvent[] }).events.map((e) => e.action);
}

/** Retries every 50 ms: vitest's default 1 s is too short on a loaded machine. */
const WAIT = { timeout: 15_000, interval: 50 };

describe('PUT and DELETE /v1/tenants/{tenant}/legal-hold', () => {
  it('places a hold with a reason, keeps it through settings changes, and lifts it', async () => {
    const placed = await t.send('PUT', '/v1/tenants/acme/legal-hold', { reason: 'Case 2026-114' });
    expect(placed.statusCode, placed.body).toBe(200);
    const hold = (placed.json() as { legalHold: { reason: string; since: string } }).legalHold;
    expect(hold.reason).toBe('Case 2026-114');
    expect(await legalHoldOf(t.store, 'acme')).toEqual(hold);

    // A new reason keeps the time it was first placed.
    const again = await t.send('PUT', '/v1/tenants/acme/legal-hold', { reason: 'Case 2026-115' });
    expect(again.json()).toEqual({ legalHold: { reason: 'Case 2026-115', since: hold.since } });

    // Replacing the settings without the hold keeps it; changing it there is refused.
    const settings = await t.send('PUT', '/v1/tenants/acme/settings', {
      retention: { categories: { changes: 90 } },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    expect(settings.json()).toMatchObject({
      settings: {
        retention: { categories: { changes: 90 } },
        legalHold: { reason: 'Case 2026-115', since: hold.since },
      },
    });
    const sneaky = await t.send('PUT', '/v1/tenants/acme/settings', {
      legalHold: { reason: 'gone', since: hold.since },
    });
    expect(sneaky.statusCode).toBe(400);
    expect(sneaky.json()).toMatchObject({ error: { code: 'invalid_request' } });

    const lifted = await t.send('DELETE', '/v1/tenants/acme/legal-hold');
    expect(lifted.statusCode).toBe(200);
    expect(lifted.json()).toEqual({ legalHold: null });
    expect(await legalHoldOf(t.store, 'acme')).toBeNull();
    expect((await t.store.tenantSettings('acme')).settings.retention).toEqual({
      categories: { changes: 90 },
    });

    expect(await auditActions('acme')).toEqual([
      'legal_hold.placed',
      'legal_hold.updated',
      'retention.changed',
      'legal_hold.lifted',
    ]);
  });

  it('is for admins only', async () => {
    const reader = await t.key(['events:read', 'events:write', 'events:delete']);
    const res = await t.send('PUT', '/v1/tenants/acme/legal-hold', { reason: 'x' }, reader);
    expect(res.statusCode).toBe(403);
    expect(
      (await t.send('DELETE', '/v1/tenants/acme/legal-hold', undefined, reader)).statusCode,
    ).toBe(403);
  });

  it('refuses a hold without a reason', async () => {
    const res = await t.send('PUT', '/v1/tenants/acme/legal-hold', {});
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });

  // The reason is quoted in the tenant's audit entry, which refuses control characters: the
  // hold used to be placed, then the entry refused, and the request answered 400.
  it('refuses a reason with a control character or a lone surrogate, and places no hold', async () => {
    for (const reason of ['Case\u0000114', 'Case\u0007114', 'Case\u009b114', 'Case \ud800']) {
      const res = await t.send('PUT', '/v1/tenants/held-not/legal-hold', { reason });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({
        error: { code: 'invalid_request', details: [{ path: '/body/reason' }] },
      });
    }
    expect(await legalHoldOf(t.store, 'held-not')).toBeNull();
    expect(await auditActions('held-not')).toEqual([]);
    // Line breaks are text: a reason may have several lines.
    const lines = await t.send('PUT', '/v1/tenants/held-not/legal-hold', {
      reason: 'Case 114\nand 115',
    });
    expect(lines.statusCode, lines.body).toBe(200);
    expect(await auditActions('held-not')).toEqual(['legal_hold.placed']);
  });
});

describe('PUT /v1/tenants/{tenant}/settings', () => {
  // Settings the schema let through used to be stored, and then their audit entry refused:
  // answered 400 "nothing was stored", with the change made and unrecorded.
  it('refuses retention categories not named as categories are, or too many of them', async () => {
    const bodies = [
      { retention: { categories: { BAD: 5 } } },
      { retention: { categories: { 'x y': 5 } } },
      { retention: { categories: { changes: -5 } } },
      { retention: { categories: { changes: 'forever' } } },
      {
        retention: {
          categories: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`c${i}`, 30])),
        },
      },
      { embed: { title: 'Audit \udc00' } },
    ];
    for (const body of bodies) {
      const res = await t.send('PUT', '/v1/tenants/settings-refused/settings', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect(await t.store.tenantSettings('settings-refused')).toEqual({
      settings: {},
      updatedAt: null,
    });
    expect(await auditActions('settings-refused')).toEqual([]);

    // 64 categories, each as long as a name may be: stored and recorded.
    const categories = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [`${String(i).padStart(2, '0')}${'c'.repeat(62)}`, 30]),
    );
    const most = await t.send('PUT', '/v1/tenants/settings-refused/settings', {
      retention: { categories },
    });
    expect(most.statusCode, most.body).toBe(200);
    expect(await auditActions('settings-refused')).toEqual(['retention.changed']);
  });
});

describe('GET and PUT /v1/tenants/{tenant}/settings with ETag and If-Match', () => {
  const settingsOf = (headers: Record<string, string> = {}, body?: unknown) =>
    t.app.inject({
      method: body === undefined ? 'GET' : 'PUT',
      url: '/v1/tenants/etags/settings',
      headers: {
        authorization: `Bearer ${t.admin}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  it('replaces the settings only if they are still those the ETag names', async () => {
    const first = await settingsOf();
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    // Two programs read the same settings; the first write wins, the second is refused.
    const mine = await settingsOf({ 'if-match': etag }, { embed: { title: 'Mine' } });
    expect(mine.statusCode, mine.body).toBe(200);
    const newer = String(mine.headers.etag);
    expect(newer).not.toBe(etag);
    const theirs = await settingsOf({ 'if-match': etag }, { retention: { days: 30 } });
    expect(theirs.statusCode).toBe(412);
    expect(theirs.json()).toMatchObject({ error: { code: 'precondition_failed' } });
    const now = await settingsOf();
    expect(now.json()).toMatchObject({ settings: { embed: { title: 'Mine' } } });
    expect(now.headers.etag).toBe(newer);
    // Nothing was written: only the first write's change was recorded, no retention change.
    expect(await auditActions('etags')).toEqual(['settings.changed']);
    // One of several tags; `*`; a weak tag never matches (strong comparison).
    const listed = await settingsOf({ 'if-match': `"other", ${newer}` }, { embed: { title: 'A' } });
    expect(listed.statusCode).toBe(200);
    expect((await settingsOf({ 'if-match': '*' }, { embed: { title: 'B' } })).statusCode).toBe(200);
    const weak = await settingsOf(
      { 'if-match': `W/${String((await settingsOf()).headers.etag)}` },
      {},
    );
    expect(weak.statusCode).toBe(412);
    // A hold placed meanwhile changes the ETag: a change made on the settings before it is
    // refused rather than written next to a hold it never saw.
    const before = String((await settingsOf()).headers.etag);
    await t.send('PUT', '/v1/tenants/etags/legal-hold', { reason: 'Case 12' });
    expect((await settingsOf({ 'if-match': before }, { embed: {} })).statusCode).toBe(412);
    await t.send('DELETE', '/v1/tenants/etags/legal-hold');
  });

  it('documents the headers and the 412 in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters: Array<{ name: string; in: string }>;
            responses: Record<string, { headers?: Record<string, unknown> }>;
          }
        >
      >;
    };
    const put = doc.paths['/v1/tenants/{tenant}/settings']?.['put'];
    expect(put?.parameters).toContainEqual(
      expect.objectContaining({ name: 'If-Match', in: 'header' }),
    );
    expect(Object.keys(put?.responses ?? {})).toContain('412');
    expect(put?.responses['200']?.headers).toHaveProperty('ETag');
    expect(
      doc.paths['/v1/tenants/{tenant}/settings']?.['get']?.responses['200']?.headers,
    ).toHaveProperty('ETag');
  });
});

describe('the audit entries of admin changes', () => {
  const ALL = Number.MAX_SAFE_INTEGER;

  /** An `audit` entry as a route makes it, its id and time fixed. */
  const entryOf = (tenant: string, action: string, id: string): PendingAudit => ({
    tenant,
    id,
    time: new Date().toISOString(),
    category: 'audit',
    action,
    actor: { type: 'api_key', id: 'key-1' },
    targets: [{ type: 'audit_log', id: 'all' }],
  });

  it('appends each entry with its change and keeps none pending', async () => {
    const posted = await t.post({
      events: ['a', 'b'].map((id) => ({
        tenant: 'kept',
        id,
        action: 'user.updated',
        actor: { id: 'user-7', name: 'Ann Lee' },
      })),
    });
    expect(posted.statusCode, posted.body).toBe(202);
    await t.send('PUT', '/v1/tenants/kept/legal-hold', { reason: 'Case 20' });
    await t.send('PUT', '/v1/tenants/kept/settings', {
      retention: { days: 400 },
      deletion: { allowed: true },
    });
    const revoked = await t.send('POST', '/v1/viewer-tokens/revocations', {
      tenant: 'kept',
      viewerId: 'user-7',
    });
    expect(revoked.statusCode, revoked.body).toBe(201);
    await t.send('DELETE', '/v1/tenants/kept/legal-hold');
    const erased = await t.send('POST', '/v1/tenants/kept/erasures', {
      subject: { actorId: 'user-7' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    const deleted = await t.send('POST', '/v1/tenants/kept/deletions', { ids: ['a'] });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(await auditActions('kept')).toEqual([
      'legal_hold.placed',
      'retention.changed',
      'settings.changed',
      'viewer_token.revoked',
      'legal_hold.lifted',
      'audit_log.erased',
      'audit_log.deleted',
    ]);
    // The settings other than retention: which changed, before and after (null: unset).
    const all = await t.get('/v1/tenants/kept/events?category=audit&order=asc');
    const changed = (all.json() as { events: StoredEvent[] }).events[2];
    expect(changed?.description).toBe('Changed the settings: deletion');
    expect(changed?.metadata).toEqual({
      changed: ['deletion'],
      before: { deletion: null },
      after: { deletion: { allowed: true } },
    });
    // The erasure and the deletion told in full: what the store did, and what followed.
    const res = await t.get('/v1/tenants/kept/events?category=audit&order=desc&limit=2');
    const [deletion, erasure] = (res.json() as { events: StoredEvent[] }).events;
    expect(deletion?.description).toBe('Deleted 1 event');
    expect(deletion?.metadata).toEqual({ events: 1, seqs: [1] });
    // Ann's two events, and the revocation that named her as its target.
    expect(erasure?.description).toMatch(/^Erased a person's personal values from 3 events/);
    expect(erasure?.metadata).toMatchObject({ subject: 'actorId', events: 3, withdrawnExports: 0 });
    expect(await t.store.pendingAudits(ALL, 10)).toEqual([]);
  });

  it('leaves an entry appended before it was told in full as it was kept', async () => {
    const trail = new AuditTrail(async (event) => {
      const [outcome] = await t.store.append([prepareEvents(event, testEnricher())]);
      if (!outcome?.ok) throw outcome?.error;
    }, t.store);
    const pending = entryOf('told', 'audit_log.erased', 'audit-told');
    await t.store.erase('told', { actorId: 'nobody' }, pending);
    // A server starting meanwhile appends it as kept, with what the store did.
    expect(await trail.drain()).toBe(1);
    await trail.settle(pending, { ...pending, description: 'erased a person from 0 events' });
    const stored = await t.store.getEvent('told', pending.id);
    expect(stored?.description).toBeUndefined();
    expect(stored?.metadata).toEqual({ events: 0, values: 0 });
    expect(await t.store.pendingAudits(ALL, 10)).toEqual([]);
  });

  it('appends, when the server starts, the entries of changes made before it stopped', async () => {
    const tmp = tempDir();
    try {
      // A hold placed, and the server stopped before its entry was appended; a lift whose
      // entry was appended, and the server stopped before it was forgotten.
      let store = await openStore({ data: tmp.dir });
      const placed = entryOf('crashed', 'legal_hold.placed', 'audit-placed');
      const lifted = entryOf('crashed', 'legal_hold.lifted', 'audit-lifted');
      await placeLegalHold(store, 'crashed', 'Case 21', () => placed);
      await liftLegalHold(store, 'crashed', () => lifted);
      await store.append([prepareEvents(lifted, testEnricher())]);
      expect(await store.pendingAudits(ALL, 10)).toEqual([placed, lifted]);
      await store.close();

      store = await openStore({ data: tmp.dir });
      const app = await createApp({ store, enricher: testEnricher() });
      try {
        await app.ready();
        await vi.waitFor(async () => expect(await store.pendingAudits(ALL, 10)).toEqual([]), WAIT);
        const log = await store.queryEvents('crashed', { clauses: [], limit: 10, order: 'asc' });
        // Each once, as it was made: appending an entry again stores nothing new. (Listed by
        // time, which may tie to the millisecond: compared in the order of their seq.)
        expect(
          log.events.sort((a, b) => a.seq - b.seq).map((e) => [e.id, e.action, e.time]),
        ).toEqual([
          [lifted.id, 'legal_hold.lifted', lifted.time],
          [placed.id, 'legal_hold.placed', placed.time],
        ]);
      } finally {
        await app.close();
        await store.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it('keeps an entry its log refuses, appends the others, and counts it in the metrics', async () => {
    const running = await testApp(undefined, undefined, undefined, undefined, {
      auditRetryMs: 50,
    });
    try {
      await running.app.ready();
      const pendingMetric = async () => {
        const text = (await running.get('/metrics')).body;
        const line = text.split('\n').find((l) => l.startsWith('hindsight_audit_pending_entries '));
        return Number(line?.split(' ')[1]);
      };
      expect(await pendingMetric()).toBe(0);
      // An entry the log refuses (409: another event of the tenant has its id; the store keeps
      // no entry the log's validation refuses), kept before a good one.
      const refused = entryOf('stuck', 'legal_hold.placed', 'audit-1');
      const taken = await running.post({ ...refused, description: 'another event' });
      expect(taken.statusCode, taken.body).toBe(202);
      const good = entryOf('stuck', 'legal_hold.lifted', 'audit-2');
      await running.store.updateTenantSettings(
        'stuck',
        (s) => ({ ...s, embed: {} }),
        () => [refused],
      );
      await running.store.updateTenantSettings(
        'stuck',
        () => ({}),
        () => [good],
      );
      await vi.waitFor(async () => expect(await pendingMetric()).toBe(1), WAIT);
      expect(await running.store.getEvent('stuck', good.id)).toMatchObject({ action: good.action });
      expect(await running.store.pendingAudits(ALL, 10)).toEqual([refused]);
    } finally {
      await running.close();
    }
  });

  it('appends, while it runs, the entries it could not append at once', async () => {
    const running = await testApp(undefined, undefined, undefined, undefined, {
      auditRetryMs: 50,
    });
    try {
      await running.app.ready();
      // What a revocation leaves when the store failed between the change and its entry.
      const entry = entryOf('later', 'viewer_token.revoked', 'audit-revoked');
      await running.store.revokeViewerTokens(
        {
          tenant: 'later',
          viewerId: 'user-8',
          revokedAtMs: Date.now(),
          expiresAtMs: Date.now() + 60_000,
        },
        entry,
      );
      await vi.waitFor(async () => {
        expect(await running.store.pendingAudits(ALL, 10)).toEqual([]);
      }, WAIT);
      expect(await running.store.getEvent('later', entry.id)).toMatchObject({
        action: 'viewer_token.revoked',
        time: entry.time,
      });
    } finally {
      await running.close();
    }
  });
});
