/**
 * SQLite schema upgrades on a real database file: a data directory made by an older Hindsight
 * opens, and what the new version adds is built from what is stored.
 */
import { merkle, parseQuery } from '@hindsight/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadDemo } from '../../src/demo-loader.js';
import { prepareEvents } from '../../src/ingest.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { PROJECTION_TABLE_NAMES, rebuildProjections } from '../../src/store/sqlite-projections.js';
import type { PendingAudit, Store } from '../../src/store/types.js';
import { treeRoot } from '../../src/tree.js';
import {
  EMAIL_CASE_EVENTS,
  expectEmailInAnyCase,
  expectNewCountry,
  NEW_COUNTRY_EVENTS,
  SENSITIVE_CHANGE_EVENTS,
  tempDir,
  testEnricher,
} from '../helpers.js';

describe('SQLite migrations', () => {
  it('builds the Merkle trees of a version 1 database (before trees were stored)', async () => {
    const tmp = tempDir();
    try {
      await storeTwoTenants(tmp.dir);
      // Make it what version 1 wrote: no tree.
      const db = new Database(sqlitePath(tmp.dir));
      db.exec("DROP TABLE tree_nodes; UPDATE meta SET value = '1' WHERE key = 'schema_version'");
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        await expectTreesWhole(upgraded);
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
          newCountrySince: new Date(now - 30 * 86_400_000).toISOString(),
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

  it('re-keys a version 3 database: value indexes by day, every target kept, words re-indexed', async () => {
    const tmp = tempDir();
    try {
      const store = await openStore({ data: tmp.dir });
      const events = Array.from({ length: 9 }, (_, i) => ({
        tenant: 'acme',
        action: 'user.updated',
        time: new Date(Date.parse('2026-06-01T12:00:00Z') + i * 86_400_000).toISOString(),
        actor: i % 3 === 0 ? { id: 'ann', email: 'ann@acme.test' } : { id: `u${i}` },
        targets: [{ type: 'user', id: i % 2 === 0 ? 'CUS-2' : `CUS-${i}` }],
        context: { ip: i % 3 === 0 ? '10.9.0.1' : '10.8.0.1' },
        description: i === 4 ? 'Licence renewal' : 'Profile edited',
      }));
      await store.append([
        prepareEvents({ events }, testEnricher(), new Date('2026-06-10T12:00:00Z')),
      ]);
      await store.close();
      // Make it what version 3 wrote: indexes keyed by value, targets without their day.
      const db = new Database(sqlitePath(tmp.dir));
      db.exec(`
        DROP INDEX events_actor; DROP INDEX events_email; DROP INDEX events_ip;
        CREATE INDEX events_actor ON events (tenant_id, actor_id);
        CREATE INDEX events_email ON events (tenant_id, actor_email) WHERE actor_email IS NOT NULL;
        CREATE INDEX events_ip ON events (tenant_id, ip) WHERE ip IS NOT NULL;
        CREATE TABLE old_targets (tenant_id INTEGER NOT NULL, target_id TEXT NOT NULL,
          pos INTEGER NOT NULL, PRIMARY KEY (tenant_id, target_id, pos)) WITHOUT ROWID;
        INSERT INTO old_targets SELECT tenant_id, target_id, pos FROM event_targets;
        DROP TABLE event_targets; ALTER TABLE old_targets RENAME TO event_targets;
        DROP TABLE events_fts;
        CREATE VIRTUAL TABLE events_fts USING fts5(words, content = '', contentless_delete = 1,
          tokenize = "unicode61 remove_diacritics 0 tokenchars '_'");
        UPDATE meta SET value = '3' WHERE key = 'schema_version';`);
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        const ids = async (q: string) =>
          (
            await upgraded.queryEvents('acme', {
              clauses: parseQuery(q).clauses,
              limit: 2,
              order: 'asc',
            })
          ).events.map((e) => e.time.slice(0, 10));
        expect(await ids('actor:ann@acme.test')).toEqual(['2026-06-01', '2026-06-04']);
        expect(await ids('target:CUS-2 after:2026-06-04T00:00:00Z')).toEqual([
          '2026-06-05',
          '2026-06-07',
        ]);
        expect(await ids('ip:10.9.0.0/16 before:2026-06-05T00:00:00Z')).toEqual([
          '2026-06-01',
          '2026-06-04',
        ]);
        // The words were indexed anew (the old index above was empty), and a removal's delete
        // marker matches them: a deletion leaves the index whole and the word gone.
        expect(await ids('renewal')).toEqual(['2026-06-05']);
        expect(await ids('edited')).toHaveLength(2);
      } finally {
        await upgraded.close();
      }
      const after = new Database(sqlitePath(tmp.dir), { readonly: true });
      try {
        const sql = (name: string) =>
          after.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(name);
        for (const index of ['events_actor', 'events_email', 'events_ip']) {
          expect(sql(index)).toMatch(/\(tenant_id, pos \/ \d+, /);
        }
        expect(sql('event_targets')).toMatch(/PRIMARY KEY \(tenant_id, day, target_id, pos\)/);
        expect(after.prepare('SELECT count(*) FROM event_targets').pluck().get()).toBe(9);
        expect(sql('events_fts')).not.toMatch(/contentless_delete/);
        expect(storedSchemaVersion(tmp.dir)).toBe(SCHEMA_VERSION);
      } finally {
        after.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it('re-keys the Merkle tree of a version 5 database by the size that completed each node', async () => {
    const tmp = tempDir();
    try {
      await storeTwoTenants(tmp.dir);
      // Make it what version 5 wrote: nodes keyed by level, then index.
      const db = new Database(sqlitePath(tmp.dir));
      const nodes = db.prepare('SELECT count(*) FROM tree_nodes').pluck().get() as number;
      db.exec(`
        CREATE TABLE old_nodes (tenant_id INTEGER NOT NULL, level INTEGER NOT NULL,
          idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (tenant_id, level, idx)) WITHOUT ROWID;
        INSERT INTO old_nodes SELECT tenant_id, level, idx, hash FROM tree_nodes;
        DROP TABLE tree_nodes; ALTER TABLE old_nodes RENAME TO tree_nodes;
        UPDATE meta SET value = '5' WHERE key = 'schema_version';`);
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        await expectTreesWhole(upgraded);
      } finally {
        await upgraded.close();
      }
      const after = new Database(sqlitePath(tmp.dir), { readonly: true });
      try {
        expect(
          after.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get('tree_nodes'),
        ).toMatch(/PRIMARY KEY \(tenant_id, size, level\)/);
        // Every node kept, and the one event more added its leaf and the subtree it completed
        // (13 → 14 completes the pair 12–13 and nothing above it).
        expect(after.prepare('SELECT count(*) FROM tree_nodes').pluck().get()).toBe(nodes + 2);
        expect(storedSchemaVersion(tmp.dir)).toBe(SCHEMA_VERSION);
      } finally {
        after.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it('adds the audit outbox to a version 6 database, which then keeps pending audit entries', async () => {
    const tmp = tempDir();
    try {
      await storeTwoTenants(tmp.dir);
      const db = new Database(sqlitePath(tmp.dir));
      db.exec("DROP TABLE audit_outbox; UPDATE meta SET value = '6' WHERE key = 'schema_version'");
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        const entry: PendingAudit = {
          tenant: 'one',
          id: 'audit-1',
          time: '2026-11-25T00:00:00.000Z',
          category: 'audit',
          action: 'legal_hold.placed',
          actor: { type: 'system', id: 'test' },
        };
        await upgraded.updateTenantSettings(
          'one',
          (s) => ({ ...s, deletion: { allowed: true } }),
          () => [entry],
        );
        expect(await upgraded.pendingAudits(Date.now() + 1, 10)).toEqual([entry]);
      } finally {
        await upgraded.close();
      }
      expect(storedSchemaVersion(tmp.dir)).toBe(SCHEMA_VERSION);
    } finally {
      tmp.remove();
    }
  });

  it('forgets, in a version 7 database, the input digests computed over sensitive values', async () => {
    const tmp = tempDir();
    try {
      const events = SENSITIVE_CHANGE_EVENTS;
      const store = await openStore({ data: tmp.dir });
      await store.append([prepareEvents({ events }, testEnricher(), new Date())]);
      await store.close();
      const digests = () => {
        const db = new Database(sqlitePath(tmp.dir), { readonly: true });
        try {
          return db.prepare('SELECT id, digest IS NOT NULL AS kept FROM events ORDER BY seq').all();
        } finally {
          db.close();
        }
      };
      expect(digests()).toEqual([
        { id: 'pin', kept: 1 },
        { id: 'role', kept: 1 },
      ]);
      const db = new Database(sqlitePath(tmp.dir));
      db.exec("UPDATE meta SET value = '7' WHERE key = 'schema_version'");
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        expect(digests()).toEqual([
          { id: 'pin', kept: 0 },
          { id: 'role', kept: 1 },
        ]);
        // The other event's retry is still recognised.
        const [retry] = await upgraded.append([
          prepareEvents({ events: [events[1]] }, testEnricher(), new Date()),
        ]);
        expect(retry?.ok).toBe(true);
      } finally {
        await upgraded.close();
      }
    } finally {
      tmp.remove();
    }
  });
});

describe('SQLite migration to version 9', () => {
  it('writes each actor e-mail as its key, in lower case, and keys the views by it', async () => {
    const tmp = tempDir();
    try {
      const store = await openStore({ data: tmp.dir });
      await store.append([prepareEvents({ events: EMAIL_CASE_EVENTS }, testEnricher())]);
      await store.close();
      // What version 8 kept: the address as sent, and the views keyed by it.
      const db = new Database(sqlitePath(tmp.dir));
      db.exec("UPDATE events SET actor_email = 'Alice@ACME.test' WHERE id = 'a'");
      db.transaction(() => rebuildProjections(db))();
      db.exec("UPDATE meta SET value = '8' WHERE key = 'schema_version'");
      const loginKeys = (d: Database.Database) =>
        d.prepare('SELECT actor_key, failures FROM login_users ORDER BY 1').all();
      expect(loginKeys(db)).toEqual([
        { actor_key: 'email:Alice@ACME.test', failures: 1 },
        { actor_key: 'email:alice@acme.test', failures: 1 },
      ]);
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        await expectEmailInAnyCase(upgraded);
      } finally {
        await upgraded.close();
      }
      const after = new Database(sqlitePath(tmp.dir), { readonly: true });
      try {
        expect(loginKeys(after)).toEqual([{ actor_key: 'email:alice@acme.test', failures: 2 }]);
        expect(after.prepare('SELECT DISTINCT actor_email FROM events').pluck().all()).toEqual([
          'alice@acme.test',
        ]);
      } finally {
        after.close();
      }
    } finally {
      tmp.remove();
    }
  });
});

describe('SQLite migration to version 10', () => {
  it('adds the webhook signatures to a version 9 database, which every store on it then sees', async () => {
    const tmp = tempDir();
    try {
      await storeTwoTenants(tmp.dir);
      // What version 9 had: no table of webhook signatures.
      const db = new Database(sqlitePath(tmp.dir));
      db.exec(
        "DROP TABLE hook_signatures; UPDATE meta SET value = '9' WHERE key = 'schema_version'",
      );
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      const second = await openStore({ data: tmp.dir });
      try {
        const claim = { provider: 'mailgun', key: 'token-1', call: 'call-a', untilMs: 2_000 };
        expect(await upgraded.claimHookSignature(claim, 1_000)).toBe('claimed');
        expect(await second.claimHookSignature({ ...claim, call: 'call-b' }, 1_000)).toBe(
          'other_call',
        );
        await expectTreesWhole(upgraded);
      } finally {
        await second.close();
        await upgraded.close();
      }
      expect(storedSchemaVersion(tmp.dir)).toBe(SCHEMA_VERSION);
    } finally {
      tmp.remove();
    }
  });
});

describe('SQLite migration to version 11', () => {
  it("computes each account's first successful sign-in per country, for the logins view's newCountry", async () => {
    const tmp = tempDir();
    try {
      const store = await openStore({ data: tmp.dir });
      await store.append([prepareEvents({ events: NEW_COUNTRY_EVENTS }, testEnricher())]);
      await store.close();
      // What version 10 had: no first successful sign-in per country.
      const db = new Database(sqlitePath(tmp.dir));
      db.exec(
        'ALTER TABLE login_countries DROP COLUMN first_success_pos; ' +
          "UPDATE meta SET value = '10' WHERE key = 'schema_version'",
      );
      db.close();

      const upgraded = await openStore({ data: tmp.dir });
      try {
        await expectNewCountry(upgraded, testEnricher());
      } finally {
        await upgraded.close();
      }
      expect(storedSchemaVersion(tmp.dir)).toBe(SCHEMA_VERSION);
    } finally {
      tmp.remove();
    }
  });

  it('refuses a database of a newer version than this Hindsight, changing nothing', async () => {
    const tmp = tempDir();
    try {
      await storeTwoTenants(tmp.dir);
      const db = new Database(sqlitePath(tmp.dir));
      db.exec("UPDATE meta SET value = '12' WHERE key = 'schema_version'");
      db.close();
      await expect(openStore({ data: tmp.dir })).rejects.toThrow(/newer than this Hindsight/);
      expect(storedSchemaVersion(tmp.dir)).toBe('12');
    } finally {
      tmp.remove();
    }
  });
});

/** The schema version this Hindsight writes. */
const SCHEMA_VERSION = '11';

/** The schema version a data directory's database records. */
function storedSchemaVersion(dir: string): string {
  const db = new Database(sqlitePath(dir), { readonly: true });
  try {
    return db
      .prepare('SELECT value FROM meta WHERE key = ?')
      .pluck()
      .get('schema_version') as string;
  } finally {
    db.close();
  }
}

const TREE_TENANTS = [
  ['one', 13],
  ['two', 4],
] as const;

/** Stores 13 events of tenant "one" and 4 of tenant "two" in a new store in `dir`. */
async function storeTwoTenants(dir: string): Promise<void> {
  const store = await openStore({ data: dir });
  for (const [tenant, size] of TREE_TENANTS) {
    const events = Array.from({ length: size }, (_, i) => ({
      tenant,
      action: 'a.b',
      actor: { id: `u${i}` },
    }));
    await store.append([prepareEvents({ events }, testEnricher())]);
  }
  await store.close();
}

/**
 * The trees of {@link storeTwoTenants}' tenants, read from the stored nodes, have the root of
 * their leaves at every size; and they keep growing: one event more gives tenant "one" the
 * root of its 14 leaves.
 */
async function expectTreesWhole(store: Store): Promise<void> {
  const leavesOf = async (tenant: string) =>
    (await store.queryEvents(tenant, { clauses: [], limit: 50, order: 'asc' })).events.map((e) =>
      Buffer.from(e.hash, 'hex'),
    );
  for (const [tenant, size] of TREE_TENANTS) {
    const leaves = await leavesOf(tenant);
    expect(leaves).toHaveLength(size);
    for (let n = 1; n <= size; n++) {
      const root = await treeRoot(store, tenant, n);
      expect(Buffer.from(root).equals(merkle.rootHash(leaves.slice(0, n)))).toBe(true);
    }
  }
  const [more] = await store.append([
    prepareEvents(
      { events: [{ tenant: 'one', action: 'a.b', actor: { id: 'u' } }] },
      testEnricher(),
    ),
  ]);
  expect(more?.ok).toBe(true);
  const leaves = await leavesOf('one');
  expect(Buffer.from(await treeRoot(store, 'one', 14)).equals(merkle.rootHash(leaves))).toBe(true);
}
