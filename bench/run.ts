/**
 * `npm run bench`: durable ingest over HTTP against the raw database, and query latency, on a
 * store of (by default) 1,000,000 events across 100 tenants, one of which holds 10%.
 *
 *   npm run bench -- [--store sqlite|postgres] [--events 1000000] [--tenants 100]
 *                    [--concurrency 16] [--batch 100]
 *
 * (a) HTTP: a real `hindsight serve` process; batches of 100 posted over keep-alive connections;
 *     events/s from the first request to the last 202 (every 202 is durable).
 * (b) Raw: the same rows, prepared with the same code but untimed, inserted straight into the
 *     same schema in one process, 1,000 rows per transaction, same durability: better-sqlite3
 *     for SQLite, COPY for PostgreSQL (`--store postgres`).
 * (c) Query latency over HTTP on the store (a) filled, p50/p95 of 200 runs each.
 * (d) Offline verification (what `hindsight verify` runs) of a one-tenant export of as many
 *     events, written untimed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  type EmbeddedServer,
  startEmbeddedPostgres,
} from '../packages/server/test/embedded-postgres.js';
import { rawPostgres } from './raw-postgres.js';
import { rawSqlite } from './raw-sqlite.js';
import { timeVerify, writeExport } from './verify.js';
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
    store: { type: 'string', default: 'sqlite' },
  },
});
const STORE = values.store;
if (STORE !== 'sqlite' && STORE !== 'postgres') {
  throw new Error('--store is sqlite (default) or postgres.');
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = join(ROOT, 'bench', 'data');
const CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');
const TOTAL = Number(values.events);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const NOW = Date.now();
const workload: WorkloadOptions = {
  total: TOTAL,
  tenants: Number(values.tenants),
  days: 90,
  now: NOW - 60_000,
};
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Starts `hindsight serve` and returns its URL and admin key. */
async function startServer(location: string) {
  const store = location.startsWith('postgres') ? '--database-url' : '--data';
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', store, location], {
    env: { ...process.env, HINDSIGHT_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const ready = await new Promise<{ url: string; key: string }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const url = /listening on (http:\/\/\S+) /.exec(output)?.[1];
      const key = /^\s+(hsk_\S+)$/m.exec(output)?.[1];
      if (url && key) resolve({ url, key });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  return { ...ready, child };
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(
  url: string,
  key: string,
  method: string,
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

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
  const results: Record<string, { p50: number; p95: number; runs: number; hits: number }> = {};
  for (const [name, qs] of Object.entries(kinds)) {
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < 220; i++) {
      const target = `${url}/v1/tenants/${BIG_TENANT}/events?limit=50&${qs()}`;
      const t0 = performance.now();
      const res = await call(target, key, 'GET');
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`query answered ${res.status}: ${res.body}`);
      if (i >= 20) {
        times.push(ms);
        hits += (JSON.parse(res.body) as { events: unknown[] }).events.length;
      }
    }
    times.sort((a, b) => a - b);
    results[name] = {
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      runs: times.length,
      hits: hits / times.length,
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
    rawLabel: 'better-sqlite3 into the same schema, 1,000 rows per transaction',
    raw: async () => {
      const seconds = rawSqlite(join(DATA, 'raw'), workload, new Date(NOW));
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
 * PostgreSQL: `HINDSIGHT_BENCH_DATABASE_URL` (a server the operator runs; two databases are
 * created in it), or an embedded server started here with settings an operator would use for
 * this machine: 4 GB of shared buffers and checkpoints spread out. Durability is the default:
 * `fsync` and `synchronous_commit` on.
 */
async function postgresBackend(): Promise<Backend> {
  let server: EmbeddedServer | undefined;
  let admin = process.env['HINDSIGHT_BENCH_DATABASE_URL'];
  if (!admin) {
    server = await startEmbeddedPostgres(
      [
        'shared_buffers=4GB',
        'max_wal_size=16GB',
        'checkpoint_timeout=30min',
        'wal_buffers=64MB',
      ].flatMap((setting) => ['-c', setting]),
    );
    admin = server.url;
  }
  const adminUrl = admin;
  const suffix = `${process.pid}_${Date.now()}`;
  const names = [`hindsight_bench_raw_${suffix}`, `hindsight_bench_http_${suffix}`];
  const sql = async (text: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(text);
    await client.end();
  };
  for (const name of names) await sql(`CREATE DATABASE ${name}`);
  const urlOf = (name: string) => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    rawLabel: 'COPY into the same schema, 1,000 rows per transaction',
    raw: async () => {
      const seconds = await rawPostgres(urlOf(names[0] as string), workload, new Date(NOW));
      await sql(`DROP DATABASE ${names[0]} WITH (FORCE)`);
      return seconds;
    },
    location: urlOf(names[1] as string),
    ingestTarget: 20_000,
    pageTargetMs: 10,
    close: async () => {
      await sql(`DROP DATABASE IF EXISTS ${names[1]} WITH (FORCE)`);
      await server?.remove();
    },
  };
}

async function main() {
  log(
    `Hindsight benchmark (${STORE}): ${TOTAL.toLocaleString('en')} events, ${workload.tenants} tenants`,
  );
  log(
    `(${BIG_TENANT} holds 10%), ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  const backend = STORE === 'postgres' ? await postgresBackend() : sqliteBackend();

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
  const queries = await queryLatency(server.url, server.key);
  for (const [name, r] of Object.entries(queries)) {
    log(
      `  ${name.padEnd(42)} p50 ${r.p50.toFixed(2)} ms  p95 ${r.p95.toFixed(2)} ms  (${r.hits.toFixed(0)} rows/page)`,
    );
  }
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
  agent.destroy();
  await backend.close();

  log(
    `\n(d) offline verification of a ${TOTAL.toLocaleString('en')}-event export (hindsight verify)`,
  );
  mkdirSync(DATA, { recursive: true });
  const exportFile = join(DATA, 'export.ndjson');
  const verifierKey = await writeExport(exportFile, workload, new Date(NOW));
  const verified = await timeVerify(exportFile, verifierKey);
  rmSync(exportFile, { force: true });
  if (!verified.report.ok)
    throw new Error(`the export did not verify: ${verified.report.problems[0]?.message}`);
  log(
    `  ${verified.seconds.toFixed(1)} s (${Math.round(TOTAL / verified.seconds).toLocaleString('en')} events/s; target under 5 s at 1M), ${verified.report.checkpoints} checkpoints`,
  );

  const result = {
    date: new Date().toISOString(),
    store: STORE,
    machine: {
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    workload: {
      events: TOTAL,
      tenants: workload.tenants,
      bigTenantShare: 0.1,
      batch: BATCH,
      concurrency: CONCURRENCY,
    },
    ingest: {
      httpEventsPerSecond: ingest.eventsPerSecond,
      rawEventsPerSecond: raw.eventsPerSecond,
      ratio,
    },
    queriesMs: queries,
    verify: { events: TOTAL, seconds: verified.seconds },
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${STORE}-${result.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`\nWrote ${file}`);
}

await main();
