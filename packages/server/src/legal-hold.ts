/**
 * Legal hold (issue #9): while a tenant holds, nothing of its log is pruned, erased or deleted.
 * The hold lives in the tenant's settings (`legalHold: { reason, since }`); it is placed and
 * lifted only through these functions (the `legal-hold` routes and CLI), which the settings
 * route leaves alone, by compare-and-set (`Store.updateTenantSettings`).
 */
import type { LegalHold } from '@hindsight/core';
import type { Store } from './store/types.js';

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
 * Places a hold (or replaces its reason, keeping its `since`), and answers it.
 * @example await placeLegalHold(store, 'acme', 'Litigation 2026-114')
 */
export async function placeLegalHold(
  store: Store,
  tenant: string,
  reason: string,
  now = new Date(),
): Promise<{ hold: LegalHold; placed: boolean }> {
  const { before, after } = await store.updateTenantSettings(tenant, (settings) => ({
    ...settings,
    legalHold: { reason, since: settings.legalHold?.since ?? now.toISOString() },
  }));
  return { hold: after.settings.legalHold as LegalHold, placed: before.legalHold === undefined };
}

/** Lifts the tenant's hold; answers the hold lifted, or `null` when there was none. */
export async function liftLegalHold(store: Store, tenant: string): Promise<LegalHold | null> {
  const { before } = await store.updateTenantSettings(tenant, (settings) => {
    if (settings.legalHold === undefined) return settings;
    const { legalHold: _lifted, ...rest } = settings;
    return rest;
  });
  return before.legalHold ?? null;
}
