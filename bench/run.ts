/**
 * `npm run bench`: durable ingest over HTTP against the raw database, and query latency, on a
 * store of (by default) 1,000,000 events across 100 tenants, one of which holds 10%.
 *
 *   npm run bench -- [--store sqlite|postgres] [--events 1000000] [--tenants 100]
 *                    [--concurrency 16] [--batch 100] [--raw-batch 1000]
 *                    [--only ingest|verify|views|sdk|prune|export]
 *                    [--sdk-events 200000]
 *
 * `--only ingest` runs phases (a) to (d), `--only verify` phase (d), `--only views` phases (e)
 * and (f), `--only sdk` phase (g), `--only prune` phase (h), `--only export` phases (i) to (k)
 * alone; by default all run.
 * Results go to `bench/results/<store>-<date>.json` (`<store>-<date>-<only>.json` for `--only`;
 * a second run of the day adds its UTC time, `-HHMM`).
 *
 * (a) HTTP: a real `hindsight serve` process; batches of 100 posted over keep-alive connections;
 *     events/s from the first request to the last 202 (every 202 is durable).
 * (b) Raw: the same rows, prepared with the same code but untimed, inserted straight into the
 *     same schema in one process, 1,000 rows per transaction (`--raw-batch`), same durability:
 *     better-sqlite3 for SQLite, COPY for PostgreSQL (`--store postgres`). The server commits
 *     whatever requests queued during its previous commit in one transaction, about half of
 *     `--concurrency` × `--batch` events under this load: a raw batch of that size compares
 *     like with like (docs/benchmarks.md).
 * (c) Query latency over HTTP on the store (a) filled, after 5 s at rest, p50/p95 of 200 runs of
 *     each kind, the kinds taking turns.
 * (d) Offline verification (what `hindsight verify` runs) of a one-tenant export of as many
 *     events, written untimed, against its raw baseline: the same file read and every line
 *     `JSON.parse`d in as many threads, nothing else.
 * (e) The derived views of issue #5 (`views.ts`): one tenant of `--events` events shaped as
 *     docs/event-conventions.md says, loaded untimed through the store's own append into a fresh
 *     store (`bench/data/views-sqlite`, kept for inspection, or a new PostgreSQL database); then
 *     p50/p95 of 200 runs of each view endpoint over HTTP, against ≤ 50 ms p95. Results under
 *     `views`.
 * (f) The web console of issue #6 (`console.ts`) on that tenant, in Debian's Chromium: the time
 *     from navigating to a tab to its first row shown (5 cold loads of each tab; ≤ 1 s), and
 *     the gzipped JavaScript (≤ 250 KB). Results under `views.console`.
 * (g) The SDK of issue #7 (`sdk.ts`): `record()` overhead per event without and with the
 *     outbox, and one process's SDK delivery rate against the server's own HTTP ingest of the
 *     same `--sdk-events` events, each into a fresh SQLite store. Results under `sdk`.
 * (h) Retention of issue #9 (`prune.ts`): ingest p50/p99 while the server's background job
 *     prunes `--events` expired events, against idle (target p99 ≤ 2×). Results under `prune`.
 * (i) Exports of issue #9 (`export.ts`, SQLite): CSV and verifiable NDJSON of one tenant of
 *     `--events` events, events/s and the server's memory growth. Results under `export`.
 * (j) The integrity scrub (`scrub.ts`) of that tenant, against reading its export alone.
 *     Results under `scrub`.
 * (k) A page whose filter matches none of that tenant's events (`scan.ts`), as the store reads
 *     it against one raw SQL statement, and the waits of other reads meanwhile. Results under
 *     `scan`.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EXPORT_TENANT, exportBench } from './export.js';
import {
  DATA,
  httpClient,
  log,
  type PostgresCluster,
  percentile,
  ROOT,
  startPostgresCluster,
  startServer,
} from './harness.js';
import { pruneBench } from './prune.js';
import { rawPostgres } from './raw-postgres.js';
import { rawSqlite } from './raw-sqlite.js';
import { scanBench } from './scan.js';
import { scrubBench } from './scrub.js';
import { sdkBench } from './sdk.js';
import { timeParseFloor, timeVerify, writeExport } from './verify.js';
import { viewsBench } from './views.js';
import {
  ACTORS_PER_TENANT,
  BIG_TENANT,
  COMMON_WORD,
  generateEvents,
  prng,
  RARE_WORD,
  type WorkloadOptions,
} from './workload.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    tenants: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    batch: { type: 'string', default: '100' },
    'raw-batch': { type: 'string', default: '1000' },
    store: { type: 'string', default: 'sqlite' },
    only: { type: 'string' },
    'sdk-events': { type: 'string', default: '200000' },
  },
});
const STORE = values.store;
if (STORE !== 'sqlite' && STORE !== 'postgres') {
  throw new Error('--store is sqlite (default) or postgres.');
}
const ONLY = values.only;
if (ONLY !== undefined && !['ingest', 'verify', 'views', 'sdk', 'prune', 'export'].includes(ONLY)) {
  throw new Error(
    '--only is ingest (phases a to d), verify (phase d), views (phases e and f), sdk (phase g), prune (phase h) or export (phases i to k).',
  );
}

const TOTAL = Number(values.events);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const RAW_BATCH = Number(values['raw-batch']);
if (!Number.isSafeInteger(RAW_BATCH) || RAW_BATCH < 1)
  throw new Error('--raw-batch is a whole number of rows, at least 1.');
const NOW = Date.now();
const workload: WorkloadOptions = {
  total: TOTAL,
  tenants: Number(values.tenants),
  days: 90,
  now: NOW - 60_000,
};

const client = httpClient(CONCURRENCY);
const call = client.call;

/** (a) Durable ingest over HTTP. */
async function httpIngest(url: string, key: string) {
  log(`  preparing ${TOTAL.toLocaleString('en')} events as ${Math.ceil(TOTAL / BATCH)} bodies…`);
  const bodies: Buffer[] = [];
  for (const batch of generateEvents(workload, BATCH)) {
    bodies.push(Buffer.from(JSON.stringify({ events: batch })));
  }
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as Buffer;
        const res = await call(`${url}/v1/events`, key, 'POST', body);
        if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${res.body}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, eventsPerSecond: TOTAL / seconds };
}

/** How long the store rests between ingest and the query latencies. */
const SETTLE_MS = 5000;

/** (c) Query latency over HTTP. */
async function queryLatency(url: string, key: string) {
  const rand = prng(7);
  const since = new Date(NOW - 30 * 86_400_000).toISOString();
  const categories = ['users', 'logins', 'communications', 'changes', 'requests', 'api'];
  const kinds: Record<string, () => string> = {
    'tenant+actor+30 days, newest 50': () =>
      `actor=user-${Math.floor(rand() * ACTORS_PER_TENANT)}&since=${encodeURIComponent(since)}`,
    'tenant+category, newest 50': () =>
      `category=${categories[Math.floor(rand() * categories.length)]}`,
    [`rare keyword (${RARE_WORD})`]: () => `q=${RARE_WORD}`,
    [`common keyword (${COMMON_WORD}, ≥10%)`]: () => `q=${COMMON_WORD}`,
  };
  // The kinds take turns, so that none of them alone meets what the machine is doing at the
  // time (the first seconds after ingest, a noisy neighbour): 20 warm-up rounds, then 200.
  const times = new Map<string, number[]>(Object.keys(kinds).map((name) => [name, []]));
  const hits = new Map<string, number>();
  for (let round = 0; round < 220; round++) {
    for (const [name, qs] of Object.entries(kinds)) {
      const target = `${url}/v1/tenants/${BIG_TENANT}/events?limit=50&${qs()}`;
      const t0 = performance.now();
      const res = await call(target, key, 'GET');
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`query answered ${res.status}: ${res.body}`);
      if (round >= 20) {
        times.get(name)?.push(ms);
        const found = (JSON.parse(res.body) as { events: unknown[] }).events.length;
        hits.set(name, (hits.get(name) ?? 0) + found);
      }
    }
  }
  const results: Record<string, { p50: number; p95: number; runs: number; hits: number }> = {};
  for (const [name, runs] of times) {
    runs.sort((a, b) => a - b);
    results[name] = {
      p50: percentile(runs, 50),
      p95: percentile(runs, 95),
      runs: runs.length,
      hits: (hits.get(name) ?? 0) / runs.length,
    };
  }
  return results;
}

/** A store under test: its raw baseline, where the server keeps events, and its targets. */
interface Backend {
  readonly rawLabel: string;
  /** Runs the raw baseline; returns the seconds of timed inserts. */
  raw(): Promise<number>;
  /** `--data DIR` or `--database-url URL` for the server. */
  readonly location: string;
  readonly ingestTarget: number;
  readonly pageTargetMs: number;
  close(): Promise<void>;
}

function sqliteBackend(): Backend {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'raw'), { recursive: true });
  return {
    rawLabel: `better-sqlite3 into the same schema, ${RAW_BATCH.toLocaleString('en')} rows per transaction`,
    raw: async () => {
      const seconds = rawSqlite(join(DATA, 'raw'), workload, new Date(NOW), RAW_BATCH);
      rmSync(join(DATA, 'raw'), { recursive: true, force: true });
      return seconds;
    },
    location: join(DATA, 'http'),
    ingestTarget: 15_000,
    pageTargetMs: 5,
    close: async () => {},
  };
}

/**
 * PostgreSQL: two databases in the benchmark's server (`HINDSIGHT_BENCH_DATABASE_URL`, or an
 * embedded one; see `startPostgresCluster`): one for the raw baseline, one for the HTTP server.
 */
async function postgresBackend(cluster: PostgresCluster): Promise<Backend> {
  const suffix = `${process.pid}_${Date.now()}`;
  const rawName = `hindsight_bench_raw_${suffix}`;
  const httpName = `hindsight_bench_http_${suffix}`;
  const rawUrl = await cluster.createDatabase(rawName);
  const httpUrl = await cluster.createDatabase(httpName);
  return {
    rawLabel: `COPY into the same schema, ${RAW_BATCH.toLocaleString('en')} rows per transaction`,
    raw: async () => {
      const seconds = await rawPostgres(rawUrl, workload, new Date(NOW), RAW_BATCH);
      await cluster.dropDatabase(rawName);
      return seconds;
    },
    location: httpUrl,
    ingestTarget: 20_000,
    pageTargetMs: 10,
    close: () => cluster.dropDatabase(httpName),
  };
}

/** Phases (a) to (d); returns their figures for the results file. */
async function ingestPhases(cluster: PostgresCluster | undefined) {
  log(
    `Hindsight benchmark (${STORE}): ${TOTAL.toLocaleString('en')} events, ${workload.tenants} tenants`,
  );
  log(
    `(${BIG_TENANT} holds 10%), ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  const backend = cluster ? await postgresBackend(cluster) : sqliteBackend();

  log(`\n(b) raw baseline: ${backend.rawLabel}`);
  const rawSeconds = await backend.raw();
  const raw = { seconds: rawSeconds, eventsPerSecond: TOTAL / rawSeconds };
  log(
    `  ${Math.round(raw.eventsPerSecond).toLocaleString('en')} events/s (${raw.seconds.toFixed(1)} s of inserts)`,
  );

  log(`\n(a) durable ingest over HTTP: batches of ${BATCH}, ${CONCURRENCY} connections`);
  const server = await startServer(backend.location);
  const ingest = await httpIngest(server.url, server.key);
  log(
    `  ${Math.round(ingest.eventsPerSecond).toLocaleString('en')} events/s (${ingest.seconds.toFixed(1)} s)`,
  );
  const ratio = ingest.eventsPerSecond / raw.eventsPerSecond;
  log(
    `  ratio a/b = ${ratio.toFixed(2)}  (target ≥ 0.80; a target ≥ ${backend.ingestTarget.toLocaleString('en')} events/s)`,
  );

  log(`\n(c) query latency over HTTP on ${TOTAL.toLocaleString('en')} events, ${BIG_TENANT}`);
  log(`  (targets: p95 ≤ ${backend.pageTargetMs} ms for filtered pages, ≤ 50 ms for keywords)`);
  // Measured on the store at rest: the server's last checkpoints (once a second) and the disk's
  // writeback of the ingest's last seconds finish first.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const queries = await queryLatency(server.url, server.key);
  for (const [name, r] of Object.entries(queries)) {
    log(
      `  ${name.padEnd(42)} p50 ${r.p50.toFixed(2)} ms  p95 ${r.p95.toFixed(2)} ms  (${r.hits.toFixed(0)} rows/page)`,
    );
  }
  await server.stop();
  client.close();
  await backend.close();

  return {
    workload: {
      events: TOTAL,
      tenants: workload.tenants,
      bigTenantShare: 0.1,
      batch: BATCH,
      concurrency: CONCURRENCY,
      rawBatch: RAW_BATCH,
    },
    ingest: {
      httpEventsPerSecond: ingest.eventsPerSecond,
      rawEventsPerSecond: raw.eventsPerSecond,
      ratio,
    },
    queriesMs: queries,
    ...(await verifyPhase()),
  };
}

/**
 * Phase (d): `hindsight verify` of a one-tenant export of `TOTAL` events, and its raw baseline
 * on the same file with as many threads (reading and `JSON.parse` of every line, nothing else).
 */
async function verifyPhase() {
  const threads = Math.min(availableParallelism(), 4);
  log(
    `\n(d) offline verification of a ${TOTAL.toLocaleString('en')}-event export (hindsight verify), ${threads} threads`,
  );
  mkdirSync(DATA, { recursive: true });
  const exportFile = join(DATA, 'export.ndjson');
  const verifierKey = await writeExport(exportFile, workload, new Date(NOW));
  const bytes = statSync(exportFile).size;
  const floor = await timeParseFloor(exportFile, threads);
  const verified = await timeVerify(exportFile, verifierKey, threads);
  rmSync(exportFile, { force: true });
  if (!verified.report.ok)
    throw new Error(`the export did not verify: ${verified.report.problems[0]?.message}`);
  // The header, every event and every checkpoint: the two read the same lines.
  const lines = 1 + verified.report.events + verified.report.checkpoints;
  if (floor.lines !== lines)
    throw new Error(`the baseline parsed ${floor.lines} lines, the verifier read ${lines}`);
  const ratio = verified.seconds / floor.seconds;
  log(
    `  raw baseline, JSON.parse of every line (${Math.round(bytes / 2 ** 20).toLocaleString('en')} MiB): ${floor.seconds.toFixed(1)} s`,
  );
  log(
    `  verify: ${verified.seconds.toFixed(1)} s (${Math.round(TOTAL / verified.seconds).toLocaleString('en')} events/s; target under 5 s at 1M), ${verified.report.checkpoints} checkpoints`,
  );
  log(`  ratio verify/parse = ${ratio.toFixed(2)}`);
  return {
    verify: {
      events: TOTAL,
      bytes,
      threads,
      seconds: verified.seconds,
      parseSeconds: floor.seconds,
      ratio,
    },
  };
}

/** Phase (e): the derived views of issue #5 on one tenant of `TOTAL` events, in a fresh store. */
async function viewsPhase(cluster: PostgresCluster | undefined) {
  log(
    `\n(e) derived views over HTTP: one tenant of ${TOTAL.toLocaleString('en')} events over 90 days (${STORE})`,
  );
  const name = `hindsight_bench_views_${process.pid}_${Date.now()}`;
  let location = join(DATA, 'views-sqlite');
  if (cluster) {
    location = await cluster.createDatabase(name);
  } else {
    rmSync(location, { recursive: true, force: true });
  }
  // The SQLite database is kept under bench/data, to look into (EXPLAIN QUERY PLAN) afterwards.
  const views = await viewsBench({ events: TOTAL, days: 90, now: NOW, location, log });
  if (cluster) await cluster.dropDatabase(name);
  return views;
}

/**
 * Phases (i) to (k), exports, the integrity scrub and a page that reads the whole tenant (SQLite): a fresh store under
 * `bench/data/export`.
 */
async function exportPhase() {
  const location = join(DATA, 'export');
  rmSync(location, { recursive: true, force: true });
  try {
    const exported = await exportBench({ events: TOTAL, location, now: NOW, log });
    const scrub = await scrubBench({ location, tenant: EXPORT_TENANT, log });
    const scan = await scanBench({ location, tenant: EXPORT_TENANT, log });
    return { export: exported, scrub, scan };
  } finally {
    rmSync(location, { recursive: true, force: true });
  }
}

async function main() {
  const cluster = STORE === 'postgres' ? await startPostgresCluster() : undefined;
  try {
    const ingest =
      ONLY === undefined || ONLY === 'ingest'
        ? await ingestPhases(cluster)
        : ONLY === 'verify'
          ? await verifyPhase()
          : {};
    const views =
      ONLY === undefined || ONLY === 'views' ? { views: await viewsPhase(cluster) } : {};
    const sdk =
      ONLY === undefined || ONLY === 'sdk'
        ? {
            sdk: await sdkBench({
              events: Number(values['sdk-events']),
              now: NOW,
              batch: BATCH,
              concurrency: CONCURRENCY,
              log,
            }),
          }
        : {};
    const prune =
      ONLY === undefined || ONLY === 'prune'
        ? { prune: await pruneBench({ events: TOTAL, now: NOW, log }) }
        : {};
    const exported =
      (ONLY === undefined && STORE === 'sqlite') || ONLY === 'export' ? await exportPhase() : {};
    const result = {
      date: new Date().toISOString(),
      store: STORE,
      ...(ONLY === undefined ? {} : { only: ONLY }),
      machine: {
        cores: cpus().length,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      ...ingest,
      ...views,
      ...sdk,
      ...prune,
      ...exported,
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    // A partial run gets a name of its own, so that it never replaces a full run of the day.
    // A second run of the day gets the time too, so that it never replaces the first.
    const name = `${STORE}-${result.date.slice(0, 10)}${ONLY === undefined ? '' : `-${ONLY}`}`;
    const taken = existsSync(join(ROOT, 'bench', 'results', `${name}.json`));
    const file = join(
      ROOT,
      'bench',
      'results',
      `${name}${taken ? `-${result.date.slice(11, 16).replace(':', '')}` : ''}.json`,
    );
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`\nWrote ${file}`);
  } finally {
    await cluster?.close();
  }
}

await main();
