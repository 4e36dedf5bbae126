/**
 * Phase (k) of `npm run bench` (`--only export`, after phases (i) and (j), on their store): a
 * page whose filter matches nothing in a tenant of `--events` events, which the store checks
 * event by event over the tenant's whole range (docs/storage.md#sqlite).
 *
 * The raw baseline, in the same run on the same file: the same page as one SQL statement of
 * better-sqlite3 on a connection of its own. Then the store's page (`queryEvents`, which reads
 * such a page in windows with turns between them), and what the server's own requests feel of
 * it: a newest-50 page of the tenant is read every {@link PROBE_EVERY_MS} ms in the same process
 * while nothing else runs, during the raw statements (one block of the event loop each), and
 * during the store's pages.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseQuery } from '@hindsight/core';
import Database from 'better-sqlite3';
import { openStore } from '../packages/server/src/store/index.js';
import { READER_MMAP_BYTES } from '../packages/server/src/store/sqlite.js';
import { probePages, type Waits, waitsText } from './harness.js';

/** What the scan phase measured. */
export interface ScanResult {
  readonly tenant: string;
  readonly query: string;
  /** Median time of the page as one raw statement, and as the store reads it. */
  readonly rawMs: number;
  readonly storeMs: number;
  /** Store time over raw time. */
  readonly ratio: number;
  /** A newest-50 page read meanwhile, ms from when it was due: p50, p95 and the longest. */
  readonly pages: Record<'idle' | 'raw' | 'store', Waits>;
}

const PROBE_EVERY_MS = 10;
/** Pages of each kind, one after another. */
const RUNS = 5;
const QUERY = 'status:none_such';

async function timed(run: () => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
    // Lets the probe's next read in between, as between two requests.
    await sleep(PROBE_EVERY_MS);
  }
  return times.sort((a, b) => a - b);
}

/**
 * Reads the page `status:none_such` of `tenant` in the store in `location`, raw and through
 * the store, while a probe reads pages.
 * @example await scanBench({ location: 'bench/data/export', tenant: 'export-bench', log })
 */
export async function scanBench(options: {
  readonly location: string;
  readonly tenant: string;
  readonly log: (line: string) => void;
}): Promise<ScanResult> {
  const { log, tenant } = options;
  const store = await openStore({ data: options.location });
  const raw = new Database(join(options.location, 'hindsight.db'), { readonly: true });
  // As the store's reading connection: its page cache, and the file mapped.
  raw.pragma('cache_size = -524288');
  raw.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
  try {
    log(
      `\n(k) a page whose filter (${QUERY}) matches none of the tenant's events, in this process`,
    );
    const tenantId = raw.prepare('SELECT id FROM tenants WHERE name = ?').pluck().get(tenant);
    const statement = raw.prepare(
      'SELECT e.pos, e.seq, e.hash, e.body FROM events e WHERE e.tenant_id = ? AND e.status = ? ' +
        'ORDER BY e.pos DESC LIMIT 51',
    );
    const clauses = parseQuery(QUERY).clauses;
    const storePage = async () => {
      const page = await store.queryEvents(tenant, { clauses, limit: 50, order: 'desc' });
      if (page.events.length > 0) throw new Error(`${QUERY} found events`);
    };
    const rawPage = () => {
      if (statement.all(tenantId, 'none_such').length > 0) throw new Error(`${QUERY} found rows`);
    };
    // Both once untimed: the file's pages in the cache for each.
    rawPage();
    await storePage();
    const idle = await probePages(store, tenant, sleep(2_000), PROBE_EVERY_MS);
    const rawRuns = timed(rawPage);
    const rawWaits = await probePages(store, tenant, rawRuns, PROBE_EVERY_MS);
    const storeRuns = timed(storePage);
    const storeWaits = await probePages(store, tenant, storeRuns, PROBE_EVERY_MS);
    const median = (times: number[]) => times[Math.floor(times.length / 2)] as number;
    const rawMs = median(await rawRuns);
    const storeMs = median(await storeRuns);
    const result: ScanResult = {
      tenant,
      query: QUERY,
      rawMs,
      storeMs,
      ratio: storeMs / rawMs,
      pages: { idle, raw: rawWaits, store: storeWaits },
    };
    log(
      `  raw baseline, one statement: ${rawMs.toFixed(0)} ms; the store's page: ${storeMs.toFixed(0)} ms ` +
        `(ratio ${result.ratio.toFixed(2)}; medians of ${RUNS})`,
    );
    const page = (name: string, waits: Waits) => `${name} ${waitsText(waits, 'reads')}`;
    log(
      `  a newest-50 page read every ${PROBE_EVERY_MS} ms meanwhile, from when it was due: ` +
        `${page('idle', idle)}; ${page('during the raw statements', rawWaits)}; ` +
        `${page("during the store's pages", storeWaits)}`,
    );
    return result;
  } finally {
    raw.close();
    await store.close();
  }
}
