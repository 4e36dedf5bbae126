/**
 * The benchmark's synthetic workload: realistic events across many tenants, one of which holds
 * 10%, with a common word (in ≥ 10% of that tenant's events) and a rare one to search for.
 */
import { type EventInput, LIMITS, leafHashOf } from '@hindsight/core';
import { mulberry32 } from '../packages/server/src/demo.js';
import { createEnricher } from '../packages/server/src/enrich.js';
import { prepareEvents } from '../packages/server/src/ingest.js';
import { type WriterEvent, writerEvent } from '../packages/server/src/store/append-plan.js';

/** The workload's deterministic PRNG. */
export const prng = mulberry32;

export const BIG_TENANT = 'tenant-000';
export const COMMON_WORD = 'invoice';
export const RARE_WORD = 'zanzibar';
export const ACTORS_PER_TENANT = 200;

const ACTIONS: Array<[string, string]> = [
  ['user.updated', 'users'],
  ['user.created', 'users'],
  ['login.succeeded', 'logins'],
  ['login.failed', 'logins'],
  ['message.sent', 'communications'],
  ['message.delivered', 'communications'],
  ['workflow.updated', 'changes'],
  ['territory.created', 'changes'],
  ['http.request', 'requests'],
  ['api.request', 'api'],
  ['integration.synced', 'integrations'],
  ['code.accessed', 'access'],
];
const WORDS =
  'account settings workflow territory sequence plan billing currency timezone language contact customer report export filter condition round robin lead score profile enrichment email phone credit renewal trial upgrade downgrade license admin rights role team member schedule calendar reminder template campaign'.split(
    ' ',
  );
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];

/** Options of {@link generateEvents}. */
export interface WorkloadOptions {
  readonly total: number;
  readonly tenants: number;
  /** Events are spread over this many days before `now`, in time order. */
  readonly days: number;
  readonly now: number;
  readonly seed?: number;
}

/** Which tenant the i-th event belongs to: every 10th goes to the big tenant. */
function tenantOf(i: number, tenants: number, rand: () => number): string {
  if (i % 10 === 0) return BIG_TENANT;
  return `tenant-${String(1 + Math.floor(rand() * (tenants - 1))).padStart(3, '0')}`;
}

/**
 * Yields the workload's events in time order, in batches.
 * @example for (const batch of generateEvents(opts, 100)) post(batch)
 */
export function* generateEvents(
  options: WorkloadOptions,
  batchSize: number,
): Generator<EventInput[]> {
  const rand = prng(options.seed ?? 42);
  const start = options.now - options.days * 86_400_000;
  const step = (options.days * 86_400_000) / options.total;
  let batch: EventInput[] = [];
  for (let i = 0; i < options.total; i++) {
    const [action, category] = ACTIONS[Math.floor(rand() * ACTIONS.length)] ?? [
      'user.updated',
      'users',
    ];
    const actor = Math.floor(rand() * ACTORS_PER_TENANT);
    const words = Array.from({ length: 6 }, () => WORDS[Math.floor(rand() * WORDS.length)]);
    if (rand() < 0.15) words.push(COMMON_WORD);
    if (rand() < 0.0002) words.push(RARE_WORD);
    const failed = action === 'login.failed';
    batch.push({
      tenant: tenantOf(i, options.tenants, rand),
      action,
      category,
      time: new Date(start + i * step).toISOString(),
      actor: { id: `user-${actor}`, name: `User ${actor}`, email: `user${actor}@example.test` },
      targets: [
        { type: 'record', id: `REC-${Math.floor(rand() * 100_000)}`, name: `Record ${i % 977}` },
      ],
      channel: rand() < 0.7 ? 'ui' : 'api',
      outcome: failed ? 'failure' : 'success',
      description: words.join(' '),
      context: {
        ip: `${81 + (actor % 50)}.${actor % 250}.${Math.floor(rand() * 250)}.${1 + (i % 250)}`,
        userAgent: USER_AGENTS[actor % USER_AGENTS.length] ?? '',
      },
      ...(category === 'changes'
        ? { changes: [{ field: 'name', before: words[0], after: words[1] }] }
        : {}),
      metadata: { module: words[2], requestSize: Math.floor(rand() * 5000) },
    });
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** One event of the raw baselines: prepared, numbered and hashed outside the timing. */
export interface NumberedEvent {
  readonly event: WriterEvent;
  readonly seq: number;
  readonly hash: string;
}

/**
 * Yields the workload as the raw baselines insert it: prepared by the same code as the server
 * (validation, enrichment, salts; at most a request's worth of events at a time), numbered per
 * tenant and hashed, in groups of `size` (one group per transaction).
 */
export function* numberedEvents(
  options: WorkloadOptions,
  size: number,
  now: Date,
): Generator<NumberedEvent[]> {
  const enricher = createEnricher();
  const sizes = new Map<string, number>();
  for (const batch of generateEvents(options, size)) {
    const group: NumberedEvent[] = [];
    for (let at = 0; at < batch.length; at += LIMITS.batch) {
      for (const p of prepareEvents(
        { events: batch.slice(at, at + LIMITS.batch) },
        enricher,
        now,
      )) {
        const event = writerEvent(p);
        const seq = (sizes.get(event.tenant) ?? 0) + 1;
        sizes.set(event.tenant, seq);
        group.push({ event, seq, hash: leafHashOf(p.hashParts, seq) });
      }
    }
    yield group;
  }
}
