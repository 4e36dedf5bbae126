import Database from 'better-sqlite3';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';
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
