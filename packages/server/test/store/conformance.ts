/**
 * The Store conformance suite: every backend runs it from a ten-line test file. It checks the
 * contract of `src/store/types.ts` through its public methods only.
 */
import { type EventInput, leafHash, merkle, parseQuery, type StoredEvent } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HindsightError } from '../../src/errors.js';
import { prepareEvents } from '../../src/ingest.js';
import { FORGET_PER_CLAIM } from '../../src/store/hook-signatures.js';
import type {
  EventPage,
  EventQuery,
  PendingAudit,
  PreparedEvent,
  Store,
} from '../../src/store/types.js';
import { consistencyProof, inclusionProof, treeRoot } from '../../src/tree.js';
import { pageIds, testEnricher } from '../helpers.js';
import { erasureConformance } from './erasure-conformance.js';
import { retentionConformance } from './retention-conformance.js';
import { viewsConformance } from './views-conformance.js';

/** A fresh, empty store of one backend, and more connections to the same database. */
export interface StoreHarness {
  readonly store: Store;
  /** Opens another store on the same database (its own connections, as a second server). */
  another(): Promise<Store>;
  /** Makes the database itself refuse to store any event with this id (a trigger). */
  refuse(id: string): Promise<void>;
  /** What `SELECT count(*) FROM <from>` counts, read past the store (a connection of its own). */
  count(from: string): Promise<number>;
  cleanup(): Promise<void>;
}

/** How a backend's test file opens a fresh, empty store. */
export type OpenStore = () => Promise<StoreHarness>;

const NOW = new Date('2026-06-15T12:00:00.000Z');

function prepare(events: EventInput[], now = NOW): PreparedEvent[] {
  return prepareEvents({ events }, testEnricher(), now);
}

function ev(tenant: string, overrides: Partial<EventInput> = {}): EventInput {
  return { tenant, action: 'user.updated', actor: { id: 'u1' }, ...overrides };
}

function minutesAgo(n: number): string {
  return new Date(NOW.getTime() - n * 60_000).toISOString();
}

/**
 * Runs the whole suite against one backend; given a reason instead of an opener (the backend
 * cannot start here), the suite is skipped with that reason in its name.
 */
export function storeConformance(name: string, open: OpenStore | string): void {
  if (typeof open === 'string') {
    describe.skip(`Store conformance: ${name} (skipped: ${open})`, () => {
      it('runs when the backend can start', () => {});
    });
    return;
  }
  describe(`Store conformance: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    let counter = 0;
    /** A tenant name no other test uses, so tests stay independent in one store. */
    const freshTenant = () => `t${++counter}-${Math.random().toString(36).slice(2, 8)}`;

    async function append(events: EventInput[]) {
      const [outcome] = await store.append([prepare(events)]);
      if (!outcome?.ok) throw outcome?.error ?? new Error('no outcome');
      return outcome.events;
    }

    async function all(tenant: string, query: Partial<EventQuery> = {}): Promise<StoredEvent[]> {
      const out: StoredEvent[] = [];
      let after: string | undefined;
      for (;;) {
        const asked: EventQuery = {
          clauses: [],
          limit: 500,
          order: 'desc',
          ...query,
          ...(after === undefined ? {} : { after }),
        };
        const page = await store.queryEvents(tenant, asked);
        await expectSameAsText(tenant, asked, page);
        out.push(...page.events);
        if (page.next === null) return out;
        after = page.next;
      }
    }

    /** The page as text is the page's events as JSON, salts and all, with the same `next`. */
    async function expectSameAsText(tenant: string, query: EventQuery, page: EventPage) {
      const texts = await store.queryEventTexts(tenant, { ...query, withSalts: true });
      const withSalts = await store.queryEvents(tenant, { ...query, withSalts: true });
      expect(texts.events.map((e) => e.json)).toEqual(page.events.map((e) => JSON.stringify(e)));
      expect(texts.events.map((e) => e.seq)).toEqual(page.events.map((e) => e.seq));
      expect(texts.events.map((e) => JSON.parse(e.salts ?? 'null'))).toEqual(withSalts.salts);
      expect(texts.next).toBe(page.next);
    }

    async function search(tenant: string, q: string, extra: Partial<EventQuery> = {}) {
      return (await all(tenant, { clauses: parseQuery(q).clauses, ...extra })).map((e) => e.id);
    }

    beforeAll(async () => {
      harness = await open();
      store = harness.store;
    });
    afterAll(async () => {
      await harness?.cleanup();
    });

    describe('leases', () => {
      it('gives a lease to one holder until it expires, also across stores on one database', async () => {
        const name = `lease-${freshTenant()}`;
        const second = await harness.another();
        try {
          expect(await store.claimLease(name, 'a', 2_000, 1_000)).toBe(true);
          // Held by a until 2,000: b does not get it; a renews it.
          expect(await second.claimLease(name, 'b', 2_500, 1_500)).toBe(false);
          expect(await store.claimLease(name, 'a', 3_000, 1_900)).toBe(true);
          expect(await second.claimLease(name, 'b', 3_500, 2_999)).toBe(false);
          // Expired: b takes it over, and a no longer has it.
          expect(await second.claimLease(name, 'b', 4_000, 3_000)).toBe(true);
          expect(await store.claimLease(name, 'a', 5_000, 3_100)).toBe(false);
          // Two claiming a free lease at once: exactly one gets it.
          const race = `race-${freshTenant()}`;
          const won = await Promise.all([
            store.claimLease(race, 'a', 10_000, 0),
            second.claimLease(race, 'b', 10_000, 0),
          ]);
          expect(won.filter(Boolean)).toHaveLength(1);
          // Given back by its holder only: b's release of a's lease changes nothing; a's frees it
          // before it expires.
          const holder = won[0] ? store : second;
          const other = won[0] ? second : store;
          const [mine, theirs] = won[0] ? ['a', 'b'] : ['b', 'a'];
          await other.releaseLease(race, theirs);
          expect(await other.claimLease(race, theirs, 11_000, 1_000)).toBe(false);
          await holder.releaseLease(race, mine);
          expect(await other.claimLease(race, theirs, 11_000, 1_000)).toBe(true);
        } finally {
          await second.close();
        }
      });
    });

    describe('webhook signatures', () => {
      it('takes a signature for one call until it expires, also across stores on one database', async () => {
        const second = await harness.another();
        try {
          const claim = { provider: 'mailgun', key: freshTenant(), call: 'call-a', untilMs: 2_000 };
          expect(await store.claimHookSignature(claim, 1_000)).toBe('claimed');
          // The provider retrying the call, to either server.
          expect(await second.claimHookSignature(claim, 1_100)).toBe('same_call');
          expect(await store.claimHookSignature(claim, 1_200)).toBe('same_call');
          // The signature on another call: a replay, to either server, until it expires.
          const replay = { ...claim, call: 'call-b' };
          expect(await second.claimHookSignature(replay, 1_300)).toBe('other_call');
          expect(await store.claimHookSignature(replay, 2_000)).toBe('other_call');
          // Signatures are one of a kind per provider.
          const sendgrid = { ...replay, provider: 'sendgrid' };
          expect(await second.claimHookSignature(sendgrid, 1_400)).toBe('claimed');
          expect(await store.claimHookSignature({ ...claim, key: `${claim.key}x` }, 1_400)).toBe(
            'claimed',
          );
          // Expired: taken over by the next call, which has it then.
          expect(await second.claimHookSignature({ ...replay, untilMs: 9_000 }, 2_001)).toBe(
            'claimed',
          );
          expect(await store.claimHookSignature(claim, 2_002)).toBe('other_call');
          expect(await store.claimHookSignature(replay, 2_003)).toBe('same_call');
        } finally {
          await second.close();
        }
      });

      it('lets exactly one of two stores racing with one signature on two calls take it', async () => {
        const second = await harness.another();
        try {
          for (let i = 0; i < 10; i++) {
            const claim = { provider: 'sendgrid', key: freshTenant(), call: 'a', untilMs: 5_000 };
            const outcomes = await Promise.all([
              store.claimHookSignature(claim, 1_000),
              second.claimHookSignature({ ...claim, call: 'b' }, 1_000),
            ]);
            expect(outcomes.sort()).toEqual(['claimed', 'other_call']);
            // Two racing with the same call: one takes it, the other is its retry.
            const same = { ...claim, key: `${claim.key}-same` };
            const both = await Promise.all([
              store.claimHookSignature(same, 1_000),
              second.claimHookSignature(same, 1_000),
            ]);
            expect(both.sort()).toEqual(['claimed', 'same_call']);
          }
        } finally {
          await second.close();
        }
      });

      it('gives a signature back for the call it was taken for only', async () => {
        const second = await harness.another();
        try {
          const claim = { provider: 'mailgun', key: freshTenant(), call: 'a', untilMs: 5_000 };
          const other = { ...claim, call: 'b' };
          expect(await store.claimHookSignature(claim, 1_000)).toBe('claimed');
          // Another call's release changes nothing: the signature stays taken for its call.
          await second.releaseHookSignature(other);
          await store.releaseHookSignature({ ...claim, provider: 'sendgrid' });
          expect(await second.claimHookSignature(other, 1_100)).toBe('other_call');
          // Its own call's release, from any server, frees it for the next call.
          await second.releaseHookSignature(claim);
          expect(await store.claimHookSignature(other, 1_200)).toBe('claimed');
          expect(await second.claimHookSignature(claim, 1_300)).toBe('other_call');
          // Giving back one not taken does nothing.
          await store.releaseHookSignature({ ...claim, key: `${claim.key}-none` });
        } finally {
          await second.close();
        }
      });

      it('forgets a few expired signatures at each claim, never one still good', async () => {
        const provider = `forget-${freshTenant()}`;
        const rows = (where: string) =>
          harness.count(`hook_signatures WHERE provider = '${provider}' AND ${where}`);
        // Older than every other test's signatures, so that they are forgotten first.
        for (let i = 0; i < 2 * FORGET_PER_CLAIM + 5; i++) {
          const claim = { provider, key: `old-${i}`, call: 'a', untilMs: 1 };
          expect(await store.claimHookSignature(claim, 0)).toBe('claimed');
        }
        const good = { provider, key: 'good', call: 'a', untilMs: 10 };
        expect(await store.claimHookSignature(good, 0)).toBe('claimed');
        expect(await rows('until_ms = 1')).toBe(2 * FORGET_PER_CLAIM + 5);
        const left: number[] = [];
        for (let i = 0; i < 3; i++) {
          const claim = { provider, key: `new-${i}`, call: 'a', untilMs: 10 };
          expect(await store.claimHookSignature(claim, 2)).toBe('claimed');
          left.push(await rows('until_ms = 1'));
        }
        expect(left).toEqual([FORGET_PER_CLAIM + 5, 5, 0]);
        expect(await rows('until_ms = 10')).toBe(4);
        expect(await store.claimHookSignature({ ...good, call: 'b' }, 10)).toBe('other_call');
      });
    });

    describe('append', () => {
      it('numbers each tenant consecutively from 1 and hashes every event', async () => {
        const a = freshTenant();
        const b = freshTenant();
        const refs = await append([ev(a), ev(b), ev(a), ev(a), ev(b)]);
        expect(refs.map((r) => [r.tenant === a ? 'a' : 'b', r.seq])).toEqual([
          ['a', 1],
          ['b', 1],
          ['a', 2],
          ['a', 3],
          ['b', 2],
        ]);
        for (const r of refs) expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
        const stored = await store.getEvent(a, refs[2]?.id ?? '');
        expect(stored?.seq).toBe(2);
        expect(stored?.hash).toBe(refs[2]?.hash);
      });

      it('keeps seq gap-free across many concurrent group commits', async () => {
        const t = freshTenant();
        const batches = Array.from({ length: 40 }, (_, i) =>
          prepare(Array.from({ length: 1 + (i % 7) }, () => ev(t))),
        );
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, g) => store.append(batches.slice(g * 5, g * 5 + 5))),
        );
        const seqs = results
          .flat()
          .flatMap((o) => (o.ok ? o.events.map((e) => e.seq) : []))
          .sort((x, y) => x - y);
        const total = batches.reduce((n, b) => n + b.length, 0);
        expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect((await all(t)).map((e) => e.seq)).toEqual(seqs.slice().reverse());
      });

      it('takes the first batches of new tenants committed side by side', async () => {
        // Every group commit here may be the one that creates its tenant, while the others wait
        // for it: none may find the tenant half made, and none fails.
        const tenants = Array.from({ length: 6 }, () => freshTenant());
        const results = await Promise.all(
          tenants.flatMap((t) =>
            Array.from({ length: 6 }, () => store.append([prepare([ev(t), ev(t)])])),
          ),
        );
        expect(results.flat().filter((o) => !o.ok)).toEqual([]);
        for (const t of tenants) {
          expect((await all(t, { order: 'asc' })).map((e) => e.seq)).toEqual(
            Array.from({ length: 12 }, (_, i) => i + 1),
          );
        }
      });

      it('keeps seq gap-free and unique when two stores (servers) share the database', async () => {
        const t = freshTenant();
        const second = await harness.another();
        try {
          const stores = [store, second];
          const results = await Promise.all(
            Array.from({ length: 24 }, (_, i) =>
              stores[i % 2]?.append([prepare(Array.from({ length: 1 + (i % 5) }, () => ev(t)))]),
            ),
          );
          const seqs = results
            .flatMap((r) => r ?? [])
            .flatMap((o) => (o.ok ? o.events.map((e) => e.seq) : []))
            .sort((x, y) => x - y);
          const total = Array.from({ length: 24 }, (_, i) => 1 + (i % 5)).reduce((a, b) => a + b);
          expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
          expect((await all(t)).map((e) => e.seq)).toEqual(seqs.slice().reverse());
        } finally {
          await second.close();
        }
      });

      it('lets exactly one of two stores racing with one id and different content win', async () => {
        const second = await harness.another();
        try {
          for (let round = 0; round < 5; round++) {
            const t = freshTenant();
            const outcomes = await Promise.all([
              store.append([prepare([ev(t, { id: 'race', description: 'from one' })])]),
              second.append([prepare([ev(t, { id: 'race', description: 'from two' })])]),
            ]);
            const ok = outcomes.flat().map((o) => (o.ok ? 'ok' : o.error.code));
            expect(ok.sort()).toEqual(['conflict', 'ok']);
            expect(await all(t)).toHaveLength(1);
          }
        } finally {
          await second.close();
        }
      });

      it('returns the original event for an identical retry and stores nothing new', async () => {
        const t = freshTenant();
        const input = ev(t, { id: 'evt-1', description: 'first' });
        const [first] = await append([input]);
        const [again] = await append([input]);
        expect(again).toEqual(first);
        expect(await all(t)).toHaveLength(1);
      });

      it('refuses a batch that reuses an id with different content, storing none of it', async () => {
        const t = freshTenant();
        await append([ev(t, { id: 'evt-1', description: 'first' })]);
        const [outcome] = await store.append([
          prepare([ev(t, { id: 'evt-2' }), ev(t, { id: 'evt-1', description: 'changed' })]),
        ]);
        expect(outcome?.ok).toBe(false);
        if (outcome && !outcome.ok) {
          expect(outcome.error).toBeInstanceOf(HindsightError);
          expect(outcome.error.code).toBe('conflict');
          expect(outcome.error.details?.[0]).toMatchObject({ index: 1, path: '/events/1/id' });
        }
        expect((await all(t)).map((e) => e.id)).toEqual(['evt-1']);
        // The refused batch left no gap: the next event is seq 2.
        const [next] = await append([ev(t)]);
        expect(next?.seq).toBe(2);
      });

      it('isolates a conflicting batch from the others in the same group commit', async () => {
        const t = freshTenant();
        await append([ev(t, { id: 'x', description: 'one' })]);
        const outcomes = await store.append([
          prepare([ev(t, { id: 'a' })]),
          prepare([ev(t, { id: 'x', description: 'two' })]),
          prepare([ev(t, { id: 'b' })]),
        ]);
        expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
        expect((await all(t, { order: 'asc' })).map((e) => [e.id, e.seq])).toEqual([
          ['x', 1],
          ['a', 2],
          ['b', 3],
        ]);
      });

      it('treats a repeated id inside one batch as a retry when identical', async () => {
        const t = freshTenant();
        const refs = await append([ev(t, { id: 'd' }), ev(t, { id: 'd' })]);
        expect(refs[0]).toEqual(refs[1]);
        expect(await all(t)).toHaveLength(1);
      });

      it('round-trips large values and unicode exactly', async () => {
        const t = freshTenant();
        const input = ev(t, {
          id: 'ünï-😀',
          description: `Zoë 日本語 — ${'x'.repeat(1900)}`,
          actor: { id: 'u-ü', name: 'Zoë Ørsted', email: 'zoe@acme.test' },
          metadata: {
            nested: { a: [1, 2, { b: 'ß' }] },
            big: 'y'.repeat(15000),
            word: 'w'.repeat(900),
          },
          changes: [{ field: 'plan', before: { tier: 'free' }, after: { tier: 'pro' } }],
        });
        await append([input]);
        const stored = await store.getEvent(t, 'ünï-😀');
        expect(stored).toMatchObject({
          description: input.description,
          actor: { ...input.actor, type: 'user' },
          metadata: input.metadata,
          changes: input.changes,
        });
        expect(await search(t, 'zoe 日本語')).toEqual(['ünï-😀']);
        // A very long word is found too (PostgreSQL caps the length of a lexeme).
        expect(await search(t, 'w'.repeat(900))).toEqual(['ünï-😀']);
      });

      it('round-trips backslashes, tabs, line breaks and quotes, and finds events by them', async () => {
        const t = freshTenant();
        const odd = 'a\\b\\N\\\\x00';
        const input = ev(t, {
          id: `id-${odd}`,
          description: 'tab\there, line\nbreak, return\r, backslash \\ and "quotes" and \\N',
          actor: { id: `u-${odd}`, name: 'Back\\Slash' },
          targets: [
            { type: 'file', id: `C:\\Users\\${odd}` },
            { type: 'folder', id: `C:\\Users\\${odd}` },
          ],
          metadata: { empty: '', nul: '\\N', tab: '\t' },
        });
        const [ref] = await append([input]);
        const stored = await store.getEvent(t, `id-${odd}`);
        expect(stored).toMatchObject({
          description: input.description,
          actor: { id: `u-${odd}`, name: 'Back\\Slash' },
          targets: input.targets,
          metadata: input.metadata,
        });
        const page = await store.queryEvents(t, {
          clauses: [],
          limit: 1,
          order: 'desc',
          withSalts: true,
        });
        const [event] = page.events;
        expect(event && leafHash(event, page.salts?.[0] ?? {})).toBe(ref?.hash);
        const by = async (kind: 'actor' | 'target', value: string) =>
          (await all(t, { clauses: [{ kind, value, negate: false, position: 0 }] })).map(
            (e) => e.id,
          );
        expect(await by('actor', `u-${odd}`)).toEqual([`id-${odd}`]);
        expect(await by('target', `C:\\Users\\${odd}`)).toEqual([`id-${odd}`]);
        expect(await by('target', 'C:\\Users\\a')).toEqual([]);
      });

      it('fails only the batch the database refuses, not those committed with it', async () => {
        const t = freshTenant();
        await harness.refuse('poison');
        const outcomes = await store.append([
          prepare([ev(t, { id: 'a1' }), ev(t, { id: 'a2' })]),
          prepare([ev(t, { id: 'b1' }), ev(t, { id: 'poison' })]),
          prepare([ev(t, { id: 'c1' })]),
        ]);
        expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
        const failed = outcomes[1];
        if (failed && !failed.ok) {
          expect(failed.error.code).toBe('store_unavailable');
          // The database's own reason stays with the error, for the server's log.
          expect(String(failed.error.cause)).toContain('refused by test trigger');
        }
        expect((await all(t, { order: 'asc' })).map((e) => [e.id, e.seq])).toEqual([
          ['a1', 1],
          ['a2', 2],
          ['c1', 3],
        ]);
        expect(await store.getEvent(t, 'b1')).toBeNull();
        // A tenant whose very first batch is refused exists no more than its events: its next
        // batch is numbered from 1, and not refused for a tenant the database never kept.
        const first = freshTenant();
        const refused = await store.append([prepare([ev(first, { id: 'poison' })])]);
        expect(refused.map((o) => o.ok)).toEqual([false]);
        const next = await store.append([prepare([ev(first, { id: 'n1' })])]);
        expect(next.map((o) => (o.ok ? o.events.map((e) => e.seq) : o.error.code))).toEqual([[1]]);
      });

      it('gives null for an unknown id or tenant', async () => {
        expect(await store.getEvent(freshTenant(), 'nope')).toBeNull();
        expect(await store.getEventWithSalts(freshTenant(), 'nope')).toBeNull();
      });

      it('gives an event with the salts its leaf hash is recomputed from', async () => {
        const t = freshTenant();
        await append([
          ev(t, { id: 'x1' }),
          ev(t, {
            id: 'x2',
            actor: { id: 'u1', name: 'Ann Ng', email: 'ann@acme.test' },
            context: { ip: '203.0.113.9' },
          }),
        ]);
        const got = await store.getEventWithSalts(t, 'x2');
        expect(got?.event).toEqual(await store.getEvent(t, 'x2'));
        expect(Object.keys(got?.salts ?? {}).sort()).toEqual([
          '/actor/email',
          '/actor/name',
          '/context/ip',
        ]);
        expect(got && leafHash(got.event, got.salts)).toBe(got?.event.hash);
        expect(await store.getEventWithSalts(t, 'x1')).toMatchObject({ salts: {} });
        expect(await store.getEventWithSalts(`${t}-other`, 'x2')).toBeNull();
      });
    });

    describe('queries', () => {
      const t = `q-${Math.random().toString(36).slice(2, 8)}`;
      const other = `${t}-other`;
      beforeAll(async () => {
        await append([
          ev(t, {
            id: 'e1',
            time: minutesAgo(60),
            action: 'user.created',
            category: 'users',
            actor: { id: 'admin-1', email: 'ann@acme.test', name: 'Ann Lee' },
            targets: [{ type: 'user', id: 'CUS-123456', name: 'Bob Stone' }],
            channel: 'ui',
            description: 'Created user with admin rights',
            context: { ip: '81.2.69.142' },
          }),
          ev(t, {
            id: 'e2',
            time: minutesAgo(50),
            action: 'login.failed',
            category: 'logins',
            outcome: 'failure',
            actor: { id: 'u-bob', email: 'Bob@Acme.TEST' },
            context: { ip: '10.1.2.3' },
            description: 'Wrong password',
          }),
          ev(t, {
            id: 'e3',
            time: minutesAgo(40),
            action: 'message.delivered',
            category: 'communications',
            status: 'delivered',
            channel: 'system',
            actor: { type: 'system' },
            targets: [{ type: 'message', id: 'msg-9' }],
            metadata: { subject: 'Invoice March', receiver: 'carol@customer.test' },
          }),
          ev(t, {
            id: 'e4',
            time: minutesAgo(30),
            action: 'user.admin_rights.updated',
            category: 'users',
            actor: { id: 'admin-1', email: 'ann@acme.test' },
            targets: [{ type: 'user', id: 'CUS-123456' }],
            channel: 'api',
            description: 'Granted admin rights',
            context: { ip: '2001:db8::7' },
            metadata: { file: { name: 'users.csv' } },
          }),
          ev(t, {
            id: 'e5',
            time: minutesAgo(20),
            action: 'integration.sync_failed',
            category: 'integrations',
            status: 'error',
            outcome: 'failure',
            channel: 'integration',
            actor: { type: 'integration', id: 'xero' },
            description: 'Delivery of invoices failed',
            metadata: { gateway: 'Twilio UK', attempt: 3 },
          }),
        ]);
        await append([ev(other, { id: 'e1', description: 'Created user with admin rights' })]);
      });

      const cases: Array<[string, string, string[]]> = [
        ['actor by id', 'actor:admin-1', ['e4', 'e1']],
        ['actor by e-mail', 'actor:bob@acme.test', ['e2']],
        ['actor by e-mail in another case', 'actor:BOB@acme.Test', ['e2']],
        // regression: an OR inside one filter once escaped the AND with the tenant condition.
        ['actor combined with another filter', 'actor:ann@acme.test channel:ui', ['e1']],
        ['exact action', 'action:login.failed', ['e2']],
        ['action prefix', 'action:user.*', ['e4', 'e1']],
        ['action suffix', 'action:*.updated', ['e4']],
        ['action suffix across resources', 'action:*failed', ['e5', 'e2']],
        // "_" is itself, not a pattern's any-character: login.failed does not end in "_failed".
        ['action suffix with "_"', 'action:*_failed', ['e5']],
        ['negated action suffix', '-action:*failed', ['e4', 'e3', 'e1']],
        ['target', 'target:CUS-123456', ['e4', 'e1']],
        ['category', 'category:users', ['e4', 'e1']],
        ['outcome', 'outcome:failure', ['e5', 'e2']],
        ['status', 'status:delivered', ['e3']],
        ['channel', 'channel:api', ['e4']],
        ['ip address', 'ip:81.2.69.142', ['e1']],
        ['ip CIDR v4', 'ip:10.0.0.0/8', ['e2']],
        ['ip CIDR v6', 'ip:2001:db8::/32', ['e4']],
        ['after', `after:${minutesAgo(35)}`, ['e5', 'e4']],
        ['before', `before:${minutesAgo(45)}`, ['e2', 'e1']],
        // Before any event can be (1970); PostgreSQL has no year 0 (it failed with 500).
        ['after year 0', 'after:0000-01-01', ['e5', 'e4', 'e3', 'e2', 'e1']],
        ['before year 0', 'before:0000-01-01T00:00:00Z', []],
        ['after 1969', 'after:1969-12-31T23:59:59.999Z', ['e5', 'e4', 'e3', 'e2', 'e1']],
        ['before year 9999', 'before:9999-12-31', ['e5', 'e4', 'e3', 'e2', 'e1']],
        ['free word', 'rights', ['e4', 'e1']],
        ['word in metadata', 'invoice', ['e3']],
        ['phrase', '"admin rights"', ['e4', 'e1']],
        ['phrase order matters', '"rights admin"', []],
        ['identifier as a whole', 'CUS-123456', ['e4', 'e1']],
        ['e-mail as a whole', 'carol@customer.test', ['e3']],
        ['prefix word', 'deliv*', ['e5', 'e3']],
        ['negated qualifier', '-outcome:success', ['e5', 'e2']],
        ['negated word', '-rights', ['e5', 'e3', 'e2']],
        ['negated word with positive word', 'admin -granted', ['e1']],
        ['negated nullable column keeps nulls', '-status:delivered', ['e5', 'e4', 'e2', 'e1']],
        ['negated ip keeps events without ip', '-ip:10.0.0.0/8', ['e5', 'e4', 'e3', 'e1']],
        [
          'SPEC §5 example shape',
          `actor:ann@acme.test action:user.* -outcome:failure "admin rights" after:${minutesAgo(45)}`,
          ['e4'],
        ],
        ['case and accents fold', 'ÍNVOICE', ['e3']],
        ['metadata value', 'metadata.receiver:carol@customer.test', ['e3']],
        ['metadata value with spaces', 'metadata.gateway:"Twilio UK"', ['e5']],
        ['metadata number', 'metadata.attempt:3', ['e5']],
        ['nested metadata', 'metadata.file.name:users.csv', ['e4']],
        ['metadata of another key', 'metadata.subject:carol@customer.test', []],
        ['metadata is the whole value', 'metadata.gateway:Twilio', []],
        [
          'negated metadata keeps events without it',
          '-metadata.gateway:"Twilio UK"',
          ['e4', 'e3', 'e2', 'e1'],
        ],
        ['no match', 'nonexistentword', []],
      ];
      it.each(cases)('filters by %s', async (_label, q, expected) => {
        expect(await search(t, q)).toEqual(expected);
      });

      it('orders oldest first on request', async () => {
        expect(await search(t, '', { order: 'asc' })).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
      });

      it("never returns another tenant's events, also for keyword search", async () => {
        expect(await search(other, 'rights')).toEqual(['e1']);
        expect((await all(other)).every((e) => e.tenant === other)).toBe(true);
        expect(await store.getEvent(other, 'e2')).toBeNull();
      });

      it('binds values: SQL and FTS syntax in values are plain text', async () => {
        for (const q of [
          'actor:"x\' OR 1=1 --"',
          '"NEAR(a b)"',
          'target:"*"',
          'status:"\');DROP TABLE events;--"',
        ]) {
          await expect(search(t, q)).resolves.toEqual([]);
        }
      });

      it('rejects a position it did not issue', async () => {
        for (const after of ['abc', '1.5', '99999999999999999999']) {
          await expect(
            store.queryEvents(t, { clauses: [], limit: 10, order: 'desc', after }),
          ).rejects.toMatchObject({ code: 'invalid_cursor' });
        }
      });
    });

    describe('pagination', () => {
      /** The ids of every page of a query of tenant `t`, `limit` at a time. */
      const pagedIds = async (t: string, q: string, limit: number, order: 'asc' | 'desc') =>
        (await pageIds(store, t, q, limit, order)).ids;

      it('pages without repeating or skipping while events are inserted', async () => {
        const t = freshTenant();
        await append(
          Array.from({ length: 95 }, (_, i) => ev(t, { id: `p${i}`, time: minutesAgo(500 - i) })),
        );
        for (const order of ['desc', 'asc'] as const) {
          const seen: string[] = [];
          let after: string | undefined;
          let round = 0;
          for (;;) {
            const page = await store.queryEvents(t, {
              clauses: [],
              limit: 10,
              order,
              ...(after === undefined ? {} : { after }),
            });
            seen.push(...page.events.map((e) => e.id));
            // New events arrive between pages: newer ones, and one with an old time.
            await append([
              ev(t, { id: `${order}-new-${round}` }),
              ev(t, { id: `${order}-old-${round}`, time: minutesAgo(10_000) }),
            ]);
            round++;
            if (page.next === null) break;
            after = page.next;
          }
          const original = seen.filter((id) => /^p\d+$/.test(id));
          expect(new Set(seen).size).toBe(seen.length);
          expect(original).toHaveLength(95);
          const expected = Array.from({ length: 95 }, (_, i) => `p${i}`);
          expect(original).toEqual(order === 'asc' ? expected : expected.reverse());
        }
      });

      it('pages through keyword matches, common ones and those far back alike', async () => {
        const t = freshTenant();
        // 1,200 events: every third has "common"; only the three oldest have "needle".
        for (let chunk = 0; chunk < 3; chunk++) {
          await append(
            Array.from({ length: 400 }, (_, j) => {
              const i = chunk * 400 + j;
              const words = [i % 3 === 0 ? 'common' : 'plain', i < 3 ? 'needle' : 'hay'];
              return ev(t, {
                id: `k${i}`,
                time: minutesAgo(2000 - i),
                description: words.join(' '),
              });
            }),
          );
        }
        const pages = (q: string, limit: number, order: 'asc' | 'desc') =>
          pagedIds(t, q, limit, order);
        const common = Array.from({ length: 400 }, (_, i) => `k${i * 3}`);
        expect(await pages('common', 37, 'desc')).toEqual(common.slice().reverse());
        expect(await pages('common', 50, 'asc')).toEqual(common);
        expect(await pages('needle', 2, 'desc')).toEqual(['k2', 'k1', 'k0']);
        expect(await pages('common -needle', 500, 'asc')).toEqual(common.slice(1));
      });

      it('pages through action prefixes and suffixes, common and rare, in time bounds', async () => {
        const t = freshTenant();
        // 300 events: every other one updates something; two rare deletions of two kinds.
        const action = (i: number) =>
          i === 7
            ? 'record.deleted'
            : i === 250
              ? 'customer.deleted'
              : i % 2
                ? 'user.updated'
                : 'plan.updated';
        await append(
          Array.from({ length: 300 }, (_, i) =>
            ev(t, { id: `a${i}`, time: minutesAgo(1000 - i), action: action(i) }),
          ),
        );
        const ids = (pick: (i: number) => boolean) =>
          Array.from({ length: 300 }, (_, i) => i)
            .filter(pick)
            .map((i) => `a${i}`);
        const pages = (q: string, limit: number, order: 'asc' | 'desc') =>
          pagedIds(t, q, limit, order);
        const users = ids((i) => action(i) === 'user.updated');
        expect(await pages('action:user.*', 40, 'desc')).toEqual(users.slice().reverse());
        expect(await pages('action:user.*', 33, 'asc')).toEqual(users);
        const updates = ids((i) => action(i).endsWith('.updated'));
        expect(await pages('action:*.updated', 50, 'desc')).toEqual(updates.slice().reverse());
        expect(await pages('action:*.deleted', 1, 'desc')).toEqual(['a250', 'a7']);
        expect(await pages('action:*.deleted', 1, 'asc')).toEqual(['a7', 'a250']);
        expect(await pages('-action:*.updated', 1, 'asc')).toEqual(['a7', 'a250']);
        expect(await pages(`action:*.deleted after:${minutesAgo(900)}`, 5, 'desc')).toEqual([
          'a250',
        ]);
        expect(await pages(`action:user.* before:${minutesAgo(995)}`, 5, 'asc')).toEqual([
          'a1',
          'a3',
        ]);
        expect(await pages('action:*.created', 5, 'desc')).toEqual([]);
      });

      it('finds an actor, a target and an IP across days, in time bounds and through pages', async () => {
        const t = freshTenant();
        const DAY = 86_400_000;
        const midnight = Date.parse('2026-06-01T00:00:00.000Z');
        // Over 12 days, at each day's first and last millisecond and at noon: every third event
        // is Ann's (by id, or by e-mail only), targets CUS-7 and comes from 10.9.x.x.
        const events: EventInput[] = [];
        for (let day = 0; day < 12; day++) {
          for (const [slot, offset] of [0, DAY / 2, DAY - 1].entries()) {
            const i = day * 3 + slot;
            const ann = (day + slot) % 3 === 0;
            events.push(
              ev(t, {
                id: `d${i}`,
                time: new Date(midnight + day * DAY + offset).toISOString(),
                actor: ann
                  ? day % 2 === 0
                    ? { id: 'ann' }
                    : { email: 'ann@acme.test', id: 'ann' }
                  : { id: `u${i}` },
                ...(ann ? { targets: [{ type: 'user', id: 'CUS-7' }] } : {}),
                context: { ip: ann ? `10.9.${day}.${slot}` : `10.8.${day}.${slot}` },
              }),
            );
          }
        }
        // Out of time order, in two batches.
        await append(events.filter((_, i) => i % 2 === 1));
        await append(events.filter((_, i) => i % 2 === 0));
        const annIds = events
          .filter((e) => e.actor?.id === 'ann')
          .map((e) => e.id as string)
          .reverse();
        const from = new Date(midnight + 2 * DAY + DAY / 2).toISOString();
        const until = new Date(midnight + 9 * DAY).toISOString();
        const bounded = events
          .filter(
            (e) =>
              e.actor?.id === 'ann' && (e.time as string) >= from && (e.time as string) < until,
          )
          .map((e) => e.id as string)
          .reverse();
        expect(bounded.length).toBeGreaterThan(3);
        for (const [q, expected] of [
          ['actor:ann', annIds],
          ['target:CUS-7', annIds],
          ['ip:10.9.0.0/16', annIds],
          [`actor:ann after:${from} before:${until}`, bounded],
          [`target:CUS-7 after:${from} before:${until}`, bounded],
          [`ip:10.9.0.0/16 after:${from} before:${until}`, bounded],
        ] as const) {
          for (const limit of [2, 5, 100]) {
            const clauses = parseQuery(q).clauses;
            const desc = await all(t, { clauses, limit });
            expect(
              desc.map((e) => e.id),
              `${q}, pages of ${limit}`,
            ).toEqual(expected);
            const asc = await all(t, { clauses, limit, order: 'asc' });
            expect(
              asc.map((e) => e.id),
              `${q}, oldest first`,
            ).toEqual([...expected].reverse());
          }
        }
        expect((await search(t, '-actor:ann')).length).toBe(events.length - annIds.length);
      });

      it('orders events with the same time by seq', async () => {
        const t = freshTenant();
        const time = minutesAgo(5);
        await append(Array.from({ length: 30 }, (_, i) => ev(t, { id: `s${i}`, time })));
        await append([ev(t, { id: 's30', time })]);
        const asc = await all(t, { order: 'asc' });
        expect(asc.map((e) => e.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
      });
    });

    describe('Merkle tree', () => {
      /** The tenant's leaf hashes in seq order, read back from its events. */
      async function leavesOf(t: string): Promise<Uint8Array[]> {
        const events = (await all(t)).sort((a, b) => a.seq - b.seq);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        return events.map((e) => new Uint8Array(Buffer.from(e.hash, 'hex')));
      }

      it('keeps every root and proof of every past size, also with two writers', async () => {
        const t = freshTenant();
        const second = await harness.another();
        try {
          // Groups of several sizes, alternating writers: each must notice the other's appends.
          for (const [i, n] of [1, 2, 5, 1, 7, 3, 8, 1, 4].entries()) {
            const writer = i % 3 === 1 ? second : store;
            const [outcome] = await writer.append([
              prepare(Array.from({ length: n }, () => ev(t))),
            ]);
            expect(outcome?.ok).toBe(true);
          }
          await Promise.all([
            store.append([prepare([ev(t), ev(t)])]),
            second.append([prepare([ev(t), ev(t), ev(t)])]),
          ]);
        } finally {
          await second.close();
        }
        const leaves = await leavesOf(t);
        expect(leaves).toHaveLength(37);
        expect(await store.logSize(t)).toBe(37);
        const roots: Uint8Array[] = [];
        for (let size = 0; size <= leaves.length; size++) {
          const root = await treeRoot(store, t, size);
          expect(Buffer.from(root).toString('hex')).toBe(
            Buffer.from(merkle.rootHash(leaves.slice(0, size))).toString('hex'),
          );
          roots.push(root);
        }
        for (const [seq, size] of [
          [1, 1],
          [1, 37],
          [37, 37],
          [16, 17],
          [17, 32],
          [5, 20],
        ] as const) {
          const { leafHash, proof } = await inclusionProof(store, t, seq, size);
          expect(Buffer.from(leafHash).equals(leaves[seq - 1] as Uint8Array)).toBe(true);
          expect(
            merkle.verifyInclusion(seq - 1, size, leafHash, proof, roots[size] as Uint8Array),
          ).toBe(true);
        }
        for (const [from, to] of [
          [1, 37],
          [16, 32],
          [17, 37],
          [36, 37],
          [0, 5],
          [37, 37],
        ] as const) {
          const proof = await consistencyProof(store, t, from, to);
          expect(
            merkle.verifyConsistency(
              from,
              to,
              proof,
              roots[from] as Uint8Array,
              roots[to] as Uint8Array,
            ),
          ).toBe(true);
        }
      });

      it('has no subtree beyond the log, and an empty log for an unknown tenant', async () => {
        const t = freshTenant();
        await append([ev(t), ev(t), ev(t)]);
        await expect(store.treeNodes(t, [{ level: 2, index: 0 }])).rejects.toMatchObject({
          code: 'not_found',
        });
        await expect(store.treeNodes(t, [{ level: 0, index: 3 }])).rejects.toMatchObject({
          code: 'not_found',
        });
        expect(await store.logSize(freshTenant())).toBe(0);
        await expect(
          store.treeNodes(freshTenant(), [{ level: 0, index: 0 }]),
        ).rejects.toMatchObject({
          code: 'not_found',
        });
      });
    });

    describe('checkpoints', () => {
      it('keeps every checkpoint and gives the largest', async () => {
        const t = freshTenant();
        expect(await store.latestCheckpoint(t)).toBeNull();
        await append([ev(t), ev(t), ev(t)]);
        const other = freshTenant();
        await append([ev(other)]);
        await store.saveCheckpoints([
          { tenant: t, size: 2, note: 'note of 2' },
          { tenant: t, size: 3, note: 'note of 3' },
          { tenant: other, size: 1, note: 'other note' },
        ]);
        await store.saveCheckpoints([{ tenant: t, size: 1, note: 'note of 1' }]);
        // The same size again (another server signing the same tree) changes nothing.
        await store.saveCheckpoints([{ tenant: t, size: 3, note: 'note of 3, again' }]);
        expect(await store.latestCheckpoint(other)).toEqual({ size: 1, note: 'other note' });
        expect(await store.latestCheckpoint(t)).toEqual({ size: 3, note: 'note of 3' });
        expect(await store.checkpoints(t, 2)).toEqual([
          { size: 1, note: 'note of 1' },
          { size: 2, note: 'note of 2' },
        ]);
      });

      it('takes a cosignature of a kept checkpoint, and nothing else in its place', async () => {
        const t = freshTenant();
        await append([ev(t)]);
        const signed = 'origin/t\n1\nroot=\n\n\u2014 old AAAA\n';
        const cosigned = `${signed}\u2014 new BBBB\n`;
        await store.saveCheckpoints([{ tenant: t, size: 1, note: signed }]);
        await store.saveCheckpoints([{ tenant: t, size: 1, note: cosigned }]);
        expect(await store.latestCheckpoint(t)).toEqual({ size: 1, note: cosigned });
        for (const note of [
          signed, // a signature taken away
          `${cosigned}extra\n`, // a line that is no signature
          cosigned.replace('root=', 'toor='), // the signed text changed
          `\u2014 new BBBB\n${cosigned}`,
        ]) {
          await store.saveCheckpoints([{ tenant: t, size: 1, note }]);
        }
        expect(await store.checkpoints(t, 1)).toEqual([{ size: 1, note: cosigned }]);
      });
    });

    describe('tenants', () => {
      it('lists every tenant with events, its size and its newest checkpoint, in code-point order', async () => {
        const p = freshTenant();
        await append([ev(`${p}-b`), ev(`${p}-A`), ev(`${p}-b`), ev(`${p}-a`), ev(`${p}-b`)]);
        await store.saveCheckpoints([
          { tenant: `${p}-b`, size: 1, note: 'one' },
          { tenant: `${p}-b`, size: 2, note: 'two' },
          { tenant: `${p}-a`, size: 1, note: 'one' },
        ]);
        const list = await store.tenants();
        expect(list.filter((t) => t.name.startsWith(p))).toEqual([
          { name: `${p}-A`, size: 1, signed: 0 },
          { name: `${p}-a`, size: 1, signed: 1 },
          { name: `${p}-b`, size: 3, signed: 2 },
        ]);
        const names = list.map((t) => t.name);
        expect(names).toEqual([...names].sort());
        for (const t of list) expect(t.size).toBe(await store.logSize(t.name));
        expect(names).not.toContain(freshTenant());
      });
    });

    viewsConformance({ store: () => store, freshTenant, append });
    retentionConformance({ store: () => store, freshTenant });
    erasureConformance({ store: () => store, freshTenant, append });

    describe('keys', () => {
      const keyRecord = (tenant: string | null) => ({
        id: `k${Math.random().toString(16).slice(2, 17).padEnd(15, '0')}`,
        name: 'ci',
        secretHash: Buffer.alloc(32, 7),
        scopes: ['events:read', 'events:write'],
        tenant,
        createdAt: NOW.toISOString(),
        revokedAt: null,
      });

      it('creates the first key once, also when two stores race for it', async () => {
        // This suite's store holds no key before this test.
        const second = await harness.another();
        try {
          const created = await Promise.all(
            [store, second, store, second].map((s) =>
              s.createKey(keyRecord(null), { ifNoKeys: true }),
            ),
          );
          expect(created.filter(Boolean)).toHaveLength(1);
          expect(await store.createKey(keyRecord(null), { ifNoKeys: true })).toBe(false);
        } finally {
          await second.close();
        }
      });

      it('stores keys by id with their hash, scopes and tenant', async () => {
        const record = keyRecord('acme');
        expect(await store.createKey(record)).toBe(true);
        expect(await store.findKey(record.id)).toEqual(record);
        expect(await store.findKey('missing')).toBeNull();
      });

      it('lists every key, revoked ones too, oldest first', async () => {
        const aged = (minutes: number, tenant: string | null) => ({
          ...keyRecord(tenant),
          createdAt: minutesAgo(minutes),
        });
        const newest = aged(1, 'acme');
        const oldest = aged(3, null);
        const revoked = { ...aged(2, 'acme'), revokedAt: minutesAgo(1) };
        for (const key of [newest, oldest, revoked]) await store.createKey(key);
        const ids = [newest.id, oldest.id, revoked.id];
        const list = await store.listKeys();
        expect(list.filter((k) => ids.includes(k.id))).toEqual([oldest, revoked, newest]);
        const times = list.map((k) => k.createdAt);
        expect(times).toEqual([...times].sort());
      });

      it('revokes a key once: a second revocation keeps the first time', async () => {
        const key = keyRecord('acme');
        const other = keyRecord('acme');
        await store.createKey(key);
        await store.createKey(other);
        const first = new Date(NOW.getTime() + 60_000).toISOString();
        const later = new Date(NOW.getTime() + 120_000).toISOString();
        expect(await store.revokeKey(key.id, first)).toEqual({ ...key, revokedAt: first });
        expect(await store.findKey(key.id)).toEqual({ ...key, revokedAt: first });
        expect(await store.revokeKey(key.id, later)).toEqual({ ...key, revokedAt: first });
        expect(await store.findKey(key.id)).toEqual({ ...key, revokedAt: first });
        expect(await store.findKey(other.id)).toEqual(other);
        expect(await store.revokeKey('missing', first)).toBeNull();
        expect(await store.findKey('missing')).toBeNull();
      });

      it('shows a revocation at once to another store on the database (a running server)', async () => {
        const second = await harness.another();
        try {
          const key = keyRecord(null);
          await store.createKey(key);
          expect((await second.findKey(key.id))?.revokedAt).toBeNull();
          const at = new Date(NOW.getTime() + 60_000).toISOString();
          await store.revokeKey(key.id, at);
          expect((await second.findKey(key.id))?.revokedAt).toBe(at);
          expect((await second.listKeys()).find((k) => k.id === key.id)?.revokedAt).toBe(at);

          // Two revocations at once: both see the same, first, time.
          const raced = keyRecord(null);
          await second.createKey(raced);
          const times = [1, 2].map((m) => new Date(NOW.getTime() + m * 60_000).toISOString());
          const results = await Promise.all([
            store.revokeKey(raced.id, times[0] ?? ''),
            second.revokeKey(raced.id, times[1] ?? ''),
          ]);
          const winner = results[0]?.revokedAt;
          expect(times).toContain(winner);
          expect(results.map((r) => r?.revokedAt)).toEqual([winner, winner]);
          expect((await store.findKey(raced.id))?.revokedAt).toBe(winner);
        } finally {
          await second.close();
        }
      });
    });

    describe('tenant settings and viewer-token revocations', () => {
      it('keeps a tenant’s settings, {} until set, replaced whole', async () => {
        expect(await store.tenantSettings('settings-t')).toEqual({ settings: {}, updatedAt: null });
        const first = { embed: { frameAncestors: ['https://app.example.test'], title: 'Audit ✓' } };
        await store.putTenantSettings('settings-t', first);
        const kept = await store.tenantSettings('settings-t');
        expect(kept.settings).toEqual(first);
        expect(Date.parse(kept.updatedAt ?? '')).not.toBeNaN();
        await store.putTenantSettings('settings-t', { embed: { accentColor: '#123456' } });
        expect((await store.tenantSettings('settings-t')).settings).toEqual({
          embed: { accentColor: '#123456' },
        });
        expect((await store.tenantSettings('other-t')).settings).toEqual({});
      });

      it('changes settings without losing a change made meanwhile, from another connection too', async () => {
        const second = await harness.another();
        try {
          // Twelve changes at once, half through each connection: each adds its own category.
          const categories = Array.from({ length: 12 }, (_, i) => `c${i}`);
          await Promise.all(
            categories.map((c, i) =>
              (i % 2 ? second : store).updateTenantSettings('cas-t', (s) => ({
                ...s,
                retention: {
                  ...s.retention,
                  categories: { ...s.retention?.categories, [c]: i + 1 },
                },
              })),
            ),
          );
          expect((await store.tenantSettings('cas-t')).settings.retention?.categories).toEqual(
            Object.fromEntries(categories.map((c, i) => [c, i + 1])),
          );
          const { before, after } = await store.updateTenantSettings('cas-t', (s) => ({
            ...s,
            embed: { title: 'Audit' },
          }));
          expect(before.embed).toBeUndefined();
          expect(after.settings.embed).toEqual({ title: 'Audit' });
          expect(await store.tenantSettings('cas-t')).toEqual(after);
          // Its argument itself: nothing written. A throw: thrown, nothing written.
          expect((await second.updateTenantSettings('cas-t', (s) => s)).after).toEqual(after);
          await expect(
            store.updateTenantSettings('cas-t', () => {
              throw new Error('refused');
            }),
          ).rejects.toThrow('refused');
          expect(await store.tenantSettings('cas-t')).toEqual(after);
          // A tenant with no settings yet, created by two at once.
          await Promise.all(
            [store, second].map((s, i) =>
              s.updateTenantSettings('cas-new', (settings) => ({
                ...settings,
                retention: { categories: { ...settings.retention?.categories, [`n${i}`]: 5 } },
              })),
            ),
          );
          expect((await store.tenantSettings('cas-new')).settings).toEqual({
            retention: { categories: { n0: 5, n1: 5 } },
          });
        } finally {
          await second.close();
        }
      });

      it('keeps an admin change’s audit entry in the change’s own transaction, until removed', async () => {
        const second = await harness.another();
        try {
          const all = Number.MAX_SAFE_INTEGER;
          const pending = async (tenant: string, from: Store = store) =>
            (await from.pendingAudits(all, 1000)).filter((p) => p.tenant === tenant);
          let made = 0;
          const entry = (action: string, metadata: Record<string, unknown>): PendingAudit => ({
            tenant: 'outbox-t',
            id: `audit-${String(++made).padStart(3, '0')}`,
            time: NOW.toISOString(),
            category: 'audit',
            action,
            actor: { type: 'system', id: 'conformance' },
            metadata,
          });
          // Twelve changes at once through two connections, each counting one up: an entry for
          // each change written, none for an attempt that lost its race (rolled back with it).
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, i) =>
              (i % 2 ? second : store).updateTenantSettings(
                'outbox-t',
                (s) => ({ ...s, retention: { days: (s.retention?.days ?? 0) + 1 } }),
                ({ before }) => [
                  entry('retention.changed', { before: before.retention?.days ?? 0 }),
                ],
              ),
            ),
          );
          const kept = await pending('outbox-t');
          expect(
            kept.map((e) => e.metadata?.['before']).sort((a, b) => Number(a) - Number(b)),
          ).toEqual(Array.from({ length: 12 }, (_, i) => i));
          // Each change answers the entry kept with it, as given.
          expect(new Set(results.map((r) => r.audit[0]?.id))).toEqual(
            new Set(kept.map((e) => e.id)),
          );
          expect(kept).toContainEqual(results[0]?.audit[0]);

          // Nothing written, or nothing to record, or a refused change: no entry.
          let asked = 0;
          const counted = () => {
            asked++;
            return [entry('retention.changed', {})];
          };
          await store.updateTenantSettings('outbox-t', (s) => s, counted);
          expect(asked).toBe(0);
          await expect(
            store.updateTenantSettings(
              'outbox-t',
              () => {
                throw new Error('refused');
              },
              counted,
            ),
          ).rejects.toThrow('refused');
          const silent = await store.updateTenantSettings(
            'outbox-t',
            (s) => ({ ...s, embed: { title: 'Audit' } }),
            () => [],
          );
          expect(silent.audit).toEqual([]);
          expect(await pending('outbox-t')).toHaveLength(12);
          // Two entries of one change: both kept with it.
          const two = [entry('retention.changed', {}), entry('settings.changed', {})];
          const both = await second.updateTenantSettings(
            'outbox-t',
            (s) => ({ ...s, displayWindowDays: 7 }),
            () => two,
          );
          expect(both.audit).toEqual(two);
          expect((await pending('outbox-t')).slice(12)).toEqual(two);

          // A revocation keeps its entry too; entries are read oldest first, up to a time.
          const revoked = entry('viewer_token.revoked', { viewerId: 'v1' });
          await second.revokeViewerTokens(
            {
              tenant: 'outbox-t',
              viewerId: 'v1',
              revokedAtMs: Date.now(),
              expiresAtMs: Date.now() + 60_000,
            },
            revoked,
          );
          expect(
            await store.viewerTokenRevoked({
              tenant: 'outbox-t',
              tokenId: 't',
              viewerId: 'v1',
              issuedAtMs: 0,
            }),
          ).toBe(true);
          expect((await pending('outbox-t')).at(-1)).toEqual(revoked);
          expect(
            (await store.pendingAudits(Date.now() - 60_000, 1000)).filter(
              (p) => p.tenant === 'outbox-t',
            ),
          ).toEqual([]);
          expect(await store.pendingAudits(all, 1)).toHaveLength(1);

          // Removed once appended, for every connection.
          for (const e of await pending('outbox-t')) await store.removePendingAudit(e.tenant, e.id);
          expect(await pending('outbox-t', second)).toEqual([]);
        } finally {
          await second.close();
        }
      });

      it('refuses a change whose audit entry the log would refuse, and keeps nothing of it', async () => {
        // Kept, such an entry would stay pending for ever and its change go unrecorded.
        const refused = (metadata: Record<string, unknown>): PendingAudit => ({
          tenant: 'outbox-refused',
          id: `refused-${Object.keys(metadata).join('-')}`,
          time: NOW.toISOString(),
          category: 'audit',
          action: 'settings.changed',
          actor: { type: 'system', id: 'conformance' },
          metadata,
        });
        const isRefusal = (error: unknown) =>
          error instanceof HindsightError &&
          error.code === 'invalid_request' &&
          error.message.includes('/metadata is larger than 16384 bytes');
        await expect(
          store.updateTenantSettings(
            'outbox-refused',
            (s) => ({ ...s, displayWindowDays: 3 }),
            () => [refused({ big: 'x'.repeat(20_000) })],
          ),
        ).rejects.toSatisfy(isRefusal);
        expect(await store.tenantSettings('outbox-refused')).toEqual({
          settings: {},
          updatedAt: null,
        });
        const revocation = {
          tenant: 'outbox-refused',
          viewerId: 'v9',
          revokedAtMs: Date.now(),
          expiresAtMs: Date.now() + 60_000,
        };
        await expect(
          store.revokeViewerTokens(revocation, refused({ other: 'x'.repeat(20_000) })),
        ).rejects.toSatisfy(isRefusal);
        const token = { tenant: 'outbox-refused', tokenId: 't', viewerId: 'v9', issuedAtMs: 0 };
        expect(await store.viewerTokenRevoked(token)).toBe(false);
        expect(
          (await store.pendingAudits(Number.MAX_SAFE_INTEGER, 1000)).filter(
            (p) => p.tenant === 'outbox-refused',
          ),
        ).toEqual([]);
      });

      it('revokes one token, or a viewer’s tokens issued until then, in its tenant only', async () => {
        const now = NOW.getTime();
        const token = (
          tokenId: string,
          viewerId: string,
          issuedAtMs: number,
          tenant = 'rev-t',
        ) => ({
          tenant,
          tokenId,
          viewerId,
          issuedAtMs,
        });
        expect(await store.viewerTokenRevoked(token('t1', 'v1', now))).toBe(false);
        await store.revokeViewerTokens({
          tenant: 'rev-t',
          tokenId: 't1',
          revokedAtMs: now,
          expiresAtMs: now + 3_600_000,
        });
        expect(await store.viewerTokenRevoked(token('t1', 'v1', now))).toBe(true);
        expect(await store.viewerTokenRevoked(token('t1', 'v1', now, 'other-t'))).toBe(false);
        expect(await store.viewerTokenRevoked(token('t2', 'v1', now))).toBe(false);

        await store.revokeViewerTokens({
          tenant: 'rev-t',
          viewerId: 'v2',
          revokedAtMs: now,
          expiresAtMs: now + 3_600_000,
        });
        expect(await store.viewerTokenRevoked(token('t3', 'v2', now - 1000))).toBe(true);
        expect(await store.viewerTokenRevoked(token('t4', 'v2', now))).toBe(true);
        expect(await store.viewerTokenRevoked(token('t5', 'v2', now + 1000))).toBe(false);
        // Revoking again later covers tokens issued in between; an earlier time never narrows it.
        await store.revokeViewerTokens({
          tenant: 'rev-t',
          viewerId: 'v2',
          revokedAtMs: now + 5000,
          expiresAtMs: now + 3_605_000,
        });
        await store.revokeViewerTokens({
          tenant: 'rev-t',
          viewerId: 'v2',
          revokedAtMs: now - 5000,
          expiresAtMs: now,
        });
        expect(await store.viewerTokenRevoked(token('t5', 'v2', now + 1000))).toBe(true);
        // Revocations whose tokens have all expired are forgotten.
        await store.revokeViewerTokens({
          tenant: 'rev-t',
          tokenId: 't9',
          revokedAtMs: now + 7_200_000,
          expiresAtMs: now + 10_800_000,
        });
        expect(await store.viewerTokenRevoked(token('t1', 'v1', now))).toBe(false);
        expect(await store.viewerTokenRevoked(token('t9', 'v1', now + 7_000_000))).toBe(true);
      });
    });
  });
}
