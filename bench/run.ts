/**
 * `npm run bench`: durable ingest over HTTP against the raw database, and query latency, on a
 * store of (by default) 1,000,000 events across 100 tenants, one of which holds 10%.
 *
 *   npm run bench -- [--events 1000000] [--tenants 100] [--concurrency 8] [--batch 100]
 *
 * (a) HTTP: a real `hindsight serve` process; batches of 100 posted over keep-alive connections;
 *     events/s from the first request to the last 202 (every 202 is durable).
 * (b) Raw: the same rows, prepared with the same code but untimed, inserted with better-sqlite3
 *     into the same schema in one process, 1,000 rows per transaction, same durability.
 * (c) Query latency over HTTP on the store (a) filled, p50/p95 of 200 runs each.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { leafHashOf } from '@hindsight/core';
import Database from 'better-sqlite3';
import { createEnricher } from '../packages/server/src/enrich.js';
import { prepareEvents } from '../packages/server/src/ingest.js';
import { writerEvent } from '../packages/server/src/store/append-plan.js';
import {
  eventRow,
  ftsWords,
  INSERT_EVENT_SQL,
  INSERT_FTS_SQL,
  INSERT_TARGET_SQL,
  migrateSqlite,
} from '../packages/server/src/store/sqlite-schema.js';
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
if (values.store !== 'sqlite') throw new Error('Only --store sqlite exists in this version.');

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

/** (b) The raw baseline: prepared rows inserted straight into the same schema. */
function rawBaseline(dir: string): { seconds: number; eventsPerSecond: number } {
  const enricher = createEnricher();
  const db = new Database(join(dir, 'raw.db'));
  migrateSqlite(db);
  const insertEvent = db.prepare(INSERT_EVENT_SQL);
  const insertTarget = db.prepare(INSERT_TARGET_SQL);
  const insertFts = db.prepare(INSERT_FTS_SQL);
  const insertTenant = db.prepare('INSERT INTO tenants (name, size) VALUES (?, 0)');
  const tenantIds = new Map<string, number>();
  const sizes = new Map<string, number>();
  const lastPos = { ms: Number.NaN, pos: 0 };
  type Row = { params: unknown[]; targets: string[]; pos: number; tenantId: number; words: string };
  const insertRows = db.transaction((rows: Row[]) => {
    for (const r of rows) {
      insertEvent.run(r.params);
      for (const target of r.targets) insertTarget.run(r.tenantId, target, r.pos);
      insertFts.run(r.pos, r.words);
    }
  });
  let insertMs = 0;
  let pending: Row[] = [];
  const flush = () => {
    const t0 = performance.now();
    insertRows(pending);
    insertMs += performance.now() - t0;
    pending = [];
  };
  for (const batch of generateEvents(workload, 1000)) {
    const prepared = prepareEvents({ events: batch }, enricher, new Date(NOW));
    for (const p of prepared) {
      const tenant = p.event.tenant;
      let tenantId = tenantIds.get(tenant);
      if (tenantId === undefined) {
        tenantId = Number(insertTenant.run(tenant).lastInsertRowid);
        tenantIds.set(tenant, tenantId);
      }
      const seq = (sizes.get(tenant) ?? 0) + 1;
      sizes.set(tenant, seq);
      const w = writerEvent(p);
      const hash = leafHashOf(p.hashParts, seq);
      const pos = w.timeMs === lastPos.ms ? lastPos.pos + 1 : w.timeMs * 2048;
      lastPos.ms = w.timeMs;
      lastPos.pos = pos;
      pending.push({
        params: eventRow(tenantId, pos, seq, hash, w),
        targets: w.targets,
        pos,
        tenantId,
        words: ftsWords(tenantId, w.searchText),
      });
    }
    flush();
  }
  db.close();
  return { seconds: insertMs / 1000, eventsPerSecond: TOTAL / (insertMs / 1000) };
}

/** Starts `hindsight serve` and returns its URL and admin key. */
async function startServer(dir: string) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', dir], {
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

async function main() {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'raw'), { recursive: true });
  log(`Hindsight benchmark: ${TOTAL.toLocaleString('en')} events, ${workload.tenants} tenants`);
  log(
    `(${BIG_TENANT} holds 10%), ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );

  log('\n(b) raw baseline: better-sqlite3 into the same schema, 1,000 rows per transaction');
  const raw = rawBaseline(join(DATA, 'raw'));
  rmSync(join(DATA, 'raw'), { recursive: true, force: true });
  log(
    `  ${Math.round(raw.eventsPerSecond).toLocaleString('en')} events/s (${raw.seconds.toFixed(1)} s of inserts)`,
  );

  log(`\n(a) durable ingest over HTTP: batches of ${BATCH}, ${CONCURRENCY} connections`);
  const server = await startServer(join(DATA, 'http'));
  const ingest = await httpIngest(server.url, server.key);
  log(
    `  ${Math.round(ingest.eventsPerSecond).toLocaleString('en')} events/s (${ingest.seconds.toFixed(1)} s)`,
  );
  const ratio = ingest.eventsPerSecond / raw.eventsPerSecond;
  log(`  ratio a/b = ${ratio.toFixed(2)}  (target ≥ 0.80; a target ≥ 15,000 events/s)`);

  log(`\n(c) query latency over HTTP on ${TOTAL.toLocaleString('en')} events, ${BIG_TENANT}`);
  const queries = await queryLatency(server.url, server.key);
  for (const [name, r] of Object.entries(queries)) {
    log(
      `  ${name.padEnd(42)} p50 ${r.p50.toFixed(2)} ms  p95 ${r.p95.toFixed(2)} ms  (${r.hits.toFixed(0)} rows/page)`,
    );
  }
  server.child.kill('SIGTERM');
  agent.destroy();

  const result = {
    date: new Date().toISOString(),
    store: 'sqlite',
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
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `sqlite-${result.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`\nWrote ${file}`);
}

await main();
