/** What the `hindsight` commands share. */
import { type StoreLocation, sqliteFile } from './store/index.js';
import type { Store } from './store/types.js';

/** A mistake in how a `hindsight` command was called: its message, the usage, exit code 2. */
export class UsageError extends Error {}

/** The flags that name a store, for `parseArgs`. */
export const storeOptions = {
  data: { type: 'string' },
  'database-url': { type: 'string' },
} as const;

/** The store the flags, or else `HINDSIGHT_DATABASE_URL` and `HINDSIGHT_DATA`, name. */
export function storeLocation(values: { data?: string; 'database-url'?: string }): StoreLocation {
  if (values.data !== undefined && values['database-url'] !== undefined) {
    throw new UsageError('Give either --data or --database-url, not both.');
  }
  const databaseUrl = values['database-url'] ?? process.env['HINDSIGHT_DATABASE_URL'];
  const data = values.data ?? process.env['HINDSIGHT_DATA'];
  const location = { ...(databaseUrl ? { databaseUrl } : {}), ...(data ? { data } : {}) };
  if (databaseUrl) {
    // Checked before anything is made; the URL itself is not shown (it may hold a password).
    const flag = values['database-url'] === undefined ? 'HINDSIGHT_DATABASE_URL' : '--database-url';
    if (!URL.canParse(databaseUrl)) {
      throw new UsageError(
        `Invalid ${flag}: it is not a URL. Give postgres://USER:PASSWORD@HOST:5432/DATABASE ` +
          '(with any special character of the password percent-encoded), or sqlite:/path/to/hindsight.db.',
      );
    }
    try {
      sqliteFile(location);
    } catch (error) {
      throw new UsageError(`Invalid ${flag}: ${(error as Error).message}`);
    }
  }
  return location;
}

/**
 * Runs `work` on the store at `location`, and closes it (loaded only when a command needs it:
 * `verify` must not load a database client).
 */
export async function withStore<T>(
  location: StoreLocation,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const { openStore } = await import('./store/index.js');
  const store = await openStore(location);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
