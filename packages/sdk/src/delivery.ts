/**
 * Delivery: batches the queue's events into `POST /v1/events` requests (by count, bytes and
 * time), keeps up to `concurrency` in flight, and settles each event exactly once — delivered
 * (202), or refused for good (a 4xx other than 408/429, reported through `onError`). Anything
 * else (network errors, timeouts, 408, 429, 5xx) puts the batch back at the front of the queue
 * and pauses all sending for the server's `Retry-After` or an exponential, jittered backoff.
 * Every event carries its own id, so a batch that was stored but whose answer was lost is
 * recognised by the server when it comes again.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type EventInput, LIMITS } from '@hindsight/core';
import { backoffDelay, MAX_TIMER_MS } from './backoff.js';
import { type ErrorDetail, HindsightError } from './errors.js';
import type { Settings } from './options.js';
import type { LoadedSegment, Outbox } from './outbox.js';
import { type Entry, EventQueue } from './queue.js';
import { type Answer, exchange } from './transport.js';

const gzipAsync = promisify(gzip);

interface FlushWaiter {
  /** Entries recorded up to this number are waited for. */
  readonly upTo: number;
  remaining: number;
  /** Also wait for the files an earlier process left in the outbox. */
  readonly old: boolean;
  resolve(): void;
}

const RESOLVED = Promise.resolve();
const BATCH_OPEN = '{"events":[';
const BATCH_CLOSE = ']}';

export class Delivery {
  private readonly queue = new EventQueue();
  /** Events accepted and not yet settled: being written to the outbox, queued or in flight. */
  private held = 0;
  private inFlight = 0;
  private recorded = 0;
  private failures = 0;
  private pausedUntil = 0;
  private lingerUntil: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private waiters: FlushWaiter[] = [];
  private loadingOld = false;
  private maxBatchBytes: number;
  /** Events per request: `batchSize`, lowered when the server says a body is too large. */
  private batchLimit: number;
  private stopped = false;
  /** Whether a `pump()` is queued as a microtask. */
  private pumpQueued = false;
  /** Whether everything is to be sent now: a flush or close waits. */
  private urgent = false;

  constructor(
    private readonly settings: Settings,
    private readonly outbox: Outbox | null,
  ) {
    this.maxBatchBytes = settings.maxBatchBytes;
    this.batchLimit = settings.batchSize;
    this.loadOld();
  }

  /** Events accepted and not yet delivered or refused. */
  get size(): number {
    return this.held;
  }

  /**
   * Takes a prepared event. Without an outbox it is queued at once; with one, once it is
   * fsynced, which the returned promise tells.
   */
  accept(json: string, bytes: number): Promise<void> {
    this.held++;
    const entry: Entry = { json, bytes, n: ++this.recorded, segment: null };
    if (this.outbox !== null) return this.outbox.append(entry);
    this.enqueue(entry);
    return RESOLVED;
  }

  /** Queues entries that may be sent now (called by the outbox once they are on disk). */
  enqueueAll(entries: readonly Entry[]): void {
    for (const entry of entries) this.enqueue(entry);
  }

  /**
   * Drops the oldest waiting event to make room (`whenQueueFull: 'drop-oldest'`); `false` when
   * every held event is in flight or being written.
   */
  dropOldest(): boolean {
    const entry = this.queue.shift();
    if (entry === undefined) return false;
    this.refuse(
      new HindsightError(
        'queue_full',
        `${this.settings.maxQueue} events were waiting (maxQueue); the oldest was dropped.`,
      ),
      [entry],
    );
    return true;
  }

  /** Resolves once every event accepted so far is settled (and the outbox's earlier files). */
  flush(): Promise<void> {
    const old = this.outbox?.hasOld() ?? false;
    if (this.held === 0 && !old) return RESOLVED;
    return new Promise((resolve) => {
      this.waiters.push({ upTo: this.recorded, remaining: this.held, old, resolve });
      this.urgent = true;
      this.pump();
    });
  }

  /**
   * Stops sending (close() gave up waiting): the queued events are abandoned now, those in
   * flight when their request fails; a request that succeeds still settles its events.
   */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    const left: Entry[] = [];
    for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) left.push(e);
    this.abandon(left);
  }

  /**
   * Events that will not be sent by this client: with an outbox they stay in it for the next
   * client on the directory; without one they are reported as `undelivered`.
   */
  private abandon(entries: readonly Entry[]): void {
    if (entries.length === 0 || this.outbox !== null) return;
    this.refuse(
      new HindsightError(
        'undelivered',
        `close() stopped waiting; ${entries.length} event(s) were not delivered.`,
      ),
      entries,
    );
  }

  /** Reports entries as never to be delivered. */
  refuse(error: HindsightError, entries: readonly Entry[]): void {
    const events: EventInput[] = [];
    for (const entry of entries) {
      events.push(JSON.parse(entry.json) as EventInput);
      this.settle(entry);
    }
    try {
      this.settings.onError(error, events);
    } catch (thrown) {
      process.emitWarning(`Hindsight's onError threw: ${String(thrown)}`, {
        code: 'HINDSIGHT_ON_ERROR',
      });
    }
  }

  private enqueue(entry: Entry): void {
    if (this.queue.length === 0 && this.lingerUntil === null) {
      this.lingerUntil = Date.now() + this.settings.flushIntervalMs;
    }
    this.queue.push(entry);
    if (this.urgent || this.batchReady()) this.pumpSoon();
    else this.wakeAt(this.lingerUntil ?? 0);
  }

  /**
   * Sends once the caller's synchronous code is done: assembling and writing a request is
   * batch work, kept off the `record()` call that happens to fill the batch.
   */
  private pumpSoon(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Sends what may be sent now, and sets the timer for what must wait. */
  private pump(): void {
    if (this.stopped) return;
    const s = this.settings;
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.wakeAt(this.pausedUntil);
      return;
    }
    while (this.inFlight < s.concurrency && this.queue.length > 0) {
      const due = this.urgent || (this.lingerUntil !== null && now >= this.lingerUntil);
      if (!due && !this.batchReady()) break;
      this.send(this.queue.take(this.batchLimit, this.maxBatchBytes));
    }
    if (this.queue.length === 0) this.lingerUntil = null;
    else if (this.inFlight < s.concurrency && this.lingerUntil !== null) {
      this.wakeAt(this.lingerUntil);
    }
  }

  /** Whether a full batch is waiting. */
  private batchReady(): boolean {
    return this.queue.length >= this.batchLimit || this.queue.bytes >= this.maxBatchBytes;
  }

  private send(batch: Entry[]): void {
    this.inFlight++;
    let body = BATCH_OPEN;
    for (let i = 0; i < batch.length; i++) {
      body += i === 0 ? (batch[i] as Entry).json : `,${(batch[i] as Entry).json}`;
    }
    body += BATCH_CLOSE;
    void this.exchangeBatch(body).then((answer) => {
      this.inFlight--;
      if (answer.kind === 'ok') {
        this.failures = 0;
        for (const entry of batch) this.settle(entry);
      } else if (answer.kind === 'retry') {
        this.retryLater(batch, answer.retryAfterMs);
      } else {
        this.refused(batch, answer.error);
      }
      this.pump();
    });
  }

  /** Posts a batch's JSON, compressed when the client is set to (in the thread pool). */
  private async exchangeBatch(json: string): Promise<Answer> {
    const s = this.settings;
    if (s.compression === 'none') return exchange(s, 'POST', s.eventsUrl, json, 202);
    let compressed: Buffer;
    try {
      compressed = await gzipAsync(json);
    } catch (cause) {
      return { kind: 'retry', reason: `gzip failed: ${String(cause)}`, retryAfterMs: undefined };
    }
    return exchange(s, 'POST', s.eventsUrl, compressed, 202, 'gzip');
  }

  private retryLater(batch: Entry[], retryAfterMs: number | undefined): void {
    if (this.stopped) {
      this.abandon(batch);
      return;
    }
    this.failures++;
    const s = this.settings;
    // `Retry-After` is the least wait: one of 0 (or a date past) never turns off the backoff,
    // which would resend as fast as the answers come.
    const delay = Math.max(
      retryAfterMs ?? 0,
      backoffDelay(this.failures, s.initialDelayMs, s.maxDelayMs),
    );
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
    this.requeue(batch);
  }

  /** Puts entries back at the front of the queue, to go with the next request. */
  private requeue(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    this.queue.unshiftAll(entries);
    this.lingerUntil = Date.now();
  }

  /** A refusal: split off the events the server named, send the others again. */
  private refused(batch: Entry[], error: HindsightError): void {
    if (error.status === 413 && batch.length > 1) {
      // The server takes less than we thought: halve the batches from now on.
      const bytes = batch.reduce((sum, e) => sum + e.bytes + 1, 0);
      this.maxBatchBytes = Math.max(LIMITS.eventBytes, Math.floor(bytes / 2));
      this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
      this.requeue(batch);
      return;
    }
    const named = namedEvents(error, batch.length);
    if (named === null) {
      this.refuse(error, batch);
      return;
    }
    const again: Entry[] = [];
    batch.forEach((entry, index) => {
      const details = named.get(index);
      if (details === undefined) again.push(entry);
      else this.refuse(eventError(error, details), [entry]);
    });
    this.requeue(again);
  }

  private settle(entry: Entry): void {
    this.held--;
    this.outbox?.settle(entry);
    if (this.waiters.length > 0) {
      for (const waiter of this.waiters) if (entry.n <= waiter.upTo) waiter.remaining--;
      this.resolveWaiters();
    }
    this.loadOld();
  }

  private resolveWaiters(): void {
    const oldLeft = this.outbox?.hasOld() ?? false;
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.remaining > 0 || (waiter.old && oldLeft)) return true;
      waiter.resolve();
      return false;
    });
    this.urgent = this.waiters.length > 0;
  }

  /** Loads the next file an earlier process left in the outbox, when there is room. */
  private loadOld(): void {
    const outbox = this.outbox;
    if (outbox === null || this.loadingOld || this.stopped || !outbox.hasOld()) return;
    if (this.held >= this.settings.maxQueue / 2) return;
    this.loadingOld = true;
    outbox
      .loadOld()
      .then((loaded: LoadedSegment | null) => {
        this.loadingOld = false;
        if (loaded === null) return;
        for (const json of loaded.lines) {
          this.held++;
          const bytes = Buffer.byteLength(json);
          this.enqueue({ json, bytes, n: ++this.recorded, segment: loaded.segment });
        }
        this.resolveWaiters();
        this.loadOld();
      })
      .catch((cause: unknown) => {
        this.loadingOld = false;
        this.settings.onError(
          new HindsightError('outbox_unreadable', 'An outbox file could not be read.', { cause }),
          [],
        );
      });
  }

  private wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.timer !== null && this.timerAt <= at) {
      if (this.urgent) this.timer.ref();
      return;
    }
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.pump();
      },
      // Woken early by a wait past a timer's limit, it looks again and sleeps on.
      Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS),
    );
    // Idle waiting must not keep the process alive; a flush() or close() that waits does.
    if (!this.urgent) this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Refusals that may name the events of a batch they concern; the others may be sent again. */
const EVENT_REFUSALS: ReadonlySet<string> = new Set(['invalid_event', 'conflict', 'forbidden']);

/**
 * The events of a batch that an `invalid_event`, `conflict` or `forbidden` (another tenant than
 * the key's) answer names (by `index`), with their details; `null` when it names none, so the
 * whole batch is refused.
 */
function namedEvents(error: HindsightError, size: number): Map<number, ErrorDetail[]> | null {
  if (!EVENT_REFUSALS.has(error.code)) return null;
  const named = new Map<number, ErrorDetail[]>();
  for (const detail of error.details ?? []) {
    const index = detail['index'];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= size) {
      return null;
    }
    named.set(index, [...(named.get(index) ?? []), detail]);
  }
  return named.size === 0 ? null : named;
}

/** The server's error narrowed to one event, with paths relative to the event. */
function eventError(error: HindsightError, details: ErrorDetail[]): HindsightError {
  const own: ErrorDetail[] = details.map((detail) => {
    const { index: _index, ...rest } = detail;
    const path = typeof rest['path'] === 'string' ? rest['path'].replace(/^\/events\/\d+/, '') : '';
    return { ...rest, path };
  });
  const first = own[0];
  const message =
    first === undefined
      ? error.message
      : `Hindsight refused the event (${error.code}): ${String(first['path']) || '/'} ${String(first['message'] ?? '')}`;
  return new HindsightError(error.code, message, {
    ...(error.status === undefined ? {} : { status: error.status }),
    details: own,
    cause: error,
  });
}
