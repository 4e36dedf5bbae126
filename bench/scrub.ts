/**
 * Phase (j) of `npm run bench` (`--only export`, after phase (i), on its store): the integrity
 * scrub (docs/operations.md#the-integrity-scrub) of one tenant of `--events` events.
 *
 * The raw baseline, in the same run on the same store, is what the scrub cannot do without:
 * reading the tenant's verifiable export (`exportLines`, the lines `GET …/export` sends) and
 * nothing else. Then one scrub run (`ScrubJob.runOnce`, no pause) checks it with the offline
 * verifier, a worker thread recomputing the leaves. Figures: wall time and events/s of each,
 * their ratio, the process's CPU time during the scrub (all threads), and the growth of its
 * own memory (`RssAnon`) at the peak — what a server gives for a daily check of that tenant.
 *
 * Then what the server's own requests feel of it: a newest-50 page of the tenant is read every
 * {@link PROBE_EVERY_MS} ms in the same process (the server's event loop), timed from when it
 * was due, while nothing else runs (the baseline), during the run above, and during a run paced
 * as the server's scheduled scrub is (a pause of `PAUSE_FACTOR` times each slice of work).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Checkpointer,
  DEFAULT_ORIGIN,
  loadOrCreateSigner,
} from '../packages/server/src/checkpoints.js';
import { exportLines } from '../packages/server/src/export.js';
import { PAUSE_FACTOR, SLICE_MS } from '../packages/server/src/pacing.js';
import { ScrubJob, type ScrubOptions } from '../packages/server/src/scrub.js';
import { openStore } from '../packages/server/src/store/index.js';
import type { Store } from '../packages/server/src/store/types.js';
import { probePages, type Waits, waitsText } from './harness.js';

/** What the scrub phase measured. */
export interface ScrubResult {
  readonly tenant: string;
  readonly events: number;
  readonly readSeconds: number;
  readonly scrubSeconds: number;
  readonly eventsPerSecond: number;
  /** Scrub time over the time to read the export alone. */
  readonly ratio: number;
  /** CPU time of the whole process (every thread) during the scrub. */
  readonly cpuSeconds: number;
  /** This process's own memory (RssAnon) before the scrub and at its peak. */
  readonly ownBeforeMb: number;
  readonly ownPeakMb: number;
  readonly failedTenants: number;
  /** The paced run (as the server schedules it): its wall time and CPU time. */
  readonly pacedSeconds: number;
  readonly pacedCpuSeconds: number;
  /** A newest-50 page read meanwhile, ms from when it was due: p50, p95 and the longest. */
  readonly pages: Record<'idle' | 'flatOut' | 'paced', Waits>;
}

/** How often the probe reads a page during a scrub. */
const PROBE_EVERY_MS = 25;
/** How long the baseline probe runs, with nothing else. */
const IDLE_PROBE_MS = 5_000;

/** One run of `job` while pages are read: its time, its CPU time (all threads), the reads' waits. */
async function timedRun(job: ScrubJob, store: Store, tenant: string) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = job.runOnce();
  const pages = await probePages(store, tenant, run, PROBE_EVERY_MS);
  await run;
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    pages,
  };
}

function ownMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/**
 * Scrubs the store in `location` (a `hindsight serve` data directory: its `signing.key` signed
 * the checkpoints) after reading the tenant's export alone.
 * @example await scrubBench({ location: 'bench/data/export', tenant: 'export-bench', log })
 */
export async function scrubBench(options: {
  readonly location: string;
  readonly tenant: string;
  readonly log: (line: string) => void;
}): Promise<ScrubResult> {
  const { log, tenant } = options;
  const store = await openStore({ data: options.location });
  try {
    const { signer } = loadOrCreateSigner(join(options.location, 'signing.key'), DEFAULT_ORIGIN);
    const checkpoints = new Checkpointer(store, { signer, origin: DEFAULT_ORIGIN });
    log(`\n(j) integrity scrub of the tenant of phase (i), in this process`);

    // Raw baseline: the export's lines, read and dropped.
    let lines = 0;
    const r0 = performance.now();
    for await (const chunk of exportLines(store, checkpoints, tenant)) lines += chunk.length;
    const readSeconds = (performance.now() - r0) / 1000;

    let peak = ownMb();
    const ownBeforeMb = peak;
    const sampler = setInterval(() => {
      peak = Math.max(peak, ownMb());
    }, 50);
    const failed: string[] = [];
    const scrubJob = (options: Pick<ScrubOptions, 'pauseMs'>) =>
      new ScrubJob(
        store,
        checkpoints,
        { intervalMs: 86_400_000, ...options },
        {
          quiet: async () => {},
          record: async () => {},
          failed: ({ tenant: t }) => failed.push(t),
          onError: (error) => {
            throw error;
          },
        },
      );
    const idle = await probePages(store, tenant, sleep(IDLE_PROBE_MS), PROBE_EVERY_MS);
    const job = scrubJob({ pauseMs: 0 });
    const flatOut = await timedRun(job, store, tenant);
    clearInterval(sampler);
    const { events, failedTenants } = job.stats();
    if (events === 0 || failed.length > 0) {
      throw new Error(`The scrub checked ${events} events; failed: ${failed.join(', ')}`);
    }
    // As the server schedules it: no pauseMs, so it pauses PAUSE_FACTOR times each slice.
    const pacedJob = scrubJob({});
    const paced = await timedRun(pacedJob, store, tenant);
    if (pacedJob.stats().events !== events || failed.length > 0) {
      throw new Error(`The paced scrub checked ${pacedJob.stats().events} events, not ${events}`);
    }
    const result: ScrubResult = {
      tenant,
      events,
      readSeconds,
      scrubSeconds: flatOut.seconds,
      eventsPerSecond: events / flatOut.seconds,
      ratio: flatOut.seconds / readSeconds,
      cpuSeconds: flatOut.cpuSeconds,
      ownBeforeMb,
      ownPeakMb: peak,
      failedTenants,
      pacedSeconds: paced.seconds,
      pacedCpuSeconds: paced.cpuSeconds,
      pages: { idle, flatOut: flatOut.pages, paced: paced.pages },
    };
    const fmt = (n: number) => Math.round(n).toLocaleString('en');
    log(
      `  raw baseline, the export read alone (${fmt(lines / 2 ** 20)} MB): ${readSeconds.toFixed(1)} s`,
    );
    log(
      `  scrub: ${fmt(events)} events verified in ${result.scrubSeconds.toFixed(1)} s (${fmt(result.eventsPerSecond)} events/s), ` +
        `ratio to the read ${result.ratio.toFixed(2)}; CPU ${result.cpuSeconds.toFixed(1)} s (all threads); ` +
        `own memory ${fmt(ownBeforeMb)} → ${fmt(peak)} MB`,
    );
    log(
      `  paced as the server runs it (a pause of ${PAUSE_FACTOR}× each ${SLICE_MS} ms of work): ` +
        `${result.pacedSeconds.toFixed(1)} s, CPU ${result.pacedCpuSeconds.toFixed(1)} s`,
    );
    const page = (name: string, waits: Waits) => `${name} ${waitsText(waits, 'reads')}`;
    log(
      `  a newest-50 page read every ${PROBE_EVERY_MS} ms meanwhile, from when it was due: ` +
        `${page('idle', idle)}; ${page('flat out', flatOut.pages)}; ${page('paced', paced.pages)}`,
    );
    return result;
  } finally {
    await store.close();
  }
}
