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
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  Checkpointer,
  DEFAULT_ORIGIN,
  loadOrCreateSigner,
} from '../packages/server/src/checkpoints.js';
import { exportLines } from '../packages/server/src/export.js';
import { ScrubJob } from '../packages/server/src/scrub.js';
import { openStore } from '../packages/server/src/store/index.js';

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
    const job = new ScrubJob(
      store,
      checkpoints,
      { intervalMs: 86_400_000, pauseMs: 0 },
      {
        quiet: async () => {},
        record: async () => {},
        failed: ({ tenant: t }) => failed.push(t),
        onError: (error) => {
          throw error;
        },
      },
    );
    const cpu0 = process.cpuUsage();
    const s0 = performance.now();
    await job.runOnce();
    const scrubSeconds = (performance.now() - s0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    const { events, failedTenants } = job.stats();
    if (events === 0 || failed.length > 0) {
      throw new Error(`The scrub checked ${events} events; failed: ${failed.join(', ')}`);
    }
    const result: ScrubResult = {
      tenant,
      events,
      readSeconds,
      scrubSeconds,
      eventsPerSecond: events / scrubSeconds,
      ratio: scrubSeconds / readSeconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      ownBeforeMb,
      ownPeakMb: peak,
      failedTenants,
    };
    const fmt = (n: number) => Math.round(n).toLocaleString('en');
    log(
      `  raw baseline, the export read alone (${fmt(lines / 2 ** 20)} MB): ${readSeconds.toFixed(1)} s`,
    );
    log(
      `  scrub: ${fmt(events)} events verified in ${scrubSeconds.toFixed(1)} s (${fmt(result.eventsPerSecond)} events/s), ` +
        `ratio to the read ${result.ratio.toFixed(2)}; CPU ${result.cpuSeconds.toFixed(1)} s (all threads); ` +
        `own memory ${fmt(ownBeforeMb)} → ${fmt(peak)} MB`,
    );
    return result;
  } finally {
    await store.close();
  }
}
