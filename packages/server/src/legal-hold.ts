/**
 * Legal hold (issue #9): while a tenant holds, nothing of its log is pruned, erased or deleted.
 * The hold lives in the tenant's settings (`legalHold: { reason, since }`); it is placed and
 * lifted only through these functions (the `legal-hold` routes and CLI), which the settings
 * route leaves alone, by compare-and-set (`Store.updateTenantSettings`).
 */
import type { LegalHold } from '@hindsight/core';
import type { PendingAudit, Store } from './store/types.js';

/**
 * The tenant's legal hold, or `null` when it holds none: what it is now, for showing. Whatever
 * removes events reads the hold in its own transaction instead (`Store.prune`, `erase`,
 * `redact`, `dropExpiredMonths`), so that a hold placed meanwhile is never missed.
 * @example (await legalHoldOf(store, 'acme'))?.reason
 */
export async function legalHoldOf(store: Store, tenant: string): Promise<LegalHold | null> {
  return (await store.tenantSettings(tenant)).settings.legalHold ?? null;
}

/**
 * Places a hold (or replaces its reason, keeping its `since`), and answers it. `audit` gives
 * the change's `audit` entry, which the store keeps with the change (`PendingAudit`).
 * @example await placeLegalHold(store, 'acme', 'Litigation 2026-114')
 */
export async function placeLegalHold(
  store: Store,
  tenant: string,
  reason: string,
  audit?: (hold: LegalHold, placed: boolean) => PendingAudit | null,
): Promise<{ hold: LegalHold; placed: boolean; audit: PendingAudit | null }> {
  const now = new Date().toISOString();
  const update = await store.updateTenantSettings(
    tenant,
    (settings) => ({
      ...settings,
      legalHold: { reason, since: settings.legalHold?.since ?? now },
    }),
    audit && ((u) => entries(audit(u.after.settings.legalHold as LegalHold, !u.before.legalHold))),
  );
  return {
    hold: update.after.settings.legalHold as LegalHold,
    placed: update.before.legalHold === undefined,
    audit: update.audit[0] ?? null,
  };
}

/**
 * Lifts the tenant's hold; answers the hold lifted (`null` when there was none), and the
 * `audit` entry `audit` gave for it, which the store keeps with the change (`PendingAudit`).
 */
export async function liftLegalHold(
  store: Store,
  tenant: string,
  audit?: (lifted: LegalHold) => PendingAudit | null,
): Promise<{ lifted: LegalHold | null; audit: PendingAudit | null }> {
  const update = await store.updateTenantSettings(
    tenant,
    (settings) => {
      if (settings.legalHold === undefined) return settings;
      const { legalHold: _lifted, ...rest } = settings;
      return rest;
    },
    audit && ((u) => entries(audit(u.before.legalHold as LegalHold))),
  );
  return { lifted: update.before.legalHold ?? null, audit: update.audit[0] ?? null };
}

/** An entry, or none, as the store takes them. */
function entries(entry: PendingAudit | null): PendingAudit[] {
  return entry ? [entry] : [];
}
