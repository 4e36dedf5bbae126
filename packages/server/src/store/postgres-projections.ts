/**
 * The derived views of issue #5 in PostgreSQL: tables that summarise the events (logins per
 * account, receivers per message, integrations, counts per hour and per actor per day), kept in
 * the transaction that stores the events by one statement-level trigger on `events`.
 *
 * The rules are those of `sqlite-projections.ts`, with the same results; they are derived
 * data, never truth. Where SQLite orders by `pos`, these tables keep an event's position as two
 * columns `(…_ms, …_seq)` (epoch milliseconds, `seq`) compared as row values; `(0, 0)` means
 * none (every event has `seq` ≥ 1 and a time ≥ 1970).
 *
 * The store inserts a group commit's events in one statement; the trigger then reads them from
 * its transition table `new_rows` and folds them in with a few set-based statements:
 * - counts (every event): `event_counts` per hour and `event_days` per day by action,
 *   `actor_days` per day by actor (in its category and in all, `''`), `actors` each actor's
 *   newest event (whose actor stats show, read for the few they list): one aggregated upsert
 *   each, a row per group, in one statement. No body is parsed but to key the actors of events
 *   without actor id or e-mail (`system`, …).
 * - logins, message receivers (their categories only): each account's or receiver's events of
 *   the statement are folded first (newest by `(time, seq)`, counts summed, first name given),
 *   then merged with the stored row by the same rules — the same result as one event at a time.
 * - integrations (their category only): `hindsight_project_integration(e)` per row in `seq`
 *   order, since an acknowledgement counts again what was stored before it.
 *
 * `hindsight_rebuild_projections()` recomputes everything from the stored events through the
 * same statements, with `events` in place of `new_rows`: the migration that adds the
 * projections runs it.
 *
 * Bodies are parsed with `hindsight_json`, which (unlike `::jsonb`) accepts the `\u0000` that
 * free-form metadata may hold: jsonb cannot store it, so it reads as U+FFFD in the projections.
 * Nothing read from a body is cast in a way that can fail: a malformed value is skipped or
 * ignored, never a reason to refuse the events.
 */
import { PROJECTION_TABLE_NAMES } from './projection-tables.js';

/**
 * The key an event's actor is counted under in the summaries and stats: the actor id, else the
 * e-mail (`email:…`), else the actor's type (`system`, …). SQL over a row of `events` (with its
 * alias `e`, if any); `actorKey` of `append-plan.ts` computes the same for an event being
 * written, and SQLite's `actorKeySql` the same over its rows.
 */
export const actorKeySql = (e?: string) => {
  const at = e === undefined ? '' : `${e}.`;
  return `coalesce(${at}actor_id, 'email:' || ${at}actor_email, hindsight_json(${at}body) #>> '{actor,type}', 'user')`;
};

/** Epoch milliseconds of a `timestamptz` (event times have millisecond precision). */
const msOf = (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`;

/** The id of the first target of a kind of a parsed body (`targets` is an array of objects). */
const targetOf = (body: string, kind: string) =>
  `(SELECT t ->> 'id' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${body} -> 'targets') = 'array' ` +
  `THEN ${body} -> 'targets' END) AS t WHERE t ->> 'type' = '${kind}' LIMIT 1)`;

/**
 * The message of an event, as `message_receivers` keys it: its first `message` target, else the
 * event's own id (`body` is the event's parsed body, `e` its row of `events`).
 */
export const messageIdSql = (body: string, e: string) =>
  `coalesce(${targetOf(body, 'message')}, ${e}.id)`;

/** A JSON object of members, without those that are null (also nested; SQLite's json_patch). */
const compact = (members: string) => `jsonb_strip_nulls(jsonb_build_object(${members}))`;

/** Helper functions: tolerant JSON parsing and SQLite-like conversions. */
const HELPERS = String.raw`
CREATE FUNCTION hindsight_json(body text) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN strpos(body, '\u0000') = 0 THEN body::jsonb
    -- jsonb has no U+0000: escaped backslashes set aside (as U+0001, which JSON text never
    -- holds raw), each \u0000 escape becomes U+FFFD.
    ELSE replace(replace(replace(body, '\\', chr(1)), '\u0000', '\ufffd'), chr(1), '\\')::jsonb
  END
$$;
-- The integer a JSON value names, as SQLite's CAST(json ->> … AS INTEGER): numbers truncated
-- and clamped, a string's leading integer (else 0), booleans 1 / 0, objects and arrays 0.
CREATE FUNCTION hindsight_int(j jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE jsonb_typeof(j)
    WHEN 'number' THEN trunc(least(greatest(j::numeric, -9223372036854775808),
      9223372036854775807))::bigint
    WHEN 'string' THEN coalesce(trunc(least(greatest(
      substring(j #>> '{}' FROM '^\s*([+-]?[0-9]+)')::numeric, -9223372036854775808),
      9223372036854775807))::bigint, 0)
    WHEN 'boolean' THEN CASE WHEN j::boolean THEN 1 ELSE 0 END
    WHEN 'null' THEN NULL
    ELSE 0
  END
$$;
`;

const TABLES = `
CREATE TABLE login_users (
  tenant_id integer NOT NULL,
  actor_key text COLLATE "C" NOT NULL,
  actor jsonb NOT NULL,
  name text COLLATE "C" NOT NULL,
  email text COLLATE "C" NOT NULL,
  seen_ms bigint NOT NULL,
  seen_seq bigint NOT NULL,
  seen_failed boolean NOT NULL,
  success_ms bigint NOT NULL,
  success_seq bigint NOT NULL,
  success jsonb,
  failure_ms bigint NOT NULL,
  failure_seq bigint NOT NULL,
  failure jsonb,
  successes bigint NOT NULL,
  failures bigint NOT NULL,
  PRIMARY KEY (tenant_id, actor_key)
);
CREATE INDEX login_users_seen ON login_users (tenant_id, seen_ms, seen_seq, actor_key);
CREATE INDEX login_users_success ON login_users (tenant_id, success_ms, success_seq, actor_key);
CREATE INDEX login_users_failure ON login_users (tenant_id, failure_ms, failure_seq, actor_key);
CREATE INDEX login_users_name ON login_users (tenant_id, name, actor_key);
CREATE INDEX login_users_email ON login_users (tenant_id, email, actor_key);
CREATE TABLE login_countries (
  tenant_id integer NOT NULL,
  actor_key text COLLATE "C" NOT NULL,
  country text COLLATE "C" NOT NULL,
  last_ms bigint NOT NULL,
  last_seq bigint NOT NULL,
  first_ms bigint NOT NULL DEFAULT 0,
  first_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, actor_key, country)
);
CREATE TABLE message_receivers (
  tenant_id integer NOT NULL,
  message_id text COLLATE "C" NOT NULL,
  address text COLLATE "C" NOT NULL,
  name text COLLATE "C",
  status text COLLATE "C" NOT NULL,
  final boolean NOT NULL,
  report_ms bigint NOT NULL,
  report_seq bigint NOT NULL,
  report jsonb,
  PRIMARY KEY (tenant_id, message_id, address)
) WITH (fillfactor = 90);
CREATE TABLE integrations (
  tenant_id integer NOT NULL,
  system text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  last_ms bigint NOT NULL,
  last_seq bigint NOT NULL,
  last_event jsonb NOT NULL,
  status_ms bigint NOT NULL,
  status_seq bigint NOT NULL,
  last_status text COLLATE "C",
  acked_seq bigint NOT NULL,
  acked jsonb,
  errors bigint NOT NULL,
  notifications bigint NOT NULL,
  PRIMARY KEY (tenant_id, system)
);
-- Counters, updated in place (HOT) while their hour or day is current: per hour and per day
-- by action; per day by actor, in its category and in all (''); each actor's newest event.
CREATE TABLE event_counts (
  tenant_id integer NOT NULL,
  hour integer NOT NULL,
  category text COLLATE "C" NOT NULL,
  action text COLLATE "C" NOT NULL,
  outcome text COLLATE "C" NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (tenant_id, hour, category, action, outcome)
) WITH (fillfactor = 80);
CREATE TABLE event_days (
  tenant_id integer NOT NULL,
  day integer NOT NULL,
  category text COLLATE "C" NOT NULL,
  action text COLLATE "C" NOT NULL,
  outcome text COLLATE "C" NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (tenant_id, day, category, action, outcome)
) WITH (fillfactor = 80);
CREATE TABLE actor_days (
  tenant_id integer NOT NULL,
  category text COLLATE "C" NOT NULL,
  day integer NOT NULL,
  actor_key text COLLATE "C" NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (tenant_id, category, day, actor_key)
) WITH (fillfactor = 80);
-- Where each actor was last seen (the newest event by time, then seq), for its name.
CREATE TABLE actors (
  tenant_id integer NOT NULL,
  actor_key text COLLATE "C" NOT NULL,
  last_time timestamptz NOT NULL,
  last_seq bigint NOT NULL,
  PRIMARY KEY (tenant_id, actor_key)
) WITH (fillfactor = 80);
CREATE TABLE views (
  tenant text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  definition text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, id)
);
`;

/** The columns of a position (`…_ms`, `…_seq`) in the projections. */
const pos = (prefix: string) => [`${prefix}_ms`, `${prefix}_seq`];

/**
 * SET clauses that keep `columns` (and the `order` columns) from the incoming row (`excluded`)
 * when its `order` columns, compared as a row value, are after the stored row's (alias `t`),
 * else the stored ones.
 */
function keepNewer(t: string, order: readonly string[], columns: readonly string[]): string {
  const row = (alias: string) => `(${order.map((c) => `${alias}.${c}`).join(', ')})`;
  return [...columns, ...order]
    .map(
      (c) =>
        `${c} = CASE WHEN ${row('excluded')} > ${row(t)} THEN excluded.${c} ELSE ${t}.${c} END`,
    )
    .join(',\n  ');
}

/**
 * Adds the events of `source` (a relation of `events` rows) to the counts: one row per group,
 * so that each upsert touches a row once. No body is parsed but for the actor key of events
 * without actor id or e-mail (`system` and the like).
 */
function countStatements(source: string): string {
  /** Counts per `unit` (hour or day) by category, action and outcome. */
  const byAction = (table: string, unit: string, width: number) => `
INSERT INTO ${table} AS c (tenant_id, ${unit}, category, action, outcome, n)
SELECT tenant_id, (ms / ${width})::integer, category, action, outcome, count(*)
FROM k
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (tenant_id, ${unit}, category, action, outcome) DO UPDATE SET n = c.n + excluded.n`;
  return `
WITH k AS MATERIALIZED (
  SELECT tenant_id, time, seq, ${msOf('time')} AS ms, category, action, outcome,
    ${actorKeySql()} AS actor_key
  FROM ${source}
),
hours AS (${byAction('event_counts', 'hour', 3_600_000)}
),
days AS (${byAction('event_days', 'day', 86_400_000)}
),
per_actor AS (
  INSERT INTO actor_days AS c (tenant_id, category, day, actor_key, n)
  SELECT tenant_id, coalesce(category, ''), day, actor_key, count(*)
  FROM (SELECT tenant_id, category, (ms / 86400000)::integer AS day, actor_key FROM k) AS a
  GROUP BY GROUPING SETS ((tenant_id, category, day, actor_key), (tenant_id, day, actor_key))
  ON CONFLICT (tenant_id, category, day, actor_key) DO UPDATE SET n = c.n + excluded.n
)
INSERT INTO actors AS a (tenant_id, actor_key, last_time, last_seq)
SELECT DISTINCT ON (tenant_id, actor_key) tenant_id, actor_key, time, seq
FROM k
ORDER BY tenant_id, actor_key, time DESC, seq DESC
ON CONFLICT (tenant_id, actor_key) DO UPDATE
  SET last_time = excluded.last_time, last_seq = excluded.last_seq
  WHERE (excluded.last_time, excluded.last_seq) > (a.last_time, a.last_seq);`;
}

/** A country's newest attempt among those folded is newer than the one `login_countries` holds. */
const LATER_LAST = '(excluded.last_ms, excluded.last_seq) > (c.last_ms, c.last_seq)';
/**
 * A country's first successful sign-in among those folded (`first_ms` 0 for none) is earlier
 * than the one `login_countries` holds (0 for none yet).
 */
const EARLIER_FIRST =
  '(excluded.first_ms > 0 AND (c.first_ms = 0 OR ' +
  '(excluded.first_ms, excluded.first_seq) < (c.first_ms, c.first_seq)))';

/**
 * Folds the sign-in attempts of `source` into `login_users` and `login_countries`: per account,
 * its newest attempt, newest success and newest failure (by `(time, seq)`) and its counts; per
 * account and country, the newest attempt and the first success; then merged with the stored
 * rows.
 */
function loginStatements(source: string): string {
  /** The newest attempt of each account among the attempts `a` that pass `where`. */
  const newest = (columns: string, where: string) =>
    `SELECT DISTINCT ON (tenant_id, actor_key) tenant_id, actor_key, ${columns} FROM a ${where} ` +
    'ORDER BY tenant_id, actor_key, ms DESC, seq DESC';
  const attempt = compact(
    "'id', id, 'seq', seq, 'time', b -> 'time', 'ip', b #> '{context,ip}', " +
      "'location', b #> '{context,location}', 'client', b #> '{context,client}', " +
      "'reason', b #> '{metadata,reason}'",
  );
  return `
WITH a AS MATERIALIZED (
  SELECT s.tenant_id, s.seq, s.id, ${msOf('s.time')} AS ms,
    coalesce(s.actor_id, 'email:' || s.actor_email) AS actor_key, s.actor_email,
    s.action = 'login.failed' OR s.outcome = 'failure' AS failed, hindsight_json(s.body) AS b
  FROM ${source} AS s
  WHERE s.category = 'logins' AND s.action IN ('login.succeeded', 'login.failed')
    AND coalesce(s.actor_id, s.actor_email) IS NOT NULL
),
countries AS (
  INSERT INTO login_countries AS c (tenant_id, actor_key, country, last_ms, last_seq, first_ms,
    first_seq)
  SELECT tenant_id, actor_key, country, l[1], l[2], coalesce(f[1], 0), coalesce(f[2], 0)
  FROM (SELECT tenant_id, actor_key, country, max(ARRAY[ms, seq]) AS l,
      min(ARRAY[ms, seq]) FILTER (WHERE NOT failed) AS f
    FROM (SELECT tenant_id, actor_key, b #>> '{context,location,country}' AS country, ms, seq,
        failed
      FROM a) AS x
    WHERE country IS NOT NULL
    GROUP BY tenant_id, actor_key, country) AS g
  ON CONFLICT (tenant_id, actor_key, country) DO UPDATE SET
    last_ms = CASE WHEN ${LATER_LAST} THEN excluded.last_ms ELSE c.last_ms END,
    last_seq = CASE WHEN ${LATER_LAST} THEN excluded.last_seq ELSE c.last_seq END,
    first_ms = CASE WHEN ${EARLIER_FIRST} THEN excluded.first_ms ELSE c.first_ms END,
    first_seq = CASE WHEN ${EARLIER_FIRST} THEN excluded.first_seq ELSE c.first_seq END
    WHERE ${LATER_LAST} OR ${EARLIER_FIRST}
)
INSERT INTO login_users AS u (tenant_id, actor_key, actor, name, email, seen_ms, seen_seq,
  seen_failed, success_ms, success_seq, success, failure_ms, failure_seq, failure, successes,
  failures)
SELECT seen.tenant_id, seen.actor_key, seen.actor, seen.name, seen.email, seen.ms, seen.seq,
  seen.failed, coalesce(ok.ms, 0), coalesce(ok.seq, 0), ok.attempt, coalesce(ko.ms, 0),
  coalesce(ko.seq, 0), ko.attempt, n.successes, n.failures
FROM (${newest(
    `ms, seq, failed, b -> 'actor' AS actor, lower(coalesce(b #>> '{actor,name}', '') COLLATE "C") AS name, ` +
      `lower(coalesce(actor_email, '') COLLATE "C") AS email`,
    '',
  )}) AS seen
JOIN (SELECT tenant_id, actor_key, count(*) FILTER (WHERE NOT failed) AS successes,
    count(*) FILTER (WHERE failed) AS failures
  FROM a GROUP BY tenant_id, actor_key) AS n USING (tenant_id, actor_key)
LEFT JOIN (${newest(`ms, seq, ${attempt} AS attempt`, 'WHERE NOT failed')}) AS ok
  USING (tenant_id, actor_key)
LEFT JOIN (${newest(`ms, seq, ${attempt} AS attempt`, 'WHERE failed')}) AS ko
  USING (tenant_id, actor_key)
ON CONFLICT (tenant_id, actor_key) DO UPDATE SET
  ${keepNewer('u', pos('seen'), ['actor', 'name', 'email', 'seen_failed'])},
  ${keepNewer('u', pos('success'), ['success'])},
  ${keepNewer('u', pos('failure'), ['failure'])},
  successes = u.successes + excluded.successes,
  failures = u.failures + excluded.failures;`;
}

/**
 * Folds the messages and delivery reports of `source` into `message_receivers`. Receivers come
 * from `message.sent` (`metadata.receivers`, a placeholder: its status, or `sent`, and no
 * report) and from reports (`metadata.receiver`). Per receiver: the first name given (by `seq`,
 * then list order), the best report — where the message ended (not sent, pending, deferred)
 * before on its way, then newest by `(time, seq)`; providers without event times can send
 * "sent" after "delivered" — else the first placeholder's status. A stored row keeps its
 * status unless a report beats its own.
 */
function messageStatements(source: string): string {
  const receivers = "m.b #> '{metadata,receivers}'";
  return `
WITH m AS MATERIALIZED (
  SELECT s.tenant_id, s.seq, s.id, s.action, s.status, ${msOf('s.time')} AS ms,
    hindsight_json(s.body) AS b
  FROM ${source} AS s
  WHERE s.category = 'communications'
    AND (s.action = 'message.sent' OR (s.action LIKE 'message.%' AND s.status IS NOT NULL))
),
rc AS (
  SELECT m.tenant_id, coalesce(${targetOf('m.b', 'message')}, m.id) AS message_id,
    x.v ->> 'address' AS address, x.v ->> 'name' AS name, m.seq, x.i AS ord,
    coalesce(m.status, 'sent') AS status, NULL::boolean AS final, 0::bigint AS ms,
    NULL::jsonb AS report
  FROM m CROSS JOIN LATERAL (
    SELECT v, i FROM jsonb_array_elements(
      CASE WHEN jsonb_typeof(${receivers}) = 'array' THEN ${receivers} END) WITH ORDINALITY AS l(v, i)
    UNION ALL
    SELECT v, i FROM jsonb_each(
      CASE WHEN jsonb_typeof(${receivers}) = 'object' THEN ${receivers} END) WITH ORDINALITY AS o(k, v, i)
  ) AS x
  WHERE m.action = 'message.sent'
  UNION ALL
  SELECT m.tenant_id, ${targetOf('m.b', 'message')}, m.b #>> '{metadata,receiver,address}',
    m.b #>> '{metadata,receiver,name}', m.seq, 0, m.status,
    m.status NOT IN ('sent', 'pending', 'deferred'), m.ms,
    ${compact("'id', m.id, 'seq', m.seq, 'time', m.b -> 'time', 'reason', m.b #> '{metadata,reason}'")}
  FROM m
  WHERE m.action <> 'message.sent'
)
INSERT INTO message_receivers AS mr
  (tenant_id, message_id, address, name, status, final, report_ms, report_seq, report)
SELECT k.tenant_id, k.message_id, k.address, k.name, coalesce(best.status, k.placeholder),
  coalesce(best.final, false), coalesce(best.ms, 0), coalesce(best.seq, 0), best.report
FROM (
  SELECT tenant_id, message_id, address,
    (array_agg(name ORDER BY seq, ord) FILTER (WHERE name IS NOT NULL))[1] AS name,
    (array_agg(status ORDER BY seq, ord) FILTER (WHERE final IS NULL))[1] AS placeholder
  FROM rc WHERE message_id IS NOT NULL AND address IS NOT NULL
  GROUP BY tenant_id, message_id, address
) AS k
LEFT JOIN (
  SELECT DISTINCT ON (tenant_id, message_id, address) tenant_id, message_id, address, status,
    final, ms, seq, report
  FROM rc WHERE final IS NOT NULL AND message_id IS NOT NULL AND address IS NOT NULL
  ORDER BY tenant_id, message_id, address, final DESC, ms DESC, seq DESC
) AS best USING (tenant_id, message_id, address)
ON CONFLICT (tenant_id, message_id, address) DO UPDATE SET
  name = coalesce(mr.name, excluded.name),
  ${keepNewer('mr', ['final', ...pos('report')], ['status', 'report'])};`;
}

/**
 * Folds one event into the integrations: the statements of `sqlite-projections.ts`, one event
 * at a time in `seq` order (an acknowledgement counts again the events stored before it).
 */
const INTEGRATION_FUNCTION = `
CREATE FUNCTION hindsight_project_integration(e events) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_b jsonb := hindsight_json(e.body);
  v_ms bigint := ${msOf('e.time')};
  v_system text;
  v_brief jsonb;
  v_has_status boolean;
  v_up bigint;
  v_acked bigint;
  v_errors bigint;
  v_notifications bigint;
BEGIN
  v_system := coalesce(${targetOf('v_b', 'integration')}, v_b #>> '{metadata,system}');
  IF v_system IS NULL THEN
    RETURN;
  END IF;
  v_brief := ${compact(
    "'id', e.id, 'seq', e.seq, 'time', v_b -> 'time', 'action', e.action, " +
      "'outcome', e.outcome, 'status', e.status, 'description', v_b -> 'description', " +
      "'actor', v_b -> 'actor'",
  )};
  IF e.action <> 'integration.acknowledged' THEN
    v_has_status := coalesce(e.status IN ('ok', 'error', 'notification'), false);
    INSERT INTO integrations AS i (tenant_id, system, name, last_ms, last_seq, last_event,
      status_ms, status_seq, last_status, acked_seq, acked, errors, notifications)
    VALUES (e.tenant_id, v_system,
      coalesce(v_b #>> '{metadata,system}', ${targetOf('v_b', 'integration')}),
      v_ms, e.seq, v_brief,
      CASE WHEN v_has_status THEN v_ms ELSE 0 END, CASE WHEN v_has_status THEN e.seq ELSE 0 END,
      CASE WHEN v_has_status THEN e.status END, 0, NULL,
      CASE WHEN e.status = 'error' THEN 1 ELSE 0 END,
      CASE WHEN e.status = 'notification' THEN 1 ELSE 0 END)
    ON CONFLICT (tenant_id, system) DO UPDATE SET
      ${keepNewer('i', pos('last'), ['name', 'last_event'])},
      ${keepNewer('i', pos('status'), ['last_status'])},
      errors = i.errors + CASE WHEN excluded.errors = 1 AND e.seq > i.acked_seq THEN 1 ELSE 0 END,
      notifications = i.notifications
        + CASE WHEN excluded.notifications = 1 AND e.seq > i.acked_seq THEN 1 ELSE 0 END;
    RETURN;
  END IF;
  -- An acknowledgement counts again what is left unacknowledged: the system's events after
  -- upToSeq stored before it (later ones count themselves as they arrive).
  v_up := hindsight_int(v_b #> '{metadata,upToSeq}');
  IF v_up IS NULL THEN
    RETURN;
  END IF;
  SELECT acked_seq INTO v_acked FROM integrations
    WHERE tenant_id = e.tenant_id AND system = v_system;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT count(*) FILTER (WHERE x.status = 'error'),
    count(*) FILTER (WHERE x.status = 'notification')
  INTO v_errors, v_notifications
  FROM (SELECT status, hindsight_json(body) AS b FROM events
    WHERE tenant_id = e.tenant_id AND category = 'integrations'
      AND seq > greatest(v_acked, v_up) AND seq < e.seq
      AND status IN ('error', 'notification')
      AND action <> 'integration.acknowledged') AS x
  WHERE coalesce(${targetOf('x.b', 'integration')}, x.b #>> '{metadata,system}') = v_system;
  UPDATE integrations SET
    acked = CASE WHEN v_up > acked_seq
      THEN v_brief || jsonb_build_object('upToSeq', v_up) ELSE acked END,
    acked_seq = greatest(acked_seq, v_up),
    errors = v_errors,
    notifications = v_notifications
  WHERE tenant_id = e.tenant_id AND system = v_system;
END
$$;
`;

/** Every projection's statements over `source`, the body of a plpgsql block with `r events`. */
function projectStatements(source: string): string {
  return `${countStatements(source)}
${loginStatements(source)}
${messageStatements(source)}
FOR r IN SELECT * FROM ${source} WHERE category = 'integrations' ORDER BY tenant_id, seq LOOP
  PERFORM hindsight_project_integration(r);
END LOOP;`;
}

/**
 * The trigger's function and the rebuild, as this version computes the projections: a
 * migration that changes what they compute replaces both with this text.
 */
const PROJECTION_FUNCTIONS = `
CREATE OR REPLACE FUNCTION hindsight_project_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r events;
BEGIN
${projectStatements('new_rows')}
RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION hindsight_rebuild_projections() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  r events;
BEGIN
TRUNCATE login_users, login_countries, message_receivers, integrations, event_counts,
  event_days, actor_days, actors;
${projectStatements('events')}
END
$$;
`;

const TRIGGER = `${PROJECTION_FUNCTIONS}
CREATE TRIGGER events_project AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION hindsight_project_rows();
`;

/**
 * Migration 14: each account's first successful sign-in from each country (`first_ms`,
 * `first_seq`; 0 for none) in `login_countries`, for the logins view's `newCountry`: the
 * columns (which migration 2 now creates), the functions that keep them, and their values
 * computed from the stored sign-ins.
 */
export const FIRST_SUCCESS_MIGRATION = `
ALTER TABLE login_countries ADD COLUMN IF NOT EXISTS first_ms bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS first_seq bigint NOT NULL DEFAULT 0;
${PROJECTION_FUNCTIONS}
UPDATE login_countries c SET first_ms = f.first[1], first_seq = f.first[2]
FROM (SELECT tenant_id, coalesce(actor_id, 'email:' || actor_email) AS actor_key,
    hindsight_json(body) #>> '{context,location,country}' AS country,
    min(ARRAY[${msOf('time')}, seq]) AS first
  FROM events
  WHERE category = 'logins' AND action = 'login.succeeded' AND outcome <> 'failure'
    AND coalesce(actor_id, actor_email) IS NOT NULL
  GROUP BY 1, 2, 3) AS f
WHERE c.tenant_id = f.tenant_id AND c.actor_key = f.actor_key AND c.country = f.country;`;

/**
 * Migration 2: the projection tables, the functions and the trigger that keep them, and their
 * contents computed from the events stored before.
 */
export const PROJECTIONS_MIGRATION = `${HELPERS}${TABLES}${INTEGRATION_FUNCTION}${TRIGGER}
SELECT hindsight_rebuild_projections();
`;

/**
 * A statement that recomputes one tenant's projections from its stored events, through the
 * same statements as the trigger, after some of them were erased or deleted (issue #9). The
 * tenant id is an integer of ours, never input text.
 */
export function rebuildTenantProjectionsSql(tenantId: number): string {
  if (!Number.isSafeInteger(tenantId)) throw new Error(`Not a tenant id: ${tenantId}`);
  return `DO $hindsight$
DECLARE
  r events;
BEGIN
${PROJECTION_TABLE_NAMES.map((t) => `DELETE FROM ${t} WHERE tenant_id = ${tenantId};`).join('\n')}
CREATE OR REPLACE TEMP VIEW hindsight_tenant_events AS
  SELECT * FROM events WHERE tenant_id = ${tenantId};
${projectStatements('hindsight_tenant_events')}
DROP VIEW hindsight_tenant_events;
END
$hindsight$;`;
}
