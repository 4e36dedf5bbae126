/**
 * Erasure and permitted deletion in SQLite (issue #9). Each runs on the writer thread, between
 * two append transactions, in one `BEGIN IMMEDIATE` transaction of its own, re-reading the
 * tenant's settings inside it, so a legal hold placed meanwhile is never overtaken. The
 * tenant's summaries are then recomputed from its events.
 *
 * Removed values must not stay in the file either: see {@link withSecureDelete} and
 * `sqlite-purge.ts`.
 */
import type { ErasureSubject, StoredEvent } from '@hindsight/core';
import type Database from 'better-sqlite3';
import {
  eraseRow,
  refuseUnderLegalHold,
  refuseUnlessDeletionAllowed,
  subjectKey,
} from './erase-plan.js';
import { byDay } from './sqlite-keys.js';
import { rebuildProjections } from './sqlite-projections.js';
import { eventRemover } from './sqlite-remove.js';
import { DELETE_FTS_SQL, eventWords, ftsWords, INSERT_FTS_SQL } from './sqlite-words.js';
import type { ErasureResult, RedactedLeaf, RedactionRequest, RedactionResult } from './types.js';

/** Deleted events: their place in the log and leaf hash, and when and by whom. */
export const REDACTION_TABLES = `
CREATE TABLE IF NOT EXISTS redactions (
  tenant_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  hash BLOB NOT NULL,
  redacted_at TEXT NOT NULL,
  redacted_by TEXT NOT NULL,
  PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS redactions_id ON redactions (tenant_id, id);
`;

/** Events erased per statement batch: bounds memory, not the transaction. */
const PAGE = 500;

type Row = { pos: number; seq: number; hash: Buffer; body: string; salts: string | null };

/**
 * Runs `change` (an erasure or a deletion, one transaction) with `secure_delete` fully on, so
 * that every byte it frees, in a page or on the free list, is overwritten with zeros rather
 * than left in the file. What else SQLite keeps of the removed values is then removed by the
 * purge (`sqlite-purge.ts`).
 */
export function withSecureDelete<T>(db: Database.Database, change: () => T): T {
  // The pragma reads 0, 1 or 2 but takes FAST by name only ("2" would mean on).
  const before = ['OFF', 'ON', 'FAST'][db.pragma('secure_delete', { simple: true }) as number];
  db.pragma('secure_delete = ON');
  try {
    return change();
  } finally {
    db.pragma(`secure_delete = ${before ?? 'FAST'}`);
  }
}

/** The tenant's id and settings, inside the caller's transaction. */
function tenantOf(
  db: Database.Database,
  tenant: string,
): { id: number | undefined; settings: string | undefined } {
  return {
    id: db.prepare('SELECT id FROM tenants WHERE name = ?').pluck().get(tenant) as
      | number
      | undefined,
    settings: db
      .prepare('SELECT settings FROM tenant_settings WHERE tenant = ?')
      .pluck()
      .get(tenant) as string | undefined,
  };
}

/** See `Store.erase`. */
export function eraseSqlite(
  db: Database.Database,
  tenant: string,
  subject: ErasureSubject,
): ErasureResult {
  return db
    .transaction((): ErasureResult => {
      const { id: tenantId, settings } = tenantOf(db, tenant);
      refuseUnderLegalHold(tenant, settings, 'erased');
      if (tenantId === undefined) return { events: 0, values: 0 };
      const key = subjectKey(subject);
      // A union of index look-ups: as actor (id or e-mail) and as target.
      const lookups = (after: number) =>
        byDay('pos', tenantId, { lo: after + 1, hi: Number.MAX_SAFE_INTEGER }, [
          { from: 'events', where: `x.${key.column} = ?`, params: [key.value] },
          { from: 'event_targets', where: 'x.target_id = ?', params: [key.target] },
        ]);
      const page = db.prepare(
        `SELECT pos, seq, hash, body, salts FROM events WHERE ${lookups(0).sql} ` +
          'ORDER BY pos LIMIT ?',
      );
      const update = db.prepare(
        'UPDATE events SET body = ?, salts = ?, actor_email = ?, ip = ?, digest = NULL ' +
          'WHERE pos = ?',
      );
      const ftsDelete = db.prepare(DELETE_FTS_SQL);
      const ftsInsert = db.prepare(INSERT_FTS_SQL);
      let events = 0;
      let values = 0;
      let after = Number.MIN_SAFE_INTEGER;
      for (;;) {
        const rows = page.all(...lookups(after).params, PAGE) as Row[];
        for (const row of rows) {
          const erased = eraseRow({ ...row, hash: row.hash.toString('hex') }, subject);
          if (!erased) continue;
          update.run(
            erased.body,
            erased.salts,
            erased.actorEmail,
            erased.ip === null ? null : Buffer.from(erased.ip),
            row.pos,
          );
          ftsDelete.run(row.pos, eventWords(tenantId, JSON.parse(row.body) as StoredEvent));
          ftsInsert.run(row.pos, ftsWords(tenantId, erased.searchText));
          events++;
          values += erased.values;
        }
        const last = rows[rows.length - 1];
        if (rows.length < PAGE || !last) break;
        after = last.pos;
      }
      if (events > 0) rebuildProjections(db, tenantId);
      return { events, values };
    })
    .immediate();
}

/** See `Store.redact`. */
export function redactSqlite(db: Database.Database, request: RedactionRequest): RedactionResult {
  const { tenant } = request;
  return db
    .transaction((): RedactionResult => {
      const { id: tenantId, settings } = tenantOf(db, tenant);
      refuseUnlessDeletionAllowed(tenant, refuseUnderLegalHold(tenant, settings, 'deleted'));
      const result: RedactionResult = { deleted: [], alreadyDeleted: [], notFound: [] };
      const ids = [...new Set(request.ids)];
      if (tenantId === undefined) {
        result.notFound.push(...ids);
        return result;
      }
      const find = db.prepare(
        'SELECT pos, seq, hash, body FROM events WHERE tenant_id = ? AND id = ?',
      );
      const findRedacted = db
        .prepare('SELECT seq FROM redactions WHERE tenant_id = ? AND id = ? ORDER BY seq DESC')
        .pluck();
      const keep = db.prepare(
        'INSERT INTO redactions (tenant_id, seq, id, hash, redacted_at, redacted_by) ' +
          'VALUES (?, ?, ?, ?, ?, ?)',
      );
      const remove = eventRemover(db);
      for (const id of ids) {
        const row = find.get(tenantId, id) as Omit<Row, 'salts'> | undefined;
        if (!row) {
          const seq = findRedacted.get(tenantId, id) as number | undefined;
          if (seq === undefined) result.notFound.push(id);
          else result.alreadyDeleted.push({ id, seq });
          continue;
        }
        keep.run(tenantId, row.seq, id, row.hash, request.at, request.by);
        remove(tenantId, row.pos);
        result.deleted.push({ id, seq: row.seq });
      }
      if (result.deleted.length > 0) rebuildProjections(db, tenantId);
      return result;
    })
    .immediate();
}

/** See `Store.redactedLeaves`. */
export function redactedLeavesSqlite(
  db: Database.Database,
  tenant: string,
  maxSeq: number,
): RedactedLeaf[] {
  const rows = db
    .prepare(
      'SELECT r.seq, r.id, r.hash, r.redacted_at, r.redacted_by FROM redactions r ' +
        'JOIN tenants t ON t.id = r.tenant_id WHERE t.name = ? AND r.seq <= ? ORDER BY r.seq',
    )
    .all(tenant, maxSeq) as Array<{
    seq: number;
    id: string;
    hash: Buffer;
    redacted_at: string;
    redacted_by: string;
  }>;
  return rows.map((r) => ({
    seq: r.seq,
    id: r.id,
    hash: r.hash.toString('hex'),
    redactedAt: r.redacted_at,
    redactedBy: r.redacted_by,
  }));
}
