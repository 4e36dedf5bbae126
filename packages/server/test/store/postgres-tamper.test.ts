import pg from 'pg';
import { openStore } from '../../src/store/index.js';
import { providedPostgres, testDatabase } from '../postgres.js';
import { type TamperHarness, tamperSuite } from './tamper.js';

async function open(url: string): Promise<TamperHarness> {
  const db = await testDatabase(url);
  const store = await openStore({ databaseUrl: db.url });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const sql = async (text: string, params: unknown[] = []) => {
    let n = 0;
    return (
      await client.query(
        text.replace(/\?/g, () => `$${++n}`),
        params,
      )
    ).rows;
  };
  const cleanup = async () => {
    await client.end();
    await store.close();
    await db.drop();
  };
  return { store, dialect: 'postgres', sql, cleanup };
}

const server = providedPostgres();
tamperSuite('postgres', 'skip' in server ? server.skip : () => open(server.url));
