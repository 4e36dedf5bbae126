/**
 * Tenant settings and viewer-token revocations (issue #8), and the audit entries of admin
 * changes still to be appended (`audit_outbox`), stored alike by SQLite and PostgreSQL: the same
 * tables and statements, written with `?` placeholders (PostgreSQL's store numbers them, see
 * {@link numberPlaceholders}).
 */
import { type TenantSettings, validateEvent } from '@hindsight/core';
import { HindsightError } from '../errors.js';
import type {
  ErasureResult,
  PendingAudit,
  RedactionResult,
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

/**
 * The audit entries of admin changes, each written in the change's own transaction and deleted
 * once it is in the tenant's log (`Store.pendingAudits`): so a change is never left unrecorded,
 * whatever stops the server between the two writes. `ready_ms`: from when a drain may append
 * it (when it was kept; for the parts of a retention run in progress, a while later).
 */
export const AUDIT_OUTBOX_TABLE = `
CREATE TABLE IF NOT EXISTS audit_outbox (
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  event TEXT NOT NULL,
  ready_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant, id)
);`;

/**
 * How long the parts of a retention run's entry wait for the run to make them one entry: each
 * step holds the run's parts that long again, so drains leave a run in progress alone, and take
 * the parts of a run that stopped (the process ended) that long after its last step.
 */
export const PART_HOLD_MS = 15 * 60_000;

/** Keeps an entry: tenant, id, the event (JSON), when (ms). */
export const OUTBOX_INSERT_SQL =
  'INSERT INTO audit_outbox (tenant, id, event, ready_ms) VALUES (?, ?, ?, ?)';

/** Holds the parts of a run's entry (`<prefix>.<part>`) until a time (ms). */
export const HOLD_PARTS_SQL = 'UPDATE audit_outbox SET ready_ms = ? WHERE tenant = ? AND id LIKE ?';

/** Runs one statement with `?` placeholders and resolves its rows. */
export type RunSql = <R extends object>(sql: string, params: unknown[]) => Promise<R[]>;

/** A statement of a {@link RunTransaction}. */
export interface TransactionStep {
  readonly sql: string;
  readonly params: unknown[];
  /**
   * The transaction is rolled back, and answers false, when this statement returns (or, without
   * `RETURNING`, changes) no row.
   */
  readonly required?: boolean;
}

/** Runs statements in order in one transaction; resolves false when it was rolled back. */
export type RunTransaction = (steps: readonly TransactionStep[]) => Promise<boolean>;

/**
 * The statement that keeps an admin change's audit entry until it is in the log; `done`, what
 * the change did, is added to the entry's metadata; a drain may take it from `readyMs` on.
 */
export function pendingAuditStep(
  audit: PendingAudit,
  done?: Record<string, unknown>,
  readyMs = Date.now(),
): TransactionStep {
  const entry = done ? { ...audit, metadata: { ...audit.metadata, ...done } } : audit;
  return {
    sql: OUTBOX_INSERT_SQL,
    params: [audit.tenant, audit.id, appendable(entry), readyMs],
  };
}

/**
 * The JSON of an entry the log will take. An entry the log would refuse is never kept: it would
 * stay pending for ever and its change unrecorded, so the change is refused instead (thrown
 * before, or inside, the change's transaction), with the log's reason.
 */
function appendable(entry: PendingAudit): string {
  const issues = validateEvent(entry, { now: new Date() });
  if (issues.length > 0) {
    const [first] = issues;
    throw new HindsightError(
      'invalid_request',
      `This change cannot be recorded in the audit log (its entry's ${first?.path || '/'} ` +
        `${first?.message}); nothing was changed.`,
      { details: issues.map(({ path, message }) => ({ path: `/audit${path}`, message })) },
    );
  }
  return JSON.stringify(entry);
}

/** The statement keeping an erasure's entry (`Store.erase`), with how many events and values. */
export function erasureAuditStep(audit: PendingAudit, result: ErasureResult): TransactionStep {
  return pendingAuditStep(audit, { events: result.events, values: result.values });
}

/**
 * The statement keeping a deletion's entry (`Store.redact`), with how many events and their
 * seqs; `null` when it deleted none (nothing to record).
 */
export function deletionAuditStep(
  audit: PendingAudit,
  result: RedactionResult,
): TransactionStep | null {
  if (result.deleted.length === 0) return null;
  return pendingAuditStep(audit, {
    events: result.deleted.length,
    seqs: result.deleted.map((d) => d.seq),
  });
}

/**
 * The statements keeping a retention step's part of its run's entry (`Store.prune`,
 * `dropExpiredMonths`), with what it removed, and holding the run's parts another
 * {@link PART_HOLD_MS}; `null` when it removed nothing.
 */
export function pruneAuditSteps(
  audit: PendingAudit,
  byCategory: Readonly<Record<string, number>>,
): { readonly part: TransactionStep; readonly hold: TransactionStep } | null {
  const removed = Object.values(byCategory).reduce((a, b) => a + b, 0);
  if (removed === 0) return null;
  const until = Date.now() + PART_HOLD_MS;
  const prefix = audit.id.slice(0, audit.id.lastIndexOf('.'));
  return {
    part: pendingAuditStep(audit, { removed, byCategory: { ...byCategory } }, until),
    hold: { sql: HOLD_PARTS_SQL, params: [until, audit.tenant, partsPattern(prefix)] },
  };
}

/** A tenant's pending parts of one entry: their ids are `<prefix>.<part>`. */
export const PARTS_SQL =
  'SELECT event FROM audit_outbox WHERE tenant = ? AND id LIKE ? ORDER BY ready_ms, id';
export const DELETE_PARTS_SQL = 'DELETE FROM audit_outbox WHERE tenant = ? AND id LIKE ?';

/** The `LIKE` pattern of the parts of entry `prefix` (a ULID: no `LIKE` wildcard in it). */
export function partsPattern(prefix: string): string {
  return `${prefix}.%`;
}

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
  transaction: RunTransaction,
  tenant: string,
  change: (settings: TenantSettings) => TenantSettings,
  audit?: (update: TenantSettingsUpdate) => readonly PendingAudit[],
): Promise<TenantSettingsUpdate & { readonly audit: readonly PendingAudit[] }> {
  for (let attempt = 1; attempt <= SETTINGS_ATTEMPTS; attempt++) {
    const [row] = await run<{ settings: string; updated_at: string }>(SETTINGS_SQL, [tenant]);
    const before = row ? (JSON.parse(row.settings) as TenantSettings) : {};
    const after = change(before);
    if (after === before) {
      const settings = { settings: before, updatedAt: row?.updated_at ?? null };
      return { before, after: settings, audit: [] };
    }
    const update = { before, after: { settings: after, updatedAt: new Date().toISOString() } };
    const entries = audit?.(update) ?? [];
    // A row inserted meanwhile by another writer matches no stored text: ''.
    const write: TransactionStep = {
      sql:
        'INSERT INTO tenant_settings (tenant, settings, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings, ' +
        'updated_at = excluded.updated_at WHERE tenant_settings.settings = ? RETURNING tenant',
      params: [tenant, JSON.stringify(after), update.after.updatedAt, row?.settings ?? ''],
      required: true,
    };
    if (await transaction([write, ...entries.map((entry) => pendingAuditStep(entry))])) {
      return { ...update, audit: entries };
    }
  }
  throw new Error(
    `The settings of tenant "${tenant}" changed under ${SETTINGS_ATTEMPTS} attempts in a row to change them.`,
  );
}

export async function revokeViewerTokens(
  transaction: RunTransaction,
  r: ViewerRevocation,
  audit?: PendingAudit,
): Promise<void> {
  const [kind, value] = 'tokenId' in r ? ['token', r.tokenId] : ['viewer', r.viewerId];
  await transaction([
    // Revocations whose tokens have all expired name nothing any more.
    { sql: 'DELETE FROM viewer_revocations WHERE expires_at_ms < ?', params: [r.revokedAtMs] },
    {
      sql:
        'INSERT INTO viewer_revocations (tenant, kind, value, revoked_at_ms, expires_at_ms) ' +
        'VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, kind, value) DO UPDATE SET ' +
        'revoked_at_ms = CASE WHEN excluded.revoked_at_ms > viewer_revocations.revoked_at_ms ' +
        'THEN excluded.revoked_at_ms ELSE viewer_revocations.revoked_at_ms END, ' +
        'expires_at_ms = CASE WHEN excluded.expires_at_ms > viewer_revocations.expires_at_ms ' +
        'THEN excluded.expires_at_ms ELSE viewer_revocations.expires_at_ms END',
      params: [r.tenant, kind, value, r.revokedAtMs, r.expiresAtMs],
    },
    ...(audit ? [pendingAuditStep(audit)] : []),
  ]);
}

/** The audit entries still to be appended that were kept before `before` (ms), oldest first. */
export async function pendingAudits(
  run: RunSql,
  before: number,
  limit: number,
): Promise<PendingAudit[]> {
  const rows = await run<{ event: string }>(
    'SELECT event FROM audit_outbox WHERE ready_ms < ? ORDER BY ready_ms, tenant, id LIMIT ?',
    [before, limit],
  );
  return rows.map((row) => JSON.parse(row.event) as PendingAudit);
}

export async function removePendingAudit(run: RunSql, tenant: string, id: string): Promise<void> {
  await run('DELETE FROM audit_outbox WHERE tenant = ? AND id = ?', [tenant, id]);
}

/** Replaces a pending entry (same tenant and id); false when it is not pending any more. */
export async function replacePendingAudit(run: RunSql, entry: PendingAudit): Promise<boolean> {
  const rows = await run(
    'UPDATE audit_outbox SET event = ? WHERE tenant = ? AND id = ? RETURNING id',
    [appendable(entry), entry.tenant, entry.id],
  );
  return rows.length === 1;
}

export async function viewerTokenRevoked(run: RunSql, token: ViewerTokenRef): Promise<boolean> {
  const rows = await run(
    'SELECT 1 AS revoked FROM viewer_revocations WHERE tenant = ? AND ' +
      "((kind = 'token' AND value = ?) OR (kind = 'viewer' AND value = ? AND revoked_at_ms >= ?))",
    [token.tenant, token.tokenId, token.viewerId, token.issuedAtMs],
  );
  return rows.length > 0;
}
