/**
 * Taking a lease (`Store.claimLease`): one statement, so that two servers claiming at once
 * cannot both get it. It inserts the lease, or takes over one that expired by the given time or
 * that the holder has already; otherwise it changes nothing. Parameters, in order: name,
 * holder, until (ms since the epoch), now (ms).
 */
export const CLAIM_LEASE_SQL =
  'INSERT INTO leases (name, holder, until_ms) VALUES (?, ?, ?) ' +
  'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms ' +
  'WHERE leases.until_ms <= ? OR leases.holder = excluded.holder';

/** SQLite's `?` parameters as PostgreSQL's numbered ones. */
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** {@link CLAIM_LEASE_SQL} with PostgreSQL's numbered parameters, returning the lease taken. */
export const CLAIM_LEASE_PG = `${numbered(CLAIM_LEASE_SQL)} RETURNING name`;

/**
 * Giving a lease back (`Store.releaseLease`): only its holder's, so that a server that lost it
 * to another (it expired) never frees the other's. Parameters: name, holder.
 */
export const RELEASE_LEASE_SQL = 'DELETE FROM leases WHERE name = ? AND holder = ?';

/** {@link RELEASE_LEASE_SQL} with PostgreSQL's numbered parameters. */
export const RELEASE_LEASE_PG = numbered(RELEASE_LEASE_SQL);
