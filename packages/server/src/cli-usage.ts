/** What the `hindsight` commands share. */
import type { StoreLocation } from './store/index.js';
import type { Store } from './store/types.js';

/** A mistake in how a `hindsight` command was called: its message, the usage, exit code 2. */
export class UsageError extends Error {}

/**
 * Runs `work` on the store at `location`, and closes it (loaded only when a command needs it:
 * `verify` must not load a database client).
 */
export async function withStore<T>(
  location: StoreLocation,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const { openStore } = await import('./store/index.js');
  const store = await openStore(location);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
