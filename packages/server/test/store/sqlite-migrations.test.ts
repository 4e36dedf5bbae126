/**
 * SQLite schema upgrades on a real database file: a data directory made by an older Hindsight
 * opens, and what the new version adds is built from what is stored.
 */
import { merkle } from '@hindsight/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { prepareEvents } from '../../src/ingest.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
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
});
