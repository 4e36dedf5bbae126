/**
 * The integrity scrub: the server checks its own stored logs as an auditor would, so that a
 * log changed in the database behind its back is found within a day rather than at the next
 * audit. Every `--scrub-interval` (default 1d), one tenant after another, the tenant's
 * verifiable export — the very lines `GET …/export?format=ndjson` gives — goes through core's
 * offline verifier (`verifyExport`, as `hindsight verify` runs it) with the server's verifier
 * key:
 *
 * - every event's content and salts must give its leaf hash, and the leaves each checkpoint's
 *   root: an event changed, removed, reordered or inserted is reported with its seq;
 * - every checkpoint the key signed must verify, and one must cover the whole log; those signed
 *   only by a key the server had before a rotation are skipped (it does not know those keys);
 * - the log must reach and match the newest checkpoint the previous check of the tenant
 *   verified, kept in memory, and the newest one the anchor file holds for it (`--anchor-file`,
 *   `anchor-file.ts`): a log rewritten or shortened together with its checkpoints is caught
 *   too.
 *
 * A check that finds problems is run once more before it is reported (a retention run or a
 * deletion between two pages of the export could make it see an event both present and
 * removed). A tenant whose log still does not verify is logged as an error, counted in the
 * metrics (`hindsight_scrub_failed_tenants`), and recorded in its own `audit` log as
 * `audit_log.verification_failed` — once per distinct set of changes found, also across
 * restarts and servers sharing a database — so that its
 * administrators see it in the console (`GET …/integrity`). When it verifies again,
 * `audit_log.verification_passed` is recorded.
 *
 * Of several servers on one database, the one holding the scrub's lease in the store runs it
 * (`Store.claimLease`); the others leave their scheduled runs to it.
 *
 * It yields to the server's own work: after every {@link SLICE_MS} of checking, in one tenant
 * or across several small ones, it waits {@link PAUSE_FACTOR} times as long ({@link Pacer}),
 * and a large log is checked in a worker thread.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type EventInput,
  type Problem,
  type ProblemKind,
  parseQuery,
  type StoredEvent,
  type VerifyReport,
} from '@hindsight/core';
import { verifyExport } from '@hindsight/core/verify-file';
import { AnchorFileReader } from './anchor-file.js';
import type { Checkpointer, CheckpointSource } from './checkpoints.js';
import { exportLines } from './export.js';
import { Pacer } from './pacing.js';
import { countOf } from './plural.js';
import type { Store } from './store/types.js';

/**
 * The scrub's verdicts in a tenant's `audit` log. Only the server records them: `POST /v1/events`
 * refuses them, so that the verdict the console shows cannot be forged by a producer.
 */
export const VERDICT_ACTIONS = {
  failed: 'audit_log.verification_failed',
  passed: 'audit_log.verification_passed',
} as const;

/** The clauses that find the scrub's verdicts in a tenant's log. */
const VERDICTS = parseQuery('category:audit action:audit_log.verification_*').clauses;

/**
 * The tenant's newest verdict of the scrub (`audit_log.verification_failed` or `_passed`), as
 * recorded in its `audit` log by whichever server scrubbed it; `null` when there is none — no
 * check ever found a problem in it.
 * @example const verdict = await latestVerdict(store, 'acme');
 */
export async function latestVerdict(store: Store, tenant: string): Promise<StoredEvent | null> {
  const page = await store.queryEvents(tenant, { clauses: VERDICTS, limit: 1, order: 'desc' });
  return page.events[0] ?? null;
}

/** The lease in the store that the server scrubbing holds (`Store.claimLease`). */
const LEASE = 'scrub';

/** How many intervals a lease lasts: renewed at every run, it outlasts a late timer. */
const LEASE_INTERVALS = 1.5;

/** Logs of more events are not checked in the server, by default (about 500 MB at the peak). */
export const MAX_EVENTS = 5_000_000;

/** Logs of at least this many events are checked in a worker thread, by default. */
export const WORKER_FROM = 20_000;

/** Problems kept in the audit entry, and in the log line. */
const PROBLEMS_SHOWN = 20;

/** What the scrub has done since the server started (`GET /metrics`). */
export interface ScrubStats {
  /** Complete runs over every tenant. */
  readonly runs: number;
  /** Events checked, over every run. */
  readonly events: number;
  /** Tenants whose latest check found problems. */
  readonly failedTenants: number;
  /** When the latest complete run ended, ms since the epoch; `null` before the first. */
  readonly lastRunEnd: number | null;
  /** Tenants the latest complete run left unchecked: their logs are past `maxEvents`. */
  readonly skippedTenants: number;
  /** Scheduled runs this server left to another one on the database, which held the lease. */
  readonly runsElsewhere: number;
}

/** Options of {@link ScrubJob}. */
export interface ScrubOptions {
  /** Time from the start of one run to the start of the next. */
  readonly intervalMs: number;
  /** Time from start to the first run (default a minute, or the interval when shorter). */
  readonly firstRunMs?: number;
  /** The pause after each {@link SLICE_MS} of work (default {@link PAUSE_FACTOR} times as long). */
  readonly pauseMs?: number;
  /** Logs of at least this many events are checked in a worker thread (default {@link WORKER_FROM}). */
  readonly workerFrom?: number;
  /**
   * The anchor file (`--anchor-file`): each log must also reach and match the newest
   * checkpoint the file holds for it.
   */
  readonly anchorFile?: string;
  /**
   * Logs of more events are not checked in the server (default {@link MAX_EVENTS}): checking
   * takes about 100 bytes of memory an event. They are counted and logged; check them with
   * `hindsight scrub` on another machine.
   */
  readonly maxEvents?: number;
}

/** What the scrub asks of the server. */
export interface ScrubHooks {
  /** Waits while another job removes events (a retention run). */
  readonly quiet: () => Promise<void>;
  /** Records an event through the server's ingest path. */
  readonly record: (event: EventInput) => Promise<void>;
  /** A tenant whose log does not verify, at every check that finds it so. */
  readonly failed: (scrub: TenantScrub) => void;
  /** After a run, the tenants it did not check: their logs hold more than `maxEvents`. */
  readonly skipped?: (tenants: readonly string[], maxEvents: number) => void;
  readonly onError: (error: unknown) => void;
}

/** What a check of one tenant found. */
export interface TenantScrub {
  readonly tenant: string;
  readonly report: VerifyReport;
}

/** How {@link scrubTenant} checks a log. */
export interface ScrubCheck {
  /** The server's checkpointer, or the stored checkpoints only (`storedCheckpoints`). */
  readonly checkpoints: CheckpointSource;
  /** The verifier key, or several (before and after a rotation). */
  readonly verifierKey: string | readonly string[];
  /**
   * Checkpoints kept elsewhere (one an earlier check verified, the anchor file's newest), which
   * the log must still reach and match.
   */
  readonly trusted?: readonly string[];
  /** Checkpoints signed by none of the keys: reported (default), or skipped (the server's own scrub). */
  readonly otherKeys?: 'report' | 'skip';
  /** About how many events the log holds: a large one is checked in a worker thread. */
  readonly size: number;
  readonly workerFrom?: number;
  /** Stops the check (rejecting with an `AbortError`). */
  readonly signal?: AbortSignal;
  /**
   * Yields to the server's own work, pausing after every slice (the scheduled scrub). Without it
   * the check runs flat out (`hindsight scrub`).
   */
  readonly pacer?: Pacer;
}

/**
 * Checks one tenant's stored log through its verifiable export with the offline verifier.
 * @example const report = await scrubTenant(store, 'acme', { checkpoints, verifierKey, size: 863 });
 */
export async function scrubTenant(
  store: Store,
  tenant: string,
  check: ScrubCheck,
): Promise<VerifyReport> {
  const lines = paced(exportLines(store, check.checkpoints, tenant), check);
  const { pacer } = check;
  const large = check.size >= (check.workerFrom ?? WORKER_FROM);
  const trusted = check.trusted ?? [];
  return verifyExport(lines, {
    verifierKey: check.verifierKey,
    otherKeys: check.otherKeys ?? 'report',
    ...(trusted.length === 0 ? {} : { trustedCheckpoints: trusted }),
    // A small log in this thread, in small pieces; a large one in a worker.
    threads: large ? 1 : 0,
    chunkBytes: large ? 1024 * 1024 : 64 * 1024,
    ...(pacer === undefined ? {} : { pause: () => pacer.step(check.signal) }),
  });
}

/**
 * The lines, until `signal` aborts (then the check stops with an `AbortError`); with a `pacer`,
 * with its pauses. A pause holds the lines back, so the verifier that reads them waits too, in
 * this thread or in its worker, once it has checked what it was given.
 */
async function* paced(
  lines: AsyncIterable<string>,
  { signal, pacer }: Pick<ScrubCheck, 'signal' | 'pacer'>,
): AsyncGenerator<string> {
  for await (const line of lines) {
    signal?.throwIfAborted();
    yield line;
    await pacer?.step(signal);
  }
}

/** The scrub on a schedule, one run at a time. */
export class ScrubJob {
  readonly #store: Store;
  readonly #checkpoints: Checkpointer;
  readonly #options: ScrubOptions;
  readonly #hooks: ScrubHooks;
  readonly #anchors: AnchorFileReader | null;
  /** The newest checkpoint verified per tenant, which the next check must still reach. */
  readonly #verified = new Map<string, string>();
  /** Per tenant whose log does not verify: the problems last recorded in its audit log. */
  readonly #failing = new Map<string, string>();
  /** Tenants whose stored verdict this process has looked at. */
  readonly #looked = new Set<string>();
  #runs = 0;
  #events = 0;
  #lastRunEnd: number | null = null;
  #skipped = 0;
  /** Scheduled runs left to another server, which held the lease. */
  #elsewhere = 0;
  /** This server, as the holder of the lease. */
  readonly #holder = randomUUID();
  /** Whether this server has taken the lease since it started: it gives it back when it stops. */
  #leased = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #abort = new AbortController();

  constructor(store: Store, checkpoints: Checkpointer, options: ScrubOptions, hooks: ScrubHooks) {
    this.#store = store;
    this.#checkpoints = checkpoints;
    this.#options = options;
    this.#hooks = hooks;
    this.#anchors =
      options.anchorFile === undefined ? null : new AnchorFileReader(options.anchorFile);
  }

  /**
   * Starts the schedule: the first run soon after start, then one per interval — each only while
   * this server holds the scrub's lease in the store, so that of several servers on one
   * database one scrubs (another takes over at its next run when it stops, or within one and a
   * half intervals when it dies).
   */
  start(): void {
    if (this.#timer) return;
    this.#abort = new AbortController();
    const first = this.#options.firstRunMs ?? Math.min(60_000, this.#options.intervalMs);
    this.#timer = setTimeout(() => {
      void this.#scheduled();
      this.#timer = setInterval(() => void this.#scheduled(), this.#options.intervalMs);
      this.#timer.unref();
    }, first);
    this.#timer.unref();
  }

  /** A scheduled run: taken when this server has (or renews) the lease, else left to its holder. */
  async #scheduled(): Promise<void> {
    const now = Date.now();
    const until = now + LEASE_INTERVALS * this.#options.intervalMs;
    let mine: boolean;
    try {
      mine = await this.#store.claimLease(LEASE, this.#holder, until, now);
    } catch (error) {
      this.#hooks.onError(error);
      return;
    }
    if (!mine) {
      this.#elsewhere++;
      return;
    }
    this.#leased = true;
    await this.runOnce();
  }

  /** One run over every tenant now, unless one is under way (then that one). */
  runOnce(): Promise<void> {
    if (this.#running) return this.#running;
    const running = this.#run()
      .catch((error: unknown) => this.#hooks.onError(error))
      .finally(() => {
        this.#running = undefined;
      });
    this.#running = running;
    return running;
  }

  /** What it has done so far. */
  stats(): ScrubStats {
    return {
      runs: this.#runs,
      events: this.#events,
      failedTenants: this.#failing.size,
      lastRunEnd: this.#lastRunEnd,
      skippedTenants: this.#skipped,
      runsElsewhere: this.#elsewhere,
    };
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#running;
    if (!this.#leased) return;
    this.#leased = false;
    // Given back, another server on the database takes the scrub over at its next run rather
    // than once the lease expires (up to one and a half intervals later).
    await this.#store.releaseLease(LEASE, this.#holder).catch((error: unknown) => {
      this.#hooks.onError(error);
    });
  }

  async #run(): Promise<void> {
    const { signal } = this.#abort;
    // Read before any export begins: every checkpoint in the file is then in the database
    // already (the server stores a checkpoint before it anchors it), so no export ends before it.
    const anchored = (await this.#anchors?.newest()) ?? new Map<string, { note: string }>();
    const maxEvents = this.#options.maxEvents ?? MAX_EVENTS;
    const skipped: string[] = [];
    const pacer = new Pacer(this.#options.pauseMs);
    for (const { name, size } of await this.#store.tenants()) {
      if (signal.aborted) return;
      if (size === 0) continue;
      if (size > maxEvents) {
        skipped.push(name);
        continue;
      }
      await this.#hooks.quiet();
      pacer.rested();
      try {
        await this.#tenant(name, size, anchored.get(name)?.note ?? null, pacer);
        await pacer.step(signal);
      } catch (error) {
        // Stopped (the server closes) while a log was being checked.
        if (signal.aborted) return;
        throw error;
      }
    }
    if (signal.aborted) return;
    this.#runs++;
    this.#lastRunEnd = Date.now();
    this.#skipped = skipped.length;
    if (skipped.length > 0) this.#hooks.skipped?.(skipped, maxEvents);
  }

  async #tenant(
    tenant: string,
    size: number,
    anchored: string | null,
    pacer: Pacer,
  ): Promise<void> {
    const newest = await this.#checkpoints.latest(tenant);
    const trusted = [this.#verified.get(tenant), anchored].filter((n): n is string => !!n);
    const check = () =>
      scrubTenant(this.#store, tenant, {
        checkpoints: this.#checkpoints,
        verifierKey: this.#checkpoints.verifierKey,
        trusted,
        // It knows only its current key, not those it had before a rotation.
        otherKeys: 'skip',
        size,
        ...(this.#options.workerFrom === undefined ? {} : { workerFrom: this.#options.workerFrom }),
        signal: this.#abort.signal,
        pacer,
      });
    let report = await check();
    if (!report.ok) {
      // Once more, after any retention run: it may have removed events between two pages.
      await this.#hooks.quiet();
      pacer.rested();
      report = await check();
    }
    this.#events += report.events;
    if (report.ok) {
      if (newest !== null) this.#verified.set(tenant, newest.note);
      // A log found changed before (by this process, or by any server before it started) that
      // verifies again — restored from a backup, say — is said to verify, so that the failure
      // is not the last word on it.
      if (this.#failing.has(tenant) || !this.#looked.has(tenant)) {
        this.#looked.add(tenant);
        const last = await latestVerdict(this.#store, tenant);
        if (last?.action === VERDICT_ACTIONS.failed) {
          await this.#hooks.record(passedEvent(tenant, report));
        }
      }
      this.#failing.delete(tenant);
      return;
    }
    this.#hooks.failed({ tenant, report });
    const problems = leadingProblems(report, PROBLEMS_SHOWN);
    // What was changed, not which checkpoints it breaks: those grow in number as the log does
    // (the entry itself is appended to it), and would make every run's problems new.
    const found = createHash('sha256')
      .update(
        JSON.stringify(
          report.problems
            .filter((p) => p.kind !== 'checkpoint_mismatch')
            .map((p) => [p.kind, p.seq]),
        ),
      )
      .digest('hex')
      .slice(0, 32);
    if (this.#failing.get(tenant) === found) return;
    // Counted as failing at once; recorded as this set of changes once the entry is stored —
    // unless the newest verdict already says so (recorded before a restart, or by another
    // server sharing the database).
    this.#failing.set(tenant, '');
    const last = await latestVerdict(this.#store, tenant);
    const recorded = (last?.metadata as { found?: unknown } | undefined)?.found;
    if (last?.action !== VERDICT_ACTIONS.failed || recorded !== found) {
      await this.#hooks.record(failureEvent(tenant, report, problems, found));
    }
    this.#failing.set(tenant, found);
  }
}

/** Which kind of problem the audit entry's description names first. */
const LEAD: readonly ProblemKind[] = [
  'altered',
  'reordered',
  'missing',
  'inserted',
  'truncated',
  'bad_signature',
  'malformed',
  'checkpoint_mismatch',
];

/**
 * The first `count` problems of a report, what was changed first: checkpoints that no longer
 * match, or no longer cover the log, follow from a change to the events.
 */
export function leadingProblems(report: VerifyReport, count: number): Problem[] {
  return [...report.problems]
    .sort((a, b) => LEAD.indexOf(a.kind) - LEAD.indexOf(b.kind))
    .slice(0, count);
}

/** A verdict of the scrub, as an entry of the tenant's `audit` log about its whole log. */
function verdictEvent(
  tenant: string,
  entry: Pick<EventInput, 'action' | 'description' | 'metadata'> & Partial<EventInput>,
): EventInput {
  return {
    tenant,
    category: 'audit',
    actor: { type: 'system', name: 'Hindsight integrity check' },
    channel: 'system',
    targets: [{ type: 'audit_log', id: 'all' }],
    ...entry,
  };
}

/** The tenant's `audit` entry for a log that verifies again. */
function passedEvent(tenant: string, report: VerifyReport): EventInput {
  return verdictEvent(tenant, {
    action: VERDICT_ACTIONS.passed,
    description: `The server's integrity check verified this log again: ${countOf(report.events, 'event')}, signed up to seq ${report.verifiedSize}.`,
    metadata: { events: report.events, verifiedSize: report.verifiedSize },
  });
}

/** The tenant's `audit` entry for a log that does not verify. */
function failureEvent(
  tenant: string,
  report: VerifyReport,
  problems: Problem[],
  found: string,
): EventInput {
  const count = report.problems.length;
  const [lead] = problems;
  return verdictEvent(tenant, {
    action: VERDICT_ACTIONS.failed,
    outcome: 'failure',
    description: (
      `The server's integrity check found ${countOf(count, 'problem')} ` +
      `in this log. ${lead?.message ?? ''}`
    ).slice(0, 2000),
    metadata: {
      problems: problems.map((p) => ({
        kind: p.kind,
        ...(p.seq === undefined ? {} : { seq: p.seq }),
        message: p.message.slice(0, 300),
      })),
      problemCount: count,
      // Which changes were found, to record them once however many servers check the log.
      found,
      events: report.events,
      verifiedSize: report.verifiedSize,
    },
  });
}
