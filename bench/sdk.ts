/**
 * Phase (g): the SDK of issue #7, on the benchmark's workload events (`workload.ts`).
 *
 * 1. Server ingest: the events (each with an id, as the SDK sends them) posted straight to a
 *    fresh `hindsight serve` (SQLite), in prepared batches over keep-alive connections, as
 *    phase (a) does: events/s from the first request to the last 202.
 * 2. SDK delivery: the same events recorded through one `createClient` (default options) in
 *    this one process into another fresh server, from the first `record()` to `flush()`
 *    resolving (every event answered 202): events/s, against 1 (target ≥ 0.9×). The time spent
 *    inside `record()` calls is the overhead per event without outbox (target ≤ 5 µs); its raw
 *    baseline is `JSON.stringify` of the same events in the same loop (whose time the delivery
 *    rate includes, to the SDK's disadvantage).
 * 3. Outbox: `--sdk-events / 4` events recorded with `outbox: { dir }` by 256 concurrent
 *    producers, each awaiting its `record()` (which resolves once the event is fsynced):
 *    wall time per event, the amortised cost of durability with batched fsyncs (target ≤ 50 µs),
 *    and the mean time one `record()` waits.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { EventInput } from '@hindsight/core';
import {
  type ClientOptions,
  createClient,
  type HindsightClient,
} from '../packages/sdk/src/index.js';
import { newUlid } from '../packages/server/src/ids.js';
import { DATA, httpClient, startServer } from './harness.js';
import { generateEvents, type WorkloadOptions } from './workload.js';

/** Options of {@link sdkBench}. */
export interface SdkBenchOptions {
  readonly events: number;
  readonly now: number;
  /** Batch size and connections of the server-ingest baseline (phase (a)'s). */
  readonly batch: number;
  readonly concurrency: number;
  readonly log: (line: string) => void;
}

const PRODUCERS = 256;
const CHUNK = 1000;

/** Runs phase (g); returns its figures for the results file. */
export async function sdkBench(options: SdkBenchOptions) {
  const { log } = options;
  const workload: WorkloadOptions = {
    total: options.events,
    tenants: 100,
    days: 90,
    now: options.now - 60_000,
    seed: 7,
  };
  const events: EventInput[] = [];
  for (const batch of generateEvents(workload, CHUNK)) events.push(...batch);
  const root = join(DATA, 'sdk');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });

  log(
    `\n(g) SDK: ${events.length.toLocaleString('en')} workload events, fresh SQLite stores, one client process`,
  );
  const server = await serverIngest(events, join(root, 'server'), options);
  log(
    `  server ingest (batches of ${options.batch}, ${options.concurrency} connections): ${fmt(server)} events/s`,
  );

  const sdk = await sdkDelivery(events, join(root, 'sdk'));
  const ratio = sdk.eventsPerSecond / server;
  log(`  SDK delivery (default options): ${fmt(sdk.eventsPerSecond)} events/s`);
  log(`  ratio SDK/server = ${ratio.toFixed(2)}  (target ≥ 0.90)`);
  log(
    `  raw baseline, JSON.stringify of each event (${Math.round(sdk.meanJsonChars)} characters on average): ${sdk.stringifyUs.toFixed(2)} µs per event`,
  );
  log(`  record() without outbox: ${sdk.recordUs.toFixed(2)} µs per event  (target ≤ 5 µs)`);
  log(`  ratio record()/JSON.stringify = ${(sdk.recordUs / sdk.stringifyUs).toFixed(2)}`);

  const outboxEvents = events.slice(0, Math.ceil(events.length / 4));
  const outbox = await outboxRecording(
    outboxEvents,
    join(root, 'outbox-server'),
    join(root, 'outbox'),
  );
  log(
    `  record() with outbox, ${PRODUCERS} concurrent producers: ${outbox.usPerEvent.toFixed(1)} µs per event  (target ≤ 50 µs); each record() waited ${outbox.meanWaitMs.toFixed(2)} ms on average`,
  );
  rmSync(root, { recursive: true, force: true });
  return {
    events: events.length,
    serverEventsPerSecond: server,
    sdkEventsPerSecond: sdk.eventsPerSecond,
    ratio,
    recordMicrosWithoutOutbox: sdk.recordUs,
    stringifyMicros: sdk.stringifyUs,
    recordOverStringify: sdk.recordUs / sdk.stringifyUs,
    outbox: {
      events: outboxEvents.length,
      producers: PRODUCERS,
      microsPerEvent: outbox.usPerEvent,
      meanWaitMs: outbox.meanWaitMs,
    },
  };
}

/** The events posted straight to a server, with ids; events/s. */
async function serverIngest(
  events: readonly EventInput[],
  data: string,
  options: SdkBenchOptions,
): Promise<number> {
  const bodies: Buffer[] = [];
  for (let i = 0; i < events.length; i += options.batch) {
    const batch = events
      .slice(i, i + options.batch)
      .map((e) => ({ ...e, id: newUlid(Date.now()) }));
    bodies.push(Buffer.from(JSON.stringify({ events: batch })));
  }
  const server = await startServer(data);
  const client = httpClient(options.concurrency);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as Buffer;
        const res = await client.call(`${server.url}/v1/events`, server.key, 'POST', body);
        if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${res.body}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  client.close();
  await server.stop();
  return events.length / seconds;
}

/**
 * Runs `work` with a client (default options but `extra`, and room for every event) of a fresh
 * server; fails when the server refused any event.
 */
async function withClient<T>(
  data: string,
  extra: Partial<ClientOptions>,
  work: (client: HindsightClient) => Promise<T>,
): Promise<T> {
  const server = await startServer(data);
  const refused: unknown[] = [];
  const client = createClient({
    url: server.url,
    key: server.key,
    onError: (error) => refused.push(error),
    ...extra,
  });
  const result = await work(client);
  await client.close();
  await server.stop();
  if (refused.length > 0) throw new Error(`the server refused events: ${String(refused[0])}`);
  return result;
}

/**
 * The events recorded through the SDK as fast as one process can, then flushed. Each chunk is
 * first serialised with `JSON.stringify` alone, untimed for delivery: the raw baseline of
 * `record()`, which must at least take a copy of the event the caller may change afterwards,
 * measured in the same loop, under the same load, as the `record()` calls that follow it.
 */
function sdkDelivery(events: readonly EventInput[], data: string) {
  return withClient(data, { maxQueue: events.length }, async (client) => {
    let inRecord = 0;
    let inStringify = 0;
    let length = 0;
    const t0 = performance.now();
    for (let i = 0; i < events.length; i += CHUNK) {
      const end = Math.min(i + CHUNK, events.length);
      const s0 = performance.now();
      for (let k = i; k < end; k++) length += JSON.stringify(events[k]).length;
      const c0 = performance.now();
      for (let k = i; k < end; k++) client.record(events[k] as EventInput);
      inRecord += performance.now() - c0;
      inStringify += c0 - s0;
      // Let delivery run between chunks, as an application's event loop would.
      await yieldToLoop();
    }
    await client.flush();
    const seconds = (performance.now() - t0) / 1000;
    return {
      eventsPerSecond: events.length / seconds,
      recordUs: (inRecord * 1000) / events.length,
      stringifyUs: (inStringify * 1000) / events.length,
      meanJsonChars: length / events.length,
    };
  });
}

/** Concurrent producers awaiting durable records; wall time per event and mean wait. */
function outboxRecording(events: readonly EventInput[], data: string, dir: string) {
  return withClient(data, { maxQueue: events.length, outbox: { dir } }, async (client) => {
    let next = 0;
    let waited = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < events.length) {
          const event = events[next++] as EventInput;
          const w0 = performance.now();
          await client.record(event);
          waited += performance.now() - w0;
        }
      }),
    );
    const ms = performance.now() - t0;
    return { usPerEvent: (ms * 1000) / events.length, meanWaitMs: waited / events.length };
  });
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en');
}
