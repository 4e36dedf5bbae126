/**
 * When to try again: exponential backoff with jitter, and the server's `Retry-After`.
 */

/**
 * The delay before retry number `attempt` (1 for the first): a random time between half and
 * all of `min(maxDelayMs, initialDelayMs × 2^(attempt − 1))`, so that many clients that failed
 * together do not come back together.
 * @example backoffDelay(3, 250, 30_000) // between 500 and 1000
 */
export function backoffDelay(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The wait a `Retry-After` header asks for, in ms: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3), at most {@link MAX_TIMER_MS}; `undefined` when absent or unreadable.
 * @example retryAfterMs('2') // 2000
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_TIMER_MS);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), MAX_TIMER_MS);
}

/**
 * The longest wait a Node.js timer keeps, 2^31 − 1 ms (24.8 days): a longer one fires after
 * 1 ms, which would turn a long wait into a request every millisecond.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
