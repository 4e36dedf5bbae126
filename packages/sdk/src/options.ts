/**
 * The client's options, their defaults and their checks: one place that says what each knob
 * does (docs/sdk.md repeats it).
 */
import { type EventInput, LIMITS } from '@hindsight/core';
import { isFields, refuse } from './arguments.js';
import { MAX_TIMER_MS } from './backoff.js';
import { HindsightError } from './errors.js';

/** The retry schedule for network errors, 408, 429 without `Retry-After`, and 5xx. */
export interface RetryOptions {
  /** The first retry's delay ceiling in ms (default 250); it doubles on each failure. */
  readonly initialDelayMs?: number;
  /** The most a delay grows to, in ms (default 30,000). */
  readonly maxDelayMs?: number;
  /** How many times `query()` tries one page before it throws (default 5). Delivery never gives up. */
  readonly queryAttempts?: number;
}

/** The durable outbox: events are on disk before `record()` resolves, until a 202. */
export interface OutboxOptions {
  /** Directory of the outbox files, created when missing; one client at a time may use it. */
  readonly dir: string;
  /** Size in bytes at which a new outbox file is begun (default 8 MiB). */
  readonly segmentBytes?: number;
}

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Base URL of Hindsight, e.g. `http://127.0.0.1:3100`. */
  readonly url: string;
  /** An API key with scope `events:write` (and `events:read` for `query`). */
  readonly key: string;
  /** Most events in one request: 1 to 1,000 (default 1,000). */
  readonly batchSize?: number;
  /** Most bytes of event JSON in one request (default 3 MiB; the server takes up to 4 MiB). */
  readonly maxBatchBytes?: number;
  /** Longest an event waits for its batch to fill before it is sent, in ms (default 1,000). */
  readonly flushIntervalMs?: number;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
  /** Most events held by the client and not yet delivered (default 100,000). */
  readonly maxQueue?: number;
  /**
   * What `record()` does when `maxQueue` events are waiting already: `throw` (default) throws
   * `queue_full` at the call site and keeps nothing; `drop-oldest` drops the oldest waiting
   * event, reports it through `onError`, and keeps the new one (not with an `outbox`, which
   * keeps every recorded event).
   */
  readonly whenQueueFull?: 'throw' | 'drop-oldest';
  /** Retry delays (exponential, with jitter). */
  readonly retry?: RetryOptions;
  /** Timeout of one HTTP request in ms (default 30,000); a timed-out batch is retried. */
  readonly timeoutMs?: number;
  /**
   * `gzip` compresses each batch (`Content-Encoding: gzip`, off this thread), for a Hindsight
   * reached over a slow or metered network: JSON events shrink eight- to ninefold. Default `none`.
   */
  readonly compression?: 'gzip' | 'none';
  /** Keep events on disk until Hindsight has them: see {@link OutboxOptions}. */
  readonly outbox?: OutboxOptions;
  /**
   * Told of events that will never be delivered — refused by the server with a 4xx other than
   * 408/429, or dropped by the queue policy — with the events themselves. Default: a process
   * warning (`HINDSIGHT_<code>`).
   */
  readonly onError?: (error: HindsightError, events: EventInput[]) => void;
}

/** The options with every default filled in. */
export interface Settings {
  readonly eventsUrl: string;
  readonly baseUrl: string;
  readonly key: string;
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly flushIntervalMs: number;
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly whenQueueFull: 'throw' | 'drop-oldest';
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly queryAttempts: number;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  readonly outbox: Required<OutboxOptions> | null;
  readonly onError: (error: HindsightError, events: EventInput[]) => void;
}

/** The server's body limit (4 MiB) less room for the batch's brackets. */
const MAX_BODY_EVENTS_BYTES = 4 * 1024 * 1024 - 64;

function reportByWarning(error: HindsightError, events: EventInput[]): void {
  process.emitWarning(`${error.message} (${events.length} event(s))`, {
    code: `HINDSIGHT_${error.code.toUpperCase()}`,
  });
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new HindsightError(
      'invalid_options',
      `createClient: ${name} must be an integer from ${min} to ${max}, not ${String(value)}.`,
    );
  }
  return v;
}

/**
 * Checks the options and fills in the defaults.
 * @example resolveOptions({ url: 'http://127.0.0.1:3100', key: 'hsk_…' }).batchSize // 1000
 */
export function resolveOptions(options: ClientOptions): Settings {
  if (!isFields(options)) refuse('createClient', 'options', 'an object { url, key, … }', options);
  for (const name of ['retry', 'outbox'] as const) {
    if (options[name] !== undefined && !isFields(options[name])) {
      refuse('createClient', name, 'an object (or left out)', options[name]);
    }
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    refuse('createClient', 'onError', 'a function (or left out)', options.onError);
  }
  let base: URL;
  try {
    base = new URL(options.url);
  } catch (cause) {
    throw new HindsightError(
      'invalid_options',
      `createClient: url "${options.url}" is not a URL.`,
      {
        cause,
      },
    );
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new HindsightError('invalid_options', 'createClient: url must be an http(s) URL.');
  }
  if (typeof options.key !== 'string' || options.key.length === 0) {
    throw new HindsightError('invalid_options', 'createClient: key (an API key) is required.');
  }
  const baseUrl = base.href.replace(/\/+$/, '');
  const retry = options.retry ?? {};
  const outbox = options.outbox;
  if (outbox !== undefined && (typeof outbox.dir !== 'string' || outbox.dir === '')) {
    throw new HindsightError('invalid_options', 'createClient: outbox.dir must be a directory.');
  }
  const compression = options.compression ?? 'none';
  if (compression !== 'gzip' && compression !== 'none') {
    throw new HindsightError('invalid_options', 'createClient: compression is "gzip" or "none".');
  }
  const whenQueueFull = options.whenQueueFull ?? 'throw';
  if (whenQueueFull !== 'throw' && whenQueueFull !== 'drop-oldest') {
    throw new HindsightError(
      'invalid_options',
      'createClient: whenQueueFull is "throw" or "drop-oldest".',
    );
  }
  if (whenQueueFull === 'drop-oldest' && outbox !== undefined) {
    // A dropped event would stay in its outbox file, and a later client would send it.
    throw new HindsightError(
      'invalid_options',
      'createClient: whenQueueFull "drop-oldest" cannot go with an outbox, which keeps every ' +
        'recorded event until it is delivered; leave whenQueueFull at "throw".',
    );
  }
  return {
    baseUrl,
    eventsUrl: `${baseUrl}/v1/events`,
    key: options.key,
    batchSize: integer('batchSize', options.batchSize, LIMITS.batch, 1, LIMITS.batch),
    maxBatchBytes: integer(
      'maxBatchBytes',
      options.maxBatchBytes,
      3 * 1024 * 1024,
      LIMITS.eventBytes,
      MAX_BODY_EVENTS_BYTES,
    ),
    flushIntervalMs: integer('flushIntervalMs', options.flushIntervalMs, 1000, 0, MAX_TIMER_MS),
    concurrency: integer('concurrency', options.concurrency, 4, 1, 64),
    maxQueue: integer('maxQueue', options.maxQueue, 100_000, 1),
    whenQueueFull,
    initialDelayMs: integer('retry.initialDelayMs', retry.initialDelayMs, 250, 1, MAX_TIMER_MS),
    maxDelayMs: integer('retry.maxDelayMs', retry.maxDelayMs, 30_000, 1, MAX_TIMER_MS),
    queryAttempts: integer('retry.queryAttempts', retry.queryAttempts, 5, 1),
    timeoutMs: integer('timeoutMs', options.timeoutMs, 30_000, 1, MAX_TIMER_MS),
    compression,
    outbox:
      outbox === undefined
        ? null
        : {
            dir: outbox.dir,
            segmentBytes: integer('outbox.segmentBytes', outbox.segmentBytes, 8 * 1024 * 1024, 1),
          },
    onError: options.onError ?? reportByWarning,
  };
}
