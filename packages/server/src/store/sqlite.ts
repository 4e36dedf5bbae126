/**
 * The embedded store: one SQLite file (better-sqlite3, WAL, `synchronous=FULL`).
 *
 * Layout. Each event row is keyed by `pos = time_ms * 2048 + slot`: a 53-bit integer that
 * orders a tenant's events by time and then `seq` (slots in a millisecond are handed out in
 * insertion order), so every index on `(tenant_id, x)` is already sorted newest-first by its
 * implicit rowid and a page is one index range scan. The FTS5 index is contentless and keyed by
 * the same `pos`; its tokens carry the tenant (`t<id>_word`), so a keyword search reads only
 * that tenant's posting list, newest first, restricted by `pos` range for time and cursor.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  parseIp,
  parseRfc3339,
  type QueryClause,
  type StoredEvent,
  sealEvent,
  searchableTexts,
  searchTokens,
} from '@hindsight/core';
import type Database from 'better-sqlite3';
import { HindsightError } from '../errors.js';
import type {
  ApiKeyRecord,
  AppendOutcome,
  EventPage,
  EventQuery,
  EventRef,
  PreparedEvent,
  Store,
} from './types.js';

const SLOTS_PER_MS = 2048;
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
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
  digest BLOB NOT NULL,
  hash BLOB NOT NULL,
  body TEXT NOT NULL,
  salts TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (tenant_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (tenant_id, id);
CREATE INDEX IF NOT EXISTS events_tenant ON events (tenant_id);
CREATE INDEX IF NOT EXISTS events_category ON events (tenant_id, category);
CREATE INDEX IF NOT EXISTS events_action ON events (tenant_id, action);
CREATE INDEX IF NOT EXISTS events_actor ON events (tenant_id, actor_id);
CREATE INDEX IF NOT EXISTS events_email ON events (tenant_id, actor_email)
  WHERE actor_email IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip ON events (tenant_id, ip) WHERE ip IS NOT NULL;
CREATE TABLE IF NOT EXISTS event_targets (
  tenant_id INTEGER NOT NULL,
  target_id TEXT NOT NULL,
  pos INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, target_id, pos)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(
  words, content = '', contentless_delete = 1,
  tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);
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

/** Options for {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file; `:memory:` for a private in-memory store. */
  readonly path: string;
}

type EventRow = { body: string };
type ExistingRow = { seq: number; hash: Buffer; digest: Buffer };
type KeyRow = {
  id: string;
  name: string;
  secret_hash: Buffer;
  scopes: string;
  tenant: string | null;
  created_at: string;
  revoked_at: string | null;
};

class BatchConflict extends Error {
  constructor(readonly error: HindsightError) {
    super(error.message);
  }
}

/**
 * Opens (creating if needed) a SQLite store; better-sqlite3 is loaded lazily.
 * @example const store = await openSqliteStore({ path: './hindsight-data/hindsight.db' });
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { default: DatabaseCtor } = await import('better-sqlite3');
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseCtor(options.path);
  try {
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies the schema to a database; idempotent. Exported for the raw-insert benchmark. */
export function migrateSqlite(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  db.transaction(() => {
    db.exec(SCHEMA);
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as
      | { value: string }
      | undefined;
    const version = row ? Number(row.value) : 0;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `The database has schema version ${version}, newer than this Hindsight (${SCHEMA_VERSION}). Upgrade Hindsight.`,
      );
    }
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(
      'schema_version',
      String(SCHEMA_VERSION),
    );
  }).immediate();
}

/** The row values stored for one sealed event, shared by the store and the raw benchmark. */
export function eventRow(
  tenantId: number,
  pos: number,
  event: StoredEvent,
  prepared: PreparedEvent,
): unknown[] {
  const ip = event.context?.ip;
  return [
    pos,
    tenantId,
    event.seq,
    event.id,
    event.category,
    event.action,
    event.actor.id ?? null,
    event.actor.email ?? null,
    event.outcome,
    event.channel ?? null,
    event.status ?? null,
    ip === undefined ? null : ipKey(ip),
    Buffer.from(prepared.digest, 'hex'),
    Buffer.from(event.hash, 'hex'),
    JSON.stringify(event),
    Object.keys(prepared.salts).length === 0 ? null : JSON.stringify(prepared.salts),
  ];
}

/** The FTS5 document of an event: its search tokens, each carrying the tenant. */
export function ftsWords(tenantId: number, event: StoredEvent): string {
  const prefix = `t${tenantId}_`;
  const words: string[] = [];
  for (const text of searchableTexts(event)) {
    for (const token of searchTokens(text)) words.push(prefix + token);
  }
  return words.join(' ');
}

export const INSERT_EVENT_SQL =
  'INSERT INTO events (pos, tenant_id, seq, id, category, action, actor_id, actor_email, ' +
  'outcome, channel, status, ip, digest, hash, body, salts) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
export const INSERT_TARGET_SQL =
  'INSERT OR IGNORE INTO event_targets (tenant_id, target_id, pos) VALUES (?, ?, ?)';
export const INSERT_FTS_SQL = 'INSERT INTO events_fts (rowid, words) VALUES (?, ?)';

function ipKey(text: string): Buffer | null {
  const ip = parseIp(text);
  return ip ? Buffer.from(ip.bytes) : null;
}

function timeMs(iso: string): number {
  return parseRfc3339(iso) ?? Date.parse(iso);
}

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #tenantIds = new Map<string, number>();
  readonly #stmt: Record<string, Database.Statement>;
  readonly #appendAll: Database.Transaction<
    (batches: readonly (readonly PreparedEvent[])[]) => AppendOutcome[]
  >;
  readonly #appendBatch: Database.Transaction<
    (batch: readonly PreparedEvent[], tx: TxState) => EventRef[]
  >;
  #closed = false;

  constructor(db: Database.Database) {
    this.#db = db;
    migrateSqlite(db);
    const p = (sql: string) => db.prepare(sql);
    this.#stmt = {
      tenantInsert: p('INSERT INTO tenants (name) VALUES (?) ON CONFLICT (name) DO NOTHING'),
      tenantId: p('SELECT id FROM tenants WHERE name = ?').pluck(),
      tenantSize: p('SELECT size FROM tenants WHERE id = ?').pluck(),
      tenantSetSize: p('UPDATE tenants SET size = ? WHERE id = ?'),
      existing: p('SELECT seq, hash, digest FROM events WHERE tenant_id = ? AND id = ?'),
      maxPos: p('SELECT max(pos) FROM events WHERE pos >= ? AND pos < ?').pluck(),
      insertEvent: p(INSERT_EVENT_SQL),
      insertTarget: p(INSERT_TARGET_SQL),
      insertFts: p(INSERT_FTS_SQL),
      getEvent: p('SELECT body FROM events WHERE tenant_id = ? AND id = ?'),
      keyInsert: p(
        'INSERT INTO api_keys (id, name, secret_hash, scopes, tenant, created_at, revoked_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      keyFind: p('SELECT * FROM api_keys WHERE id = ?'),
      keyCount: p('SELECT count(*) FROM api_keys').pluck(),
      ping: p('SELECT 1').pluck(),
    };
    this.#appendBatch = db.transaction((batch: readonly PreparedEvent[], tx: TxState) =>
      this.#insertBatch(batch, tx),
    );
    this.#appendAll = db.transaction((batches: readonly (readonly PreparedEvent[])[]) =>
      this.#insertAll(batches),
    );
  }

  async append(batches: readonly (readonly PreparedEvent[])[]): Promise<AppendOutcome[]> {
    this.#assertOpen();
    try {
      return this.#appendAll.immediate(batches);
    } catch (error) {
      throw new HindsightError('store_unavailable', 'The event store could not commit the batch.', {
        cause: error,
      });
    }
  }

  #insertAll(batches: readonly (readonly PreparedEvent[])[]): AppendOutcome[] {
    const tx: TxState = { sizes: new Map(), lastPos: new Map(), tenantIds: new Map() };
    // Tenants are created before any batch savepoint, so a rolled-back batch never leaves a
    // cached id for a tenant row that does not exist.
    for (const batch of batches) for (const p of batch) this.#tenantId(p.event.tenant, tx);
    const outcomes: AppendOutcome[] = [];
    for (const batch of batches) {
      try {
        outcomes.push({ ok: true, events: this.#appendBatch(batch, tx) });
      } catch (error) {
        if (!(error instanceof BatchConflict)) throw error;
        tx.sizes.clear();
        outcomes.push({ ok: false, error: error.error });
      }
    }
    for (const [name, id] of tx.tenantIds) this.#tenantIds.set(name, id);
    return outcomes;
  }

  #tenantId(name: string, tx: TxState): number {
    const known = this.#tenantIds.get(name) ?? tx.tenantIds.get(name);
    if (known !== undefined) return known;
    this.#s('tenantInsert').run(name);
    const id = this.#s('tenantId').get(name) as number;
    tx.tenantIds.set(name, id);
    return id;
  }

  #insertBatch(batch: readonly PreparedEvent[], tx: TxState): EventRef[] {
    const refs: EventRef[] = [];
    const touched = new Set<number>();
    batch.forEach((prepared, index) => {
      const { event } = prepared;
      const tenantId = this.#tenantId(event.tenant, tx);
      const existing = this.#s('existing').get(tenantId, event.id) as ExistingRow | undefined;
      if (existing) {
        if (existing.digest.toString('hex') !== prepared.digest) {
          throw new BatchConflict(
            new HindsightError(
              'conflict',
              `Event id "${event.id}" is already stored for tenant "${event.tenant}" with different content.`,
              { details: [{ index, path: `/events/${index}/id`, message: 'id already used' }] },
            ),
          );
        }
        refs.push({
          id: event.id,
          tenant: event.tenant,
          seq: existing.seq,
          hash: existing.hash.toString('hex'),
        });
        return;
      }
      const seq = (tx.sizes.get(tenantId) ?? (this.#s('tenantSize').get(tenantId) as number)) + 1;
      tx.sizes.set(tenantId, seq);
      touched.add(tenantId);
      const sealed = sealEvent(event, seq, prepared.salts);
      const pos = this.#allocatePos(timeMs(sealed.time), tx);
      this.#s('insertEvent').run(eventRow(tenantId, pos, sealed, prepared));
      if (sealed.targets) {
        for (const t of sealed.targets) this.#s('insertTarget').run(tenantId, t.id, pos);
      }
      this.#s('insertFts').run(pos, ftsWords(tenantId, sealed));
      refs.push({ id: sealed.id, tenant: sealed.tenant, seq, hash: sealed.hash });
    });
    for (const tenantId of touched) {
      this.#s('tenantSetSize').run(tx.sizes.get(tenantId), tenantId);
    }
    return refs;
  }

  /** The next free `pos` in the event's millisecond (the next millisecond's when full). */
  #allocatePos(ms: number, tx: TxState): number {
    for (let t = ms; ; t++) {
      const base = t * SLOTS_PER_MS;
      let last = tx.lastPos.get(t);
      if (last === undefined) {
        const max = this.#s('maxPos').get(base, base + SLOTS_PER_MS) as number | null;
        last = max ?? base - 1;
      }
      if (last + 1 < base + SLOTS_PER_MS) {
        tx.lastPos.set(t, last + 1);
        return last + 1;
      }
    }
  }

  async getEvent(tenant: string, id: string): Promise<StoredEvent | null> {
    this.#assertOpen();
    const tenantId = this.#knownTenantId(tenant);
    if (tenantId === null) return null;
    const row = this.#s('getEvent').get(tenantId, id) as EventRow | undefined;
    return row ? (JSON.parse(row.body) as StoredEvent) : null;
  }

  async queryEvents(tenant: string, query: EventQuery): Promise<EventPage> {
    this.#assertOpen();
    const after = query.after === undefined ? undefined : parsePosition(query.after);
    const tenantId = this.#knownTenantId(tenant);
    if (tenantId === null) return { events: [], next: null };
    const { sql, params } = buildQuery(tenantId, query, after);
    const rows = this.#db.prepare(sql).all(...params) as Array<EventRow & { pos: number }>;
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      events: page.map((r) => JSON.parse(r.body) as StoredEvent),
      next: rows.length > query.limit && last ? String(last.pos) : null,
    };
  }

  #knownTenantId(name: string): number | null {
    const cached = this.#tenantIds.get(name);
    if (cached !== undefined) return cached;
    const id = this.#s('tenantId').get(name) as number | undefined;
    if (id === undefined) return null;
    this.#tenantIds.set(name, id);
    return id;
  }

  async createKey(key: ApiKeyRecord): Promise<void> {
    this.#assertOpen();
    this.#s('keyInsert').run(
      key.id,
      key.name,
      key.secretHash,
      JSON.stringify(key.scopes),
      key.tenant,
      key.createdAt,
      key.revokedAt,
    );
  }

  async findKey(id: string): Promise<ApiKeyRecord | null> {
    this.#assertOpen();
    const row = this.#s('keyFind').get(id) as KeyRow | undefined;
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      secretHash: row.secret_hash,
      scopes: JSON.parse(row.scopes) as string[],
      tenant: row.tenant,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    };
  }

  async countKeys(): Promise<number> {
    this.#assertOpen();
    return this.#s('keyCount').get() as number;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    this.#s('ping').get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.pragma('optimize');
    this.#db.close();
  }

  #s(name: string): Database.Statement {
    const stmt = this.#stmt[name];
    if (!stmt) throw new Error(`unknown statement ${name}`);
    return stmt;
  }

  #assertOpen(): void {
    if (this.#closed) throw new HindsightError('store_unavailable', 'The event store is closed.');
  }
}

interface TxState {
  /** Tenant sizes as of this transaction's latest batch. */
  readonly sizes: Map<number, number>;
  /** The last `pos` handed out per millisecond in this transaction. */
  readonly lastPos: Map<number, number>;
  /** Tenants created in this transaction, cached once it commits. */
  readonly tenantIds: Map<string, number>;
}

function parsePosition(text: string): number {
  const n = Number(text);
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(n)) {
    throw new HindsightError('invalid_cursor', 'The cursor does not name a position in this log.');
  }
  return n;
}

/** Builds one page's SQL from constant fragments; every value is a bound parameter. */
function buildQuery(
  tenantId: number,
  query: EventQuery,
  after: number | undefined,
): { sql: string; params: unknown[] } {
  const prefix = `t${tenantId}_`;
  const positive: string[] = [];
  const negative: string[] = [];
  for (const c of query.clauses) {
    if (c.kind !== 'text') continue;
    const tokens = searchTokens(c.text);
    if (tokens.length === 0) continue;
    const phrase = `"${tokens.map((t) => prefix + t).join(' ')}"${c.prefix ? ' *' : ''}`;
    (c.negate ? negative : positive).push(phrase);
  }
  const useFts = positive.length > 0;
  const posCol = useFts ? 'f.rowid' : 'e.pos';
  const where: string[] = ['e.tenant_id = ?'];
  const params: unknown[] = [tenantId];
  if (useFts) {
    where.unshift('events_fts MATCH ?');
    params.unshift(positive.join(' AND ') + negative.map((n) => ` NOT ${n}`).join(''));
  } else if (negative.length > 0) {
    where.push('e.pos NOT IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)');
    params.push(negative.join(' OR '));
  }
  const desc = query.order === 'desc';
  if (after !== undefined) {
    where.push(`${posCol} ${desc ? '<' : '>'} ?`);
    params.push(after);
  }
  for (const c of query.clauses) {
    const cond = clauseCondition(c, tenantId, posCol);
    if (!cond) continue;
    where.push(c.negate ? `NOT coalesce((${cond.sql}), 0)` : `(${cond.sql})`);
    params.push(...cond.params);
  }
  const from = useFts ? 'events_fts f CROSS JOIN events e ON e.pos = f.rowid' : 'events e';
  const sql =
    `SELECT e.pos AS pos, e.body AS body FROM ${from} WHERE ${where.join(' AND ')} ` +
    `ORDER BY ${posCol} ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
  params.push(query.limit + 1);
  return { sql, params };
}

function clauseCondition(
  c: QueryClause,
  tenantId: number,
  posCol: string,
): { sql: string; params: unknown[] } | null {
  switch (c.kind) {
    case 'text':
      return null;
    case 'actor':
      return { sql: 'e.actor_id = ? OR e.actor_email = ?', params: [c.value, c.value] };
    case 'target':
      return {
        sql: 'e.pos IN (SELECT pos FROM event_targets WHERE tenant_id = ? AND target_id = ?)',
        params: [tenantId, c.value],
      };
    case 'category':
      return { sql: 'e.category = ?', params: [c.value] };
    case 'status':
      return { sql: 'e.status = ?', params: [c.value] };
    case 'outcome':
      return { sql: 'e.outcome = ?', params: [c.value] };
    case 'channel':
      return { sql: 'e.channel = ?', params: [c.value] };
    case 'action':
      return c.prefix
        ? { sql: 'e.action >= ? AND e.action < ?', params: [c.value, prefixEnd(c.value)] }
        : { sql: 'e.action = ?', params: [c.value] };
    case 'ip':
      return {
        sql: 'e.ip BETWEEN ? AND ?',
        params: [Buffer.from(c.range.start), Buffer.from(c.range.end)],
      };
    case 'after':
      return { sql: `${posCol} >= ?`, params: [c.timeMs * SLOTS_PER_MS] };
    case 'before':
      return { sql: `${posCol} < ?`, params: [c.timeMs * SLOTS_PER_MS] };
  }
}

/** The smallest string greater than every string starting with `prefix`. */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
