/**
 * SQLite schema upgrades on a real database file: a data directory made by an older Hindsight
 * opens, and what the new version adds is built from what is stored.
 */
import { merkle } from '@hindsight/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadDemo } from '../../src/demo-loader.js';
import { prepareEvents } from '../../src/ingest.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { PROJECTION_TABLE_NAMES, rebuildProjections } from '../../src/store/sqlite-projections.js';
import type { Store } from '../../src/store/types.js';
import { treeRoot } from '../../src/tree.js';
import { tempDir, testEnricher } from '../helpers.js';

describe('SQLite migrations', () => {
  it('builds the Merkle trees of a version 1 database (before trees were stored)', async () => {
    const tmp = tempDir();
    try {
      const store = await openStore({ data: tmp.dir });
      for (const tenant of ['one', 'two']) {
        const events = Array.from({ length: tenant === 'one' ? 13 : 4 }, () => ({
          tenant,
          action: 'a.b',
          actor: { id: 'u' },
        }));
        await store.append([prepareEvents({ events }, testEnricher())]);
      }
      await store.close();
      // Make it what version 1 wrote: no tree.
      const db = new Database(sqlitePath(tmp.dir));
      db.exec("DROP TABLE tree_nodes; UPDATE meta SET value = '1' WHERE key = 'schema_version'");
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        for (const [tenant, size] of [
          ['one', 13],
          ['two', 4],
        ] as const) {
          const page = await upgraded.queryEvents(tenant, { clauses: [], limit: 50, order: 'asc' });
          const leaves = page.events.map((e) => Buffer.from(e.hash, 'hex'));
          expect(leaves).toHaveLength(size);
          const root = await treeRoot(upgraded, tenant, size);
          expect(Buffer.from(root).equals(merkle.rootHash(leaves))).toBe(true);
        }
        // And the tree keeps growing from there.
        const [more] = await upgraded.append([
          prepareEvents(
            { events: [{ tenant: 'one', action: 'a.b', actor: { id: 'u' } }] },
            testEnricher(),
          ),
        ]);
        expect(more?.ok).toBe(true);
        const page = await upgraded.queryEvents('one', { clauses: [], limit: 50, order: 'asc' });
        const leaves = page.events.map((e) => Buffer.from(e.hash, 'hex'));
        expect(
          Buffer.from(await treeRoot(upgraded, 'one', 14)).equals(merkle.rootHash(leaves)),
        ).toBe(true);
      } finally {
        await upgraded.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it('computes the derived views of a version 2 database from its events', async () => {
    const tmp = tempDir();
    const now = Date.now();
    const views = async (store: Store) => {
      const messages = await store.queryEvents('acme', {
        clauses: [
          { kind: 'action', value: 'message.sent', prefix: false, negate: false, position: 0 },
        ],
        limit: 500,
        order: 'desc',
      });
      return {
        logins: await store.loginUsers('acme', {
          sort: 'name',
          order: 'asc',
          limit: 500,
          recentSince: new Date(now - 7 * 86_400_000).toISOString(),
        }),
        integrations: await store.integrations('acme'),
        deliveries: await store.deliveryCounts(
          'acme',
          messages.events.map((e) => e.targets?.[0]?.id ?? e.id),
        ),
        stats: await store.stats('acme', {
          clauses: [],
          fromMs: Math.floor((now - 90 * 86_400_000) / 3_600_000) * 3_600_000,
          toMs: Math.ceil(now / 3_600_000) * 3_600_000,
          bucketMs: 86_400_000,
          top: 50,
        }),
      };
    };
    try {
      const store = await openStore({ data: tmp.dir });
      await loadDemo(store, testEnricher());
      const kept = await views(store);
      await store.close();
      expect(kept.logins.users.length).toBeGreaterThan(5);
      expect(kept.integrations.some((i) => i.acknowledged !== null)).toBe(true);
      // Make it what version 2 wrote: no derived views.
      const db = new Database(sqlitePath(tmp.dir));
      for (const table of PROJECTION_TABLE_NAMES) {
        db.exec(`DROP TABLE ${table}`);
      }
      for (const trigger of db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .pluck()
        .all()) {
        db.exec(`DROP TRIGGER ${String(trigger)}`);
      }
      db.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        expect(await views(upgraded)).toEqual(kept);
      } finally {
        await upgraded.close();
      }
    } finally {
      tmp.remove();
    }
  });
  it('keeps the projections the writer maintains equal to a rebuild from the log', async () => {
    const tmp = tempDir();
    // Every row of every projection, in one order whatever order the database gives.
    const snapshot = (db: Database.Database) =>
      Object.fromEntries(
        PROJECTION_TABLE_NAMES.map((t) => [
          t,
          db
            .prepare(`SELECT * FROM ${t}`)
            .all()
            .map((row) => JSON.stringify(row))
            .sort(),
        ]),
      );
    try {
      const store = await openStore({ data: tmp.dir });
      await loadDemo(store, testEnricher());
      // A transaction of several batches, one refused whole, with actors without id or e-mail.
      const batch = (events: object[]) => prepareEvents({ events }, testEnricher());
      const outcomes = await store.append([
        batch([
          { tenant: 'acme', action: 'job.ran', actor: { type: 'system' } },
          { tenant: 'acme', action: 'job.ran', actor: { type: 'system' }, category: 'changes' },
        ]),
        batch([{ tenant: 'acme', id: 'dup', action: 'a.b', actor: { id: 'u' } }]),
        batch([{ tenant: 'acme', id: 'dup', action: 'a.c', actor: { id: 'u' } }]),
        batch([
          { tenant: 'beta', action: 'a.b', actor: { type: 'anonymous', email: 'x@example.test' } },
        ]),
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true]);
      await store.close();

      const db = new Database(sqlitePath(tmp.dir));
      try {
        // Nothing on `events` keeps them: the writer does.
        expect(
          db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all(),
        ).toEqual([]);
        const kept = snapshot(db);
        expect(kept['event_counts']?.length).toBeGreaterThan(10);
        expect(kept['login_users']?.length).toBeGreaterThan(5);
        db.transaction(() => rebuildProjections(db))();
        expect(snapshot(db)).toEqual(kept);
      } finally {
        db.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it('drops the triggers by which version 3 kept the projections', async () => {
    const tmp = tempDir();
    try {
      const store = await openStore({ data: tmp.dir });
      await store.close();
      const db = new Database(sqlitePath(tmp.dir));
      db.exec(
        'CREATE TRIGGER project_counts AFTER INSERT ON events BEGIN ' +
          'INSERT INTO event_counts VALUES (NEW.tenant_id, 0, NEW.category, NEW.action, NEW.outcome, 1) ' +
          'ON CONFLICT DO UPDATE SET n = n + 1; END',
      );
      db.close();
      const upgraded = await openStore({ data: tmp.dir });
      await upgraded.append([
        prepareEvents(
          { events: [{ tenant: 'acme', action: 'a.b', actor: { id: 'u' } }] },
          testEnricher(),
        ),
      ]);
      await upgraded.close();
      const after = new Database(sqlitePath(tmp.dir), { readonly: true });
      try {
        expect(
          after.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").pluck().get(),
        ).toBe(0);
        expect(after.prepare('SELECT sum(n) FROM event_counts').pluck().get()).toBe(1);
      } finally {
        after.close();
      }
    } finally {
      tmp.remove();
    }
  });
});
