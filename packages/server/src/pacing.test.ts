import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { PAUSE_FACTOR, Pacer, SLICE_MS, takingTurns } from './pacing.js';

/** `count` items, each after `ms` of work that never waits (as a page read from SQLite). */
async function* busyItems(count: number, ms: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // working
    }
    yield i;
  }
}

/** Consumes `items`; returns how many had been consumed when a timer set at the start fired. */
async function whenTimerFired(items: AsyncIterable<number>): Promise<number | null> {
  let consumed = 0;
  let firedAt: number | null = null;
  setTimeout(() => {
    firedAt = consumed;
  }, 0);
  for await (const _ of items) consumed++;
  return firedAt;
}

describe('takingTurns', () => {
  it('without it, items that resolve at once keep a timer (another request) waiting to the end', async () => {
    expect(await whenTimerFired(busyItems(50, 1))).toBeNull();
  });

  it('gives the event loop a turn while it hands the items on, all of them in order', async () => {
    const seen: number[] = [];
    const firedAt = await whenTimerFired(
      (async function* () {
        for await (const i of takingTurns(busyItems(50, 1))) {
          seen.push(i);
          yield i;
        }
      })(),
    );
    expect(firedAt).not.toBeNull();
    expect(firedAt).toBeLessThan(50);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('Pacer', () => {
  it('pauses once a slice of work is done, three times as long, and not before', async () => {
    const pacer = new Pacer();
    await pacer.step();
    expect(pacer.stats.slices).toBe(0);
    for await (const _ of busyItems(1, SLICE_MS + 5)) await pacer.step();
    const { slices, workedMs, pausedMs } = pacer.stats;
    expect(slices).toBe(1);
    expect(workedMs).toBeGreaterThanOrEqual(SLICE_MS);
    expect(pausedMs).toBeCloseTo(PAUSE_FACTOR * workedMs, 6);
  });

  it('counts no waiting as work after rested()', async () => {
    const pacer = new Pacer(0);
    await new Promise((resolve) => setTimeout(resolve, SLICE_MS + 5));
    pacer.rested();
    await pacer.step();
    expect(pacer.stats.slices).toBe(0);
  });
});
