/**
 * Work in the server's own thread that must not keep its requests waiting. Reading the store
 * page after page and handing the text on — to a verifier, or to a client reading as fast as
 * the server writes — never waits on anything that lets the event loop turn: each step resolves
 * at once, and requests that arrive meanwhile wait until the work is done, for seconds on a
 * large log. Background work is paced ({@link Pacer}); a streamed response gives other requests
 * a turn now and then ({@link takingTurns}).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';

/**
 * A background job's pause after each piece of its work, in multiples of the piece's time: the
 * job takes at most a quarter of the server's time (the scrub's slices, retention's steps).
 */
export const PAUSE_FACTOR = 3;

/** How long the scheduled scrub works before it pauses. */
export const SLICE_MS = 20;

/**
 * How long one statement of a request's read of the store should take: a page that checks its
 * filters row by row reads its range in windows sized to this, with turns between them.
 */
export const SCAN_SLICE_MS = 10;

/** How long a streamed response is produced before other requests get a turn. */
export const TURN_MS = 2;

/**
 * Keeps a job to a share of the server's time: after every {@link SLICE_MS} of work it pauses
 * `pauseMs`, by default {@link PAUSE_FACTOR} times as long as the slice took — a quarter of one
 * thread at most, and never a request kept waiting much longer than a slice. The work yields
 * the event loop at each pause too, which a check reading its lines one after another without
 * waiting on anything else would otherwise not do.
 */
export class Pacer {
  readonly #pauseMs: number | undefined;
  #slice = performance.now();
  #stats = { slices: 0, workedMs: 0, pausedMs: 0 };

  constructor(pauseMs?: number) {
    this.#pauseMs = pauseMs;
  }

  /** The slices of work so far that ended in a pause, their time, and the pauses' time asked for. */
  get stats(): { readonly slices: number; readonly workedMs: number; readonly pausedMs: number } {
    return { ...this.#stats };
  }

  /** Pauses when the work since the last pause has reached a slice. */
  async step(signal?: AbortSignal): Promise<void> {
    const worked = performance.now() - this.#slice;
    if (worked < SLICE_MS) return;
    const pause = this.#pauseMs ?? PAUSE_FACTOR * worked;
    this.#stats.slices++;
    this.#stats.workedMs += worked;
    this.#stats.pausedMs += pause;
    if (pause > 0) await sleep(pause, undefined, signal ? { signal } : {});
    this.#slice = performance.now();
  }

  /** Starts a new slice: the time since the last one was spent waiting, not working. */
  rested(): void {
    this.#slice = performance.now();
  }
}

/**
 * The items of `items`, giving the event loop a turn (I/O, timers, other requests) after every
 * `turnMs` of producing them, at full speed otherwise.
 * @example Readable.from(takingTurns(exportLines(store, checkpoints, 'acme')))
 */
export async function* takingTurns<T>(
  items: AsyncIterable<T>,
  turnMs = TURN_MS,
): AsyncGenerator<T> {
  let since = performance.now();
  for await (const item of items) {
    yield item;
    if (performance.now() - since < turnMs) continue;
    await turn();
    since = performance.now();
  }
}
