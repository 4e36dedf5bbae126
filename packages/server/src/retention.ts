/**
 * Retention (issue #9): which events of a tenant have expired under its policy — per category,
 * else the tenant's default, else the server's (`--retention-days`) — and the run that removes
 * them: archived first when an archive directory is set, then removed in bounded steps (whole
 * months dropped where the store keeps them apart), never for a tenant under legal hold. Each
 * run that removed events of a tenant records `retention.pruned` in that tenant's `audit` log.
 */
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type EventInput,
  EXPORT_FORMAT,
  type ExportLine,
  type QueryClause,
  type TenantSettings,
} from '@hindsight/core';
import { ARCHIVE_SUFFIX, writeArchiveFile } from './archive-file.js';
import { makeDirectory } from './file-errors.js';
import { newUlid } from './ids.js';
import { PAUSE_FACTOR } from './pacing.js';
import { appendPendingAudit } from './pending-audit.js';
import { countOf } from './plural.js';
import { gapsOf, prunedLines } from './pruned-lines.js';
import type { PendingAudit, PruneRule, Store } from './store/types.js';

const DAY_MS = 86_400_000;

/**
 * Events removed per transaction by default: small enough that an append waiting behind a step
 * waits a few tens of milliseconds at most (`npm run bench -- --only prune`).
 */
export const DEFAULT_BATCH = 100;

/** How the server keeps events. */
export interface RetentionOptions {
  /** Days to keep events of tenants and categories without a policy; `null` keeps them. */
  readonly defaultDays: number | null;
  /**
   * Where removed events are written first, as verifiable gzip NDJSON (one file per tenant and
   * run, `<dir>/<tenant>/<time>.ndjson.gz`); none by default.
   */
  readonly archiveDir?: string;
  /** Most events removed in one transaction (default {@link DEFAULT_BATCH}). */
  readonly batchSize?: number;
  /**
   * Pause between two steps, in ms. Default: {@link PAUSE_FACTOR} times as long as the step
   * took, so that appends run in between and the disk is not kept busy with removals.
   */
  readonly pauseMs?: number;
}

/** What a run did (or, dry, would do) to one tenant. */
export interface TenantPruning {
  readonly tenant: string;
  /** Events removed (dry run: expired). */
  readonly removed: number;
  readonly byCategory: Readonly<Record<string, number>>;
  /** The archive file written, when archiving. */
  readonly archive?: string;
  /** Set when the tenant is under legal hold: nothing of it was removed. */
  readonly heldSince?: string;
  /**
   * Set when a retention policy applies but no checkpoint signs the log yet: nothing is removed
   * before one does (a running server signs it).
   */
  readonly unsigned?: true;
}

/** Options of one {@link runRetention}. */
export interface RunOptions {
  /** Count what has expired, remove nothing. */
  readonly dryRun?: boolean;
  /** Only these tenants (default: every tenant). */
  readonly tenants?: readonly string[];
  /** "Now", in ms (tests). */
  readonly nowMs?: number;
  /** Records an event in the server's own log (the `audit` entry of a run). */
  readonly record?: (event: EventInput) => Promise<void>;
  /** Stops the run between two steps. */
  readonly signal?: AbortSignal;
}

/**
 * Days to keep a category's events under a tenant's settings: its own policy, else the
 * tenant's `days`, else the server's default; `null` keeps them forever.
 * @example retentionDays({ retention: { categories: { changes: 90 } } }, 'changes', null) // 90
 */
export function retentionDays(
  settings: TenantSettings,
  category: string,
  defaultDays: number | null,
): number | null {
  const own = settings.retention?.categories?.[category];
  if (own !== undefined) return own;
  if (settings.retention?.days !== undefined) return settings.retention.days;
  return defaultDays;
}

/** The prune rules of a tenant at `nowMs`: one per category of its log that expires. */
export async function pruneRules(
  store: Store,
  tenant: string,
  settings: TenantSettings,
  defaultDays: number | null,
  nowMs: number,
): Promise<PruneRule[]> {
  const rules: PruneRule[] = [];
  for (const category of await store.categories(tenant)) {
    const days = retentionDays(settings, category, defaultDays);
    if (days !== null) rules.push({ category, beforeMs: nowMs - days * DAY_MS });
  }
  return rules;
}

/** The clauses that select a rule's events. */
function ruleClauses(rule: PruneRule): QueryClause[] {
  return [
    { kind: 'category', value: rule.category, negate: false, position: 0 },
    {
      kind: 'before',
      value: new Date(rule.beforeMs).toISOString(),
      timeMs: rule.beforeMs,
      negate: false,
      position: 0,
    },
  ];
}

/** A tenant's expired events, oldest first per rule, with their salts. */
async function* expiredEvents(
  store: Store,
  tenant: string,
  rules: readonly PruneRule[],
  maxSeq: number,
): AsyncGenerator<Extract<ExportLine, { type: 'event' }>> {
  for (const rule of rules) {
    let after: string | undefined;
    do {
      const page = await store.queryEvents(tenant, {
        clauses: ruleClauses(rule),
        limit: 1000,
        order: 'asc',
        withSalts: true,
        ...(after === undefined ? {} : { after }),
      });
      for (const [i, event] of page.events.entries()) {
        if (event.seq <= maxSeq) yield { type: 'event', event, salts: page.salts?.[i] ?? {} };
      }
      after = page.next ?? undefined;
    } while (after !== undefined);
  }
}

/**
 * Removes every expired event of every tenant not under legal hold (or, `dryRun`, counts
 * them), and answers what it did per tenant that had expired events or is held.
 * @example await runRetention(store, { defaultDays: 365 }, { dryRun: true })
 */
export async function runRetention(
  store: Store,
  options: RetentionOptions,
  run: RunOptions = {},
): Promise<TenantPruning[]> {
  const nowMs = run.nowMs ?? Date.now();
  const names = run.tenants ?? (await store.tenants()).map((t) => t.name);
  const plans = new Map<string, { rules: PruneRule[]; maxSeq: number; note: string }>();
  const out: TenantPruning[] = [];
  for (const tenant of names) {
    const { settings } = await store.tenantSettings(tenant);
    if (settings.legalHold) {
      out.push({ tenant, removed: 0, byCategory: {}, heldSince: settings.legalHold.since });
      continue;
    }
    const rules = await pruneRules(store, tenant, settings, options.defaultDays, nowMs);
    // Only what a signed checkpoint covers: every removed event was committed to first.
    const latest = await store.latestCheckpoint(tenant);
    if (rules.length > 0 && latest)
      plans.set(tenant, { rules, maxSeq: latest.size, note: latest.note });
    else if (rules.length > 0) out.push({ tenant, removed: 0, byCategory: {}, unsigned: true });
  }
  const removed = new Map<string, Record<string, number>>();
  const add = (tenant: string, category: string, n: number) => {
    const counts = removed.get(tenant) ?? {};
    counts[category] = (counts[category] ?? 0) + n;
    removed.set(tenant, counts);
  };
  const archives = new Map<string, string>();
  // Each step keeps its part of the tenant's `retention.pruned` entry in its own transaction
  // (`<entry>.<part>`); the parts become one entry at the end. So a run stopped midway leaves
  // what it removed recorded: the parts are appended as they are.
  const time = new Date(nowMs).toISOString();
  const entries = new Map<string, string>();
  const entryOf = (tenant: string) => {
    let id = entries.get(tenant);
    if (id === undefined) {
      id = newUlid(nowMs);
      entries.set(tenant, id);
    }
    return id;
  };
  const part = (tenant: string, label: string): PendingAudit | undefined => {
    if (run.record === undefined) return undefined;
    const rules = plans.get(tenant)?.rules ?? [];
    return {
      ...prunedEntry(tenant, {}, rules, archives.get(tenant)),
      description: 'Retention removed expired events (part of a run)',
      id: `${entryOf(tenant)}.${label}`,
      time,
    };
  };
  if (run.dryRun) {
    for (const [tenant, plan] of plans) {
      for await (const { event } of expiredEvents(store, tenant, plan.rules, plan.maxSeq)) {
        add(tenant, event.category, 1);
      }
    }
  } else {
    if (options.archiveDir !== undefined) {
      for (const [tenant, plan] of plans) {
        const file = await writeArchive(store, options.archiveDir, tenant, plan, nowMs);
        if (file !== null) archives.set(tenant, file);
      }
    }
    if (store.dropExpiredMonths && run.tenants === undefined) {
      const drops = await store.dropExpiredMonths({
        expired: (tenant, category, endMs) => {
          const rule = plans.get(tenant)?.rules.find((r) => r.category === category);
          return rule !== undefined && endMs <= rule.beforeMs;
        },
        maxSeq: (tenant) => plans.get(tenant)?.maxSeq ?? 0,
        audit: (tenant, month) => part(tenant, `m${month}`) ?? null,
      });
      for (const drop of drops) for (const r of drop.removed) add(r.tenant, r.category, r.n);
    }
    for (const [tenant, plan] of plans) {
      for (let n = 1; ; n++) {
        if (run.signal?.aborted) break;
        const started = performance.now();
        const audit = part(tenant, String(n));
        const step = await store.prune({
          tenant,
          rules: plan.rules,
          maxSeq: plan.maxSeq,
          limit: options.batchSize ?? DEFAULT_BATCH,
          ...(audit ? { audit } : {}),
        });
        for (const [category, n] of Object.entries(step.byCategory)) add(tenant, category, n);
        // A hold placed during the run: the store removed nothing, and the run stops there.
        if (step.held || !step.more) break;
        // Pruning takes at most a quarter of the writer's time, and of the disk's writes.
        const pause = options.pauseMs ?? PAUSE_FACTOR * (performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
  for (const [tenant, byCategory] of removed) {
    const total = Object.values(byCategory).reduce((a, b) => a + b, 0);
    const archive = archives.get(tenant);
    out.push({ tenant, removed: total, byCategory, ...(archive ? { archive } : {}) });
    const id = entries.get(tenant);
    if (!run.dryRun && total > 0 && run.record && id !== undefined) {
      // Those parts a drain appended meanwhile are in the log already; the rest become one.
      const rules = plans.get(tenant)?.rules ?? [];
      const whole = await store.coalescePendingAudits(tenant, id, (parts) => ({
        ...prunedEntry(tenant, partsRemoved(parts), rules, archive),
        id,
        time,
      }));
      if (whole) await appendPendingAudit(store, run.record, whole);
    }
  }
  return out.sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
}

/** What the parts of a run's entry removed, by category. */
function partsRemoved(parts: readonly PendingAudit[]): Record<string, number> {
  const byCategory: Record<string, number> = {};
  for (const p of parts) {
    const counts = (p.metadata?.['byCategory'] ?? {}) as Record<string, number>;
    for (const [c, n] of Object.entries(counts)) byCategory[c] = (byCategory[c] ?? 0) + n;
  }
  return byCategory;
}

/** The `audit` event of a run that removed events of a tenant. */
function prunedEntry(
  tenant: string,
  byCategory: Record<string, number>,
  rules: readonly PruneRule[],
  archive: string | undefined,
): EventInput {
  const total = Object.values(byCategory).reduce((a, b) => a + b, 0);
  const before = Object.fromEntries(
    rules.map((r) => [r.category, new Date(r.beforeMs).toISOString()]),
  );
  return {
    tenant,
    category: 'audit',
    action: 'retention.pruned',
    actor: { type: 'system', name: 'Hindsight retention' },
    channel: 'system',
    description: `Retention removed ${countOf(total, 'expired event')} (${Object.entries(byCategory)
      .map(([c, n]) => `${c}: ${n}`)
      .join(', ')})`,
    targets: [{ type: 'audit_log', id: 'all' }],
    // The archive's file name: its directory is the server's business, not the tenant's.
    metadata: {
      removed: total,
      byCategory,
      before,
      ...(archive ? { archive: basename(archive) } : {}),
    },
  };
}

/**
 * Writes a tenant's expired events as a verifiable export (`hindsight verify` checks it on its
 * own): header, the events with their salts, the rest of the log up to the checkpoint as
 * `pruned` hash lines, and the checkpoint. Written to a temporary name, synced, then renamed.
 * Answers the file, or `null` when nothing has expired.
 */
async function writeArchive(
  store: Store,
  dir: string,
  tenant: string,
  plan: { rules: readonly PruneRule[]; maxSeq: number; note: string },
  nowMs: number,
): Promise<string | null> {
  const tenantDir = join(dir, tenant);
  // Archives hold the pruned events: readable by the server's user alone.
  makeDirectory(tenantDir, 0o700);
  const stamp = new Date(nowMs).toISOString().replaceAll(':', '-');
  const file = join(tenantDir, `${stamp}-${randomBytes(3).toString('hex')}${ARCHIVE_SUFFIX}`);
  const seqs: number[] = [];
  const origin = plan.note.split('\n', 1)[0] ?? '';
  async function* lines(): AsyncGenerator<string> {
    const line = (value: ExportLine) => `${JSON.stringify(value)}\n`;
    yield line({
      type: 'header',
      format: EXPORT_FORMAT,
      tenant,
      origin,
      size: plan.maxSeq,
      exportedAt: new Date(nowMs).toISOString(),
    });
    for await (const l of expiredEvents(store, tenant, plan.rules, plan.maxSeq)) {
      seqs.push(l.event.seq);
      yield line(l);
    }
    seqs.sort((a, b) => a - b);
    for await (const l of prunedLines(store, tenant, gapsOf(seqs, plan.maxSeq))) yield line(l);
    yield line({ type: 'checkpoint', note: plan.note });
  }
  try {
    return (await writeArchiveFile(file, lines(), () => seqs.length > 0)) ? file : null;
  } catch (error) {
    throw new Error(`The archive of tenant "${tenant}" could not be written to ${dir}.`, {
      cause: error,
    });
  }
}

/**
 * Runs retention in the background every `intervalMs`, one run at a time; `stop` waits for the
 * run under way to end at its next step.
 */
export class RetentionJob {
  readonly #store: Store;
  readonly #options: RetentionOptions;
  readonly #intervalMs: number;
  readonly #record: (event: EventInput) => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #abort = new AbortController();

  constructor(
    store: Store,
    options: RetentionOptions & { readonly intervalMs: number },
    hooks: {
      readonly record: (event: EventInput) => Promise<void>;
      readonly onError: (error: unknown) => void;
    },
  ) {
    this.#store = store;
    this.#options = options;
    this.#intervalMs = options.intervalMs;
    this.#record = hooks.record;
    this.#onError = hooks.onError;
  }

  /** Starts the schedule; the first run is one interval away (not at startup). */
  start(): void {
    if (this.#timer) return;
    this.#abort = new AbortController();
    this.#timer = setInterval(() => void this.runOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  /** One run now, unless one is under way (then that one). */
  runOnce(): Promise<void> {
    if (this.#running) return this.#running;
    const running = runRetention(this.#store, this.#options, {
      record: this.#record,
      signal: this.#abort.signal,
    })
      .then(
        () => {},
        (error: unknown) => this.#onError(error),
      )
      .finally(() => {
        this.#running = undefined;
      });
    this.#running = running;
    return running;
  }

  /** Resolves once no run is under way (at once when none is). */
  async idle(): Promise<void> {
    await this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#running;
  }
}
