/**
 * Server-assigned event ids (ULIDs) and a pooled source of secure random bytes: drawing
 * randomness 4 KiB at a time keeps ids and salts off the ingest hot path.
 */
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `n` cryptographically secure random bytes, served from a pool refilled by `randomBytes`.
 * The returned buffer is a view: copy it if it must outlive the next call.
 */
export function secureRandom(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = randomBytes(Math.max(4096, n));
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

let lastMs = -1;
let lastRandom: [number, number] = [0, 0];

function base32(value: number, chars: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < chars; i++) {
    out = CROCKFORD.charAt(v % 32) + out;
    v = Math.floor(v / 32);
  }
  return out;
}

/**
 * A monotonic ULID: 48-bit millisecond time then 80 random bits, in Crockford base32 (26
 * characters). Within one millisecond the random part counts up from its first value, so ids
 * made by this process sort in creation order and land next to each other in an index.
 * @example newUlid(Date.now()) // '01JD3Y8Z6Q9V7X2M4N5P6R7S8T'
 */
export function newUlid(ms: number): string {
  if (ms === lastMs) {
    // Add one to the 80-bit random part, kept as two 40-bit halves.
    lastRandom =
      lastRandom[1] === 2 ** 40 - 1 ? [lastRandom[0] + 1, 0] : [lastRandom[0], lastRandom[1] + 1];
  } else {
    const bytes = secureRandom(10);
    const half = (from: number) => {
      let v = 0;
      for (let i = from; i < from + 5; i++) v = v * 256 + (bytes[i] ?? 0);
      return v;
    };
    // The top bit stays clear so that a millisecond has room for 2^79 increments.
    lastRandom = [half(0) % 2 ** 39, half(5)];
    lastMs = ms;
  }
  return base32(ms, 10) + base32(lastRandom[0], 8) + base32(lastRandom[1], 8);
}
