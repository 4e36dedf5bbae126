/**
 * The SQLite schema, its migration, and how an event becomes a row: shared by the store, its
 * writer thread and the raw-insert benchmark.
 *
 * Each event row is keyed by `pos = time_ms * 2048 + slot`: a 53-bit integer that orders a
 * tenant's events by time and then `seq` (slots in a millisecond are handed out in insertion
 * order), so every index on `(tenant_id, x)` is already sorted by its implicit rowid and a page
 * is one index range scan. The FTS5 index is contentless and keyed by the same `pos`; its tokens
 * carry the tenant (`t<id>_word`), so a keyword search reads only that tenant's posting list,
 * newest first, restricted by `pos` range for time and cursor.
 *
 * The indexes of values with many distinct values in random order — actor id, e-mail, IP,
 * target — are keyed by the tenant and the event's day first (`pos / DAY_POS`), then the value:
 * a transaction's new entries then share a few pages per tenant instead of landing on a page
 * each, and pruning removes entries that sit together at the start of each index. A look-up by
 * value probes each day of the range in turn (`sqlite-keys.ts`).
 *
 * The Merkle tree's nodes are keyed by the tree size at which each became complete
 * (`(idx + 1) * 2^level`) before their level: the nodes a batch of events completes are then
 * neighbours at the end of their tenant's rows, where a key led by the level would put them on
 * a page per level.
 */
import { merkle, type StoredEvent } from '@hindsight/core';
import type Database from 'better-sqlite3';
import { ACCESS_TABLES, AUDIT_OUTBOX_TABLE } from './access-rows.js';
import { DROP_SENSITIVE_DIGESTS, type WriterEvent } from './append-plan.js';
import { HOOK_SIGNATURES_TABLE } from './hook-signatures.js';
import { REDACTION_TABLES } from './sqlite-erase.js';
import {
  addFirstSuccesses,
  DAY_POS,
  dropProjectionTriggers,
  PROJECTION_TABLES,
  rebuildProjections,
} from './sqlite-projections.js';
import { PRUNE_TABLES } from './sqlite-prune.js';
import { eventWords, INSERT_FTS_SQL } from './sqlite-words.js';

export { SLOTS_PER_MS } from './sqlite-projections.js';

const SCHEMA_VERSION = 11;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenants (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
  pos INTEGER PRIMARY KEY,
  tenant_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  category TEXT NOT NULL,
  action TEXT NOT NULL,
  actor_id TEXT,
  actor_email TEXT,
  outcome TEXT NOT NULL,
  channel TEXT,
  status TEXT,
  ip BLOB,
  digest BLOB,
  hash BLOB NOT NULL,
  body TEXT NOT NULL,
  salts TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (tenant_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (tenant_id, id);
CREATE INDEX IF NOT EXISTS events_tenant ON events (tenant_id);
CREATE INDEX IF NOT EXISTS events_category ON events (tenant_id, category);
CREATE INDEX IF NOT EXISTS events_action ON events (tenant_id, action);
CREATE INDEX IF NOT EXISTS events_actor ON events (tenant_id, pos / ${DAY_POS}, actor_id);
CREATE INDEX IF NOT EXISTS events_email ON events (tenant_id, pos / ${DAY_POS}, actor_email)
  WHERE actor_email IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip ON events (tenant_id, pos / ${DAY_POS}, ip)
  WHERE ip IS NOT NULL;
CREATE TABLE IF NOT EXISTS event_targets (
  tenant_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  target_id TEXT NOT NULL,
  pos INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, day, target_id, pos)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(
  words, content = '', columnsize = 0,
  tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);
CREATE TABLE IF NOT EXISTS tree_nodes (
  tenant_id INTEGER NOT NULL,
  size INTEGER NOT NULL,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (tenant_id, size, level)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  tenant_id INTEGER NOT NULL,
  size INTEGER NOT NULL,
  note TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tenant_id, size)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash BLOB NOT NULL,
  scopes TEXT NOT NULL,
  tenant TEXT,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) WITHOUT ROWID;
`;

/** Applies the schema and connection settings to a database; idempotent. */
export function migrateSqlite(db: Database.Database): void {
  // Takes effect only on a new database. 8 KiB pages measured faster for this schema.
  db.pragma('page_size = 8192');
  db.pragma('journal_mode = WAL');
  // Every commit is fsynced before a 202 is sent.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  // Up to 512 MiB of page cache per connection, allocated only as the database grows.
  db.pragma('cache_size = -524288');
  db.pragma('temp_store = MEMORY');
  // Bytes freed inside a page (a row deleted or moved, a page split) are zeroed rather than
  // left behind, at no extra I/O; an erasure turns it fully on (sqlite-erase.ts).
  db.pragma('secure_delete = FAST');
  // Checkpoint every ~80 MB of WAL rather than every 4 MB: index pages dirtied by many
  // transactions are then copied back once, not once per transaction.
  db.pragma('wal_autocheckpoint = 10000');
  db.transaction(() => {
    const version = storedVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `The database has schema version ${version}, newer than this Hindsight (${SCHEMA_VERSION}). Upgrade Hindsight.`,
      );
    }
    // Version 4 keys the value indexes by day: drop the old ones, which the schema then
    // creates anew, and keep the old targets aside to copy them with their day.
    const rekey = version >= 1 && version < 4;
    if (rekey) {
      db.exec(
        'DROP INDEX events_actor; DROP INDEX events_email; DROP INDEX events_ip; ' +
          'ALTER TABLE event_targets RENAME TO event_targets_v3',
      );
    }
    // Version 5 removes an event's words with a delete marker of the same words rather than by
    // rowid (`contentless_delete`): rebuild the search index in that form.
    const reindex = version >= 1 && version < 5;
    if (reindex) db.exec('DROP TABLE events_fts');
    // Version 6 keys the tree's nodes by the size that completed them: copy them to that key.
    const retree = version >= 2 && version < 6;
    if (retree) db.exec('ALTER TABLE tree_nodes RENAME TO tree_nodes_v5');
    db.exec(SCHEMA);
    // Version 8: an input digest no longer covers the values of sensitive changes, which no
    // event keeps; drop those digests of events stored before (a retry of one is a conflict).
    if (version >= 1 && version < 8) db.exec(DROP_SENSITIVE_DIGESTS);
    if (reindex) indexWords(db);
    if (retree) {
      db.exec(
        'INSERT INTO tree_nodes SELECT tenant_id, (idx + 1) << level, level, idx, hash ' +
          'FROM tree_nodes_v5 ORDER BY 1, 2, 3; DROP TABLE tree_nodes_v5',
      );
    }
    if (rekey) {
      db.exec(
        `INSERT INTO event_targets SELECT tenant_id, pos / ${DAY_POS}, target_id, pos FROM event_targets_v3; ` +
          'DROP TABLE event_targets_v3',
      );
    }
    db.exec(PROJECTION_TABLES);
    // Version 11 keeps each account's first successful sign-in from each country.
    if (version >= 3 && version < 11) addFirstSuccesses(db);
    db.exec(ACCESS_TABLES);
    // Version 7 keeps admin changes' audit entries until they are in the log.
    db.exec(AUDIT_OUTBOX_TABLE);
    db.exec(PRUNE_TABLES);
    db.exec(REDACTION_TABLES);
    // Version 10 keeps the webhook signatures taken, which every server on the file then sees.
    db.exec(HOOK_SIGNATURES_TABLE);
    // Version 3 kept the projections by triggers on `events`; the writer keeps them now.
    dropProjectionTriggers(db);
    // Version 9: `actor_email` holds the address's key (`emailKey`), so that a filter or an
    // erasure finds it in any case; what is keyed by it is computed again (from version 3 on:
    // before, every projection is computed below).
    if (version >= 1 && version < 9) lowerActorEmails(db, version >= 3);
    // Version 2 keeps each tenant's Merkle tree: build it for the events stored before.
    if (version === 1) buildTrees(db);
    // Version 3 keeps the derived views of issue #5: compute them from the events stored before.
    if (version >= 1 && version < 3) rebuildProjections(db);
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(
      'schema_version',
      String(SCHEMA_VERSION),
    );
  }).immediate();
}

/**
 * Writes each `actor_email` with its ASCII letters in lower case (SQLite's `lower()`, as core's
 * `emailKey`), and computes again the projections of the tenants that had another.
 */
function lowerActorEmails(db: Database.Database, rebuild: boolean): void {
  const tenants = db
    .prepare('SELECT DISTINCT tenant_id FROM events WHERE actor_email <> lower(actor_email)')
    .pluck()
    .all() as number[];
  if (tenants.length === 0) return;
  db.exec(
    'UPDATE events SET actor_email = lower(actor_email) WHERE actor_email <> lower(actor_email)',
  );
  if (rebuild) for (const tenant of tenants) rebuildProjections(db, tenant);
}

/** The database's schema version; 0 for a new database. */
function storedVersion(db: Database.Database): number {
  const hasMeta = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    .get();
  if (!hasMeta) return 0;
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as
    | { value: string }
    | undefined;
  return row ? Number(row.value) : 0;
}

/** Indexes the words of every stored event. */
function indexWords(db: Database.Database): void {
  const insert = db.prepare(INSERT_FTS_SQL);
  // In pages: a connection cannot write while it iterates a query.
  const page = db
    .prepare('SELECT pos, tenant_id, body FROM events WHERE pos > ? ORDER BY pos LIMIT 10000')
    .raw();
  for (let after = Number.MIN_SAFE_INTEGER; ; ) {
    const rows = page.all(after) as Array<[number, number, string]>;
    for (const [pos, tenantId, body] of rows)
      insert.run(pos, eventWords(tenantId, JSON.parse(body) as StoredEvent));
    const last = rows[rows.length - 1];
    if (!last) return;
    after = last[0];
  }
}

/** Stores every complete subtree of every tenant's tree, from the leaf hashes in `seq` order. */
function buildTrees(db: Database.Database): void {
  const insert = db.prepare(INSERT_NODE_SQL);
  const hashes = db.prepare('SELECT hash FROM events WHERE tenant_id = ? ORDER BY seq').pluck();
  const tenants = db.prepare('SELECT id FROM tenants').pluck().all() as number[];
  for (const tenantId of tenants) {
    const leaves = hashes.all(tenantId) as Buffer[];
    for (const node of merkle.appendLeaves(new Map(), 0, leaves)) {
      insert.run(nodeRow(tenantId, node));
    }
  }
}

/** The `events` row of an event, in the column order of {@link INSERT_EVENT_SQL}. */
export function eventRow(
  tenantId: number,
  pos: number,
  seq: number,
  hash: string,
  e: WriterEvent,
): unknown[] {
  return [
    pos,
    tenantId,
    seq,
    e.id,
    e.category,
    e.action,
    e.actorId,
    e.actorEmail,
    e.outcome,
    e.channel,
    e.status,
    e.ip,
    e.digest === null ? null : Buffer.from(e.digest, 'hex'),
    Buffer.from(hash, 'hex'),
    e.json,
    e.salts,
  ];
}

export const INSERT_EVENT_SQL =
  'INSERT INTO events (pos, tenant_id, seq, id, category, action, actor_id, actor_email, ' +
  'outcome, channel, status, ip, digest, hash, body, salts) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
export const INSERT_NODE_SQL =
  'INSERT INTO tree_nodes (tenant_id, size, level, idx, hash) VALUES (?, ?, ?, ?, ?)';
/** A node's hash; parameters: {@link nodeKey}. */
export const NODE_SQL =
  'SELECT hash FROM tree_nodes WHERE tenant_id = ? AND size = ? AND level = ?';

/** The tree size at which a node became complete (in SQL: `(idx + 1) << level`). */
function completedAt(level: number, index: number): number {
  return (index + 1) * 2 ** level;
}

/** The key of a tree node: its tenant, the tree size that completed it, and its level. */
export function nodeKey(tenantId: number, level: number, index: number): [number, number, number] {
  return [tenantId, completedAt(level, index), level];
}

/** The `tree_nodes` row of a node, in the column order of {@link INSERT_NODE_SQL}. */
export function nodeRow(
  tenantId: number,
  node: merkle.NodeId & { hash: Uint8Array },
): [number, number, number, number, Uint8Array] {
  return [tenantId, completedAt(node.level, node.index), node.level, node.index, node.hash];
}
