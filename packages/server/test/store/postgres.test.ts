import { openStore } from '../../src/store/index.js';
import { providedPostgres, testDatabase } from '../postgres.js';
import { storeConformance } from './conformance.js';

const pg = providedPostgres();
storeConformance(
  'postgres',
  'skip' in pg
    ? pg.skip
    : async () => {
        const db = await testDatabase(pg.url);
        const store = await openStore({ databaseUrl: db.url });
        const another = () => openStore({ databaseUrl: db.url });
        return {
          store,
          another,
          cleanup: async () => {
            await store.close();
            await db.drop();
          },
        };
      },
);
