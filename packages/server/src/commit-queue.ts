/**
 * Group commit: batches from concurrent requests are coalesced into one store transaction, and
 * each request's promise settles only after that transaction is durable.
 */
import { performance } from 'node:perf_hooks';
import { HindsightError } from './errors.js';
import type { CommitObservation } from './metrics.js';
import type { AppendOutcome, PreparedEvent, Store } from './store/types.js';

interface Pending {
  readonly batch: readonly PreparedEvent[];
  readonly resolve: (outcome: AppendOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** Options for {@link CommitQueue}. */
export interface CommitQueueOptions {
  /** Most events handed to the store at once; more wait for the next call. Default 10,000. */
  readonly maxEvents?: number;
  /**
   * Store calls that may be under way at once; default the store's `appendConcurrency`. Above
   * 1, the next group is handed over while the previous one commits, for stores that pipeline.
   */
  readonly maxInFlight?: number;
  /** Told of every group commit once it ended (for the metrics). */
  readonly observe?: (observation: CommitObservation) => void;
  /**
   * Most producers' events {@link CommitQueue.admitting} holds at once, from before they are
   * prepared until they are durable or refused; more are refused as `overloaded`. Default
   * {@link DEFAULT_MAX_PENDING_EVENTS}; 0 is no limit.
   */
  readonly maxPendingEvents?: number;
}

/**
 * Producers' events held at once by default: about four seconds of the 2-core benchmark
 * machine's durable ingest, and about 25 KB of the server's memory each (parsed, prepared,
 * and copied to the writer).
 */
export const DEFAULT_MAX_PENDING_EVENTS = 20_000;

/** The `Retry-After` of an `overloaded` answer, in seconds. */
export const OVERLOADED_RETRY_AFTER_S = 1;

/**
 * Coalesces appends. While one transaction runs, new batches queue; when it ends, all queued
 * batches go into the next one.
 * @example const outcome = await queue.submit(preparedEvents);
 */
export class CommitQueue {
  readonly #store: Store;
  readonly #maxEvents: number;
  readonly #maxInFlight: number;
  readonly #observe: ((observation: CommitObservation) => void) | undefined;
  readonly #maxPendingEvents: number;
  #admitted = 0;
  #pending: Pending[] = [];
  #queuedEvents = 0;
  #scheduled = false;
  readonly #running = new Set<Promise<void>>();

  constructor(store: Store, options: CommitQueueOptions = {}) {
    this.#store = store;
    this.#maxEvents = options.maxEvents ?? 10_000;
    this.#maxInFlight = options.maxInFlight ?? store.appendConcurrency;
    this.#observe = options.observe;
    this.#maxPendingEvents = options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS;
  }

  /** Producers' events admitted and not yet durable or refused, and the most admitted. */
  get pendingEvents(): { readonly held: number; readonly max: number } {
    return { held: this.#admitted, max: this.#maxPendingEvents };
  }

  /**
   * Throws `overloaded` when the admitted events leave no room at all: a request may be refused
   * before its body is read and parsed, which under overload would cost as much as storing it.
   */
  refuseWhenFull(): void {
    if (this.#maxPendingEvents > 0 && this.#admitted >= this.#maxPendingEvents) {
      throw this.#overloaded();
    }
  }

  /**
   * Runs `work`, which prepares and submits `count` events from a producer, when the events
   * admitted before leave room for them; otherwise refuses them as `overloaded` before any
   * work. A batch is admitted when nothing else is, however large.
   */
  async admitting<T>(count: number, work: () => Promise<T>): Promise<T> {
    const max = this.#maxPendingEvents;
    if (max > 0 && this.#admitted > 0 && this.#admitted + count > max) throw this.#overloaded();
    this.#admitted += count;
    try {
      return await work();
    } finally {
      this.#admitted -= count;
    }
  }

  /** Events waiting for a group commit to take them. */
  get queuedEvents(): number {
    return this.#queuedEvents;
  }

  /** Queues a batch; resolves once it is durable (or refused as a whole). */
  submit(batch: readonly PreparedEvent[]): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ batch, resolve, reject });
      this.#queuedEvents += batch.length;
      this.#schedule();
    });
  }

  #overloaded(): HindsightError {
    return new HindsightError(
      'overloaded',
      `The server holds ${this.#admitted} events waiting to be stored, and takes at most ` +
        `${this.#maxPendingEvents}; nothing of this request was stored. Retry in ` +
        `${OVERLOADED_RETRY_AFTER_S} second with the same event ids.`,
    );
  }

  /** Resolves when everything queued so far has been committed or refused. */
  async drain(): Promise<void> {
    while (this.#running.size > 0 || this.#pending.length > 0 || this.#scheduled) {
      if (this.#running.size > 0) await Promise.race(this.#running);
      else await new Promise((r) => setImmediate(r));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#running.size >= this.#maxInFlight) return;
    this.#scheduled = true;
    // setImmediate lets requests that arrived meanwhile join this group.
    setImmediate(() => {
      this.#scheduled = false;
      const run: Promise<void> = this.#flush().finally(() => {
        this.#running.delete(run);
        if (this.#pending.length > 0) this.#schedule();
      });
      this.#running.add(run);
    });
  }

  async #flush(): Promise<void> {
    let events = 0;
    let take = 0;
    while (take < this.#pending.length) {
      events += this.#pending[take]?.batch.length ?? 0;
      take++;
      if (events >= this.#maxEvents) break;
    }
    const group = this.#pending.slice(0, take);
    this.#pending = this.#pending.slice(take);
    this.#queuedEvents -= events;
    const started = performance.now();
    let accepted = 0;
    let failed = false;
    try {
      const outcomes = await this.#store.append(group.map((p) => p.batch));
      group.forEach((p, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) accepted += p.batch.length;
        if (outcome) p.resolve(outcome);
        else p.reject(new Error('the store returned fewer outcomes than batches'));
      });
    } catch (error) {
      failed = true;
      for (const p of group) p.reject(error);
    }
    this.#observe?.({ events, accepted, seconds: (performance.now() - started) / 1000, failed });
  }
}
