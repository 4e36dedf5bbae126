/**
 * What an operator watches (`GET /metrics`, Prometheus text format): requests and their
 * latency per route, error codes, group commits (events, duration, failures, what waits),
 * checkpoints signed and anchors behind, the integrity scrub, and the process (CPU, memory, event loop, GC).
 *
 * No metric carries a tenant, an id or any event value: the labels are route templates, methods,
 * status and error codes, and the store's kind, so that a scrape spans every tenant without
 * telling one from another, and the number of series stays fixed.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import client from 'prom-client';
import { HindsightError } from './errors.js';
import type { ScrubStats } from './scrub.js';

/** Group commit timings, as {@link CommitQueue} reports them. */
export interface CommitObservation {
  /** Events handed to the store in one call. */
  readonly events: number;
  /** Of those, events in batches the store accepted (the others were refused as a whole). */
  readonly accepted: number;
  readonly seconds: number;
  /** The store call failed (e.g. `store_unavailable`): every batch of the group was refused. */
  readonly failed: boolean;
}

/** What the gauges read when scraped. */
export interface MetricSources {
  /** Events queued for the next group commit. */
  readonly queuedEvents: () => number;
  /** Producers' events held from arrival until durable, and the most held before shedding. */
  readonly pendingEvents: () => { readonly held: number; readonly max: number };
  /** Checkpoints signed by this server so far, and those an anchor has not taken yet. */
  readonly checkpoints: () => {
    readonly signed: number;
    readonly anchorFileBacklog: number;
    readonly anchorUrlBacklog: number;
  };
  /** The integrity scrub's counts; `null` when it is off. */
  readonly scrub: () => ScrubStats | null;
  /** Admin changes' `audit` entries the latest retry could not append (`AuditTrail.left`). */
  readonly auditPending: () => number;
}

/** The process's own metrics, collected once per process however many apps it runs. */
let processRegistry: client.Registry | undefined;

function processMetrics(): client.Registry {
  if (processRegistry === undefined) {
    processRegistry = new client.Registry();
    client.collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * A counter of what `read` counts elsewhere (the checkpointer, the scrub): each scrape adds what
 * was counted since the last one.
 */
function tally(name: string, help: string, read: () => number, registers: client.Registry[]): void {
  let last = 0;
  new client.Counter({
    name,
    help,
    registers,
    collect() {
      const now = read();
      this.inc(now - last);
      last = now;
    },
  });
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One app's metrics.
 * @example metrics.request('GET', '/v1/tenants/:tenant/events', 200, 0.004)
 */
export class Metrics {
  readonly #registry = new client.Registry();
  readonly #requests: client.Counter<'method' | 'route' | 'status'>;
  readonly #latency: client.Histogram<'method' | 'route'>;
  readonly #errors: client.Counter<'code'>;
  readonly #commitEvents: client.Histogram;
  readonly #commitSeconds: client.Histogram;
  readonly #commitFailures: client.Counter;
  readonly #accepted: client.Counter;

  constructor(store: string, sources: MetricSources) {
    const registers = [this.#registry];
    this.#requests = new client.Counter({
      name: 'hindsight_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#latency = new client.Histogram({
      name: 'hindsight_http_request_duration_seconds',
      help: 'Time from a request to its answer, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#errors = new client.Counter({
      name: 'hindsight_http_errors_total',
      help: 'Error answers by their code (docs/errors.md).',
      labelNames: ['code'],
      registers,
    });
    this.#accepted = new client.Counter({
      name: 'hindsight_events_accepted_total',
      help: 'Events in batches committed durably and answered 202 (retries included).',
      registers,
    });
    this.#commitEvents = new client.Histogram({
      name: 'hindsight_group_commit_events',
      help: 'Events per group commit (one store transaction for the batches that waited).',
      buckets: [1, 10, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    });
    this.#commitSeconds = new client.Histogram({
      name: 'hindsight_group_commit_duration_seconds',
      help: 'Time a group commit took, until durable.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#commitFailures = new client.Counter({
      name: 'hindsight_group_commit_failures_total',
      help: 'Group commits the store failed (each of their requests was answered with an error).',
      registers,
    });
    new client.Gauge({
      name: 'hindsight_commit_queue_events',
      help: 'Events waiting for the next group commit.',
      registers,
      collect() {
        this.set(sources.queuedEvents());
      },
    });
    new client.Gauge({
      name: 'hindsight_ingest_pending_events',
      help: "Producers' events held from their arrival until durable; writes past --max-pending-events are shed (503 overloaded).",
      registers,
      collect() {
        this.set(sources.pendingEvents().held);
      },
    });
    new client.Gauge({
      name: 'hindsight_ingest_max_pending_events',
      help: 'The --max-pending-events past which writes are shed (0: no limit).',
      registers,
      collect() {
        this.set(sources.pendingEvents().max);
      },
    });
    const checkpoints = () => sources.checkpoints();
    tally(
      'hindsight_checkpoints_signed_total',
      'Checkpoints this server signed and stored.',
      () => checkpoints().signed,
      registers,
    );
    new client.Gauge({
      name: 'hindsight_anchor_backlog_checkpoints',
      help: 'Signed checkpoints an anchor (file or URL) has not taken yet; they are retried.',
      labelNames: ['anchor'],
      registers,
      collect() {
        const now = checkpoints();
        this.set({ anchor: 'file' }, now.anchorFileBacklog);
        this.set({ anchor: 'url' }, now.anchorUrlBacklog);
      },
    });
    new client.Gauge({
      name: 'hindsight_audit_pending_entries',
      help: 'Audit entries of admin changes that the latest retry could not append to their log (refused, or the store unavailable); retried every 10 s. Alert when above 0.',
      registers,
      collect() {
        this.set(sources.auditPending());
      },
    });
    const scrub = () => sources.scrub();
    tally(
      'hindsight_scrub_runs_total',
      'Integrity scrub runs completed over every tenant (off: none).',
      () => scrub()?.runs ?? 0,
      registers,
    );
    tally(
      'hindsight_scrub_events_total',
      'Events the integrity scrub recomputed and checked against the signed log.',
      () => scrub()?.events ?? 0,
      registers,
    );
    new client.Gauge({
      name: 'hindsight_scrub_failed_tenants',
      help: 'Tenants whose log did not verify at their latest integrity scrub. Alert when above 0.',
      registers,
      collect() {
        this.set(scrub()?.failedTenants ?? 0);
      },
    });
    new client.Gauge({
      name: 'hindsight_scrub_skipped_tenants',
      help: 'Tenants the latest integrity scrub run did not check: their logs hold more than --scrub-max-events.',
      registers,
      collect() {
        this.set(scrub()?.skippedTenants ?? 0);
      },
    });
    new client.Gauge({
      name: 'hindsight_scrub_last_run_timestamp_seconds',
      help: 'When the latest complete integrity scrub run ended (0: none yet, or the scrub is off).',
      registers,
      collect() {
        this.set((scrub()?.lastRunEnd ?? 0) / 1000);
      },
    });
    new client.Gauge({
      name: 'hindsight_info',
      help: 'This server: its store (sqlite or postgres). Always 1.',
      labelNames: ['store'],
      registers,
    }).set({ store }, 1);
  }

  /** Counts one answered request; `route` is its template (`null`: no route matched). */
  request(method: string, route: string | null, status: number, seconds: number): void {
    const labels = { method, route: route ?? 'unmatched' };
    this.#requests.inc({ ...labels, status: String(status) });
    this.#latency.observe(labels, seconds);
  }

  /** Counts an error answer by its code. */
  error(code: string): void {
    this.#errors.inc({ code });
  }

  /** Records one group commit. */
  commit(observation: CommitObservation): void {
    this.#commitEvents.observe(observation.events);
    this.#commitSeconds.observe(observation.seconds);
    if (observation.failed) this.#commitFailures.inc();
    this.#accepted.inc(observation.accepted);
  }

  /** The media type of {@link text}. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** Every metric, this app's and the process's, in Prometheus's text format. */
  async text(): Promise<string> {
    return client.Registry.merge([this.#registry, processMetrics()]).metrics();
  }
}

/**
 * A listener of its own for `GET /metrics`, without a key, for a scrape on an internal address
 * (`hindsight serve --metrics-port`): it answers nothing else, and is bound where the operator
 * says (default loopback only).
 * @example const server = await listenForMetrics(metrics, { host: '127.0.0.1', port: 9464 })
 */
export async function listenForMetrics(
  metrics: Metrics,
  address: { readonly host: string; readonly port: number },
): Promise<Server> {
  const fail = (res: ServerResponse, error: HindsightError) => {
    res.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(error.toBody()));
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      fail(res, new HindsightError('not_found', 'This listener serves GET /metrics only.'));
      return;
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => fail(res, new HindsightError('internal_error', 'The metrics could not be collected.')),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
