/**
 * The Hindsight client: `record()` validates at the call site and returns at once (or once
 * the event is on disk, with the outbox); delivery happens in the background, batched and
 * retried until every event is stored exactly once.
 */
import type { StoredEvent } from '@hindsight/core';
import type { EventProofReport, IntegrityVerdict } from '@hindsight/core/event-proof';
import { MAX_TIMER_MS } from './backoff.js';
import { Delivery } from './delivery.js';
import { HindsightError } from './errors.js';
import { type ClientOptions, resolveOptions } from './options.js';
import { Outbox } from './outbox.js';
import { prepareEvent, type RecordInput } from './prepare.js';
import { type QueryFilters, queryEvents } from './query.js';
import { integrityVerdict, type VerifyEventOptions, verifyEvent } from './verify.js';

/** Options of {@link HindsightClient.close}. */
export interface CloseOptions {
  /**
   * Stop waiting for delivery after this many ms. Undelivered events then stay in the outbox
   * (when there is one) or are reported to `onError` as `undelivered`. Default: wait.
   */
  readonly timeoutMs?: number;
}

/** A client of one Hindsight server; see {@link createClient}. */
export interface HindsightClient {
  /**
   * Records an event: fills in `id`, `time` and `actor` when absent, validates it (throws
   * `invalid_event` here, with the path of each problem), and queues it. The promise resolves
   * at once, or with an outbox once the event is fsynced. Throws `queue_full` or
   * `client_closed` instead of queueing when it cannot.
   */
  record(event: RecordInput): Promise<void>;
  /** Resolves once every event recorded before the call is delivered or reported. */
  flush(): Promise<void>;
  /** Flushes, stops the client and releases its outbox. `record()` throws afterwards. */
  close(options?: CloseOptions): Promise<void>;
  /** Every event of a tenant matching the filters, across all pages (needs `events:read`). */
  query(tenant: string, filters?: QueryFilters): AsyncGenerator<StoredEvent, void, undefined>;
  /**
   * Checks one stored event against the server's signed log with the verifier key you keep
   * (needs `events:read`): its content gives its hash, the hash is in the newest signed
   * checkpoint's tree, and that checkpoint is signed by the key. Resolves with each check and
   * what failed (`ok` when all held).
   */
  verify(tenant: string, id: string, options: VerifyEventOptions): Promise<EventProofReport>;
  /**
   * The server's newest verdict on the tenant's stored log, from its daily integrity check
   * (needs `events:read`): `null` while it never found a problem; `ok: false` while the log is
   * found changed, with what was found — for a product that shows the log in its own pages.
   */
  integrity(tenant: string): Promise<IntegrityVerdict | null>;
  /** Events recorded and not yet delivered or reported. */
  readonly pending: number;
}

/**
 * Creates a client. With `outbox`, the outbox directory is opened (and locked) here, and the
 * events an earlier process left in it are sent first.
 * @example
 * const hindsight = createClient({ url: 'http://127.0.0.1:3100', key: process.env.HINDSIGHT_KEY });
 * hindsight.record({ tenant: 'acme', action: 'user.created', actor: { id: 'u-17' },
 *   targets: [{ type: 'user', id: 'u-42', name: 'Bob Stone' }] });
 * await hindsight.close();
 */
export function createClient(options: ClientOptions): HindsightClient {
  const settings = resolveOptions(options);
  let delivery: Delivery | null = null;
  const outbox =
    settings.outbox === null
      ? null
      : Outbox.open(settings.outbox.dir, settings.outbox.segmentBytes, {
          durable: (entries) => delivery?.enqueueAll(entries),
          failed: (entries, error) => {
            delivery?.enqueueAll(entries);
            settings.onError(error, []);
          },
          problem: (error) => settings.onError(error, []),
        });
  const engine = new Delivery(settings, outbox);
  delivery = engine;
  let closing: Promise<void> | null = null;

  return {
    record(event) {
      if (closing !== null) {
        throw new HindsightError('client_closed', 'record() after close(): the client is closed.');
      }
      const prepared = prepareEvent(event);
      if (engine.size >= settings.maxQueue) {
        if (settings.whenQueueFull === 'throw' || !engine.dropOldest()) {
          throw new HindsightError(
            'queue_full',
            `${settings.maxQueue} events are waiting for Hindsight already (maxQueue); this one was not recorded.`,
          );
        }
      }
      return engine.accept(prepared.json, prepared.bytes);
    },
    flush: () => engine.flush(),
    close(closeOptions = {}) {
      closing ??= (async () => {
        const flushed = engine.flush();
        if (closeOptions.timeoutMs === undefined) await flushed;
        else {
          let timer: NodeJS.Timeout | undefined;
          const done = await Promise.race([
            flushed.then(() => true),
            new Promise<boolean>((resolve) => {
              timer = setTimeout(
                () => resolve(false),
                Math.min(closeOptions.timeoutMs ?? 0, MAX_TIMER_MS),
              );
            }),
          ]);
          clearTimeout(timer);
          if (!done) engine.stop();
        }
        await outbox?.close();
      })();
      return closing;
    },
    query: (tenant, filters) => queryEvents(settings, tenant, filters),
    verify: (tenant, id, verifyOptions) => verifyEvent(settings, tenant, id, verifyOptions),
    integrity: (tenant) => integrityVerdict(settings, tenant),
    get pending() {
      return engine.size;
    },
  };
}
