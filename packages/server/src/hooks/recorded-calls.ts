/**
 * The webhook calls this server recorded, by signature, for as long as their signature is
 * taken: a signature seen again on the same call (the provider retrying one whose answer it did
 * not get) is recorded again, which the events' ids make harmless; on another call — other
 * events, or another `?tenant=` — it is a replay, refused. Kept in memory: each server of
 * several, and a server after a restart, knows only the calls it recorded itself.
 */
import { createHash } from 'node:crypto';
import { badSignature, type HookProvider } from './shared.js';

/** The most calls remembered; past it, the oldest are forgotten first. */
const MAX_CALLS = 100_000;

export class RecordedCalls {
  readonly #calls = new Map<string, { readonly call: string; readonly untilMs: number }>();

  /**
   * Takes `signature` for the call to `url` with `body`; throws `invalid_signature` when it was
   * taken for another call. Returns a function that gives it back (the call was not recorded).
   * @example const release = calls.claim('mailgun', result.signature, url, body, Date.now());
   */
  claim(
    provider: HookProvider,
    signature: { readonly key: string; readonly untilMs: number },
    url: string,
    body: Buffer,
    nowMs: number,
  ): () => void {
    this.#forget(nowMs);
    const call = createHash('sha256').update(url).update('\n').update(body).digest('base64');
    const taken = this.#calls.get(signature.key);
    if (taken !== undefined) {
      if (taken.call !== call) {
        throw badSignature(
          provider,
          'this signature was used already, on another call (a replay of a signed call)',
        );
      }
      return () => {};
    }
    this.#calls.set(signature.key, { call, untilMs: signature.untilMs });
    return () => {
      if (this.#calls.get(signature.key)?.call === call) this.#calls.delete(signature.key);
    };
  }

  /** Forgets the calls whose signature is too old to be taken anyway, and the oldest past the cap. */
  #forget(nowMs: number): void {
    for (const [key, { untilMs }] of this.#calls) {
      if (untilMs >= nowMs && this.#calls.size < MAX_CALLS) break;
      this.#calls.delete(key);
    }
  }
}
