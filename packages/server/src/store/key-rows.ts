/**
 * How an API key is kept in a table, the same in every store: the `api_keys` columns, in the
 * order of {@link KEY_COLUMNS}.
 */
import type { ApiKeyRecord } from './types.js';

export const KEY_COLUMNS = 'id, name, secret_hash, scopes, tenant, created_at, revoked_at';

/** An `api_keys` row as a driver returns it. */
export interface KeyRow {
  id: string;
  name: string;
  secret_hash: Buffer;
  scopes: string;
  tenant: string | null;
  created_at: string;
  revoked_at: string | null;
}

/** The values of a key's row, in the order of {@link KEY_COLUMNS}. */
export function keyParams(key: ApiKeyRecord): unknown[] {
  return [
    key.id,
    key.name,
    key.secretHash,
    JSON.stringify(key.scopes),
    key.tenant,
    key.createdAt,
    key.revokedAt,
  ];
}

/** The key a row holds. */
export function keyRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    scopes: JSON.parse(row.scopes) as string[],
    tenant: row.tenant,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
