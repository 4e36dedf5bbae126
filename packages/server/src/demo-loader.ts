/**
 * Loads the demo tenant through the same validation and preparation as the API.
 */
import { LIMITS } from '@hindsight/core';
import { DEMO_TENANT, demoEvents } from './demo.js';
import type { Enricher } from './enrich.js';
import { prepareEvents } from './ingest.js';
import type { Store } from './store/types.js';

/**
 * Stores the demo tenant's events when that tenant has none; returns how many were stored.
 * @example await loadDemo(store, enricher) // 838 on first start, 0 after
 */
export async function loadDemo(
  store: Store,
  enricher: Enricher,
  now = new Date(),
): Promise<number> {
  const existing = await store.queryEvents(DEMO_TENANT, { clauses: [], limit: 1, order: 'desc' });
  if (existing.events.length > 0) return 0;
  const events = demoEvents(now);
  for (let i = 0; i < events.length; i += LIMITS.batch) {
    const prepared = prepareEvents({ events: events.slice(i, i + LIMITS.batch) }, enricher, now);
    const [outcome] = await store.append([prepared]);
    if (!outcome?.ok) throw outcome?.error ?? new Error('demo batch was not stored');
  }
  return events.length;
}
