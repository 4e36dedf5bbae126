/**
 * Legal hold (issue #9): while a tenant holds, nothing of its log is pruned, erased or deleted.
 * The hold lives in the tenant's settings (`legalHold: { reason, since }`); it is placed and
 * lifted only through these functions (the `legal-hold` routes and CLI), which the settings
 * route leaves alone.
 */
import type { LegalHold } from '@hindsight/core';
import { HindsightError } from './errors.js';
import type { Store } from './store/types.js';

/**
 * The tenant's legal hold, or `null` when it holds none. Call it right before removing
 * anything of a tenant's log (retention, erasure, deletion).
 * @example if (await legalHoldOf(store, 'acme')) throw …
 */
export async function legalHoldOf(store: Store, tenant: string): Promise<LegalHold | null> {
  return (await store.tenantSettings(tenant)).settings.legalHold ?? null;
}

/**
 * Throws `legal_hold` when the tenant is under legal hold: for the routes that would remove
 * something of its log.
 */
export async function assertNoLegalHold(store: Store, tenant: string): Promise<void> {
  const hold = await legalHoldOf(store, tenant);
  if (hold) {
    throw new HindsightError(
      'legal_hold',
      `The log of tenant "${tenant}" is under legal hold since ${hold.since} ("${hold.reason}"): ` +
        'nothing of it may be removed until an admin lifts the hold.',
    );
  }
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
