/**
 * Retention in the Store conformance suite (issue #9): every backend removes exactly the
 * expired events with everything derived from them, keeps the tree, records what it pruned,
 * and stays verifiable. Called from `conformance.ts` with the suite's store.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  type EventInput,
  ExportVerifier,
  merkle,
  note,
  parseQuery,
  type StoredEvent,
} from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/checkpoints.js';
import { exportLines } from '../../src/export.js';
import { prepareEvents } from '../../src/ingest.js';
import { liftLegalHold, placeLegalHold } from '../../src/legal-hold.js';
import { runRetention } from '../../src/retention.js';
import { PART_HOLD_MS } from '../../src/store/access-rows.js';
import type { PendingAudit, Store } from '../../src/store/types.js';
import { consistencyProof, inclusionProof, treeRoot } from '../../src/tree.js';
import { tempDir, testEnricher } from '../helpers.js';

const DAY = 86_400_000;
/** "Now" for every run of this suite. */
const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const signer = note.signerFromSeed('retention.test', Buffer.alloc(32, 9));
const verifierKey = note.verifierKeyText(signer);

const daysAgo = (days: number, minutes = 0) =>
  new Date(NOW - days * DAY + minutes * 60_000).toISOString();

export interface RetentionSuiteContext {
  readonly store: () => Store;
  readonly freshTenant: () => string;
}

export function retentionConformance(ctx: RetentionSuiteContext): void {
  describe('retention (issue #9)', () => {
    async function ingest(events: EventInput[]): Promise<void> {
      const prepared = prepareEvents({ events }, testEnricher(), new Date(NOW));
      const [outcome] = await ctx.store().append([prepared]);
      if (!outcome?.ok) throw outcome?.error ?? new Error('no outcome');
    }
    const checkpointer = () => new Checkpointer(ctx.store(), { signer, origin: 'retention.test' });

    async function ids(tenant: string, q = ''): Promise<string[]> {
      const page = await ctx.store().queryEvents(tenant, {
        clauses: parseQuery(q).clauses,
        limit: 500,
        order: 'asc',
      });
      return page.events.map((e) => e.id);
    }

    async function pendingOf(tenant: string): Promise<PendingAudit[]> {
      const all = await ctx.store().pendingAudits(Number.MAX_SAFE_INTEGER, 1000);
      return all.filter((p) => p.tenant === tenant);
    }

    async function verifyExport(tenant: string) {
      const verifier = new ExportVerifier({ verifierKey });
      for await (const chunk of exportLines(ctx.store(), checkpointer(), tenant)) {
        for (const line of chunk.split('\n')) verifier.line(line);
      }
      return verifier.finish();
    }

    /**
     * A tenant with changes 100 and 95 days old (expired under 90 days), changes 80 days old,
     * and users 100 days old (kept 365 days), each with a target and a word of its own.
     */
    async function seeded(): Promise<{ tenant: string; old: string[]; kept: string[] }> {
      const tenant = ctx.freshTenant();
      const event = (id: string, category: string, time: string): EventInput => ({
        tenant,
        id,
        category,
        time,
        action: category === 'users' ? 'user.created' : 'setting.updated',
        actor: { id: `actor-${id}`, name: `Actor ${id}` },
        targets: [{ type: 'setting', id: `target-${id}`, name: `Target ${id}` }],
        description: `word${id.replace(/\W/g, '')} happened`,
      });
      await ingest([
        event('c1', 'changes', daysAgo(100)),
        event('u1', 'users', daysAgo(100, 1)),
        event('c2', 'changes', daysAgo(95)),
        event('c3', 'changes', daysAgo(80)),
        event('u2', 'users', daysAgo(10)),
        event('c4', 'changes', daysAgo(95, 5)),
      ]);
      await checkpointer().latest(tenant);
      await ctx.store().putTenantSettings(tenant, {
        retention: { categories: { changes: 90, users: 365 } },
      });
      return { tenant, old: ['c1', 'c2', 'c4'], kept: ['u1', 'c3', 'u2'] };
    }

    it('a policy of 90 days removes exactly the older events of that category and nothing else', async () => {
      const store = ctx.store();
      const { tenant, old, kept } = await seeded();
      const before = await ids(tenant);
      const recorded: EventInput[] = [];
      const result = await runRetention(
        store,
        { defaultDays: 30, batchSize: 2, pauseMs: 0 },
        { nowMs: NOW, tenants: [tenant], record: async (e) => void recorded.push(e) },
      );
      expect(result).toEqual([{ tenant, removed: 3, byCategory: { changes: 3 } }]);
      expect(await ids(tenant)).toEqual(before.filter((id) => !old.includes(id)));
      expect((await ids(tenant)).sort()).toEqual([...kept].sort());
      for (const id of old) {
        expect(await store.getEvent(tenant, id)).toBeNull();
        // Nothing derived from it is found: its target, its words, its actor.
        expect(await ids(tenant, `target:target-${id}`)).toEqual([]);
        expect(await ids(tenant, `word${id}`)).toEqual([]);
        expect(await ids(tenant, `actor:actor-${id}`)).toEqual([]);
      }
      for (const id of kept) expect(await ids(tenant, `target:target-${id}`)).toEqual([id]);
      // seqs 1 (c1), 3 (c2) and 6 (c4) were pruned.
      expect(await store.prunedRanges(tenant, 100)).toEqual([
        [1, 1],
        [3, 3],
        [6, 6],
      ]);
      // The counts behind stats follow the retained log.
      const stats = await store.stats(tenant, {
        clauses: [],
        fromMs: NOW - 200 * DAY,
        toMs: NOW,
        bucketMs: 24 * 3_600_000,
        top: 10,
      });
      expect(stats.total).toBe(3);
      expect(stats.byAction).toEqual(
        expect.arrayContaining([
          { action: 'user.created', count: 2 },
          { action: 'setting.updated', count: 1 },
        ]),
      );
      expect(stats.byActor.map((a) => a.actor.id).sort()).toEqual([
        'actor-c3',
        'actor-u1',
        'actor-u2',
      ]);
      expect(recorded).toEqual([
        expect.objectContaining({
          tenant,
          category: 'audit',
          action: 'retention.pruned',
          metadata: expect.objectContaining({ removed: 3, byCategory: { changes: 3 } }),
        }),
      ]);
      // The two steps' parts of the entry became that one, appended and forgotten.
      expect(await pendingOf(tenant)).toEqual([]);
      // A second run finds nothing more.
      expect(
        await runRetention(store, { defaultDays: 30 }, { nowMs: NOW, tenants: [tenant] }),
      ).toEqual([]);
    });

    it('keeps each step’s part of a run’s audit entry in the step, and makes one of those pending', async () => {
      const store = ctx.store();
      const { tenant } = await seeded();
      const part = (id: string): PendingAudit => ({
        tenant,
        id,
        time: daysAgo(0),
        category: 'audit',
        action: 'retention.pruned',
        actor: { type: 'system', name: 'Hindsight retention' },
        metadata: { before: 'rules' },
      });
      const rules = [{ category: 'changes', beforeMs: NOW - 90 * DAY }];
      const step = (n: number) =>
        store.prune({ tenant, rules, maxSeq: 100, limit: 2, audit: part(`RUN1.${n}`) });
      expect((await step(1)).removed).toBe(2);
      const afterFirst = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await step(2)).removed).toBe(1);
      // Drains leave the parts of a run in progress alone: each step holds them all again.
      const ready = async (atMs: number) =>
        (await store.pendingAudits(atMs, 1000)).filter((p) => p.tenant === tenant);
      expect(await ready(Date.now())).toEqual([]);
      expect(await ready(afterFirst + PART_HOLD_MS + 1)).toEqual([]);
      expect(await ready(Date.now() + PART_HOLD_MS + 1)).toHaveLength(2);
      // A step that removes nothing keeps no part.
      expect((await step(3)).removed).toBe(0);
      expect((await pendingOf(tenant)).map((p) => [p.id, p.metadata])).toEqual([
        ['RUN1.1', { before: 'rules', removed: 2, byCategory: { changes: 2 } }],
        ['RUN1.2', { before: 'rules', removed: 1, byCategory: { changes: 1 } }],
      ]);
      // A drain appended part 1 meanwhile: the entry is made of part 2 alone.
      await store.removePendingAudit(tenant, 'RUN1.1');
      const whole = await store.coalescePendingAudits(tenant, 'RUN1', (parts) => ({
        ...part('RUN1'),
        metadata: { parts: parts.map((p) => p.id) },
      }));
      expect(whole?.metadata).toEqual({ parts: ['RUN1.2'] });
      expect(await pendingOf(tenant)).toEqual([whole]);
      // No part pending: nothing made.
      const none = await store.coalescePendingAudits(tenant, 'RUN2', () => {
        throw new Error('not called');
      });
      expect(none).toBeNull();
      await store.removePendingAudit(tenant, 'RUN1');
    });

    it('removes nothing of a tenant under legal hold, and resumes once it is lifted', async () => {
      const store = ctx.store();
      const { tenant, old } = await seeded();
      const { hold } = await placeLegalHold(store, tenant, 'Litigation 2026-114');
      const held = await runRetention(
        store,
        { defaultDays: null },
        { nowMs: NOW, tenants: [tenant] },
      );
      expect(held).toEqual([{ tenant, removed: 0, byCategory: {}, heldSince: hold.since }]);
      expect(await ids(tenant)).toHaveLength(6);
      expect(await store.prunedRanges(tenant, 100)).toEqual([]);
      await liftLegalHold(store, tenant);
      const lifted = await runRetention(
        store,
        { defaultDays: null },
        { nowMs: NOW, tenants: [tenant] },
      );
      expect(lifted).toEqual([
        { tenant, removed: old.length, byCategory: { changes: old.length } },
      ]);
    });

    it('reads the hold in each removal’s own transaction: a hold placed once a run has planned stops it', async () => {
      const store = ctx.store();
      const { tenant } = await seeded();
      // What a run planned before the hold was placed.
      const request = {
        tenant,
        rules: [{ category: 'changes', beforeMs: NOW - 90 * 86_400_000 }],
        maxSeq: 100,
        limit: 100,
      };
      await placeLegalHold(store, tenant, 'Placed during the run');
      expect(await store.prune(request)).toEqual({
        removed: 0,
        byCategory: {},
        more: false,
        held: true,
      });
      expect(await ids(tenant)).toHaveLength(6);
      // Where whole months are dropped: not a month with a held tenant's events in it.
      const late = ctx.freshTenant();
      // No other test has events in May 2022.
      await ingest([
        { tenant: late, action: 'a.b', actor: { id: 'a' }, time: '2022-05-04T00:00:00Z' },
      ]);
      await placeLegalHold(store, late, 'Placed during the run');
      const dropped = await store.dropExpiredMonths?.({
        expired: (t) => t === late,
        maxSeq: () => Number.MAX_SAFE_INTEGER,
      });
      if (dropped !== undefined) expect(dropped.map((d) => d.month)).not.toContain(202205);
      expect(await ids(late)).toHaveLength(1);
      await liftLegalHold(store, tenant);
      expect((await store.prune(request)).removed).toBe(3);
    });

    it('stays verifiable after pruning: export, proofs of retained events, new checkpoints', async () => {
      const store = ctx.store();
      const { tenant } = await seeded();
      const oldRoot = await treeRoot(store, tenant, 6);
      await runRetention(store, { defaultDays: null }, { nowMs: NOW, tenants: [tenant] });
      const report = await verifyExport(tenant);
      expect(report).toMatchObject({
        ok: true,
        events: 3,
        pruned: 3,
        verifiedSize: 6,
        problems: [],
      });
      // A retained event's inclusion proof still leads to the signed root.
      const kept = (await store.getEvent(tenant, 'c3')) as StoredEvent;
      const { leafHash, proof } = await inclusionProof(store, tenant, kept.seq, 6);
      expect(Buffer.from(leafHash).toString('hex')).toBe(kept.hash);
      expect(merkle.verifyInclusion(kept.seq - 1, 6, leafHash, proof, oldRoot)).toBe(true);
      // The log grows on: the new checkpoint is consistent with the one before pruning.
      await ingest([{ tenant, action: 'setting.updated', actor: { id: 'late' } }]);
      await checkpointer().latest(tenant);
      const newRoot = await treeRoot(store, tenant, 7);
      const consistency = await consistencyProof(store, tenant, 6, 7);
      expect(merkle.verifyConsistency(6, 7, consistency, oldRoot, newRoot)).toBe(true);
      expect(await verifyExport(tenant)).toMatchObject({ ok: true, events: 4, pruned: 3 });
    });

    it('archives what it removes as a verifiable gzip NDJSON file first', async () => {
      const store = ctx.store();
      const { tenant, old } = await seeded();
      const tmp = tempDir();
      try {
        const [result] = await runRetention(
          store,
          { defaultDays: null, archiveDir: tmp.dir },
          { nowMs: NOW, tenants: [tenant] },
        );
        const file = result?.archive as string;
        expect(file.startsWith(join(tmp.dir, tenant))).toBe(true);
        const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
        const events = lines
          .filter((l) => l.includes('"type":"event"'))
          .map((l) => (JSON.parse(l) as { event: StoredEvent }).event.id);
        expect(events.sort()).toEqual([...old].sort());
        const verifier = new ExportVerifier({ verifierKey });
        for (const line of lines) verifier.line(line);
        expect(verifier.finish()).toMatchObject({
          ok: true,
          events: 3,
          verifiedSize: 6,
          pruned: 3,
        });
      } finally {
        tmp.remove();
      }
    });

    it('a dry run counts what has expired and removes nothing', async () => {
      const store = ctx.store();
      const { tenant } = await seeded();
      const dry = await runRetention(
        store,
        { defaultDays: null },
        { nowMs: NOW, tenants: [tenant], dryRun: true },
      );
      expect(dry).toEqual([{ tenant, removed: 3, byCategory: { changes: 3 } }]);
      expect(await ids(tenant)).toHaveLength(6);
    });

    it('removes only what a signed checkpoint covers', async () => {
      const store = ctx.store();
      const tenant = ctx.freshTenant();
      await ingest([{ tenant, action: 'setting.updated', actor: { id: 'a' }, time: daysAgo(9) }]);
      await store.putTenantSettings(tenant, { retention: { days: 5 } });
      // No checkpoint yet: nothing is removed, and the run says why.
      expect(
        await runRetention(store, { defaultDays: null }, { nowMs: NOW, tenants: [tenant] }),
      ).toEqual([{ tenant, removed: 0, byCategory: {}, unsigned: true }]);
      await checkpointer().latest(tenant);
      expect(
        await runRetention(store, { defaultDays: null }, { nowMs: NOW, tenants: [tenant] }),
      ).toEqual([{ tenant, removed: 1, byCategory: { changes: 1 } }]);
    });

    it('removes whole months (PostgreSQL drops them) and takes a late event of such a month', async () => {
      const store = ctx.store();
      const tenant = ctx.freshTenant();
      const event = (time: string): EventInput => ({
        tenant,
        action: 'setting.updated',
        actor: { id: 'a' },
        time,
      });
      // No other test has events in February or March 2023.
      await ingest([
        event('2023-02-03T10:00:00.000Z'),
        event('2023-02-20T10:00:00.000Z'),
        event('2023-03-05T10:00:00.000Z'),
        event(daysAgo(1)),
      ]);
      await checkpointer().latest(tenant);
      await store.putTenantSettings(tenant, { retention: { days: 30 } });
      // Every tenant: where months are kept apart, only then can one be dropped.
      const recorded: EventInput[] = [];
      const results = await runRetention(
        store,
        { defaultDays: null },
        { nowMs: NOW, record: async (e) => void recorded.push(e) },
      );
      expect(results.find((r) => r.tenant === tenant)).toEqual({
        tenant,
        removed: 3,
        byCategory: { changes: 3 },
      });
      expect(await store.prunedRanges(tenant, 100)).toEqual([[1, 3]]);
      // One entry for the tenant, whether months were dropped or steps removed the events.
      expect(recorded.filter((e) => e.tenant === tenant)).toEqual([
        expect.objectContaining({ metadata: expect.objectContaining({ removed: 3 }) }),
      ]);
      expect(await pendingOf(tenant)).toEqual([]);
      expect(await verifyExport(tenant)).toMatchObject({ ok: true, events: 1, pruned: 3 });
      // An event sent later into a removed month is stored (its partition made anew).
      await ingest([event('2023-02-10T00:00:00.000Z')]);
      expect(await ids(tenant)).toHaveLength(2);
    });

    it('takes summaries out with the events: an account whose sign-ins all expired is gone', async () => {
      const store = ctx.store();
      const tenant = ctx.freshTenant();
      const login = (id: string, actor: string, days: number): EventInput => ({
        tenant,
        id,
        category: 'logins',
        action: 'login.succeeded',
        actor: { id: actor, email: `${actor}@acme.test` },
        time: daysAgo(days),
      });
      await ingest([login('l1', 'old', 50), login('l2', 'both', 50), login('l3', 'both', 5)]);
      await checkpointer().latest(tenant);
      await store.putTenantSettings(tenant, { retention: { categories: { logins: 30 } } });
      await runRetention(store, { defaultDays: null }, { nowMs: NOW, tenants: [tenant] });
      const { users } = await store.loginUsers(tenant, {
        sort: 'name',
        order: 'asc',
        limit: 10,
        recentSince: daysAgo(1),
        newCountrySince: daysAgo(30),
      });
      expect(users.map((u) => u.key)).toEqual(['both']);
    });
  });
}
