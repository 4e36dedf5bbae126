/**
 * Tenant settings and viewer-token revocations (issue #8), stored alike by SQLite and
 * PostgreSQL: the same tables and statements, written with `?` placeholders (PostgreSQL's store
 * numbers them, see {@link numberPlaceholders}).
 */
import type { TenantSettings } from '@hindsight/core';
import type {
  StoredTenantSettings,
  TenantSettingsUpdate,
  ViewerRevocation,
  ViewerTokenRef,
} from './types.js';

/** The tables, in SQL both databases take. */
export const ACCESS_TABLES = `
CREATE TABLE IF NOT EXISTS tenant_settings (
  tenant TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS viewer_revocations (
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  revoked_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant, kind, value)
);`;

/** Runs one statement with `?` placeholders and resolves its rows. */
export type RunSql = <R extends object>(sql: string, params: unknown[]) => Promise<R[]>;

/** `?` placeholders as PostgreSQL's `$1`, `$2`, …. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replaceAll('?', () => `$${++n}`);
}

/** A tenant's settings row. */
const SETTINGS_SQL = 'SELECT settings, updated_at FROM tenant_settings WHERE tenant = ?';

export async function tenantSettings(run: RunSql, tenant: string): Promise<StoredTenantSettings> {
  const [row] = await run<{ settings: string; updated_at: string }>(SETTINGS_SQL, [tenant]);
  return row
    ? { settings: JSON.parse(row.settings) as TenantSettings, updatedAt: row.updated_at }
    : { settings: {}, updatedAt: null };
}

export async function putTenantSettings(
  run: RunSql,
  tenant: string,
  settings: TenantSettings,
): Promise<StoredTenantSettings> {
  const updatedAt = new Date().toISOString();
  await run(
    'INSERT INTO tenant_settings (tenant, settings, updated_at) VALUES (?, ?, ?) ' +
      'ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings, ' +
      'updated_at = excluded.updated_at',
    [tenant, JSON.stringify(settings), updatedAt],
  );
  return { settings, updatedAt };
}

/** How often {@link updateTenantSettings} reads again after losing a race, before it gives up. */
const SETTINGS_ATTEMPTS = 50;

/**
 * Changes a tenant's settings by compare-and-set: the new settings are written only if the
 * stored ones are still those `change` was given; else `change` runs again on the newer ones.
 * So a change made meanwhile by another request, server or the CLI is never overwritten.
 * `change` returning its argument itself writes nothing.
 */
export async function updateTenantSettings(
  run: RunSql,
  tenant: string,
  change: (settings: TenantSettings) => TenantSettings,
): Promise<TenantSettingsUpdate> {
  for (let attempt = 1; attempt <= SETTINGS_ATTEMPTS; attempt++) {
    const [row] = await run<{ settings: string; updated_at: string }>(SETTINGS_SQL, [tenant]);
    const before = row ? (JSON.parse(row.settings) as TenantSettings) : {};
    const after = change(before);
    if (after === before) {
      return { before, after: { settings: before, updatedAt: row?.updated_at ?? null } };
    }
    const updatedAt = new Date().toISOString();
    // A row inserted meanwhile by another writer matches no stored text: ''.
    const written = await run(
      'INSERT INTO tenant_settings (tenant, settings, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings, ' +
        'updated_at = excluded.updated_at WHERE tenant_settings.settings = ? RETURNING tenant',
      [tenant, JSON.stringify(after), updatedAt, row?.settings ?? ''],
    );
    if (written.length === 1) return { before, after: { settings: after, updatedAt } };
  }
  throw new Error(
    `The settings of tenant "${tenant}" changed under ${SETTINGS_ATTEMPTS} attempts in a row to change them.`,
  );
}

export async function revokeViewerTokens(run: RunSql, r: ViewerRevocation): Promise<void> {
  const [kind, value] = 'tokenId' in r ? ['token', r.tokenId] : ['viewer', r.viewerId];
  // Revocations whose tokens have all expired name nothing any more.
  await run('DELETE FROM viewer_revocations WHERE expires_at_ms < ?', [r.revokedAtMs]);
  await run(
    'INSERT INTO viewer_revocations (tenant, kind, value, revoked_at_ms, expires_at_ms) ' +
      'VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, kind, value) DO UPDATE SET ' +
      'revoked_at_ms = CASE WHEN excluded.revoked_at_ms > viewer_revocations.revoked_at_ms ' +
      'THEN excluded.revoked_at_ms ELSE viewer_revocations.revoked_at_ms END, ' +
      'expires_at_ms = CASE WHEN excluded.expires_at_ms > viewer_revocations.expires_at_ms ' +
      'THEN excluded.expires_at_ms ELSE viewer_revocations.expires_at_ms END',
    [r.tenant, kind, value, r.revokedAtMs, r.expiresAtMs],
  );
}

export async function viewerTokenRevoked(run: RunSql, token: ViewerTokenRef): Promise<boolean> {
  const rows = await run(
    'SELECT 1 AS revoked FROM viewer_revocations WHERE tenant = ? AND ' +
      "((kind = 'token' AND value = ?) OR (kind = 'viewer' AND value = ? AND revoked_at_ms >= ?))",
    [token.tenant, token.tokenId, token.viewerId, token.issuedAtMs],
  );
  return rows.length > 0;
}
