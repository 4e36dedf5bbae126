/**
 * Client-side event ids: ULIDs (48-bit time, 80 random bits, Crockford base32), so that a
 * resend of an event is recognised by the server and ids of one process sort by time, which
 * keeps the store's `(tenant, id)` index appending rather than scattering.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;
/** The time part of the last id, for the millisecond it encodes: ids come many per ms. */
let lastMs = -1;
let lastTime = '';

/**
 * A new ULID for the event recorded at `now` (ms since the epoch).
 * @example newEventId(Date.now()) // '01JDQ5ZC3K8V4W2X7Y9B6N1M0P'
 */
export function newEventId(now: number): string {
  if (poolAt + 16 > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  if (now !== lastMs) {
    let time = '';
    let t = now;
    for (let i = 0; i < 10; i++) {
      time = ALPHABET.charAt(t % 32) + time;
      t = Math.floor(t / 32);
    }
    lastMs = now;
    lastTime = time;
  }
  let random = '';
  for (let i = 0; i < 16; i++) random += ALPHABET.charAt((pool[poolAt++] ?? 0) & 31);
  return lastTime + random;
}
