/**
 * The webhook calls recorded, by signature, for as long as their signature is taken: a
 * signature seen again on the same call (the provider retrying one whose answer it did not get)
 * is recorded again, which the events' ids make harmless; on another call — other events, or
 * another `?tenant=` — it is a replay, refused. Kept in the store (`Store.claimHookSignature`,
 * table `hook_signatures`): every server on the database, and a server after a restart, knows
 * the calls any of them recorded.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/types.js';
import { badSignature, type HookProvider } from './shared.js';

export class RecordedCalls {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Takes `signature` for the call to `url` with `body`; throws `invalid_signature` when it was
   * taken for another call. Resolves a function that gives it back (the call was not recorded).
   * @example const release = await calls.claim('mailgun', result.signature, url, body, Date.now());
   */
  async claim(
    provider: HookProvider,
    signature: { readonly key: string; readonly untilMs: number },
    url: string,
    body: Buffer,
    nowMs: number,
  ): Promise<() => Promise<void>> {
    const call = createHash('sha256').update(url).update('\n').update(body).digest('base64');
    const claim = { provider, key: signature.key, call, untilMs: signature.untilMs };
    const outcome = await this.#store.claimHookSignature(claim, nowMs);
    if (outcome === 'other_call') {
      throw badSignature(
        provider,
        'this signature was used already, on another call (a replay of a signed call)',
      );
    }
    // Taken already for this call, by a call that may have been recorded: kept.
    if (outcome === 'same_call') return async () => {};
    return async () => {
      // Should the store not give it back, it stays taken for this call until it expires: the
      // provider's retries of the call are still recorded.
      await this.#store.releaseHookSignature(claim).catch(() => {});
    };
  }
}
