/**
 * The derived views of issue #5 in SQLite: tables that summarise the events (logins per
 * account, receivers per message, integrations, counts per hour and per actor per day), kept
 * in the same transaction that stores each event: by triggers on `events` for the rare events
 * that the logins, messages and integrations read, and by the writer's {@link CountTally},
 * one upsert per row per transaction, for the counts every event adds to.
 *
 * They are derived data, never truth: every row follows from the events alone, whatever order
 * they arrive in (each summary keeps the newest report by event time, `pos`), and
 * {@link rebuildProjections} recomputes them from the log.
 */
import type Database from 'better-sqlite3';
import { actorKey, type WriterEvent } from './append-plan.js';
import { PROJECTION_TABLE_NAMES } from './projection-tables.js';

/**
 * Positions per millisecond of an event row's `pos = time_ms * SLOTS_PER_MS + slot` (see
 * `sqlite-schema.ts`).
 */
export const SLOTS_PER_MS = 2048;

/** `pos` units per hour and per day: `pos / HOUR_POS` is the event's hour since 1970. */
export const HOUR_POS = 3_600_000 * SLOTS_PER_MS;
export const DAY_POS = 24 * HOUR_POS;

export const PROJECTION_TABLES = `
CREATE TABLE IF NOT EXISTS login_users (
  tenant_id INTEGER NOT NULL,
  actor_key TEXT NOT NULL,
  actor TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  seen_pos INTEGER NOT NULL,
  seen_failed INTEGER NOT NULL,
  success_pos INTEGER NOT NULL,
  success TEXT,
  failure_pos INTEGER NOT NULL,
  failure TEXT,
  successes INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, actor_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS login_users_seen ON login_users (tenant_id, seen_pos);
CREATE INDEX IF NOT EXISTS login_users_success ON login_users (tenant_id, success_pos);
CREATE INDEX IF NOT EXISTS login_users_failure ON login_users (tenant_id, failure_pos);
CREATE INDEX IF NOT EXISTS login_users_name ON login_users (tenant_id, name);
CREATE INDEX IF NOT EXISTS login_users_email ON login_users (tenant_id, email);
CREATE TABLE IF NOT EXISTS login_countries (
  tenant_id INTEGER NOT NULL,
  actor_key TEXT NOT NULL,
  country TEXT NOT NULL,
  last_pos INTEGER NOT NULL,
  first_success_pos INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, actor_key, country)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_receivers (
  tenant_id INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  address TEXT NOT NULL,
  name TEXT,
  status TEXT NOT NULL,
  final INTEGER NOT NULL,
  report_pos INTEGER NOT NULL,
  report TEXT,
  PRIMARY KEY (tenant_id, message_id, address)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS integrations (
  tenant_id INTEGER NOT NULL,
  system TEXT NOT NULL,
  name TEXT NOT NULL,
  last_pos INTEGER NOT NULL,
  last_event TEXT NOT NULL,
  status_pos INTEGER NOT NULL,
  last_status TEXT,
  acked_seq INTEGER NOT NULL,
  acked TEXT,
  errors INTEGER NOT NULL,
  notifications INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, system)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_counts (
  tenant_id INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  category TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, hour, category, action, outcome)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_days (
  tenant_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  category TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, day, category, action, outcome)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS actor_days (
  tenant_id INTEGER NOT NULL,
  category TEXT NOT NULL,
  day INTEGER NOT NULL,
  actor_key TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, category, day, actor_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS actors (
  tenant_id INTEGER NOT NULL,
  actor_key TEXT NOT NULL,
  pos INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, actor_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS views (
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  definition TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
`;

/**
 * The key of an event's actor in the summaries: its id, else its e-mail, else its type (in SQL
 * over a row `e` of `events`; `actorKey` of `append-plan.ts` is the same in TypeScript).
 */
export const actorKeySql = (e: string) =>
  `coalesce(${e}.actor_id, 'email:' || ${e}.actor_email, ${e}.body ->> '$.actor.type', 'user')`;

/** The id of the first target of a type, of the event being projected (or of another body). */
const targetOf = (type: string, body = 'NEW.body') =>
  `(SELECT value ->> '$.id' FROM json_each(${body}, '$.targets') WHERE value ->> '$.type' = '${type}' LIMIT 1)`;

/**
 * The message of an event, as `message_receivers` keys it: its first `message` target, else the
 * event's own id (in SQL over a row `e` of `events`, or `NEW`).
 */
export const messageIdSql = (e: string) => `coalesce(${targetOf('message', `${e}.body`)}, ${e}.id)`;
/** A JSON object without its null members. */
const compact = (members: string) => `json_patch('{}', json_object(${members}))`;
const BRIEF = compact(
  "'id', NEW.id, 'seq', NEW.seq, 'time', NEW.body ->> '$.time', 'action', NEW.action, " +
    "'outcome', NEW.outcome, 'status', NEW.status, 'description', NEW.body ->> '$.description', " +
    "'actor', NEW.body -> '$.actor'",
);

/**
 * Whether a delivery report says where the message ended (delivered, bounced, ...) rather than
 * that it is still on its way (`sent`, `pending`, `deferred`).
 */
const FINAL = "NEW.status NOT IN ('sent', 'pending', 'deferred')";
/**
 * Whether a report replaces a receiver's current one: the newest by event time, except that a
 * report of a message still on its way never replaces one of where it ended — providers that
 * send no event time (Twilio) can deliver "sent" after "delivered".
 */
const NEWER_REPORT =
  '(excluded.final > final OR (excluded.final = final AND excluded.report_pos > report_pos))';

/**
 * Whether an attempt's `first_success_pos` (0 for a failed one) is an earlier successful
 * sign-in from its country than the one `login_countries` holds (0 for none yet).
 */
const EARLIER_FIRST_SUCCESS =
  'excluded.first_success_pos > 0 AND (first_success_pos = 0 OR excluded.first_success_pos < first_success_pos)';

/**
 * One projection: which events it reads, and the statements that fold one event (`NEW`) in.
 */
interface Projection {
  readonly name: string;
  /** The category of the events it reads, */
  readonly category: string;
  /** and which of them. */
  readonly when: string;
  readonly body: string;
}

const PROJECTIONS: readonly Projection[] = [
  {
    name: 'logins',
    category: 'logins',
    when: "NEW.action IN ('login.succeeded', 'login.failed') AND coalesce(NEW.actor_id, NEW.actor_email) IS NOT NULL",
    body: `
INSERT INTO login_users
SELECT NEW.tenant_id, k, NEW.body -> '$.actor', lower(coalesce(NEW.body ->> '$.actor.name', '')),
  lower(coalesce(NEW.actor_email, '')), NEW.pos, f,
  iif(f, 0, NEW.pos), iif(f, NULL, a), iif(f, NEW.pos, 0), iif(f, a, NULL), 1 - f, f
FROM (SELECT coalesce(NEW.actor_id, 'email:' || NEW.actor_email) AS k,
  (NEW.action = 'login.failed' OR NEW.outcome = 'failure') AS f,
  ${compact(
    "'id', NEW.id, 'seq', NEW.seq, 'time', NEW.body ->> '$.time', 'ip', NEW.body ->> '$.context.ip', " +
      "'location', NEW.body -> '$.context.location', 'client', NEW.body -> '$.context.client', " +
      "'reason', NEW.body ->> '$.metadata.reason'",
  )} AS a)
WHERE true
ON CONFLICT DO UPDATE SET
  actor = iif(excluded.seen_pos > seen_pos, excluded.actor, actor),
  name = iif(excluded.seen_pos > seen_pos, excluded.name, name),
  email = iif(excluded.seen_pos > seen_pos, excluded.email, email),
  seen_failed = iif(excluded.seen_pos > seen_pos, excluded.seen_failed, seen_failed),
  seen_pos = max(seen_pos, excluded.seen_pos),
  success = iif(excluded.success_pos > success_pos, excluded.success, success),
  success_pos = max(success_pos, excluded.success_pos),
  failure = iif(excluded.failure_pos > failure_pos, excluded.failure, failure),
  failure_pos = max(failure_pos, excluded.failure_pos),
  successes = successes + excluded.successes,
  failures = failures + excluded.failures;
INSERT INTO login_countries (tenant_id, actor_key, country, last_pos, first_success_pos)
SELECT NEW.tenant_id, coalesce(NEW.actor_id, 'email:' || NEW.actor_email), c, NEW.pos,
  iif(NEW.action = 'login.failed' OR NEW.outcome = 'failure', 0, NEW.pos)
FROM (SELECT NEW.body ->> '$.context.location.country' AS c) WHERE c IS NOT NULL
ON CONFLICT DO UPDATE SET last_pos = max(last_pos, excluded.last_pos),
  first_success_pos = iif(${EARLIER_FIRST_SUCCESS}, excluded.first_success_pos, first_success_pos);`,
  },
  {
    name: 'message_sent',
    category: 'communications',
    when: "NEW.action = 'message.sent'",
    body: `
INSERT INTO message_receivers
SELECT NEW.tenant_id, ${messageIdSql('NEW')}, a, n,
  coalesce(NEW.status, 'sent'), 0, 0, NULL
FROM (SELECT json_extract(NEW.body, r.fullkey || '.address') AS a,
  json_extract(NEW.body, r.fullkey || '.name') AS n
  FROM json_each(NEW.body, '$.metadata.receivers') AS r WHERE r.type = 'object')
WHERE a IS NOT NULL
ON CONFLICT DO UPDATE SET name = coalesce(name, excluded.name);`,
  },
  {
    name: 'message_report',
    category: 'communications',
    when: "NEW.action LIKE 'message.%' AND NEW.action <> 'message.sent' AND NEW.status IS NOT NULL",
    body: `
INSERT INTO message_receivers
SELECT NEW.tenant_id, m, NEW.body ->> '$.metadata.receiver.address',
  NEW.body ->> '$.metadata.receiver.name', NEW.status, ${FINAL}, NEW.pos,
  ${compact("'id', NEW.id, 'seq', NEW.seq, 'time', NEW.body ->> '$.time', 'reason', NEW.body ->> '$.metadata.reason'")}
FROM (SELECT ${targetOf('message')} AS m)
WHERE m IS NOT NULL AND NEW.body ->> '$.metadata.receiver.address' IS NOT NULL
ON CONFLICT DO UPDATE SET
  name = coalesce(name, excluded.name),
  status = iif(${NEWER_REPORT}, excluded.status, status),
  report = iif(${NEWER_REPORT}, excluded.report, report),
  report_pos = iif(${NEWER_REPORT}, excluded.report_pos, report_pos),
  final = max(final, excluded.final);`,
  },
  {
    name: 'integration',
    category: 'integrations',
    when: "NEW.action <> 'integration.acknowledged'",
    body: `
INSERT INTO integrations
SELECT NEW.tenant_id, s.system, s.name, NEW.pos, ${BRIEF},
  iif(st, NEW.pos, 0), iif(st, NEW.status, NULL), 0, NULL,
  NEW.status IS 'error', NEW.status IS 'notification'
FROM (SELECT coalesce(${targetOf('integration')}, NEW.body ->> '$.metadata.system') AS system,
  coalesce(NEW.body ->> '$.metadata.system', ${targetOf('integration')}) AS name,
  NEW.status IN ('ok', 'error', 'notification') AS st) AS s
WHERE s.system IS NOT NULL
ON CONFLICT DO UPDATE SET
  name = iif(excluded.last_pos > last_pos, excluded.name, name),
  last_event = iif(excluded.last_pos > last_pos, excluded.last_event, last_event),
  last_pos = max(last_pos, excluded.last_pos),
  last_status = iif(excluded.status_pos > status_pos, excluded.last_status, last_status),
  status_pos = max(status_pos, excluded.status_pos),
  errors = errors + (excluded.errors AND NEW.seq > acked_seq),
  notifications = notifications + (excluded.notifications AND NEW.seq > acked_seq);`,
  },
  {
    name: 'integration_ack',
    category: 'integrations',
    when: "NEW.action = 'integration.acknowledged'",
    // Counts again what is left unacknowledged: the events of the system after `upToSeq` that
    // were stored before this acknowledgement (later ones count themselves as they arrive).
    body: `
UPDATE integrations SET
  acked = iif(a.up > acked_seq, json_set(${BRIEF}, '$.upToSeq', a.up), acked),
  acked_seq = max(acked_seq, a.up),
  errors = (SELECT count(*) FROM events e WHERE e.tenant_id = NEW.tenant_id
    AND e.seq > max(integrations.acked_seq, a.up) AND e.seq < NEW.seq
    AND e.category = 'integrations' AND e.action <> 'integration.acknowledged' AND e.status = 'error' AND ${systemOf('e')} = integrations.system),
  notifications = (SELECT count(*) FROM events e WHERE e.tenant_id = NEW.tenant_id
    AND e.seq > max(integrations.acked_seq, a.up) AND e.seq < NEW.seq
    AND e.category = 'integrations' AND e.action <> 'integration.acknowledged' AND e.status = 'notification' AND ${systemOf('e')} = integrations.system)
FROM (SELECT CAST(NEW.body ->> '$.metadata.upToSeq' AS INTEGER) AS up) AS a
WHERE tenant_id = NEW.tenant_id AND a.up IS NOT NULL
  AND system = coalesce(${targetOf('integration')}, NEW.body ->> '$.metadata.system');`,
  },
];

/**
 * Keeps the projections for the events of one transaction, once they are inserted.
 *
 * The counts (per hour and per day by category, action and outcome; per day by actor, in its
 * category and in all (`''`); where each actor was last seen) are summed in memory and written
 * with one upsert per row they touch. The events of the projected categories are then folded in
 * by inserting them, in `seq` order, into a temporary view whose INSTEAD OF triggers run the
 * {@link PROJECTIONS}. No trigger sits on `events` itself: one would make every insert keep a
 * statement journal of the pages it changes, even for events no projection reads.
 */
export class Projector {
  readonly #upsert;
  readonly #project;
  /** The positions of the transaction's events that a projection reads. */
  readonly #projected: number[] = [];
  /** Rows to add, by their primary key: the key's columns and the count (`pos` for actors). */
  readonly #rows = {
    hours: new Map<string, Tallied>(),
    days: new Map<string, Tallied>(),
    actorDays: new Map<string, Tallied>(),
    actors: new Map<string, Tallied>(),
  };

  constructor(db: Database.Database) {
    installProjections(db);
    this.#project = db.prepare(
      'INSERT INTO temp.project SELECT * FROM main.events ' +
        'WHERE pos IN (SELECT value FROM json_each(?)) ORDER BY tenant_id, seq',
    );
    const add = (table: string, columns: number) =>
      db.prepare(
        `INSERT INTO ${table} VALUES (${Array(columns).fill('?').join(', ')}) ` +
          'ON CONFLICT DO UPDATE SET n = n + excluded.n',
      );
    this.#upsert = {
      hours: add('event_counts', 6),
      days: add('event_days', 6),
      actorDays: add('actor_days', 5),
      actors: db.prepare(
        'INSERT INTO actors VALUES (?, ?, ?) ' +
          'ON CONFLICT DO UPDATE SET pos = excluded.pos WHERE excluded.pos > pos',
      ),
    };
  }

  /** Notes an event stored at `pos`. */
  add(tenantId: number, pos: number, e: WriterEvent): void {
    if (PROJECTED_CATEGORIES.has(e.category)) this.#projected.push(pos);
    const { hours, days, actorDays, actors } = this.#rows;
    // As SQLite divides integers (the rebuild's `pos / ${HOUR_POS}`).
    const hour = Math.trunc(pos / HOUR_POS);
    const day = Math.trunc(pos / DAY_POS);
    const actor = actorKey(e);
    tally(hours, [tenantId, hour, e.category, e.action, e.outcome]).n++;
    tally(days, [tenantId, day, e.category, e.action, e.outcome]).n++;
    tally(actorDays, [tenantId, e.category, day, actor]).n++;
    tally(actorDays, [tenantId, '', day, actor]).n++;
    const seen = tally(actors, [tenantId, actor]);
    seen.n = Math.max(seen.n, pos);
  }

  /** Forgets the events noted (the transaction was rolled back). */
  clear(): void {
    for (const rows of Object.values(this.#rows)) rows.clear();
    this.#projected.length = 0;
  }

  /** Folds the events noted into the projections, inside the transaction, and forgets them. */
  write(): void {
    for (const name of ['hours', 'days', 'actorDays', 'actors'] as const) {
      const statement = this.#upsert[name];
      for (const { key, n } of this.#rows[name].values()) statement.run(...key, n);
    }
    if (this.#projected.length > 0) this.#project.run(JSON.stringify(this.#projected));
    this.clear();
  }
}

/** A row of counts: its primary key's columns, and the number to add. */
interface Tallied {
  readonly key: readonly (string | number)[];
  n: number;
}

/** The row of `rows` under this primary key, added with 0 if new. */
function tally(rows: Map<string, Tallied>, key: readonly (string | number)[]): Tallied {
  const id = key.join('\0');
  let row = rows.get(id);
  if (row === undefined) {
    row = { key, n: 0 };
    rows.set(id, row);
  }
  return row;
}

/** The integration key of a stored row `e`, as the `integration` projection computes it. */
function systemOf(e: string): string {
  return (
    `coalesce((SELECT value ->> '$.id' FROM json_each(${e}.body, '$.targets') ` +
    `WHERE value ->> '$.type' = 'integration' LIMIT 1), ${e}.body ->> '$.metadata.system')`
  );
}

export { PROJECTION_TABLE_NAMES } from './projection-tables.js';

/** The categories of the events that some projection reads. */
const PROJECTED_CATEGORIES: ReadonlySet<string> = new Set(PROJECTIONS.map((p) => p.category));

/**
 * Creates, for this connection, the temporary view `project`: inserting `events` rows into it
 * folds them into the projections of logins, messages and integrations.
 */
function installProjections(db: Database.Database): void {
  db.exec('CREATE TEMP VIEW IF NOT EXISTS project AS SELECT * FROM main.events');
  for (const p of PROJECTIONS) {
    db.exec(
      `CREATE TEMP TRIGGER IF NOT EXISTS project_${p.name} INSTEAD OF INSERT ON project ` +
        `WHEN NEW.category = '${p.category}' AND ${p.when}\nBEGIN${p.body}\nEND;`,
    );
  }
}

/**
 * Adds `login_countries.first_success_pos` to a database of schema version 3 to 10 and computes
 * it from the stored sign-ins, as the `logins` projection keeps it.
 */
export function addFirstSuccesses(db: Database.Database): void {
  const columns = db
    .prepare('SELECT name FROM pragma_table_info(?)')
    .pluck()
    .all('login_countries');
  if (!columns.includes('first_success_pos')) {
    db.exec('ALTER TABLE login_countries ADD COLUMN first_success_pos INTEGER NOT NULL DEFAULT 0');
  }
  db.exec(`
UPDATE login_countries SET first_success_pos = f.p
FROM (SELECT tenant_id, coalesce(actor_id, 'email:' || actor_email) AS k,
    body ->> '$.context.location.country' AS c, min(pos) AS p
  FROM events
  WHERE category = 'logins' AND action = 'login.succeeded' AND outcome <> 'failure'
    AND coalesce(actor_id, actor_email) IS NOT NULL
  GROUP BY 1, 2, 3) AS f
WHERE f.tenant_id = login_countries.tenant_id AND f.k = login_countries.actor_key
  AND f.c = login_countries.country;`);
}

/**
 * Drops the triggers on `events` by which older versions kept the projections (before the
 * writer's {@link Projector}).
 */
export function dropProjectionTriggers(db: Database.Database): void {
  for (const name of [...PROJECTIONS.map((p) => p.name), 'counts']) {
    db.exec(`DROP TRIGGER IF EXISTS main.project_${name}`);
  }
}

/**
 * Empties the projections and computes them again from the stored events — of every tenant, or
 * of `tenantId` alone (after some of its events were erased or deleted, issue #9): the counts by
 * grouping, the rest in `seq` order through the same statements as the writer's
 * {@link Projector}. Run inside the caller's transaction.
 */
export function rebuildProjections(db: Database.Database, tenantId?: number): void {
  if (tenantId !== undefined && !Number.isSafeInteger(tenantId)) {
    throw new Error(`Not a tenant id: ${tenantId}`);
  }
  // An integer of ours, never input text.
  const only = tenantId === undefined ? 'true' : `tenant_id = ${tenantId}`;
  for (const table of PROJECTION_TABLE_NAMES) {
    db.exec(`DELETE FROM ${table} WHERE ${only}`);
  }
  db.exec(`
INSERT INTO event_counts SELECT tenant_id, pos / ${HOUR_POS}, category, action, outcome, count(*)
  FROM events WHERE ${only} GROUP BY 1, 2, 3, 4, 5;
INSERT INTO event_days SELECT tenant_id, pos / ${DAY_POS}, category, action, outcome, count(*)
  FROM events WHERE ${only} GROUP BY 1, 2, 3, 4, 5;
DROP TABLE IF EXISTS temp.actor_events;
CREATE TEMP TABLE actor_events AS
  SELECT tenant_id, category, pos, ${actorKeySql('e')} AS k FROM events e WHERE ${only};
INSERT INTO actor_days SELECT tenant_id, category, pos / ${DAY_POS}, k, count(*)
  FROM temp.actor_events GROUP BY 1, 2, 3, 4;
INSERT INTO actor_days SELECT tenant_id, '', pos / ${DAY_POS}, k, count(*)
  FROM temp.actor_events GROUP BY 1, 3, 4;
INSERT INTO actors SELECT tenant_id, k, max(pos) FROM temp.actor_events GROUP BY 1, 2;
DROP TABLE temp.actor_events;`);
  installProjections(db);
  db.prepare(
    `INSERT INTO temp.project SELECT * FROM main.events WHERE ${only} ` +
      'AND category IN (SELECT value FROM json_each(?)) ORDER BY tenant_id, seq',
  ).run(JSON.stringify([...PROJECTED_CATEGORIES]));
}
