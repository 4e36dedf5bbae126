/**
 * The store factory: the only place that knows which backends exist.
 */
import { join, resolve } from 'node:path';
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
 * Opens the store a location names.
 * @example const store = await openStore({ data: './hindsight-data' });
 */
export async function openStore(location: StoreLocation): Promise<Store> {
  const { databaseUrl } = location;
  let path = sqlitePath(location.data ?? 'hindsight-data');
  if (databaseUrl !== undefined && databaseUrl !== '') {
    const scheme = databaseUrl.split(':')[0];
    if (scheme !== 'sqlite' && scheme !== 'file') {
      throw new Error(
        `Unsupported database URL scheme "${scheme}:". This version stores events in embedded ` +
          'SQLite: use --data DIR (or a sqlite: URL).',
      );
    }
    path = new URL(databaseUrl).pathname;
  }
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore({ path });
}

export type * from './types.js';
