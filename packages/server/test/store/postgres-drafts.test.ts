/**
 * PostgreSQL group commits drafted before their locks (`group-drafts.ts`): sent as one
 * statement when the tenants are in the state they were planned from, planned again under the
 * locks when they are not (another server wrote, the newest leaf differs), never storing a
 * producer-chosen id twice. Which path a group took is counted by the database itself: the
 * test replaces the draft's check function by one that also logs each draft that passed it.
 */
import { type EventInput, merkle } from '@hindsight/core';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { prepareEvents } from '../../src/ingest.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { treeRoot } from '../../src/tree.js';
import { testEnricher } from '../helpers.js';
import { providedPostgres, testDatabase } from '../postgres.js';

const provided = providedPostgres();

const batch = (tenant: string, n: number, extra: Partial<EventInput> = {}) =>
  prepareEvents(
    {
      events: Array.from({ length: n }, (_, i) => ({
        tenant,
        action: 'record.updated',
        actor: { id: `u${i % 3}` },
        ...extra,
      })),
    },
    testEnricher(),
  );

describe.skipIf('skip' in provided)('PostgreSQL drafted group commits', () => {
  let db: { url: string; drop: () => Promise<void> };
  let admin: pg.Client;
  let store: Store;
  let tenantNo = 0;
  let t = '';

  beforeAll(async () => {
    if ('skip' in provided) return;
    db = await testDatabase(provided.url);
    store = await openPostgresStore({ url: db.url });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // The draft's check, as migration 8 made it, logging each draft that passed it (the log
    // row commits only with the draft).
    await admin.query(`CREATE TABLE drafts_passed (at timestamptz NOT NULL DEFAULT now());
      CREATE OR REPLACE FUNCTION hindsight_expect_state(ok boolean) RETURNS boolean
      LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT ok THEN
          RAISE EXCEPTION 'changed' USING ERRCODE = 'serialization_failure';
        END IF;
        INSERT INTO drafts_passed DEFAULT VALUES;
        RETURN ok;
      END $$`);
  });

  afterAll(async () => {
    if ('skip' in provided) return;
    await admin.end();
    await store.close();
    await db.drop();
  });

  beforeEach(() => {
    t = `drafts-${++tenantNo}`;
  });

  const drafted = async () =>
    Number((await admin.query('SELECT count(*) AS n FROM drafts_passed')).rows[0].n);

  /** The tenant's stored seqs are 1..n and its tree's root at every size is that of its leaves. */
  async function expectWholeLog(tenant: string, n: number) {
    const { rows } = await admin.query<{ seq: string; hash: Buffer }>(
      'SELECT e.seq, e.hash FROM events e JOIN tenants t ON t.id = e.tenant_id ' +
        'WHERE t.name = $1 ORDER BY e.seq',
      [tenant],
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const leaves = rows.map((r) => new Uint8Array(r.hash));
    for (let size = 1; size <= n; size++) {
      expect(Buffer.from(await treeRoot(store, tenant, size)).toString('hex')).toBe(
        Buffer.from(merkle.rootHash(leaves.slice(0, size))).toString('hex'),
      );
    }
    const head = await admin.query<{ size: string; head: Buffer }>(
      'SELECT size, head FROM tenants WHERE name = $1',
      [tenant],
    );
    expect(Number(head.rows[0]?.size)).toBe(n);
    expect(head.rows[0]?.head.equals(Buffer.from(leaves[n - 1] as Uint8Array))).toBe(true);
  }

  it('sends a group as one checked statement once the server knows its tenants', async () => {
    const before = await drafted();
    // The first group of a tenant is planned under the locks; the server then knows its state.
    await store.append([batch(t, 3)]);
    expect(await drafted()).toBe(before);
    for (const n of [1, 4, 2]) await store.append([batch(t, n), batch(`${t}-other`, 1)]);
    expect(await drafted()).toBe(before + 2); // the other tenant was new to the second group
    // Concurrent groups are drafted one after the other, each from what the one ahead leaves.
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.append([batch(t, 1 + (i % 3))])),
    );
    expect(outcomes.flat().every((o) => o.ok)).toBe(true);
    expect(await drafted()).toBeGreaterThan(before + 2);
    await expectWholeLog(t, 3 + 7 + 12);
  });

  it('plans a group again under the locks when another server wrote in between', async () => {
    const second = await openPostgresStore({ url: db.url });
    try {
      await store.append([batch(t, 2)]);
      await store.append([batch(t, 2)]);
      const before = await drafted();
      // The draft expects size 4; the other server makes it 5.
      await second.append([batch(t, 1)]);
      const [outcome] = await store.append([batch(t, 3)]);
      expect(outcome?.ok && outcome.events.map((e) => e.seq)).toEqual([6, 7, 8]);
      expect(await drafted()).toBe(before);
      // Planned under the locks, the group showed the server the state: drafting resumes.
      await store.append([batch(t, 1)]);
      expect(await drafted()).toBe(before + 1);
      await expectWholeLog(t, 9);
    } finally {
      await second.close();
    }
  });

  it('refuses a draft whose tenant has the expected size but another newest leaf', async () => {
    await store.append([batch(t, 2)]);
    await store.append([batch(t, 3)]);
    const before = await drafted();
    // The size is as expected, the newest leaf is not the one this server stored.
    await admin.query("UPDATE tenants SET head = '\\x00' WHERE name = $1", [t]);
    const [outcome] = await store.append([batch(t, 2)]);
    expect(outcome?.ok && outcome.events.map((e) => e.seq)).toEqual([6, 7]);
    expect(await drafted()).toBe(before);
    await expectWholeLog(t, 7);
  });

  it('writes quotes, backslashes, braces and commas through a draft as they came', async () => {
    await store.append([batch(t, 1)]);
    const before = await drafted();
    const odd = 'a\\b "q" {c,d} NULL \\N\\\\x00 é';
    await store.append([
      batch(t, 1, {
        id: `id-${odd}`,
        actor: { id: `u-${odd}`, name: odd },
        targets: [{ type: 'file', id: `T-${odd}` }],
        description: odd,
      }),
    ]);
    expect(await drafted()).toBe(before + 1);
    expect(await store.getEvent(t, `id-${odd}`)).toMatchObject({
      actor: { id: `u-${odd}`, name: odd },
      targets: [{ type: 'file', id: `T-${odd}` }],
      description: odd,
    });
    // The columns that filters read hold the same values as the event.
    const { rows } = await admin.query(
      'SELECT e.actor_id, x.target_id FROM events e JOIN event_targets x ' +
        'ON x.tenant_id = e.tenant_id AND x.seq = e.seq WHERE e.id = $1',
      [`id-${odd}`],
    );
    expect(rows).toEqual([{ actor_id: `u-${odd}`, target_id: `T-${odd}` }]);
    await expectWholeLog(t, 2);
  });

  it('stores a producer-chosen id once when two groups under way carry it', async () => {
    await store.append([batch(t, 2)]);
    // Each insert of the id takes 0.3 s: the second group looks the id up while the first is
    // still writing it, and must not be drafted to follow it.
    await admin.query(`CREATE FUNCTION slow_order() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 'order-1' THEN PERFORM pg_sleep(0.3); END IF; RETURN NEW; END $$;
      CREATE TRIGGER slow_order BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow_order()`);
    const same = batch(t, 1, { id: 'order-1' });
    const [a, b] = await Promise.all([store.append([same]), store.append([same])]);
    await admin.query('DROP TRIGGER slow_order ON events; DROP FUNCTION slow_order()');
    expect(a?.[0]?.ok && b?.[0]?.ok).toBe(true);
    expect(a?.[0]).toEqual(b?.[0]);
    await expectWholeLog(t, 3);
    // Stored already: its retry is answered from the stored event, drafted or not.
    const [again] = await store.append([same]);
    expect(again).toEqual(a?.[0]);
    await expectWholeLog(t, 3);
  });
});
