import { describe, expect, it } from 'vitest';
import { newUlid, secureRandom } from './ids.js';

describe('newUlid', () => {
  it('encodes the time in the first 10 characters, sortably', () => {
    expect(newUlid(0).slice(0, 10)).toBe('0000000000');
    expect(newUlid(1469918176385).slice(0, 10)).toBe('01ARYZ6S41'); // the ULID spec's example
    const ids = [1, 2, 1000, 1e12, 2 ** 48 - 1].map(newUlid);
    expect(ids.slice().sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('counts up within a millisecond, so ids sort in creation order', () => {
    const ids = Array.from({ length: 10_000 }, () => newUlid(5));
    expect(new Set(ids).size).toBe(10_000);
    expect(ids.slice().sort()).toEqual(ids);
  });

  it('draws fresh randomness for each millisecond', () => {
    const a = newUlid(10).slice(10);
    const b = newUlid(11).slice(10);
    const c = newUlid(12).slice(10);
    expect(new Set([a, b, c]).size).toBe(3);
  });
});

describe('secureRandom', () => {
  it('never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(secureRandom(16).toString('hex'));
    expect(seen.size).toBe(2000);
    expect(secureRandom(10_000)).toHaveLength(10_000);
  });
});
