import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { prepareEvents } from '../../src/ingest.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { tempDir, testEnricher } from '../helpers.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite', async () => {
  const tmp = tempDir();
  const store = await openStore({ data: tmp.dir });
  return {
    store,
    another: () => openStore({ data: tmp.dir }),
    refuse: async (id) => {
      const db = new Database(sqlitePath(tmp.dir));
      db.prepare(
        `CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.id = '${id.replaceAll("'", "''")}' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`,
      ).run();
      db.close();
    },
    cleanup: async () => {
      await store.close();
      tmp.remove();
    },
  };
});

describe('SQLite checkpoints', () => {
  it('copies committed events into the database file on a thread of its own, within seconds', async () => {
    const tmp = tempDir();
    const copy = tempDir();
    try {
      const store = await openStore({ data: tmp.dir });
      const events = Array.from({ length: 40 }, (_, i) => ({
        tenant: 'acme',
        action: 'a.b',
        actor: { id: `u-${i}` },
      }));
      const [outcome] = await store.append([prepareEvents({ events }, testEnricher())]);
      expect(outcome?.ok).toBe(true);
      // The database file alone, without its WAL: what has been checkpointed, and nothing else.
      const inFile = () => {
        copyFileSync(sqlitePath(tmp.dir), join(copy.dir, 'alone.db'));
        const db = new Database(join(copy.dir, 'alone.db'), { readonly: true });
        try {
          const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'events'");
          if (tables.pluck().get() === 0) return 0;
          return db.prepare('SELECT count(*) FROM events').pluck().get() as number;
        } finally {
          db.close();
        }
      };
      const deadline = Date.now() + 10_000;
      while (inFile() < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // Far below the writer's own automatic checkpoint: only the checkpointer copied them.
      expect(inFile()).toBe(40);
      await store.close();
    } finally {
      tmp.remove();
      copy.remove();
    }
  });
});
