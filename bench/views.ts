/**
 * Phase (e) of `npm run bench`: the derived views of issue #5 — "each view endpoint answers in
 * ≤ 50 ms p95 on a tenant with 1,000,000 events".
 *
 * 1. One tenant (`views-bench`) of `events` events over `days` days (`views-workload.ts`) is
 *    loaded, untimed, into a fresh store through the store's own path: `prepareEvents` (the
 *    validation, enrichment and salts of `POST /v1/events`) and `store.append` of batches of
 *    1,000, several in flight. The projections are kept by the store as it appends.
 * 2. A real `hindsight serve` on that store answers each view endpoint over one keep-alive
 *    connection: 10 warm-up runs, then 200 timed runs with parameters drawn afresh each run.
 */
import { performance } from 'node:perf_hooks';
import { createEnricher } from '../packages/server/src/enrich.js';
import { prepareEvents } from '../packages/server/src/ingest.js';
import { openStore } from '../packages/server/src/store/index.js';
import { type ConsoleResult, consoleBench } from './console.js';
import { httpClient, percentile, startServer } from './harness.js';
import { VIEWS_COUNTRIES, VIEWS_MIX, VIEWS_TENANT, ViewsWorkload } from './views-workload.js';
import { prng } from './workload.js';

/** The target of issue #5: p95 of each view endpoint. */
export const VIEWS_TARGET_MS = 50;
const BATCH = 1000;
const IN_FLIGHT = 4;
const WARM_UP = 10;
const RUNS = 200;
const DAY_MS = 86_400_000;

/** Options of {@link viewsBench}. */
export interface ViewsBenchOptions {
  readonly events: number;
  readonly days: number;
  /** The newest event is a minute before this. */
  readonly now: number;
  /** An empty data directory (SQLite) or the URL of an empty PostgreSQL database. */
  readonly location: string;
  readonly log: (line: string) => void;
}

/** The latency of one kind of request. */
export interface ViewsCase {
  readonly endpoint: string;
  readonly p50: number;
  readonly p95: number;
  readonly runs: number;
  /** What a response held on average: rows, or events counted for stats. */
  readonly size: number;
  readonly met: boolean;
}

/** What the views phase measured, as it goes into the results file. */
export interface ViewsResult {
  readonly tenant: string;
  readonly events: number;
  readonly days: number;
  readonly load: {
    readonly seconds: number;
    readonly eventsPerSecond: number;
    readonly posted: number;
    readonly batch: number;
    readonly inFlight: number;
  };
  readonly mix: Record<string, number>;
  readonly targetP95Ms: number;
  readonly endpoints: Record<string, ViewsCase>;
  readonly met: boolean;
  /** Phase (f): the console's first paint of each tab, and its JavaScript size. */
  readonly console: ConsoleResult;
}

/** Loads the tenant, untimed but with its rate; returns the workload for its facts. */
async function load(options: ViewsBenchOptions) {
  const { log } = options;
  const workload = new ViewsWorkload({
    total: options.events,
    days: options.days,
    now: options.now,
  });
  const postgres = /^postgres(ql)?:/.test(options.location);
  const store = await openStore(
    postgres ? { databaseUrl: options.location } : { data: options.location },
  );
  const enricher = createEnricher();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let posted = 0;
  let nextReport = options.events / 10;
  const t0 = performance.now();
  try {
    for (const batch of workload.batches(BATCH)) {
      const prepared = prepareEvents({ events: batch }, enricher, new Date());
      posted += batch.length;
      const tracked: Promise<void> = store.append([prepared]).then(
        ([outcome]) => {
          if (!outcome?.ok) failure ??= outcome?.error ?? new Error('a batch was not stored');
          inFlight.delete(tracked);
        },
        (error: unknown) => {
          failure ??= error;
          inFlight.delete(tracked);
        },
      );
      inFlight.add(tracked);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      if (failure !== undefined) throw failure;
      if (posted >= nextReport) {
        const seconds = (performance.now() - t0) / 1000;
        log(
          `  loaded ${Math.round((100 * posted) / options.events)}%: ${posted.toLocaleString('en')} events in ${seconds.toFixed(0)} s (${Math.round(posted / seconds).toLocaleString('en')}/s)`,
        );
        nextReport += options.events / 10;
      }
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    const seconds = (performance.now() - t0) / 1000;
    const size = await store.logSize(VIEWS_TENANT);
    if (size !== options.events) {
      throw new Error(`the tenant holds ${size} events, not ${options.events}`);
    }
    return { workload, seconds, posted };
  } finally {
    await Promise.allSettled(inFlight);
    await store.close();
  }
}

/** One kind of request: its endpoint, a fresh path per run, and what its answer held. */
interface Case {
  readonly name: string;
  readonly endpoint: string;
  path(): string;
  size(body: unknown): number;
}

/**
 * Loads the tenant into the store at `location`, serves it and measures each view endpoint.
 * @example await viewsBench({ events: 50_000, days: 90, now: Date.now(), location: dir, log })
 */
export async function viewsBench(options: ViewsBenchOptions): Promise<ViewsResult> {
  const { log, events } = options;
  log(
    `  loading through prepareEvents + store.append: batches of ${BATCH}, ${IN_FLIGHT} in flight`,
  );
  const loaded = await load(options);
  const { facts } = loaded.workload;
  const rate = events / loaded.seconds;
  log(
    `  load: ${Math.round(rate).toLocaleString('en')} events/s (${loaded.seconds.toFixed(1)} s; ${loaded.posted.toLocaleString('en')} posted, ${facts.retries} of them webhook retries)`,
  );
  const mix = Object.fromEntries(
    Object.keys(VIEWS_MIX).map((c) => [c, (facts.mix[c] ?? 0) / events]),
  );
  log(
    `  mix: ${Object.entries(mix)
      .map(([c, share]) => `${c} ${(100 * share).toFixed(1)}%`)
      .join(', ')}`,
  );
  log(
    `  ${facts.messageIds.length.toLocaleString('en')} messages (${facts.lateSent} sent after their reports, ${facts.deferred} receivers deferred first), ${facts.acknowledgements} acknowledgements`,
  );

  const server = await startServer(options.location);
  const client = httpClient(1);
  const base = `${server.url}/v1/tenants/${VIEWS_TENANT}`;
  const get = async (path: string): Promise<unknown> => {
    const res = await client.call(
      path.startsWith('/v1/views') ? `${server.url}${path}` : `${base}${path}`,
      server.key,
      'GET',
    );
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body);
  };
  try {
    const rand = prng(11);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
    const q = encodeURIComponent;
    type Page = { nextCursor: string | null };

    // Cursors gathered before the timing: every page of the default order, and page 2 of the
    // name order with a few filters and sizes.
    const attemptPages: string[] = [''];
    for (let cursor: string | null = null; ; ) {
      const page = (await get(
        `/logins/users?limit=50${cursor ? `&cursor=${q(cursor)}` : ''}`,
      )) as Page;
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
      attemptPages.push(`&cursor=${q(cursor)}`);
    }
    const namePage2: string[] = [];
    for (const order of ['asc', 'desc']) {
      for (const filter of ['', '&lastAttempt=failed']) {
        for (const limit of [25, 50, 100]) {
          const query = `/logins/users?sort=name&order=${order}${filter}&limit=${limit}`;
          const page = (await get(query)) as Page;
          if (page.nextCursor) namePage2.push(`${query}&cursor=${q(page.nextCursor)}`);
        }
      }
    }
    // A tenant too small for a second page is asked for its first.
    if (namePage2.length === 0) namePage2.push('/logins/users?sort=name');
    if (facts.messageIds.length === 0) throw new Error('the workload generated no message');
    log(
      `  logins view: ${attemptPages.length} pages of 50 accounts; ${namePage2.length} page-2 cursors by name`,
    );

    const now = options.now;
    const window = (days: number) => {
      // A window ending now, or at a random hour of the 90 days.
      const until = rand() < 0.5 ? now : now - Math.floor(rand() * (options.days - days)) * DAY_MS;
      return `since=${q(new Date(until - days * DAY_MS).toISOString())}&until=${q(new Date(until).toISOString())}`;
    };
    const categories = Object.keys(VIEWS_MIX);
    const words = ['invoice', 'schedule', 'xero', 'bounce', 'refused'];
    const rows = (key: string) => (body: unknown) =>
      (body as Record<string, unknown[] | undefined>)[key]?.length ?? 0;
    const counted = (body: unknown) => (body as { total: number }).total;
    const cases: Case[] = [
      {
        name: 'views (built-in)',
        endpoint: 'GET /v1/views',
        path: () => '/v1/views',
        size: rows('views'),
      },
      {
        name: 'views of the tenant',
        endpoint: 'GET /v1/tenants/{t}/views',
        path: () => '/views',
        size: rows('views'),
      },
      {
        name: 'logins: random page by lastAttempt',
        endpoint: 'GET /v1/tenants/{t}/logins/users',
        path: () => `/logins/users?limit=50${pick(attemptPages)}`,
        size: rows('users'),
      },
      {
        name: 'logins: by name, page 2 (cursor)',
        endpoint: 'GET /v1/tenants/{t}/logins/users',
        path: () => pick(namePage2),
        size: rows('users'),
      },
      {
        name: 'logins: search a name fragment',
        endpoint: 'GET /v1/tenants/{t}/logins/users',
        path: () =>
          `/logins/users?search=${q(pick(['son', 'sen', 'ski', 'kowa', 'chen', 'ali', 'ova', 'mar', 'priya', 'ing']))}&limit=50`,
        size: rows('users'),
      },
      {
        name: 'logins: country filter',
        endpoint: 'GET /v1/tenants/{t}/logins/users',
        path: () => `/logins/users?country=${pick(VIEWS_COUNTRIES)}&limit=50`,
        size: rows('users'),
      },
      {
        name: 'logins: new country filter',
        endpoint: 'GET /v1/tenants/{t}/logins/users',
        path: () => `/logins/users?newCountry=true&limit=${pick([25, 50])}`,
        size: rows('users'),
      },
      {
        name: 'messages: first page',
        endpoint: 'GET /v1/tenants/{t}/messages',
        path: () => `/messages?limit=${pick([25, 50, 100])}`,
        size: rows('messages'),
      },
      {
        name: 'messages: by actor',
        endpoint: 'GET /v1/tenants/{t}/messages',
        path: () => `/messages?actor=${pick(facts.senders)}&limit=50`,
        size: rows('messages'),
      },
      {
        name: 'message detail',
        endpoint: 'GET /v1/tenants/{t}/messages/{id}',
        path: () => `/messages/${pick(facts.messageIds)}`,
        size: rows('receiverList'),
      },
      {
        name: 'integrations',
        endpoint: 'GET /v1/tenants/{t}/integrations',
        path: () => '/integrations',
        size: rows('integrations'),
      },
      {
        name: 'stats: 30 days',
        endpoint: 'GET /v1/tenants/{t}/stats',
        path: () => `/stats?${window(30)}`,
        size: counted,
      },
      {
        name: 'stats: 7 days of one category',
        endpoint: 'GET /v1/tenants/{t}/stats',
        path: () => `/stats?category=${pick(categories)}&${window(7)}`,
        size: counted,
      },
      {
        name: 'stats: actor, 30 days (scan)',
        endpoint: 'GET /v1/tenants/{t}/stats',
        path: () => `/stats?actor=${pick(facts.busyActors)}&${window(30)}`,
        size: counted,
      },
      {
        name: 'stats: q word, 30 days (scan)',
        endpoint: 'GET /v1/tenants/{t}/stats',
        path: () => `/stats?q=${pick(words)}&${window(30)}`,
        size: counted,
      },
    ];

    const endpoints: Record<string, ViewsCase> = {};
    log(
      `\n  ${'case'.padEnd(36)} ${'endpoint'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}  target p95  ${'size'.padStart(7)}`,
    );
    for (const c of cases) {
      const times: number[] = [];
      let size = 0;
      for (let i = 0; i < WARM_UP + RUNS; i++) {
        const path = c.path();
        const t0 = performance.now();
        const body = await get(path);
        const ms = performance.now() - t0;
        if (i >= WARM_UP) {
          times.push(ms);
          size += c.size(body);
        }
      }
      times.sort((a, b) => a - b);
      const p95 = percentile(times, 95);
      const result: ViewsCase = {
        endpoint: c.endpoint,
        p50: percentile(times, 50),
        p95,
        runs: times.length,
        size: size / times.length,
        met: p95 <= VIEWS_TARGET_MS,
      };
      endpoints[c.name] = result;
      log(
        `  ${c.name.padEnd(36)} ${c.endpoint.padEnd(34)} ${result.p50.toFixed(2).padStart(8)} ${p95.toFixed(2).padStart(8)}  ≤ ${VIEWS_TARGET_MS} ms ${result.met ? 'met    ' : 'NOT MET'} ${result.size.toFixed(0).padStart(7)}`,
      );
    }
    const met = Object.values(endpoints).every((e) => e.met);
    log(
      `  ${met ? 'every view endpoint met' : 'NOT every view endpoint met'} ≤ ${VIEWS_TARGET_MS} ms p95 on ${events.toLocaleString('en')} events`,
    );
    log(`\n(f) the web console on the same tenant, in Debian's Chromium`);
    const consoleFigures = await consoleBench({
      server,
      tenant: VIEWS_TENANT,
      events,
      runs: 5,
      log: options.log,
    });
    return {
      tenant: VIEWS_TENANT,
      events,
      days: options.days,
      load: {
        seconds: loaded.seconds,
        eventsPerSecond: rate,
        posted: loaded.posted,
        batch: BATCH,
        inFlight: IN_FLIGHT,
      },
      mix,
      targetP95Ms: VIEWS_TARGET_MS,
      endpoints,
      met,
      console: consoleFigures,
    };
  } finally {
    client.close();
    await server.stop();
  }
}
