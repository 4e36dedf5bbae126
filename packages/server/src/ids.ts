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

/**
 * A ULID: 48-bit millisecond time then 80 random bits, in Crockford base32 (26 characters),
 * so ids sort by creation time.
 * @example newUlid(Date.now()) // '01JD3Y8Z6Q9V7X2M4N5P6R7S8T'
 */
export function newUlid(ms: number): string {
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  const bytes = secureRandom(10);
  let random = '';
  // 80 bits = 16 characters of 5 bits, read from two 40-bit halves.
  for (let half = 0; half < 2; half++) {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 256 + (bytes[half * 5 + i] ?? 0);
    let chunk = '';
    for (let i = 0; i < 8; i++) {
      chunk = CROCKFORD.charAt(v % 32) + chunk;
      v = Math.floor(v / 32);
    }
    random += chunk;
  }
  return time + random;
}
