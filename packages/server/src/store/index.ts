/**
 * The store factory: the only place that knows which backends exist.
 */
import { dirname, join, resolve } from 'node:path';
import type { Store } from './types.js';

/** Where events are kept: an embedded data directory, or a database URL. */
export interface StoreLocation {
  /** Directory of the embedded SQLite store (default `./hindsight-data`). */
  readonly data?: string;
  /** A database URL; when set it wins over `data`. */
  readonly databaseUrl?: string;
}

/** The embedded database file inside a data directory. */
export function sqlitePath(dataDir: string): string {
  return join(resolve(dataDir), 'hindsight.db');
}

/**
 * The embedded database file a location names: its `sqlite:` (or `file:`) URL's path, else the
 * data directory's `hindsight.db`; `null` for a PostgreSQL URL. Throws for another scheme.
 * @example sqliteFile({ data: './hindsight-data' }) // '/…/hindsight-data/hindsight.db'
 */
export function sqliteFile(location: StoreLocation): string | null {
  const { databaseUrl } = location;
  if (databaseUrl === undefined || databaseUrl === '') {
    return sqlitePath(location.data ?? 'hindsight-data');
  }
  const scheme = databaseUrl.split(':')[0];
  if (scheme === 'postgres' || scheme === 'postgresql') return null;
  if (scheme !== 'sqlite' && scheme !== 'file') {
    throw new Error(
      `Unsupported database URL scheme "${scheme}:". Use postgres://… for PostgreSQL, or ` +
        '--data DIR (or a sqlite: URL) for embedded SQLite.',
    );
  }
  return new URL(databaseUrl).pathname;
}

/**
 * Where the checkpoint signing key is kept when none is given: beside the SQLite database (in
 * the data directory, or the directory of a `sqlite:` URL's file), else — PostgreSQL — in
 * `./hindsight-data` (give every server of one database the same `--signing-key` instead).
 * @example defaultSigningKeyFile({ databaseUrl: 'sqlite:/var/lib/h/h.db' }) // '/var/lib/h/signing.key'
 */
export function defaultSigningKeyFile(location: StoreLocation): string {
  const file = location.data === undefined ? sqliteFile(location) : null;
  return file === null
    ? join(resolve(location.data ?? 'hindsight-data'), 'signing.key')
    : join(dirname(file), 'signing.key');
}

/**
 * Opens the store a location names: PostgreSQL for a `postgres://` URL, embedded SQLite for a
 * data directory or a `sqlite:` URL. Each backend's client is loaded only when it is used.
 * @example const store = await openStore({ data: './hindsight-data' });
 * @example const store = await openStore({ databaseUrl: 'postgres://localhost/hindsight' });
 */
export async function openStore(location: StoreLocation): Promise<Store> {
  const path = sqliteFile(location);
  if (path === null) {
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore({ url: location.databaseUrl as string });
  }
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore({ path });
}

export type * from './types.js';
