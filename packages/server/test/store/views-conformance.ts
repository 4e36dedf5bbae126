/**
 * The derived views of the Store contract (issue #5), part of the conformance suite: logins per
 * account, message receivers, integrations, stats and tenants' own views. Every view must stay
 * correct whatever order its events arrive in, and when a report arrives twice.
 */
import { type EventInput, FAILED_DELIVERY, type QueryClause } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { HindsightError } from '../../src/errors.js';
import type {
  DeliveryFilter,
  EventQuery,
  LoginUser,
  LoginUsersQuery,
  Store,
} from '../../src/store/types.js';

/** What the views suite needs from the main suite. */
export interface ViewsContext {
  store(): Store;
  freshTenant(): string;
  append(events: EventInput[]): Promise<Array<{ id: string; seq: number }>>;
}

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();
const clause = (c: Record<string, unknown>) =>
  ({ negate: false, position: 0, ...c }) as unknown as QueryClause;

const GB = '81.2.69.142';
const SE = '89.160.20.112';
const US = '8.8.8.8';

function login(
  tenant: string,
  user: { id?: string; name?: string; email: string },
  ok: boolean,
  minutesAgo: number,
  ip = GB,
): EventInput {
  return {
    tenant,
    category: 'logins',
    action: ok ? 'login.succeeded' : 'login.failed',
    ...(ok ? {} : { outcome: 'failure', metadata: { reason: 'invalid_password' } }),
    actor: user.id === undefined ? { type: 'anonymous', email: user.email } : { ...user },
    channel: 'ui',
    time: at(minutesAgo),
    context: {
      ip,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
    },
  };
}

function sent(tenant: string, id: string, receivers: string[], minutesAgo: number): EventInput {
  return {
    tenant,
    category: 'communications',
    action: 'message.sent',
    status: 'sent',
    actor: { id: 'u1', name: 'Priya' },
    channel: 'ui',
    time: at(minutesAgo),
    targets: [{ type: 'message', id, name: 'Offer' }],
    metadata: {
      type: 'email',
      mode: 'manual',
      subject: 'Offer',
      receivers: receivers.map((address) => ({ name: address.toUpperCase(), address })),
    },
  };
}

function report(
  tenant: string,
  id: string,
  address: string,
  status: string,
  minutesAgo: number,
): EventInput {
  return {
    tenant,
    category: 'communications',
    action: status === 'delivered' ? 'message.delivered' : 'message.bounced',
    status,
    ...(status === 'delivered' ? {} : { outcome: 'failure' }),
    actor: { type: 'system' },
    channel: 'system',
    time: at(minutesAgo),
    targets: [{ type: 'message', id }],
    metadata: { receiver: { address }, ...(status === 'delivered' ? {} : { reason: status }) },
  };
}

function integration(
  tenant: string,
  system: string,
  status: 'ok' | 'error' | 'notification',
  minutesAgo: number,
  action = 'integration.synced',
): EventInput {
  return {
    tenant,
    category: 'integrations',
    action,
    status,
    ...(status === 'error' ? { outcome: 'failure' } : {}),
    actor: { type: 'integration', id: system, name: system.toUpperCase() },
    channel: 'integration',
    time: at(minutesAgo),
    description: `${system} ${status} ${minutesAgo}`,
    targets: [{ type: 'integration', id: system, name: system.toUpperCase() }],
    metadata: { system: `${system[0]?.toUpperCase()}${system.slice(1)}` },
  };
}

function ack(tenant: string, system: string, upToSeq: number, minutesAgo: number): EventInput {
  return {
    tenant,
    category: 'integrations',
    action: 'integration.acknowledged',
    actor: { id: 'admin-1', name: 'Ada' },
    channel: 'ui',
    time: at(minutesAgo),
    targets: [{ type: 'integration', id: system }],
    metadata: { upToSeq },
  };
}

/** The views part of the conformance suite; called inside the backend's describe block. */
export function viewsConformance(ctx: ViewsContext): void {
  const loginQuery = (over: Partial<LoginUsersQuery> = {}): LoginUsersQuery => ({
    sort: 'lastAttempt',
    order: 'desc',
    limit: 50,
    recentSince: at(24 * 60),
    newCountrySince: at(30 * 24 * 60),
    ...over,
  });
  async function allUsers(tenant: string, over: Partial<LoginUsersQuery>): Promise<LoginUser[]> {
    const out: LoginUser[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await ctx
        .store()
        .loginUsers(tenant, loginQuery({ ...over, ...(after === undefined ? {} : { after }) }));
      out.push(...page.users);
      if (page.next === null) return out;
      after = page.next;
    }
  }

  describe('logins view', () => {
    const ann = { id: 'u-ann', name: 'Ann Archer', email: 'ann@acme.test' };
    const bob = { id: 'u-bob', name: 'Bob Brown', email: 'bob@acme.test' };

    it('derives last success, last failure, counts and countries per account', async () => {
      const t = ctx.freshTenant();
      await ctx.append([
        login(t, ann, true, 3000, SE),
        login(t, ann, false, 2000),
        login(t, ann, false, 600),
        login(t, ann, true, 500),
        login(t, bob, false, 30),
        { tenant: t, action: 'user.updated', actor: ann },
      ]);
      const { users, next } = await ctx.store().loginUsers(t, loginQuery());
      expect(next).toBeNull();
      expect(users.map((u) => u.key)).toEqual(['u-bob', 'u-ann']);
      const [b, a] = users;
      expect(a).toMatchObject({
        actor: { id: 'u-ann', name: 'Ann Archer', email: 'ann@acme.test' },
        lastAttempt: 'succeeded',
        successes: 2,
        failures: 2,
        recentFailures: 1,
        countries: ['GB', 'SE'],
      });
      expect(a?.lastSuccess).toMatchObject({ time: at(500), ip: GB });
      expect(a?.lastSuccess?.location?.country).toBe('GB');
      expect(a?.lastSuccess?.client?.browser).toMatch(/Firefox/);
      expect(a?.lastFailure).toMatchObject({ time: at(600), reason: 'invalid_password' });
      expect(b).toMatchObject({ lastAttempt: 'failed', lastSuccess: null, successes: 0 });
    });

    it('stays correct when attempts arrive out of order', async () => {
      const t = ctx.freshTenant();
      await ctx.append([login(t, ann, true, 10)]);
      await ctx.append([
        login(t, { ...ann, name: 'Old Name' }, true, 100),
        login(t, ann, false, 50),
      ]);
      const [a] = (await ctx.store().loginUsers(t, loginQuery())).users;
      expect(a).toMatchObject({ lastAttempt: 'succeeded', successes: 2, failures: 1 });
      expect(a?.actor.name).toBe('Ann Archer');
      expect(a?.lastSuccess?.time).toBe(at(10));
      expect(a?.lastFailure?.time).toBe(at(50));
    });

    it('marks a last successful sign-in from a country new to the account, and filters by it', async () => {
      const t = ctx.freshTenant();
      const cat = { id: 'u-cat', name: 'Cat Cole', email: 'cat@acme.test' };
      const dan = { id: 'u-dan', name: 'Dan Dale', email: 'dan@acme.test' };
      const eve = { id: 'u-eve', name: 'Eve East', email: 'eve@acme.test' };
      const fay = { id: 'u-fay', name: 'Fay Fox', email: 'fay@acme.test' };
      const month = 30 * 24 * 60;
      const newCountry = async () =>
        Object.fromEntries(
          (await allUsers(t, {})).map((u) => [u.key, u.newCountry] as [string, boolean]),
        );
      await ctx.append([
        // Ann: GB twice, then SE: new. Bob: only ever SE, his first sign-in is not new.
        login(t, ann, true, 3000),
        login(t, ann, true, 2000),
        login(t, ann, true, 100, SE),
        login(t, bob, true, 100, SE),
        // Cat failed from SE before: a failed attempt is not a sign-in from there.
        login(t, cat, true, 3000),
        login(t, cat, false, 2000, SE),
        login(t, cat, true, 100, SE),
        // Dan signed in from SE long ago: back there is not new.
        login(t, dan, true, 3000, SE),
        login(t, dan, true, 2000),
        login(t, dan, true, 100, SE),
        // Eve's newest success is from GB, her first; a later failure from the US changes nothing.
        login(t, eve, true, 3000, SE),
        login(t, eve, true, 100),
        login(t, eve, false, 50, US),
        // Fay has signed in from SE for over a month (30 days is the query's newCountrySince).
        login(t, fay, true, 2 * month),
        login(t, fay, true, month + 1, SE),
        login(t, fay, true, 10, SE),
      ]);
      expect(await newCountry()).toEqual({
        'u-ann': true,
        'u-bob': false,
        'u-cat': true,
        'u-dan': false,
        'u-eve': true,
        'u-fay': false,
      });
      const flagged = await allUsers(t, { newCountry: true, limit: 2 });
      expect(flagged.map((u) => u.key).sort()).toEqual(['u-ann', 'u-cat', 'u-eve']);
      const others = await allUsers(t, { newCountry: false, limit: 1 });
      expect(others.map((u) => u.key).sort()).toEqual(['u-bob', 'u-dan', 'u-fay']);
      // Asked a minute further back, Fay's SE is within the window.
      const wider = await allUsers(t, { newCountry: true, newCountrySince: at(month + 2) });
      expect(wider.map((u) => u.key).sort()).toEqual(['u-ann', 'u-cat', 'u-eve', 'u-fay']);

      // An older success from SE arriving late: Ann had been there before after all. A newer
      // success from the US: Dan's is new now; from GB again: Eve is still in her new country.
      // Cat signs in from GB again: home.
      await ctx.append([
        login(t, ann, true, 4000, SE),
        login(t, dan, true, 10, US),
        login(t, eve, true, 10),
        login(t, cat, true, 5),
      ]);
      expect(await newCountry()).toEqual({
        'u-ann': false,
        'u-bob': false,
        'u-cat': false,
        'u-dan': true,
        'u-eve': true,
        'u-fay': false,
      });
    });

    it('keys attempts without an account by e-mail', async () => {
      const t = ctx.freshTenant();
      await ctx.append([
        login(t, { email: 'ghost@evil.test' }, false, 5),
        login(t, { email: 'ghost@evil.test' }, false, 4),
      ]);
      const [g] = (await ctx.store().loginUsers(t, loginQuery())).users;
      expect(g).toMatchObject({
        key: 'email:ghost@evil.test',
        actor: { type: 'anonymous', email: 'ghost@evil.test' },
        failures: 2,
        recentFailures: 2,
      });
    });

    it('sorts, filters and pages without repeats or gaps', async () => {
      const t = ctx.freshTenant();
      const people = Array.from({ length: 23 }, (_, i) => ({
        id: `u-${String(i).padStart(2, '0')}`,
        name: `Person ${String.fromCharCode(90 - i)}`,
        email: `p${i}@acme.test`,
      }));
      await ctx.append(
        people.flatMap((p, i) => [
          login(t, p, true, 1000 + i * 7, i % 3 === 0 ? SE : GB),
          ...(i % 2 === 0 ? [login(t, p, false, 100 + i)] : []),
        ]),
      );
      const byName = await allUsers(t, { sort: 'name', order: 'asc', limit: 5 });
      expect(byName.map((u) => u.actor.name)).toEqual(
        people.map((p) => p.name).sort((x, y) => x.localeCompare(y)),
      );
      const bySuccess = await allUsers(t, { sort: 'lastSuccess', order: 'desc', limit: 4 });
      expect(bySuccess.map((u) => u.key)).toEqual(people.map((p) => p.id));
      const failedLast = await allUsers(t, { lastAttempt: 'failed', limit: 3 });
      expect(failedLast.map((u) => u.key).sort()).toEqual(
        people.filter((_, i) => i % 2 === 0).map((p) => p.id),
      );
      const fromSweden = await allUsers(t, { country: 'se', limit: 3 });
      expect(fromSweden.map((u) => u.key).sort()).toEqual(
        people.filter((_, i) => i % 3 === 0).map((p) => p.id),
      );
      const search = await allUsers(t, { search: 'P1', limit: 3 });
      expect(search.map((u) => u.key).sort()).toEqual([
        'u-01',
        'u-10',
        'u-11',
        'u-12',
        'u-13',
        'u-14',
        'u-15',
        'u-16',
        'u-17',
        'u-18',
        'u-19',
      ]);
      expect(await allUsers(t, { search: '100%_' })).toEqual([]);
    });

    it('keeps tenants apart and refuses a foreign cursor', async () => {
      const t = ctx.freshTenant();
      const other = ctx.freshTenant();
      await ctx.append([login(t, ann, true, 5), login(other, bob, true, 5)]);
      expect((await ctx.store().loginUsers(t, loginQuery())).users.map((u) => u.key)).toEqual([
        'u-ann',
      ]);
      expect((await ctx.store().loginUsers(ctx.freshTenant(), loginQuery())).users).toEqual([]);
      await expect(
        ctx.store().loginUsers(t, loginQuery({ after: 'not a position' })),
      ).rejects.toSatisfy((e) => e instanceof HindsightError && e.code === 'invalid_cursor');
    });
  });

  describe('messages view', () => {
    it('tracks each receiver to its newest report by event time', async () => {
      const t = ctx.freshTenant();
      await ctx.append([sent(t, 'M1', ['a@x.test', 'b@x.test', 'c@x.test'], 60)]);
      await ctx.append([
        report(t, 'M1', 'a@x.test', 'delivered', 58),
        report(t, 'M1', 'b@x.test', 'hard_bounce', 57),
      ]);
      // Out of order: an older report after a newer one changes nothing; a repeat neither.
      await ctx.append([
        report(t, 'M1', 'b@x.test', 'soft_bounce', 59),
        report(t, 'M1', 'a@x.test', 'delivered', 58),
      ]);
      const counts = await ctx.store().deliveryCounts(t, ['M1', 'M-none']);
      expect(new Map(counts.map((c) => [c.status, c.count]))).toEqual(
        new Map([
          ['delivered', 1],
          ['hard_bounce', 1],
          ['sent', 1],
        ]),
      );
      expect(counts.every((c) => c.messageId === 'M1')).toBe(true);
      const receivers = await ctx.store().messageReceivers(t, 'M1', 10);
      expect(receivers.map((r) => [r.address, r.name, r.status])).toEqual([
        ['a@x.test', 'A@X.TEST', 'delivered'],
        ['b@x.test', 'B@X.TEST', 'hard_bounce'],
        ['c@x.test', 'C@X.TEST', 'sent'],
      ]);
      expect(receivers[1]?.report).toMatchObject({ time: at(57), reason: 'hard_bounce' });
      expect(receivers[2]?.report).toBeUndefined();
    });

    it('never lets a report of a message on its way replace where it ended', async () => {
      const t = ctx.freshTenant();
      await ctx.append([sent(t, 'M3', ['a@x.test', 'b@x.test'], 30)]);
      // Twilio sends no event times: "sent" can arrive, later stamped, after "delivered".
      await ctx.append([report(t, 'M3', 'a@x.test', 'delivered', 20)]);
      await ctx.append([
        {
          ...report(t, 'M3', 'a@x.test', 'delivered', 10),
          action: 'message.dispatched',
          status: 'sent',
        },
        {
          ...report(t, 'M3', 'b@x.test', 'delivered', 10),
          action: 'message.deferred',
          status: 'deferred',
        },
      ]);
      await ctx.append([report(t, 'M3', 'b@x.test', 'soft_bounce', 5)]);
      const receivers = await ctx.store().messageReceivers(t, 'M3', 10);
      expect(receivers.map((r) => r.status)).toEqual(['delivered', 'soft_bounce']);
      expect(receivers[0]?.report?.time).toBe(at(20));
    });

    it('takes any shape of metadata.receivers without refusing the event', async () => {
      const t = ctx.freshTenant();
      const message = sent(t, 'M4', ['a@x.test'], 10);
      await ctx.append([
        {
          ...message,
          metadata: {
            ...message.metadata,
            receivers: ['b@x.test', 42, null, { name: 'No address' }, { address: 'a@x.test' }],
          },
        },
        { ...sent(t, 'M5', [], 9), metadata: { receivers: 'c@x.test' } },
      ]);
      const receivers = await ctx.store().messageReceivers(t, 'M4', 10);
      expect(receivers.map((r) => [r.address, r.status])).toEqual([['a@x.test', 'sent']]);
      expect(await ctx.store().messageReceivers(t, 'M5', 10)).toEqual([]);
    });

    it('keeps reports that arrive before their message', async () => {
      const t = ctx.freshTenant();
      await ctx.append([report(t, 'M2', 'b@x.test', 'delivered', 5)]);
      await ctx.append([report(t, 'M2', 'new@x.test', 'spam', 4)]);
      await ctx.append([sent(t, 'M2', ['a@x.test', 'b@x.test'], 10)]);
      const receivers = await ctx.store().messageReceivers(t, 'M2', 10);
      expect(receivers.map((r) => [r.address, r.name ?? null, r.status])).toEqual([
        ['a@x.test', 'A@X.TEST', 'sent'],
        ['b@x.test', 'B@X.TEST', 'delivered'],
        ['new@x.test', null, 'spam'],
      ]);
      // Pages by address.
      const second = await ctx.store().messageReceivers(t, 'M2', 2, 'a@x.test');
      expect(second.map((r) => r.address)).toEqual(['b@x.test', 'new@x.test']);
      expect(await ctx.store().messageReceivers(ctx.freshTenant(), 'M2', 10)).toEqual([]);
    });
  });

  describe('messages by delivery', () => {
    const FAILED: DeliveryFilter = { kind: 'some', statuses: [...FAILED_DELIVERY] };
    const SENT = [
      clause({ kind: 'category', value: 'communications' }),
      clause({ kind: 'action', value: 'message.sent', prefix: false }),
    ];
    /** The message ids of a page of `message.sent` events with a delivery filter. */
    const page = async (t: string, delivery: DeliveryFilter, over: Partial<EventQuery> = {}) => {
      const result = await ctx.store().queryEvents(t, {
        clauses: SENT,
        limit: 50,
        order: 'desc',
        delivery,
        ...over,
      });
      return {
        ids: result.events.map((e) => e.targets?.find((x) => x.type === 'message')?.id ?? e.id),
        next: result.next,
      };
    };
    /** Every page of `limit`, following `next`. */
    const allPages = async (t: string, delivery: DeliveryFilter, over: Partial<EventQuery>) => {
      const pages: string[][] = [];
      let after: string | undefined;
      do {
        const p = await page(t, delivery, { ...over, ...(after === undefined ? {} : { after }) });
        pages.push(p.ids);
        after = p.next ?? undefined;
      } while (after !== undefined && pages.length < 20);
      return pages;
    };

    it('keeps the messages with a receiver in a status, page after page, in both orders', async () => {
      const t = ctx.freshTenant();
      // M0 … M8, one a minute, newest last; every third one bounced for one of two receivers.
      const events: EventInput[] = [];
      for (let i = 0; i < 9; i++) {
        const id = `M${i}`;
        events.push(sent(t, id, ['a@x.test', 'b@x.test'], 100 - i));
        events.push(report(t, id, 'a@x.test', 'delivered', 90 - i));
        events.push(report(t, id, 'b@x.test', i % 3 === 0 ? 'hard_bounce' : 'delivered', 90 - i));
      }
      // Some of another tenant that would match, which no page may show.
      const other = ctx.freshTenant();
      events.push(sent(other, 'M1', ['a@x.test'], 50), report(other, 'M1', 'a@x.test', 'spam', 49));
      await ctx.append(events);

      expect(await allPages(t, FAILED, { limit: 2 })).toEqual([['M6', 'M3'], ['M0']]);
      expect(await allPages(t, FAILED, { limit: 1, order: 'asc' })).toEqual([
        ['M0'],
        ['M3'],
        ['M6'],
      ]);
      expect((await page(t, { kind: 'some', statuses: ['hard_bounce'] })).ids).toEqual([
        'M6',
        'M3',
        'M0',
      ]);
      // `delivered`: at least one receiver delivered, so every message.
      expect((await page(t, { kind: 'some', statuses: ['delivered'] })).ids).toHaveLength(9);
      expect((await page(t, { kind: 'some', statuses: ['spam'] })).ids).toEqual([]);
      expect((await page(t, { kind: 'some', statuses: [] })).ids).toEqual([]);
      expect((await page(t, { kind: 'mixed' })).ids).toEqual(['M6', 'M3', 'M0']);
      // With the other filters: a time bound, and a word of the text search.
      expect(
        (
          await page(t, FAILED, {
            clauses: [...SENT, clause({ kind: 'after', value: '', timeMs: Date.parse(at(97)) })],
          })
        ).ids,
      ).toEqual(['M6', 'M3']);
      // A word: the page found among the newest messages with it (limit 1), or not (limit 50).
      const offer = [
        ...SENT,
        clause({ kind: 'text', text: 'offer', phrase: false, prefix: false }),
      ];
      expect((await page(t, FAILED, { clauses: offer, limit: 1 })).ids).toEqual(['M6']);
      expect((await page(t, FAILED, { clauses: offer })).ids).toEqual(['M6', 'M3', 'M0']);
      expect((await page(other, FAILED)).ids).toEqual(['M1']);
    });

    it('moves a message into the filter when a later report says a receiver was not reached', async () => {
      const t = ctx.freshTenant();
      await ctx.append([sent(t, 'M1', ['a@x.test'], 60), sent(t, 'M2', ['a@x.test'], 50)]);
      await ctx.append([report(t, 'M1', 'a@x.test', 'delivered', 40)]);
      // Sent, not yet reported: in neither.
      expect((await page(t, FAILED)).ids).toEqual([]);
      expect((await page(t, { kind: 'some', statuses: ['delivered'] })).ids).toEqual(['M1']);
      expect((await page(t, { kind: 'some', statuses: ['sent'] })).ids).toEqual(['M2']);

      await ctx.append([report(t, 'M1', 'a@x.test', 'hard_bounce', 30)]);
      expect((await page(t, FAILED)).ids).toEqual(['M1']);
      expect((await page(t, { kind: 'some', statuses: ['delivered'] })).ids).toEqual([]);
      // An older report arriving late changes nothing.
      await ctx.append([report(t, 'M1', 'a@x.test', 'delivered', 35)]);
      expect((await page(t, FAILED)).ids).toEqual(['M1']);
    });

    it('finds the message of reports that came first, and of a message.sent without a message target', async () => {
      const t = ctx.freshTenant();
      await ctx.append([report(t, 'M1', 'a@x.test', 'spam', 5)]);
      const bare = { ...sent(t, 'ignored', ['b@x.test'], 8), id: 'evt-bare-1' };
      delete (bare as { targets?: unknown }).targets;
      await ctx.append([sent(t, 'M1', ['a@x.test', 'c@x.test'], 10), bare]);
      await ctx.append([
        {
          ...report(t, 'evt-bare-1', 'b@x.test', 'invalid_email', 4),
          targets: [{ type: 'message', id: 'evt-bare-1' }],
        },
      ]);
      expect((await page(t, FAILED)).ids).toEqual(['evt-bare-1', 'M1']);
      expect((await page(t, { kind: 'some', statuses: ['spam'] })).ids).toEqual(['M1']);
      expect((await page(t, { kind: 'mixed' })).ids).toEqual(['M1']);
    });
  });

  describe('integrations view', () => {
    it('summarises each system: newest event, status, unacknowledged errors', async () => {
      const t = ctx.freshTenant();
      await ctx.append([
        integration(t, 'xero', 'ok', 100),
        integration(t, 'xero', 'error', 90, 'integration.export_failed'),
        integration(t, 'gcal', 'notification', 80, 'integration.token_expiring'),
        integration(t, 'xero', 'error', 70, 'integration.export_failed'),
      ]);
      // Older news arriving late does not become the newest event.
      await ctx.append([integration(t, 'xero', 'ok', 95)]);
      const list = await ctx.store().integrations(t);
      expect(list.map((i) => [i.system, i.name])).toEqual([
        ['gcal', 'Gcal'],
        ['xero', 'Xero'],
      ]);
      const xero = list[1];
      expect(xero?.lastEvent).toMatchObject({
        time: at(70),
        action: 'integration.export_failed',
        status: 'error',
        description: 'xero error 70',
      });
      expect(xero?.lastStatus).toBe('error');
      expect(xero?.unacknowledged).toEqual({ errors: 2, notifications: 0 });
      expect(xero?.acknowledged).toBeNull();
      expect(list[0]?.unacknowledged).toEqual({ errors: 0, notifications: 1 });
    });

    it('counts only what arrived after the acknowledged seq', async () => {
      const t = ctx.freshTenant();
      const refs = await ctx.append([
        integration(t, 'xero', 'error', 50),
        integration(t, 'xero', 'error', 40),
        integration(t, 'xero', 'notification', 30),
      ]);
      const [ackRef] = await ctx.append([ack(t, 'xero', refs[1]?.seq ?? 0, 20)]);
      let [xero] = await ctx.store().integrations(t);
      expect(xero?.unacknowledged).toEqual({ errors: 0, notifications: 1 });
      expect(xero?.acknowledged).toMatchObject({
        upToSeq: refs[1]?.seq,
        seq: ackRef?.seq,
        actor: { id: 'admin-1' },
      });
      // The acknowledgement is not the system's newest event.
      expect(xero?.lastEvent.time).toBe(at(30));
      await ctx.append([integration(t, 'xero', 'error', 10)]);
      // An older acknowledgement arriving later does not undo a newer one.
      await ctx.append([ack(t, 'xero', refs[0]?.seq ?? 0, 5)]);
      [xero] = await ctx.store().integrations(t);
      expect(xero?.unacknowledged).toEqual({ errors: 1, notifications: 1 });
      expect(xero?.acknowledged?.upToSeq).toBe(refs[1]?.seq);
      await ctx.append([ack(t, 'xero', (ackRef?.seq ?? 0) + 1, 1)]);
      [xero] = await ctx.store().integrations(t);
      expect(xero?.unacknowledged).toEqual({ errors: 0, notifications: 0 });
    });
  });

  describe('stats', () => {
    const hour = 3_600_000;
    const from = NOW - 48 * hour;
    const to = NOW;

    async function seed(): Promise<string> {
      const t = ctx.freshTenant();
      const events: EventInput[] = [];
      for (let i = 0; i < 40; i++) {
        events.push({
          tenant: t,
          category: i % 4 === 0 ? 'logins' : 'changes',
          action: i % 4 === 0 ? 'login.failed' : i % 2 ? 'workflow.updated' : 'workflow.created',
          ...(i % 4 === 0 ? { outcome: 'failure' } : {}),
          actor: i % 5 === 0 ? { type: 'system' } : { id: `u${i % 3}`, name: `User ${i % 3}` },
          channel: 'ui',
          time: at(i * 60 + 30),
          description: 'change of plan',
        });
      }
      // Outside the range: never counted.
      events.push({
        tenant: t,
        action: 'workflow.updated',
        actor: { id: 'u0' },
        time: at(49 * 60),
      });
      await ctx.append(events);
      return t;
    }

    it('counts by action, actor, outcome and hour', async () => {
      const t = await seed();
      const s = await ctx
        .store()
        .stats(t, { clauses: [], fromMs: from, toMs: to, bucketMs: 6 * hour, top: 10 });
      expect(s.exact).toBe(true);
      expect(s.total).toBe(40);
      expect(s.outcomes).toEqual({ success: 30, failure: 10 });
      expect(s.byAction).toEqual([
        { action: 'workflow.updated', count: 20 },
        { action: 'login.failed', count: 10 },
        { action: 'workflow.created', count: 10 },
      ]);
      expect(s.histogram).toHaveLength(8);
      expect(s.histogram[0]).toEqual({ start: from, count: 0 });
      expect(s.histogram.reduce((n, b) => n + b.count, 0)).toBe(40);
      expect(s.histogram[7]?.count).toBe(6);
      const system = s.byActor.find((a) => a.actor.type === 'system');
      expect(system?.count).toBe(8);
      expect(s.byActor.find((a) => a.actor.id === 'u1')?.actor.name).toBe('User 1');
    });

    it('lists the top actors over whole days straight from the daily counts', async () => {
      const t = await seed();
      const day = 86_400_000;
      const base = { fromMs: Math.floor(from / day) * day, toMs: Math.ceil(to / day) * day };
      const top = await ctx.store().stats(t, { ...base, clauses: [], bucketMs: day, top: 2 });
      const all = await ctx.store().stats(t, { ...base, clauses: [], bucketMs: day, top: 10 });
      // 41 events: the one before the 48 hours falls in these whole days.
      expect(all.total).toBe(41);
      expect(all.histogram.map((b) => b.start % day)).toEqual(all.histogram.map(() => 0));
      expect(top.byActor).toEqual(all.byActor.slice(0, 2));
      expect(all.byActor.reduce((n, a) => n + a.count, 0)).toBe(41);
      const logins = await ctx.store().stats(t, {
        ...base,
        clauses: [clause({ kind: 'category', value: 'logins' })],
        bucketMs: day,
        top: 10,
      });
      expect(logins.byActor.reduce((n, a) => n + a.count, 0)).toBe(10);
    });

    it('answers the same from counts and from a scan of the events', async () => {
      const t = await seed();
      const base = { fromMs: from, toMs: to, bucketMs: hour, top: 10 };
      const kept = await ctx.store().stats(t, {
        ...base,
        clauses: [
          clause({ kind: 'category', value: 'changes' }),
          clause({ kind: 'action', value: 'workflow.', prefix: true }),
        ],
      });
      // `channel:ui` holds for every event, but only a scan can apply it.
      const scanned = await ctx.store().stats(t, {
        ...base,
        clauses: [
          clause({ kind: 'category', value: 'changes' }),
          clause({ kind: 'action', value: 'workflow.', prefix: true }),
          clause({ kind: 'channel', value: 'ui' }),
        ],
      });
      expect(kept.total).toBe(30);
      expect({ ...scanned, byActor: [] }).toEqual({ ...kept, byActor: [] });
      // A suffix, from the counts and from a scan: the updates alone.
      const updated = clause({ kind: 'action', value: '.updated', prefix: false, suffix: true });
      const keptUpdates = await ctx.store().stats(t, { ...base, clauses: [updated] });
      const scannedUpdates = await ctx.store().stats(t, {
        ...base,
        clauses: [updated, clause({ kind: 'channel', value: 'ui' })],
      });
      expect(keptUpdates.byAction.map((a) => a.action)).toEqual(['workflow.updated']);
      expect(keptUpdates.total).toBeGreaterThan(0);
      expect({ ...scannedUpdates, byActor: [] }).toEqual({ ...keptUpdates, byActor: [] });
      const actor = await ctx
        .store()
        .stats(t, { ...base, clauses: [clause({ kind: 'actor', value: 'u1' })] });
      expect(actor.byActor).toEqual([
        { actor: { type: 'user', id: 'u1', name: 'User 1' }, count: actor.total },
      ]);
      const text = await ctx
        .store()
        .stats(t, { ...base, clauses: [clause({ kind: 'text', text: 'plan', prefix: false })] });
      expect(text.total).toBe(40);
      expect(text.byActor.length).toBeGreaterThan(0);
      // Read from the words alone, and with a condition only the events can answer: the same.
      const joined = await ctx.store().stats(t, {
        ...base,
        clauses: [
          clause({ kind: 'text', text: 'plan', prefix: false }),
          clause({ kind: 'channel', value: 'ui' }),
        ],
      });
      expect(joined).toEqual(text);
      expect(await ctx.store().stats(ctx.freshTenant(), { ...base, clauses: [] })).toMatchObject({
        total: 0,
        byAction: [],
        byActor: [],
      });
    });
  });

  describe("tenants' own views", () => {
    it('adds, replaces, lists and removes views per tenant', async () => {
      const t = ctx.freshTenant();
      const other = ctx.freshTenant();
      const view = {
        label: 'Night logins',
        category: 'logins',
        columns: [{ field: 'time', label: 'Time', format: 'time' as const }],
        defaults: { outcome: 'failure' as const },
      };
      await ctx.store().putView(t, 'night', view);
      await ctx.store().putView(t, 'aaa', { ...view, label: 'First' });
      await ctx.store().putView(t, 'night', { ...view, label: 'Night sign-ins' });
      const views = await ctx.store().views(t);
      expect(views.map((v) => [v.id, v.view.label])).toEqual([
        ['aaa', 'First'],
        ['night', 'Night sign-ins'],
      ]);
      expect(views[1]?.view).toEqual({ ...view, label: 'Night sign-ins' });
      expect(await ctx.store().views(other)).toEqual([]);
      expect(await ctx.store().deleteView(other, 'night')).toBe(false);
      expect(await ctx.store().deleteView(t, 'night')).toBe(true);
      expect((await ctx.store().views(t)).map((v) => v.id)).toEqual(['aaa']);
    });
  });
}
