/**
 * Phase (i) of `npm run bench` (`--only export`): exports of issue #9 — "CSV or NDJSON export of
 * 1,000,000 events ≥ 100,000 events/s with server memory growth ≤ 100 MB".
 *
 * One tenant of `events` events (the ingest workload's shape) is loaded, untimed, through the
 * store's own append into a fresh store; then a real `hindsight serve` streams its CSV export and
 * its verifiable NDJSON export to a client that reads and counts them, while the server's
 * own memory (`RssAnon`; `VmRSS` is shown too) is sampled every 50 ms: events/s from request to
 * last byte, and the growth of the peak over the memory before the export. Meanwhile another
 * client asks for a newest-50 page of the tenant every {@link PROBE_EVERY_MS} ms: how long the
 * server keeps its other requests waiting while it streams, against the same requests before.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createEnricher } from '../packages/server/src/enrich.js';
import { prepareEvents } from '../packages/server/src/ingest.js';
import { openStore } from '../packages/server/src/store/index.js';
import { startServer, type Waits, waitsDuring, waitsText } from './harness.js';
import { generateEvents } from './workload.js';

export const EXPORT_TENANT = 'export-bench';
/** Targets of issue #9. */
export const EXPORT_TARGET_EPS = 100_000;
export const EXPORT_TARGET_GROWTH_MB = 100;

/** One export's figures. */
export interface ExportCase {
  readonly format: string;
  readonly events: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** The server's own memory (RssAnon) before and at its peak, and the growth. */
  readonly ownBeforeMb: number;
  readonly ownPeakMb: number;
  readonly growthMb: number;
  /** All it had resident (VmRSS, with the mapped database pages), before and at the peak. */
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  /** A newest-50 page asked for meanwhile, ms from request to answer. */
  readonly pages: Waits;
  readonly met: boolean;
}

/** How often the other client asks for a page. */
const PROBE_EVERY_MS = 100;

/** Asks for a newest-50 page of the tenant every {@link PROBE_EVERY_MS} until `done` settles. */
function probePages(url: string, key: string, done: Promise<unknown>): Promise<Waits> {
  return waitsDuring(done, PROBE_EVERY_MS, async () => {
    const t0 = performance.now();
    const response = await fetch(`${url}/v1/tenants/${EXPORT_TENANT}/events?limit=50`, {
      headers: { authorization: `Bearer ${key}` },
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`a page answered ${response.status}`);
    return performance.now() - t0;
  });
}

/** What the export phase measured. */
export interface ExportResult {
  readonly tenant: string;
  readonly events: number;
  readonly loadSeconds: number;
  /** The same page requests with no export running (for 3 s), as a baseline. */
  readonly idlePages: Waits;
  readonly cases: Record<string, ExportCase>;
}

/**
 * A process's memory, in MB, from `/proc`: its own (`RssAnon`: heap, SQLite's page cache,
 * buffers), which the target is about, and all it has resident (`VmRSS`), which also counts the
 * pages of the database file it maps — the kernel's cache of the file, shared and reclaimable,
 * there whether the file is mapped or read.
 */
function memoryMb(pid: number): { own: number; resident: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024;
  return { own: field('RssAnon'), resident: field('VmRSS') };
}

/** Loads the tenant untimed (but reports the rate). */
async function load(location: string, events: number, now: number, log: (l: string) => void) {
  const store = await openStore({ data: location });
  const enricher = createEnricher();
  const t0 = performance.now();
  try {
    let n = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (const batch of generateEvents({ total: events, tenants: 2, days: 30, now }, 1000)) {
      const prepared = prepareEvents(
        { events: batch.map((e) => ({ ...e, tenant: EXPORT_TENANT })) },
        enricher,
        new Date(now),
      );
      const p = store.append([prepared]).then(([outcome]) => {
        if (!outcome?.ok) throw new Error('a batch was not stored');
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 4) await Promise.race(inFlight);
      n += batch.length;
      if (n % (events / 10) === 0) log(`  loaded ${n.toLocaleString('en')} events`);
    }
    await Promise.all(inFlight);
  } finally {
    await store.close();
  }
  return (performance.now() - t0) / 1000;
}

/** Streams one export, counting its bytes and lines, sampling the server's memory. */
async function timeExport(
  url: string,
  key: string,
  pid: number,
  format: 'csv' | 'ndjson',
): Promise<Omit<ExportCase, 'met'>> {
  const before = memoryMb(pid);
  const peak = { ...before };
  const sample = () => {
    const now = memoryMb(pid);
    peak.own = Math.max(peak.own, now.own);
    peak.resident = Math.max(peak.resident, now.resident);
  };
  const sampler = setInterval(sample, 50);
  const t0 = performance.now();
  try {
    const streamed = new Promise<{ bytes: number; lines: number }>((resolve, reject) => {
      const req = request(
        `${url}/v1/tenants/${EXPORT_TENANT}/export?format=${format}`,
        { headers: { authorization: `Bearer ${key}` } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`export answered ${res.statusCode}`));
            res.resume();
            return;
          }
          let bytes = 0;
          let lines = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
          });
          res.on('end', () => resolve({ bytes, lines }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    const [{ bytes, lines }, pages] = await Promise.all([streamed, probePages(url, key, streamed)]);
    const seconds = (performance.now() - t0) / 1000;
    sample();
    // CSV: a header row; NDJSON: a header line and a line per checkpoint (few).
    const events = format === 'csv' ? lines - 1 : lines;
    return {
      format,
      events,
      bytes,
      seconds,
      eventsPerSecond: events / seconds,
      ownBeforeMb: before.own,
      ownPeakMb: peak.own,
      growthMb: peak.own - before.own,
      rssBeforeMb: before.resident,
      rssPeakMb: peak.resident,
      pages,
    };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Loads the tenant into the fresh data directory `location`, serves it, and times its exports.
 * @example await exportBench({ events: 100_000, location: dir, now: Date.now(), log })
 */
export async function exportBench(options: {
  readonly events: number;
  readonly location: string;
  readonly now: number;
  readonly log: (line: string) => void;
}): Promise<ExportResult> {
  const { log } = options;
  log(`\n(i) exports of one tenant of ${options.events.toLocaleString('en')} events (issue #9)`);
  const loadSeconds = await load(options.location, options.events, options.now, log);
  log(`  loaded in ${loadSeconds.toFixed(0)} s (untimed)`);
  const server = await startServer(options.location);
  try {
    const idlePages = await probePages(
      server.url,
      server.key,
      new Promise((resolve) => setTimeout(resolve, 3_000)),
    );
    log(
      `  a newest-50 page of the tenant asked for with no export running: ${waitsText(idlePages, 'requests')}`,
    );
    const cases: Record<string, ExportCase> = {};
    for (const format of ['csv', 'ndjson'] as const) {
      const measured = await timeExport(server.url, server.key, server.pid, format);
      const met =
        measured.eventsPerSecond >= EXPORT_TARGET_EPS &&
        measured.growthMb <= EXPORT_TARGET_GROWTH_MB;
      cases[format] = { ...measured, met };
      log(
        `  ${format.padEnd(6)} ${Math.round(measured.eventsPerSecond).toLocaleString('en')} events/s ` +
          `(${measured.seconds.toFixed(1)} s, ${(measured.bytes / 1e6).toFixed(0)} MB), server memory ` +
          `+${measured.growthMb.toFixed(0)} MB (${measured.ownBeforeMb.toFixed(0)} → ${measured.ownPeakMb.toFixed(0)} MB; ` +
          `resident with the mapped file ${measured.rssBeforeMb.toFixed(0)} → ${measured.rssPeakMb.toFixed(0)} MB)` +
          `  targets ≥ ${EXPORT_TARGET_EPS.toLocaleString('en')}/s, ≤ ${EXPORT_TARGET_GROWTH_MB} MB: ${met ? 'met' : 'NOT met'}`,
      );
      log(
        `         meanwhile a page every ${PROBE_EVERY_MS} ms: ${waitsText(measured.pages, 'requests')}`,
      );
    }
    return { tenant: EXPORT_TENANT, events: options.events, loadSeconds, idlePages, cases };
  } finally {
    await server.stop();
  }
}
