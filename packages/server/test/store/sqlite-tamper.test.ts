import Database from 'better-sqlite3';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';
import { tamperSuite } from './tamper.js';

tamperSuite('sqlite', async () => {
  const tmp = tempDir();
  const store = await openStore({ data: tmp.dir });
  const db = new Database(sqlitePath(tmp.dir));
  db.pragma('busy_timeout = 10000');
  return {
    store,
    dialect: 'sqlite',
    sql: async (text, params = []) => {
      const stmt = db.prepare(text);
      if (stmt.reader) return stmt.all(...params) as Array<Record<string, unknown>>;
      stmt.run(...params);
      return [];
    },
    cleanup: async () => {
      db.close();
      await store.close();
      tmp.remove();
    },
  };
});
