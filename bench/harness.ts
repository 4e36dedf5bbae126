/**
 * What the benchmark's phases share: a real `hindsight serve` process, an HTTP client over
 * keep-alive connections, percentiles, and the PostgreSQL server whose databases they fill.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Store } from '../packages/server/src/store/types.js';
import {
  type EmbeddedServer,
  startEmbeddedPostgres,
} from '../packages/server/test/embedded-postgres.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DATA = join(ROOT, 'bench', 'data');
const CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');

export const log = (line: string) => process.stdout.write(`${line}\n`);

/** A running `hindsight serve`: its URL, its first admin key, and how to stop it. */
export interface BenchServer {
  readonly url: string;
  readonly key: string;
  /** The server process's id (to read its memory). */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `hindsight serve` on a store (a data directory or a PostgreSQL URL) that holds no key
 * yet, with `extra` flags, and returns its URL and the admin key it prints.
 */
export async function startServer(location: string, extra: string[] = []): Promise<BenchServer> {
  const store = location.startsWith('postgres') ? '--database-url' : '--data';
  // Unlimited: the benchmark is one key sending as fast as the server takes it.
  const args = [
    'serve',
    '--port',
    '0',
    store,
    location,
    '--rate-limit-read',
    '0',
    '--rate-limit-write',
    '0',
    ...extra,
  ];
  const child = spawn(process.execPath, [CLI, ...args], {
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
  return {
    ...ready,
    pid: child.pid ?? 0,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An HTTP client over up to `maxSockets` keep-alive connections. */
export interface HttpClient {
  call(
    url: string,
    key: string,
    method: string,
    body?: Buffer,
  ): Promise<{ status: number; body: string }>;
  close(): void;
}

export function httpClient(maxSockets: number): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    call: (url, key, method, body) =>
      new Promise((resolve, reject) => {
        const req = request(
          url,
          {
            method,
            agent,
            headers: {
              authorization: `Bearer ${key}`,
              ...(body
                ? { 'content-type': 'application/json', 'content-length': body.length }
                : {}),
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
      }),
    close: () => agent.destroy(),
  };
}

/** The p-th percentile of ascending `sorted` (nearest rank, rounding down). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** How long requests (or reads) waited: p50, p95 and the longest, in ms, and how many. */
export interface Waits {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly count: number;
}

/** The {@link Waits} of `times`, in ms, in any order. */
export function waitsOf(times: readonly number[]): Waits {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] ?? 0,
    count: sorted.length,
  };
}

/**
 * Runs `probe` every `everyMs` until `done` settles, each resolving to how long it waited, in
 * ms: what other work felt of the work `done` stands for.
 * @example await waitsDuring(run, 25, async () => { … return performance.now() - due; })
 */
export async function waitsDuring(
  done: Promise<unknown>,
  everyMs: number,
  probe: () => Promise<number>,
): Promise<Waits> {
  let running = true;
  const stop = () => {
    running = false;
  };
  done.then(stop, stop);
  const times: number[] = [];
  while (running) {
    times.push(await probe());
    if (running) await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return waitsOf(times);
}

/**
 * Reads a newest-50 page of the tenant from `store` every `everyMs` until `running` settles;
 * each time is from when the read was due, so that time the event loop kept it waiting counts.
 * @example await probePages(store, 'acme', job.runOnce(), 25)
 */
export function probePages(
  store: Store,
  tenant: string,
  running: Promise<unknown>,
  everyMs: number,
): Promise<Waits> {
  let due = performance.now();
  return waitsDuring(running, everyMs, async () => {
    const page = await store.queryEvents(tenant, { clauses: [], limit: 50, order: 'desc' });
    if (page.events.length === 0) throw new Error(`the probe found no events of ${tenant}`);
    const waited = performance.now() - due;
    due = performance.now() + everyMs;
    return waited;
  });
}

/** `p50 … ms, p95 … ms, max … ms (n <noun>)`. */
export function waitsText({ p50, p95, max, count }: Waits, noun: string): string {
  return `p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${Math.round(max).toLocaleString('en')} ms (${count.toLocaleString('en')} ${noun})`;
}

/** A PostgreSQL server in which the phases create (and drop) databases of their own. */
export interface PostgresCluster {
  /** A new, empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** Stops the embedded server, if one was started here. */
  close(): Promise<void>;
}

/**
 * `HINDSIGHT_BENCH_DATABASE_URL` (a server the operator runs), or an embedded server started
 * here with settings an operator would use for this machine: 4 GB of shared buffers and
 * checkpoints spread out. Durability is the default: `fsync` and `synchronous_commit` on.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
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
  const sql = async (text: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  return {
    createDatabase: async (name) => {
      await sql(`CREATE DATABASE ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    dropDatabase: (name) => sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    close: async () => {
      await server?.remove();
    },
  };
}
