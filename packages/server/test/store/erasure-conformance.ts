/**
 * GDPR erasure and permitted deletion of the Store contract (issue #9), part of the conformance
 * suite: what is removed (values, salts, search words, summaries), what stays (every leaf hash,
 * the tree, the events), the tenant settings that refuse them, and that a verifiable export of
 * the result still verifies offline and reports the deletions.
 */
import {
  type EventInput,
  ExportVerifier,
  leafHash,
  note,
  parseQuery,
  type StoredEvent,
} from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/checkpoints.js';
import { HindsightError } from '../../src/errors.js';
import { exportLines } from '../../src/export.js';
import type { EventQuery, LoginUsersQuery, PendingAudit, Store } from '../../src/store/types.js';
import { treeRoot } from '../../src/tree.js';

/** What the erasure suite needs from the main suite. */
export interface ErasureContext {
  store(): Store;
  freshTenant(): string;
  append(events: EventInput[]): Promise<Array<{ id: string; seq: number; hash: string }>>;
}

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0';
const alice = { id: 'u-1001', name: 'Alice Hughes', email: 'alice@acme.test' };
const bob = { id: 'u-bob', name: 'Bob Brown', email: 'bob@acme.test' };
const HOLD = { legalHold: { reason: 'Case 42', since: '2026-06-01T00:00:00.000Z' } };

/** The events of a tenant: Alice as actor and as target, Bob alone, Alice by address only. */
function people(tenant: string): EventInput[] {
  return [
    {
      tenant,
      id: 'login',
      category: 'logins',
      action: 'login.succeeded',
      actor: alice,
      channel: 'ui',
      time: at(50),
      context: { ip: '81.2.69.142', userAgent: UA, sessionId: 's-1' },
    },
    {
      tenant,
      id: 'license',
      category: 'users',
      action: 'user.license.updated',
      actor: bob,
      time: at(40),
      description: 'License changed',
      targets: [{ type: 'user', id: alice.id, name: alice.name, url: '/users/u-1001' }],
      changes: [{ field: 'license', before: 'Field', after: 'Field Plus' }],
      context: { ip: '89.160.20.112' },
      metadata: { file: 'licenses.csv' },
    },
    {
      tenant,
      id: 'theme',
      action: 'setting.updated',
      actor: bob,
      time: at(30),
      targets: [{ type: 'setting', id: 'theme', name: 'Theme' }],
      changes: [{ field: 'color', before: 'red', after: 'blue' }],
    },
    {
      tenant,
      id: 'attempt',
      category: 'logins',
      action: 'login.failed',
      outcome: 'failure',
      actor: { type: 'anonymous', email: alice.email },
      time: at(20),
      context: { ip: '81.2.69.142', userAgent: UA },
      metadata: { reason: 'unknown_user' },
    },
  ];
}

const loginQuery: LoginUsersQuery = {
  sort: 'lastAttempt',
  order: 'desc',
  limit: 50,
  recentSince: at(24 * 60),
  newCountrySince: at(30 * 24 * 60),
};

export function erasureConformance(ctx: ErasureContext): void {
  const store = () => ctx.store();

  async function all(tenant: string, query: Partial<EventQuery> = {}) {
    const out: StoredEvent[] = [];
    const salts: Array<Record<string, string>> = [];
    let after: string | undefined;
    for (;;) {
      const asked: EventQuery = {
        clauses: [],
        limit: 500,
        order: 'asc',
        withSalts: true,
        ...query,
        ...(after === undefined ? {} : { after }),
      };
      const page = await store().queryEvents(tenant, asked);
      // The events as text (pages and exports send them so) are the erased events too.
      const texts = await store().queryEventTexts(tenant, asked);
      expect(texts.events.map((e) => JSON.parse(e.json))).toEqual(page.events);
      expect(texts.events.map((e) => JSON.parse(e.salts ?? 'null'))).toEqual(page.salts);
      out.push(...page.events);
      salts.push(...(page.salts ?? []));
      if (page.next === null) return { events: out, salts };
      after = page.next;
    }
  }

  const search = async (tenant: string, q: string) =>
    (await all(tenant, { clauses: parseQuery(q).clauses })).events.map((e) => e.id);

  /** Every leaf recomputed from the events as read, and the tree's root. */
  async function proofState(tenant: string) {
    const { events, salts } = await all(tenant);
    events.forEach((e, i) => {
      expect(leafHash(e, salts[i] ?? {}), `leaf of ${e.id}`).toBe(e.hash);
    });
    const size = await store().logSize(tenant);
    return {
      hashes: events.map((e) => e.hash),
      root: Buffer.from(await treeRoot(store(), tenant, size)),
    };
  }

  const refused = async (work: Promise<unknown>, code: string) => {
    const error = await work.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HindsightError);
    expect((error as HindsightError).code).toBe(code);
  };

  describe('erasure (issue #9)', () => {
    it('erases a person as actor and as target; every leaf hash and the root stay', async () => {
      const t = ctx.freshTenant();
      await ctx.append(people(t));
      const before = await proofState(t);
      const theme = await store().getEvent(t, 'theme');

      expect(await store().erase(t, { actorId: alice.id })).toEqual({ events: 2, values: 7 });

      const login = await store().getEvent(t, 'login');
      expect(login?.actor).toEqual({ type: 'user', id: alice.id, name: 'Deleted User' });
      // IP, user agent and what was derived from them are gone; the session id is no person.
      expect(login?.context).toEqual({ sessionId: 's-1' });
      expect(Object.keys(login?.erased ?? {}).sort()).toEqual([
        '/actor/email',
        '/actor/name',
        '/context/ip',
        '/context/userAgent',
      ]);
      const license = await store().getEvent(t, 'license');
      expect(license?.actor).toEqual({ type: 'user', ...bob });
      expect(license?.targets).toEqual([
        { type: 'user', id: alice.id, name: 'Deleted User', url: '/users/u-1001' },
      ]);
      expect(license?.changes).toEqual([{ field: 'license' }]);
      expect(license?.context?.ip).toBe('89.160.20.112');
      expect(license?.metadata).toEqual({ file: 'licenses.csv' });
      expect(await store().getEvent(t, 'theme')).toEqual(theme);

      const after = await proofState(t);
      expect(after).toEqual(before);
      // The erased values' salts are gone with them, and the rest still give the leaf.
      const proven = await store().getEventWithSalts(t, 'login');
      expect(Object.keys(proven?.salts ?? {})).toEqual([]);
      expect(proven && leafHash(proven.event, proven.salts)).toBe(login?.hash);

      // Search and the actor filter no longer find her by name; her address as the
      // anonymous actor of another event is erased only by an erasure of that address.
      expect(await search(t, '"alice hughes"')).toEqual([]);
      expect(await search(t, 'hughes')).toEqual([]);
      expect(await search(t, 'actor:alice@acme.test')).toEqual(['attempt']);
      expect(await search(t, '"deleted user"')).toEqual(['login', 'license']);
      expect(await search(t, 'bob')).toEqual(['license', 'theme']);

      const { users } = await store().loginUsers(t, loginQuery);
      const row = users.find((u) => u.key === alice.id);
      expect(row?.actor).toEqual({ type: 'user', id: alice.id, name: 'Deleted User' });
      expect(row?.lastSuccess?.ip).toBeUndefined();
      expect(row?.countries).toEqual([]);
      expect(row?.successes).toBe(1);
    });

    it('is idempotent, erases by e-mail, and leaves nothing of the person anywhere', async () => {
      const t = ctx.freshTenant();
      await ctx.append(people(t));
      const before = await proofState(t);
      await store().erase(t, { actorId: alice.id });
      expect(await store().erase(t, { actorId: alice.id })).toEqual({ events: 0, values: 0 });
      expect(await store().erase(t, { email: alice.email })).toEqual({ events: 1, values: 4 });
      expect(await store().erase(t, { email: alice.email })).toEqual({ events: 0, values: 0 });
      expect(await proofState(t)).toEqual(before);

      const attempt = await store().getEvent(t, 'attempt');
      expect(attempt?.actor).toEqual({ type: 'anonymous', name: 'Deleted User' });
      expect(attempt?.erased?.['/actor/name']).toBeNull();
      expect(await search(t, 'actor:alice@acme.test')).toEqual([]);
      expect(await search(t, 'alice')).toEqual([]);

      const { events } = await all(t);
      const logins = await store().loginUsers(t, loginQuery);
      const stats = await store().stats(t, {
        clauses: [],
        fromMs: NOW - 86_400_000,
        toMs: NOW + 3_600_000,
        bucketMs: 3_600_000,
        top: 10,
      });
      expect(stats.total).toBe(4);
      // A stats scan by words reads the search rows, whose actor key lost the address too.
      const scanned = await store().stats(t, {
        clauses: parseQuery('failed').clauses,
        fromMs: NOW - 86_400_000,
        toMs: NOW + 3_600_000,
        bucketMs: 3_600_000,
        top: 10,
      });
      expect(scanned.total).toBe(1);
      expect(scanned.byActor).toEqual([
        { actor: { type: 'anonymous', name: 'Deleted User' }, count: 1 },
      ]);
      const everything = JSON.stringify({ events, logins, stats, scanned }).toLowerCase();
      for (const word of ['alice', 'hughes', '81.2.69.142', 'firefox', 'field plus']) {
        expect(everything).not.toContain(word);
      }
      expect(everything).toContain('bob brown');
    });

    it('finds an e-mail address in any case of its letters: filter, login rows and erasure', async () => {
      const t = ctx.freshTenant();
      const attempt = (id: string, email: string, minutes: number): EventInput => ({
        tenant: t,
        id,
        category: 'logins',
        action: 'login.failed',
        outcome: 'failure',
        actor: { type: 'anonymous', email },
        time: at(minutes),
        context: { ip: '81.2.69.142' },
      });
      await ctx.append([
        attempt('upper', 'Alice@ACME.test', 20),
        attempt('lower', 'alice@acme.test', 10),
        attempt('other', 'alicia@acme.test', 5),
      ]);
      expect(await search(t, 'actor:ALICE@acme.TEST')).toEqual(['upper', 'lower']);
      // As sent, in the event itself.
      expect((await store().getEvent(t, 'upper'))?.actor.email).toBe('Alice@ACME.test');
      const { users } = await store().loginUsers(t, loginQuery);
      expect(users.map((u) => [u.key, u.failures])).toEqual([
        ['email:alicia@acme.test', 1],
        ['email:alice@acme.test', 2],
      ]);
      expect(await store().erase(t, { email: 'aLiCe@Acme.Test' })).toEqual({
        events: 2,
        values: 6,
      });
      expect(await search(t, 'actor:alice@acme.test')).toEqual([]);
      expect((await store().getEvent(t, 'upper'))?.actor).toEqual({
        type: 'anonymous',
        name: 'Deleted User',
      });
      expect(await search(t, 'actor:alicia@acme.test')).toEqual(['other']);
    });

    it('refuses while the tenant is under legal hold, changing nothing', async () => {
      const t = ctx.freshTenant();
      await ctx.append(people(t));
      await store().putTenantSettings(t, HOLD);
      await refused(store().erase(t, { actorId: alice.id }), 'legal_hold');
      expect((await store().getEvent(t, 'login'))?.actor).toEqual({ type: 'user', ...alice });
      await store().putTenantSettings(t, {});
      expect((await store().erase(t, { actorId: alice.id })).events).toBe(2);
    });
  });

  describe('the audit entries of erasures and deletions', () => {
    it('keeps each in the change’s transaction, with what it did; none for a refused one', async () => {
      const t = ctx.freshTenant();
      await ctx.append(people(t));
      const entry = (id: string, action: string): PendingAudit => ({
        tenant: t,
        id,
        time: at(0),
        category: 'audit',
        action,
        actor: { type: 'api_key', id: 'k1' },
        metadata: { erasureId: id },
      });
      const pending = async () =>
        (await store().pendingAudits(Number.MAX_SAFE_INTEGER, 1000)).filter((p) => p.tenant === t);

      // Refused (legal hold, deletion not allowed): no entry.
      await store().putTenantSettings(t, HOLD);
      await refused(
        store().erase(t, { actorId: alice.id }, entry('0-erase', 'audit_log.erased')),
        'legal_hold',
      );
      await store().putTenantSettings(t, {});
      const request = { tenant: t, ids: ['theme'], by: 'api_key:k1', at: at(0) };
      await refused(
        store().redact(request, entry('0-delete', 'audit_log.deleted')),
        'deletion_not_allowed',
      );
      expect(await pending()).toEqual([]);
      // An entry the log would refuse refuses the erasure with it: nothing is erased (the
      // erasure below still finds all of it).
      const unloggable = {
        ...entry('0-big', 'audit_log.erased'),
        metadata: { big: 'x'.repeat(20_000) },
      };
      await refused(store().erase(t, { actorId: alice.id }, unloggable), 'invalid_request');
      expect(await pending()).toEqual([]);

      // Done: the entry, with how many events and values, or events and seqs.
      await store().erase(t, { actorId: alice.id }, entry('1-erase', 'audit_log.erased'));
      await store().erase(t, { actorId: alice.id }, entry('2-erase', 'audit_log.erased'));
      await store().putTenantSettings(t, { deletion: { allowed: true } });
      await store().redact(request, entry('3-delete', 'audit_log.deleted'));
      // A deletion of nothing (already deleted) records nothing.
      await store().redact(request, entry('4-delete', 'audit_log.deleted'));
      // Kept oldest first (ids in that order too, for changes within one millisecond).
      const kept = await pending();
      expect(kept.map((p) => [p.id, p.metadata])).toEqual([
        ['1-erase', { erasureId: '1-erase', events: 2, values: 7 }],
        ['2-erase', { erasureId: '2-erase', events: 0, values: 0 }],
        ['3-delete', { erasureId: '3-delete', events: 1, seqs: [3] }],
      ]);

      // Replaced by what was done after, while pending; not once forgotten.
      const told = { ...entry('1-erase', 'audit_log.erased'), description: 'erased 2 events' };
      expect(await store().replacePendingAudit(told)).toBe(true);
      expect((await pending())[0]).toEqual(told);
      for (const p of kept) await store().removePendingAudit(t, p.id);
      expect(await store().replacePendingAudit(told)).toBe(false);
      expect(await pending()).toEqual([]);
    });
  });

  describe('permitted deletion (issue #9)', () => {
    it('keeps a deleted event as a redacted leaf: gone from reads, its hash in the tree', async () => {
      const t = ctx.freshTenant();
      await ctx.append(people(t));
      const before = await proofState(t);
      const license = await store().getEvent(t, 'license');
      const request = { tenant: t, ids: ['license'], by: 'api_key:k1', at: at(0) };

      await refused(store().redact(request), 'deletion_not_allowed');
      await store().putTenantSettings(t, { deletion: { allowed: true } });
      const result = await store().redact({ ...request, ids: ['license', 'license', 'nope'] });
      expect(result).toEqual({
        deleted: [{ id: 'license', seq: 2 }],
        alreadyDeleted: [],
        notFound: ['nope'],
      });

      expect(await store().getEvent(t, 'license')).toBeNull();
      expect((await all(t)).events.map((e) => e.id)).toEqual(['login', 'theme', 'attempt']);
      expect(await search(t, 'license')).toEqual([]);
      expect(await search(t, `target:${alice.id}`)).toEqual([]);
      expect(await store().redactedLeaves(t, 4)).toEqual([
        { seq: 2, id: 'license', hash: license?.hash, redactedAt: at(0), redactedBy: 'api_key:k1' },
      ]);
      expect(await store().redactedLeaves(t, 1)).toEqual([]);
      expect(await store().logSize(t)).toBe(4);
      const size = await store().logSize(t);
      expect(Buffer.from(await treeRoot(store(), t, size))).toEqual(before.root);
      const stats = await store().stats(t, {
        clauses: [],
        fromMs: NOW - 86_400_000,
        toMs: NOW + 3_600_000,
        bucketMs: 3_600_000,
        top: 10,
      });
      expect(stats.total).toBe(3);
      expect(stats.byAction.map((a) => a.action).sort()).toEqual([
        'login.failed',
        'login.succeeded',
        'setting.updated',
      ]);

      expect(await store().redact({ ...request, ids: ['license'] })).toEqual({
        deleted: [],
        alreadyDeleted: [{ id: 'license', seq: 2 }],
        notFound: [],
      });
      const [next] = await ctx.append([{ tenant: t, action: 'user.created', actor: bob }]);
      expect(next?.seq).toBe(5);

      await store().putTenantSettings(t, { deletion: { allowed: true }, ...HOLD });
      await refused(store().redact({ ...request, ids: ['theme'] }), 'legal_hold');
      expect(await store().getEvent(t, 'theme')).not.toBeNull();
    });

    it('exports a log with erasures and deletions that verifies offline and names them', async () => {
      const t = ctx.freshTenant();
      const signer = note.signerFromSeed('erasure.example', Buffer.alloc(32, 9));
      const checkpoints = new Checkpointer(store(), { signer, origin: 'erasure.example' });
      await ctx.append(people(t));
      expect((await checkpoints.latest(t))?.size).toBe(4);
      await store().erase(t, { actorId: alice.id });
      await store().erase(t, { email: alice.email });
      await store().putTenantSettings(t, { deletion: { allowed: true } });
      await store().redact({ tenant: t, ids: ['theme'], by: 'user:u-dpo', at: at(0) });
      let text = '';
      for await (const chunk of exportLines(store(), checkpoints, t)) text += chunk;
      const verify = (lines: string[]) => {
        const verifier = new ExportVerifier({ verifierKey: note.verifierKeyText(signer) });
        for (const line of lines) verifier.line(line);
        return verifier.finish();
      };
      const lines = text.split('\n');
      const report = verify(lines);
      expect(report).toMatchObject({ ok: true, events: 3, verifiedSize: 4, problems: [] });
      expect(report.redacted).toEqual([{ seq: 3, id: 'theme', at: at(0), by: 'user:u-dpo' }]);
      expect(text.toLowerCase()).not.toContain('alice');

      // A redacted line with another hash, or without its line (the row deleted by hand).
      const redacted = lines.findIndex((l) => l.includes('"type":"redacted"'));
      const forged = lines.map((l, i) => {
        if (i !== redacted) return l;
        const line = JSON.parse(l) as { hash: string };
        const first = line.hash.startsWith('0') ? '1' : '0';
        return JSON.stringify({ ...line, hash: first + line.hash.slice(1) });
      });
      const forgedReport = verify(forged);
      expect(forgedReport.ok).toBe(false);
      expect(forgedReport.problems.map((p) => p.kind)).toContain('checkpoint_mismatch');
      const dropped = verify(lines.filter((_, i) => i !== redacted));
      expect(dropped.problems).toContainEqual(expect.objectContaining({ kind: 'missing', seq: 3 }));
    });
  });
}
