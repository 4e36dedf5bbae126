/**
 * The last step of an admin change's `audit` entry (`PendingAudit`): kept by the store with the
 * change, it is appended to its tenant's log, then forgotten. Should the process stop between
 * the two, appending it again stores nothing new (its id is its idempotency key).
 */
import type { EventInput } from '@hindsight/core';
import type { PendingAudit, Store } from './store/types.js';

/**
 * The description of an `audit` entry from what was done (`viewed the logins log` → `Viewed the
 * logins log`). It names no one: the event's actor does, which an erasure can reach, where a
 * name written into a description would stay (erasure.md).
 */
export function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Appends a pending entry through `record` (the ingest path) and removes it from the store.
 * @example await appendPendingAudit(store, record, entry)
 */
export async function appendPendingAudit(
  store: Store,
  record: (event: EventInput) => Promise<void>,
  entry: PendingAudit,
): Promise<void> {
  await record(entry);
  await store.removePendingAudit(entry.tenant, entry.id);
}
