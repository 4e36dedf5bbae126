/**
 * Phase (h): retention of issue #9. Ingest latency while the server's background job prunes
 * `--events` expired events, against the same ingest without pruning (target: p99 ≤ 2× idle).
 *
 * 1. Load (untimed): one tenant `bench-prune` of `events` events 100 to 190 days old, through
 *    the store's own append into a fresh SQLite data directory, a checkpoint signed with the
 *    key the server will use, and the tenant's policy `retention: { days: 90 }`.
 * 2. Start `hindsight serve --retention-interval <idle + warm-up + margin>`: its first
 *    retention run starts after the idle window.
 * 3. A paced ingest of `RATE` events/s (batches of 50, other tenants, fresh events) runs all
 *    along, and `IDLE_S` more seconds after the run: the requests of the idle windows before
 *    and after the run give the idle p50/p99 (the disk's tails drift over minutes: the run is
 *    compared with the time around it, not only before it); those sent from the retention
 *    run's start until `retention.pruned` is recorded give the pruning p50/p99, and the
 *    pruning rate.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventInput } from '@hindsight/core';
import { Checkpointer, loadOrCreateSigner } from '../packages/server/src/checkpoints.js';
import { createEnricher } from '../packages/server/src/enrich.js';
import { prepareEvents } from '../packages/server/src/ingest.js';
import { openStore } from '../packages/server/src/store/index.js';
import { DATA, httpClient, percentile, startServer } from './harness.js';
import { generateEvents } from './workload.js';

const TENANT = 'bench-prune';
const DAY_MS = 86_400_000;
/** Paced ingest while measuring: events per second, in batches of `BATCH`. */
const RATE = 500;
const BATCH = 50;
const WARMUP_S = 10;
const IDLE_S = 60;

/** Options of {@link pruneBench}. */
export interface PruneBenchOptions {
  readonly events: number;
  readonly now: number;
  readonly log: (line: string) => void;
}

/** Loads the expired tenant into a fresh data directory, untimed; answers the seconds. */
export async function loadExpired(dir: string, options: PruneBenchOptions): Promise<number> {
  const store = await openStore({ data: dir });
  const enricher = createEnricher();
  const t0 = performance.now();
  try {
    const workload = {
      total: options.events,
      tenants: 2,
      days: 90,
      now: options.now - 100 * DAY_MS,
      seed: 11,
    };
    const inFlight = new Set<Promise<void>>();
    for (const batch of generateEvents(workload, 1000)) {
      const events = batch.map((e): EventInput => ({ ...e, tenant: TENANT }));
      const tracked: Promise<void> = store
        .append([prepareEvents({ events }, enricher, new Date(options.now))])
        .then(([outcome]) => {
          if (!outcome?.ok) throw outcome?.error ?? new Error('a batch was not stored');
          inFlight.delete(tracked);
        });
      inFlight.add(tracked);
      if (inFlight.size >= 8) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const { signer } = loadOrCreateSigner(join(dir, 'signing.key'), 'hindsight');
    await new Checkpointer(store, { signer, origin: 'hindsight' }).latest(TENANT);
    await store.putTenantSettings(TENANT, { retention: { days: 90 } });
    return (performance.now() - t0) / 1000;
  } finally {
    await store.close();
  }
}

/** Runs phase (h); returns its figures for the results file. */
export async function pruneBench(options: PruneBenchOptions) {
  const { log } = options;
  log(
    `\n(h) retention: ingest p99 while pruning ${options.events.toLocaleString('en')} expired events (SQLite)`,
  );
  const dir = join(DATA, 'prune');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const loadSeconds = await loadExpired(dir, options);
  log(`  loaded the expired tenant in ${loadSeconds.toFixed(0)} s (untimed)`);

  const intervalS = WARMUP_S + IDLE_S + 5;
  const server = await startServer(dir, ['--retention-interval', `${intervalS}s`]);
  const started = performance.now();
  const client = httpClient(16);
  const bodies = generateEvents(
    { total: 10_000_000, tenants: 20, days: 1, now: Date.now(), seed: 5 },
    BATCH,
  );
  const samples: Array<{ at: number; ms: number }> = [];
  let stop = false;
  let failure: unknown;
  // Paced: one batch every BATCH / RATE seconds, each on its own request.
  const pacer = (async () => {
    const gapMs = (1000 * BATCH) / RATE;
    const inFlight = new Set<Promise<void>>();
    for (let next = performance.now(); !stop; next += gapMs) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      const batch = bodies.next();
      if (batch.done) break;
      const body = Buffer.from(JSON.stringify({ events: batch.value }));
      const at = performance.now();
      const tracked: Promise<void> = client
        .call(`${server.url}/v1/events`, server.key, 'POST', body)
        .then((res) => {
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${res.body}`);
          samples.push({ at, ms: performance.now() - at });
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    await Promise.all(inFlight);
  })();

  const get = async <T>(path: string): Promise<T> => {
    const res = await client.call(`${server.url}${path}`, server.key, 'GET');
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as T;
  };
  const pruned = async () =>
    (
      await get<{ events: unknown[] }>(
        `/v1/tenants/${TENANT}/events?limit=1&category=audit&action=retention.pruned`,
      )
    ).events.length > 0;

  try {
    // The job's first run starts `intervalS` after the server (a little before `started`, which
    // is taken once the server answers). Its rules go category by category, so the tenant's
    // oldest event may stay for minutes: the start is the timer's, not an observed change.
    const pruneStart = started + intervalS * 1000;
    // At worst 100 events a second, and a minute's margin.
    const deadline = pruneStart + (options.events / 100 + 60) * 1000;
    while (!(await pruned())) {
      if (failure) throw failure;
      if (performance.now() > deadline) throw new Error('the retention run did not end');
      await sleep(200);
    }
    const pruneEnd = performance.now();
    // The idle window after the run starts once its last step's pages are copied back.
    const afterFrom = pruneEnd + WARMUP_S * 1000;
    await sleep((WARMUP_S + IDLE_S) * 1000);
    stop = true;
    await pacer;
    if (failure) throw failure;
    const idleFrom = started + WARMUP_S * 1000;
    const idleTo = Math.min(started + (WARMUP_S + IDLE_S) * 1000, pruneStart);
    const stats = (...windows: Array<[from: number, to: number]>) => {
      const ms = samples
        .filter((s) => windows.some(([from, to]) => s.at >= from && s.at < to))
        .map((s) => s.ms)
        .sort((a, b) => a - b);
      return { requests: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99) };
    };
    const after: [number, number] = [afterFrom, afterFrom + IDLE_S * 1000];
    const idle = stats([idleFrom, idleTo], after);
    const idleBefore = stats([idleFrom, idleTo]);
    const idleAfter = stats(after);
    const pruning = stats([pruneStart, pruneEnd]);
    const seconds = (pruneEnd - pruneStart) / 1000;
    const ratio = pruning.p99 / idle.p99;
    log(
      `  ingest at ${RATE.toLocaleString('en')} events/s: idle p50 ${idle.p50.toFixed(1)} ms p99 ${idle.p99.toFixed(1)} ms (${idle.requests} requests; p99 before the run ${idleBefore.p99.toFixed(1)} ms, after it ${idleAfter.p99.toFixed(1)} ms)`,
    );
    log(
      `  while pruning:            p50 ${pruning.p50.toFixed(1)} ms p99 ${pruning.p99.toFixed(1)} ms (${pruning.requests} requests)`,
    );
    log(
      `  pruned ${options.events.toLocaleString('en')} events in ${seconds.toFixed(1)} s (${Math.round(options.events / seconds).toLocaleString('en')}/s); p99 ratio ${ratio.toFixed(2)} (target ≤ 2)`,
    );
    return {
      events: options.events,
      ingestRate: RATE,
      idle,
      idleBefore,
      idleAfter,
      pruning,
      pruneSeconds: seconds,
      p99Ratio: ratio,
      met: ratio <= 2,
    };
  } finally {
    stop = true;
    await pacer.catch(() => {});
    client.close();
    await server.stop();
  }
}
