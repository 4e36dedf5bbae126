import pg from 'pg';
import { openStore } from '../../src/store/index.js';
import { providedPostgres, testDatabase } from '../postgres.js';
import { storeConformance } from './conformance.js';

const server = providedPostgres();
storeConformance(
  'postgres',
  'skip' in server
    ? server.skip
    : async () => {
        const db = await testDatabase(server.url);
        const store = await openStore({ databaseUrl: db.url });
        return {
          store,
          another: () => openStore({ databaseUrl: db.url }),
          refuse: async (id) => {
            const client = new pg.Client({ connectionString: db.url });
            await client.connect();
            await client.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.id = ${client.escapeLiteral(id)} THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$`);
            await client.query(
              'CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()',
            );
            await client.end();
          },
          count: async (from) => {
            const client = new pg.Client({ connectionString: db.url });
            await client.connect();
            try {
              const { rows } = await client.query(`SELECT count(*)::integer AS n FROM ${from}`);
              return rows[0].n as number;
            } finally {
              await client.end();
            }
          },
          cleanup: async () => {
            await store.close();
            await db.drop();
          },
        };
      },
);
