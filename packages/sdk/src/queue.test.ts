import { describe, expect, it } from 'vitest';
import { type Entry, EventQueue } from './queue.js';

const entry = (n: number, bytes = 10): Entry => ({ json: `{"n":${n}}`, bytes, n, segment: null });

describe('EventQueue', () => {
  it('hands out batches bounded by count and bytes, always at least one', () => {
    const queue = new EventQueue();
    for (let n = 1; n <= 10; n++) queue.push(entry(n, n === 4 ? 100 : 10));
    expect(queue.take(2, 1000).map((e) => e.n)).toEqual([1, 2]);
    // 3 (11 bytes with its comma) fits in 50; 4 (101) does not.
    expect(queue.take(10, 50).map((e) => e.n)).toEqual([3]);
    expect(queue.take(10, 50).map((e) => e.n)).toEqual([4]);
    expect(queue.length).toBe(6);
    expect(queue.bytes).toBe(60);
  });

  it('takes a batch back at its front, in order', () => {
    const queue = new EventQueue();
    for (let n = 1; n <= 5; n++) queue.push(entry(n));
    const batch = queue.take(3, 1000);
    queue.push(entry(6));
    queue.unshiftAll(batch);
    expect(queue.take(100, 10_000).map((e) => e.n)).toEqual([1, 2, 3, 4, 5, 6]);
    queue.unshiftAll([entry(7), entry(8)]);
    expect(queue.shift()?.n).toBe(7);
    expect(queue.length).toBe(1);
    expect(queue.bytes).toBe(10);
  });
});
