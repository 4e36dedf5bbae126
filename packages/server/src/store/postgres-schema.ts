/**
 * The PostgreSQL schema: versioned migrations, monthly partitions, and how an event becomes a
 * row. Shared by the store and the benchmark's raw baseline.
 *
 * `events`, `event_targets` and `event_search` are partitioned by month of the event's `time`,
 * so that retention can drop whole months. A tenant's events are ordered by `(time, seq)`; every
 * index is `(tenant_id, column, time, seq)` or leads with it, so a newest-first page is one
 * ordered index scan per month, newest month first. Text columns use the "C" collation: byte
 * order, so prefix ranges use the indexes and no locale changes the order.
 *
 * Keyword search uses a GIN index on a `tsvector` built by Hindsight itself (not by a
 * text-search parser): its lexemes are the tokens of `core`'s `searchTokens`, each carrying the
 * tenant (`t<id>_word`), with positions for phrases. The words live in `event_search`, beside
 * each event's action, outcome and actor key, in rows about a tenth the size of an event's: a
 * common word matches tens of thousands of events, and a stats scan reads them from there
 * rather than from the events' pages.
 */
import type { PoolClient } from 'pg';
import { ACCESS_TABLES, AUDIT_OUTBOX_TABLE } from './access-rows.js';
import { actorKey, DROP_SENSITIVE_DIGESTS, type WriterEvent } from './append-plan.js';
import { HOOK_SIGNATURES_TABLE } from './hook-signatures.js';
import {
  actorKeySql,
  FIRST_SUCCESS_MIGRATION,
  PROJECTIONS_MIGRATION,
  rebuildTenantProjectionsSql,
} from './postgres-projections.js';

/** One migration: applied once, in order, in one transaction. */
interface Migration {
  readonly version: number;
  readonly sql: string;
  /** What follows the SQL that needs the code of this build, in the same transaction. */
  readonly after?: (client: PoolClient) => Promise<void>;
}

/**
 * The search table: each event's words, and what a stats scan counts (action, outcome, actor
 * key), in rows of about a tenth of an event's. A keyword search reads its GIN index and rows,
 * and joins `events` only for the page it returns.
 */
const SEARCH_TABLE = `
CREATE TABLE event_search (
  tenant_id integer NOT NULL,
  time timestamptz NOT NULL,
  seq bigint NOT NULL,
  action text COLLATE "C" NOT NULL,
  outcome text COLLATE "C" NOT NULL,
  actor text COLLATE "C" NOT NULL,
  words tsvector NOT NULL,
  PRIMARY KEY (tenant_id, time, seq)
) PARTITION BY RANGE (time);`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE tenants (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  size bigint NOT NULL DEFAULT 0
);
CREATE TABLE events (
  tenant_id integer NOT NULL,
  time timestamptz NOT NULL,
  seq bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  category text COLLATE "C" NOT NULL,
  action text COLLATE "C" NOT NULL,
  actor_id text COLLATE "C",
  actor_email text COLLATE "C",
  outcome text COLLATE "C" NOT NULL,
  channel text COLLATE "C",
  status text COLLATE "C",
  ip bytea,
  digest bytea,
  hash bytea NOT NULL,
  body text COLLATE "C" NOT NULL,
  salts text COLLATE "C",
  words tsvector NOT NULL,
  PRIMARY KEY (tenant_id, time, seq)
) PARTITION BY RANGE (time);
CREATE INDEX events_id ON events (tenant_id, id);
CREATE INDEX events_category ON events (tenant_id, category, time, seq);
CREATE INDEX events_action ON events (tenant_id, action, time, seq);
CREATE INDEX events_actor ON events (tenant_id, actor_id, time, seq);
CREATE INDEX events_email ON events (tenant_id, actor_email, time, seq)
  WHERE actor_email IS NOT NULL;
CREATE INDEX events_ip ON events (tenant_id, ip) WHERE ip IS NOT NULL;
CREATE INDEX events_words ON events USING gin (words) WITH (gin_pending_list_limit = 256);
CREATE TABLE event_targets (
  tenant_id integer NOT NULL,
  target_id text COLLATE "C" NOT NULL,
  time timestamptz NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (tenant_id, target_id, time, seq)
) PARTITION BY RANGE (time);
CREATE TABLE tree_nodes (
  tenant_id integer NOT NULL,
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (tenant_id, level, idx)
);
CREATE TABLE checkpoints (
  tenant_id integer NOT NULL,
  size bigint NOT NULL,
  note text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, size)
);
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  secret_hash bytea NOT NULL,
  scopes text NOT NULL,
  tenant text,
  created_at text NOT NULL,
  revoked_at text
);`,
  },
  // The derived views of issue #5 (see `postgres-projections.ts`), computed from the events
  // stored before.
  { version: 2, sql: PROJECTIONS_MIGRATION },
  // Tenant settings and viewer-token revocations (issue #8).
  { version: 3, sql: ACCESS_TABLES },
  // The seqs retention removed (issue #9, `postgres-prune.ts`).
  {
    version: 4,
    sql: `
CREATE TABLE pruned_ranges (
  tenant_id integer NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  PRIMARY KEY (tenant_id, from_seq)
);
CREATE UNIQUE INDEX pruned_ranges_end ON pruned_ranges (tenant_id, to_seq);`,
  },
  // Events deleted as redacted leaves (issue #9, `postgres-erase.ts`): their place in the log
  // and leaf hash, when and by whom.
  {
    version: 5,
    sql: `
CREATE TABLE redactions (
  tenant_id integer NOT NULL,
  seq bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  hash bytea NOT NULL,
  redacted_at text NOT NULL,
  redacted_by text NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX redactions_id ON redactions (tenant_id, id);`,
  },
  // Search words move to a narrow table of their own (see the head of this file), with each
  // event's partition, copied from the events stored before.
  {
    version: 6,
    sql: `
${SEARCH_TABLE}
DO $$
DECLARE p record;
BEGIN
  FOR p IN SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF event_search %s',
      'event_search_' || substr(p.name, length('events_') + 1), p.bound);
  END LOOP;
END $$;
INSERT INTO event_search (tenant_id, time, seq, action, outcome, actor, words)
  SELECT tenant_id, time, seq, action, outcome, ${actorKeySql()}, words FROM events;
-- Built once the rows are in, faster than entry by entry.
CREATE INDEX event_search_words ON event_search USING gin (words)
  WITH (gin_pending_list_limit = 256);
ALTER TABLE events DROP COLUMN words;`,
  },
  // A stats range's top actors sum the per-day counts of every actor active in it (about
  // 80,000 rows for 30 days of a tenant of 1,000,000 events): with the key and count in the
  // index, that is an index-only scan rather than a visit to each row's page (p95 43 → 24 ms).
  // The count in an index makes its updates non-HOT: 1.4 % more time per append, measured.
  {
    version: 7,
    sql: 'CREATE INDEX actor_days_top ON actor_days (tenant_id, category, day) INCLUDE (actor_key, n);',
  },
  // A group commit planned before its locks (`group-drafts.ts`) checks, under them, that each
  // tenant still has the size and newest leaf (`head`) it was planned from, and otherwise
  // fails whole with a serialisation failure (40001), after which the server plans it again.
  {
    version: 8,
    sql: `
ALTER TABLE tenants ADD COLUMN head bytea;
UPDATE tenants t SET head = n.hash FROM tree_nodes n
  WHERE n.tenant_id = t.id AND n.level = 0 AND n.idx = t.size - 1;
CREATE FUNCTION hindsight_expect_state(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ok THEN
    RAISE EXCEPTION 'A tenant''s log changed since this group commit was planned.'
      USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN ok;
END
$$;`,
  },
  // Leases, so that one of several servers on the database does a job (the integrity scrub).
  {
    version: 9,
    sql: 'CREATE TABLE leases (name text PRIMARY KEY, holder text NOT NULL, until_ms bigint NOT NULL);',
  },
  // Admin changes' audit entries, kept in the change's transaction until they are in the log.
  { version: 10, sql: AUDIT_OUTBOX_TABLE },
  // Input digests no longer cover the values of sensitive changes: forget those computed
  // over them before.
  { version: 11, sql: DROP_SENSITIVE_DIGESTS },
  // `actor_email` holds the address's key (`emailKey`: its ASCII letters in lower case), so that
  // a filter or an erasure finds it in any case; what is keyed by it is computed again.
  {
    version: 12,
    sql: `
CREATE TEMP TABLE hindsight_lowered ON COMMIT DROP AS
  SELECT DISTINCT tenant_id FROM events WHERE actor_email <> ${asciiLower('actor_email')};
UPDATE events SET actor_email = ${asciiLower('actor_email')}
  WHERE actor_email <> ${asciiLower('actor_email')};
UPDATE event_search s SET actor = 'email:' || e.actor_email FROM events e
  WHERE s.tenant_id IN (SELECT tenant_id FROM hindsight_lowered)
    AND e.tenant_id = s.tenant_id AND e.time = s.time AND e.seq = s.seq
    AND e.actor_id IS NULL AND e.actor_email IS NOT NULL
    AND s.actor <> 'email:' || e.actor_email;`,
    after: async (client) => {
      const { rows } = await client.query<{ tenant_id: number }>(
        'SELECT tenant_id FROM hindsight_lowered ORDER BY 1',
      );
      for (const row of rows) await client.query(rebuildTenantProjectionsSql(row.tenant_id));
    },
  },
  // The webhook signatures taken (`hook-signatures.ts`), so that every server on the database
  // refuses a signature on another call than the one it was taken for.
  { version: 13, sql: HOOK_SIGNATURES_TABLE },
  // Each account's first successful sign-in from each country, for the logins view's
  // `newCountry`.
  { version: 14, sql: FIRST_SUCCESS_MIGRATION },
];

/** SQL giving `column` with its ASCII letters in lower case, as core's `emailKey` does. */
function asciiLower(column: string): string {
  return `translate(${column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;
}

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Tables partitioned by month of `time`. */
export const PARTITIONED_TABLES = ['events', 'event_targets', 'event_search'] as const;

/** Any constant both servers agree on: serialises migrations and partition creation. */
const MIGRATION_LOCK = 0x48_53_4d_47; // "HSMG"
const PARTITION_LOCK = 0x48_53_50_54; // "HSPT"

/**
 * Applies the migrations this database lacks, in one transaction under an advisory lock, so
 * that servers starting at once apply each exactly once. Idempotent. `target` stops at an
 * older version (for tests of upgrades).
 */
export async function migratePostgres(
  client: PoolClient,
  target: number = SCHEMA_VERSION,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS hindsight_migrations ' +
        '(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM hindsight_migrations',
    );
    const current = rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `The database has schema version ${current}, newer than this Hindsight (${SCHEMA_VERSION}). Upgrade Hindsight.`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current || m.version > target) continue;
      await client.query(m.sql);
      await m.after?.(client);
      await client.query('INSERT INTO hindsight_migrations (version) VALUES ($1)', [m.version]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** The month (`YYYYMM` as a number, UTC) an epoch-milliseconds time falls in. */
export function monthOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/** The name of a table's partition for a month (`events_y2026m11`): numbers only, never input. */
export function partitionName(table: (typeof PARTITIONED_TABLES)[number], month: number): string {
  return `${table}_y${Math.floor(month / 100)}m${String(month % 100).padStart(2, '0')}`;
}

/**
 * Creates the monthly partitions these months need, where missing (of every partitioned table,
 * or of `tables`). Each is created apart and then attached, which locks the parent only against
 * other DDL, never against inserts or reads.
 */
export async function createPartitions(
  client: PoolClient,
  months: Iterable<number>,
  tables: readonly (typeof PARTITIONED_TABLES)[number][] = PARTITIONED_TABLES,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    for (const month of months) {
      const year = Math.floor(month / 100);
      const m = month % 100;
      const from = `${year}-${String(m).padStart(2, '0')}-01T00:00:00Z`;
      const to =
        m === 12
          ? `${year + 1}-01-01T00:00:00Z`
          : `${year}-${String(m + 1).padStart(2, '0')}-01T00:00:00Z`;
      for (const table of tables) {
        // Names and bounds are built from numbers only, never from input text.
        const name = partitionName(table, month);
        const { rowCount } = await client.query(
          'SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = $1',
          [name],
        );
        if (rowCount) continue;
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
        );
        await client.query(
          `ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`,
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** PostgreSQL keeps at most 256 positions of a lexeme, each at most 16383. */
const MAX_POSITIONS = 256;
const MAX_POSITION = 16383;
/**
 * Tokens are cut to this many characters (PostgreSQL refuses lexemes over 2 KiB); a search for
 * a longer word cuts it the same way, so it is still found.
 */
const MAX_TOKEN = 200;

/**
 * The lexeme of a search token in a tenant, for the index and for queries alike.
 * @example lexeme(3, 'invoice') // "'t3_invoice'"
 */
export function lexeme(tenantId: number, token: string): string {
  return `'t${tenantId}_${token.length > MAX_TOKEN ? token.slice(0, MAX_TOKEN) : token}'`;
}

/**
 * The `tsvector` text of an event's search tokens: each token carries the tenant, with its
 * positions (for phrases). Tokens are letters and digits only, so quoting never escapes.
 * @example tsvectorText(3, 'ann acme test') // "'t3_ann':1 't3_acme':2 't3_test':3"
 */
export function tsvectorText(tenantId: number, searchText: string): string {
  if (searchText === '') return '';
  const positions = new Map<string, number[]>();
  let position = 0;
  for (const token of searchText.split(' ')) {
    position = Math.min(position + 1, MAX_POSITION);
    const list = positions.get(token);
    if (!list) positions.set(token, [position]);
    else if (list.length < MAX_POSITIONS) list.push(position);
  }
  const parts: string[] = [];
  for (const [token, list] of positions) parts.push(`${lexeme(tenantId, token)}:${list.join(',')}`);
  return parts.join(' ');
}

/** Column arrays for one multi-row insert into `events` (see {@link APPEND_SQL}). */
export interface EventColumns {
  tenantId: number[];
  time: string[];
  seq: number[];
  id: string[];
  category: string[];
  action: string[];
  actorId: (string | null)[];
  actorEmail: (string | null)[];
  outcome: string[];
  channel: (string | null)[];
  status: (string | null)[];
  ip: (Buffer | null)[];
  digest: (Buffer | null)[];
  hash: Buffer[];
  body: string[];
  salts: (string | null)[];
  /** For `event_search`: the actor key ({@link actorKey}) and the words. */
  actor: string[];
  words: string[];
}

/** Column arrays for `event_targets`. */
export interface TargetColumns {
  tenantId: number[];
  targetId: string[];
  time: string[];
  seq: number[];
}

export function emptyColumns(): { events: EventColumns; targets: TargetColumns } {
  return {
    events: {
      tenantId: [],
      time: [],
      seq: [],
      id: [],
      category: [],
      action: [],
      actorId: [],
      actorEmail: [],
      outcome: [],
      channel: [],
      status: [],
      ip: [],
      digest: [],
      hash: [],
      body: [],
      salts: [],
      actor: [],
      words: [],
    },
    targets: { tenantId: [], targetId: [], time: [], seq: [] },
  };
}

/**
 * Adds one numbered, hashed event (and its targets) to the column arrays. `words` is the
 * event's {@link tsvectorText}, when it was built beforehand.
 */
export function addRow(
  columns: { events: EventColumns; targets: TargetColumns },
  tenantId: number,
  seq: number,
  hash: string,
  e: WriterEvent,
  words = tsvectorText(tenantId, e.searchText),
): void {
  const c = columns.events;
  const time = new Date(e.timeMs).toISOString();
  c.tenantId.push(tenantId);
  c.time.push(time);
  c.seq.push(seq);
  c.id.push(e.id);
  c.category.push(e.category);
  c.action.push(e.action);
  c.actorId.push(e.actorId);
  c.actorEmail.push(e.actorEmail);
  c.outcome.push(e.outcome);
  c.channel.push(e.channel);
  c.status.push(e.status);
  c.ip.push(e.ip === null ? null : Buffer.from(e.ip));
  c.digest.push(e.digest === null ? null : Buffer.from(e.digest, 'hex'));
  c.hash.push(Buffer.from(hash, 'hex'));
  c.body.push(e.json);
  c.salts.push(e.salts);
  c.actor.push(actorKey(e));
  c.words.push(words);
  const t = columns.targets;
  for (const target of e.targets) {
    t.tenantId.push(tenantId);
    t.targetId.push(target);
    t.time.push(time);
    t.seq.push(seq);
  }
}

/** Merkle tree nodes to store, one array per column of `tree_nodes`. */
export interface NodeColumns {
  readonly tenantId: number[];
  readonly level: number[];
  readonly index: number[];
  readonly hash: Buffer[];
}

/**
 * An event's longest texts as elements of PostgreSQL array literals ({@link arrayElement}),
 * made before a group commit takes the tenants' locks rather than by the driver under them.
 */
export interface TextElements {
  readonly body: string;
  readonly salts: string;
  readonly words: string;
}

/** A text as an element of an array literal: quoted, `"` and `\` escaped; `NULL` for null. */
export function arrayElement(text: string | null): string {
  return text === null ? 'NULL' : `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** The values of an array parameter. */
export type ArrayValues = readonly (string | number | Uint8Array | null)[];

/**
 * An array parameter as the literal PostgreSQL reads (`{1,"a b",NULL,"\\x00ff"}`): what the
 * driver would make of it when the query is sent, made beforehand instead.
 */
export function arrayLiteral(values: ArrayValues): string {
  const parts = values.map((v) =>
    v === null
      ? 'NULL'
      : typeof v === 'number'
        ? String(v)
        : typeof v === 'string'
          ? arrayElement(v)
          : `"\\\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}"`,
  );
  return `{${parts.join(',')}}`;
}

/**
 * The parameters of {@link APPEND_SQL}, in order: the events' columns, the search's, the tree
 * nodes', the targets', then each tenant's new size and newest leaf. The bodies, salts and
 * words are sent as array literals joined from `elements` (one per row, in row order), made
 * beforehand.
 */
export function appendParams(
  columns: { events: EventColumns; targets: TargetColumns },
  nodes: NodeColumns,
  tenants: readonly { tenantId: number; size: number; head: Uint8Array }[],
  elements: readonly TextElements[],
): unknown[] {
  const c = columns.events;
  const t = columns.targets;
  const literal = (key: keyof TextElements) => `{${elements.map((e) => e[key]).join(',')}}`;
  const rows = eventRows(c);
  rows[EVENT_BODY] = literal('body');
  rows[EVENT_SALTS] = literal('salts');
  return [
    ...rows,
    c.actor,
    literal('words'),
    nodes.tenantId,
    nodes.level,
    nodes.index,
    nodes.hash,
    t.tenantId,
    t.targetId,
    t.time,
    t.seq,
    tenants.map((s) => s.tenantId),
    tenants.map((s) => s.size),
    tenants.map((s) => s.head),
  ];
}

/** The `events` rows of `c`, one array per column of {@link EVENT_COLUMNS}. */
export function eventRows(c: EventColumns): unknown[] {
  return [
    c.tenantId,
    c.time,
    c.seq,
    c.id,
    c.category,
    c.action,
    c.actorId,
    c.actorEmail,
    c.outcome,
    c.channel,
    c.status,
    c.ip,
    c.digest,
    c.hash,
    c.body,
    c.salts,
  ];
}

/** Where `body` and `salts` are in {@link eventRows}. */
const EVENT_BODY = 14;
const EVENT_SALTS = 15;

/** The `events` columns, in the order of {@link eventRows}. */
export const EVENT_COLUMNS =
  'tenant_id, time, seq, id, category, action, actor_id, actor_email, outcome, channel, ' +
  'status, ip, digest, hash, body, salts';

/** The `event_search` columns, in the order of {@link searchRows}. */
export const SEARCH_COLUMNS = 'tenant_id, time, seq, action, outcome, actor, words';

/** The rows of `event_search` for the events of `c`, one array per column. */
export function searchRows(c: EventColumns): unknown[] {
  return [c.tenantId, c.time, c.seq, c.action, c.outcome, c.actor, c.words];
}

/** Inserts targets from four arrays (tenant, target, time, seq), parameters `$first` on. */
function insertTargetsSql(first: number): string {
  const [tenant, target, time, seq] = [first, first + 1, first + 2, first + 3];
  return (
    'INSERT INTO event_targets (tenant_id, target_id, time, seq) ' +
    `SELECT * FROM unnest($${tenant}::integer[], $${target}::text[], $${time}::timestamptz[], ` +
    `$${seq}::bigint[]) ON CONFLICT DO NOTHING`
  );
}

/** The inserts of a group commit, as common table expressions of one statement. */
const APPEND_ROWS =
  'WITH u AS (SELECT * FROM unnest($1::integer[], $2::timestamptz[], $3::bigint[], ' +
  '$4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], ' +
  '$11::text[], $12::bytea[], $13::bytea[], $14::bytea[], $15::text[], $16::text[], ' +
  '$17::text[], $18::text[]) AS u(tenant_id, time, seq, id, category, action, actor_id, ' +
  'actor_email, outcome, channel, status, ip, digest, hash, body, salts, actor, words)), ' +
  `e AS (INSERT INTO events (${EVENT_COLUMNS}) SELECT ${EVENT_COLUMNS} FROM u), ` +
  `s AS (INSERT INTO event_search (${SEARCH_COLUMNS}) ` +
  'SELECT tenant_id, time, seq, action, outcome, actor, words::tsvector FROM u), ' +
  'n AS (INSERT INTO tree_nodes (tenant_id, level, idx, hash) ' +
  'SELECT * FROM unnest($19::integer[], $20::smallint[], $21::bigint[], $22::bytea[])), ' +
  `t AS (${insertTargetsSql(23)})`;

/** The tenants' new sizes and newest leaves. */
const NEW_STATES = 'unnest($27::integer[], $28::bigint[], $29::bytea[]) AS v(id, size, head)';

/**
 * Everything a group commit writes, in one statement: the events and their search rows, the
 * Merkle tree nodes they complete, their targets, and the tenants' new sizes and newest leaves.
 * One statement is one round trip while the transaction holds the tenants' locks, where each
 * round trip also waits for the server's event loop. Parameters: {@link appendParams}.
 */
export const APPEND_SQL =
  `${APPEND_ROWS} UPDATE tenants SET size = v.size, head = v.head FROM ${NEW_STATES} ` +
  'WHERE tenants.id = v.id';

/**
 * A group commit planned before its locks (`group-drafts.ts`), sent on its own (it commits by
 * itself): it locks its tenants in id order, checks that each still has the size and newest
 * leaf it was planned from (`$30`, `$31`; a `NULL` leaf: the size alone), and fails whole with
 * 40001 when one does not; then it writes what {@link APPEND_SQL} writes. The check is the
 * statement's result, so it runs before the writes, which PostgreSQL completes afterwards.
 * Parameters: {@link appendParams}, then the expected sizes and leaves.
 */
export const DRAFT_APPEND_SQL =
  `${APPEND_ROWS}, ` +
  `v AS (SELECT * FROM ${NEW_STATES}), ` +
  'w AS (SELECT * FROM unnest($27::integer[], $30::bigint[], $31::bytea[]) AS w(id, size, head)), ' +
  'l AS (SELECT id, size, head FROM tenants WHERE id = ANY($27::integer[]) ORDER BY id FOR UPDATE), ' +
  'z AS (UPDATE tenants SET size = v.size, head = v.head FROM v WHERE tenants.id = v.id) ' +
  'SELECT hindsight_expect_state(count(*) = cardinality($27::integer[])) FROM l JOIN w USING (id) ' +
  'WHERE l.size = w.size AND (w.head IS NULL OR l.head = w.head)';

/** Inserts targets (one array per column), as {@link APPEND_SQL} does. */
export const INSERT_TARGETS_SQL = insertTargetsSql(1);
