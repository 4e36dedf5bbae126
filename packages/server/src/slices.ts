/**
 * Long loops on the main thread, cut into slices so that the event loop answers sockets in
 * between: a round trip to the database waits for whatever task holds the loop when its answer
 * arrives, and inside a transaction that holds locks that wait is everyone's.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';

/** The longest a slice runs before it lets the event loop run other work. */
export const SLICE_MS = 1;

/**
 * Calls `each` on every item in order, letting the event loop run other work whenever a slice
 * has run for {@link SLICE_MS}.
 * @example await forEachInSlices(events, (e) => prepared.push(prepare(e)))
 */
export async function forEachInSlices<T>(
  items: Iterable<T>,
  each: (item: T) => void,
): Promise<void> {
  let sliceStart = performance.now();
  for (const item of items) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await setImmediate();
      sliceStart = performance.now();
    }
    each(item);
  }
}
