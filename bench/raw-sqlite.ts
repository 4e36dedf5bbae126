/**
 * The SQLite raw baseline: the workload's rows inserted straight into the store's schema with
 * better-sqlite3 in one process, 1,000 rows per transaction, same durability as the server.
 * Only the inserts and commits are timed.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import {
  eventRow,
  ftsWords,
  INSERT_EVENT_SQL,
  INSERT_FTS_SQL,
  INSERT_TARGET_SQL,
  migrateSqlite,
  SLOTS_PER_MS,
} from '../packages/server/src/store/sqlite-schema.js';
import { type NumberedEvent, numberedEvents, type WorkloadOptions } from './workload.js';

export function rawSqlite(dir: string, workload: WorkloadOptions, now: Date): number {
  const db = new Database(join(dir, 'raw.db'));
  migrateSqlite(db);
  const insertEvent = db.prepare(INSERT_EVENT_SQL);
  const insertTarget = db.prepare(INSERT_TARGET_SQL);
  const insertFts = db.prepare(INSERT_FTS_SQL);
  const insertTenant = db.prepare('INSERT INTO tenants (name, size) VALUES (?, 0)');
  const tenantIds = new Map<string, number>();
  const last = { ms: Number.NaN, pos: 0 };
  type Row = { params: unknown[]; targets: string[]; pos: number; tenantId: number; words: string };
  const insertRows = db.transaction((rows: Row[]) => {
    for (const r of rows) {
      insertEvent.run(r.params);
      for (const target of r.targets) insertTarget.run(r.tenantId, target, r.pos);
      insertFts.run(r.pos, r.words);
    }
  });
  const toRow = ({ event, seq, hash }: NumberedEvent): Row => {
    let tenantId = tenantIds.get(event.tenant);
    if (tenantId === undefined) {
      tenantId = Number(insertTenant.run(event.tenant).lastInsertRowid);
      tenantIds.set(event.tenant, tenantId);
    }
    // The workload is in time order, so positions only grow (as the writer allocates them).
    const pos = event.timeMs === last.ms ? last.pos + 1 : event.timeMs * SLOTS_PER_MS;
    last.ms = event.timeMs;
    last.pos = pos;
    return {
      params: eventRow(tenantId, pos, seq, hash, event),
      targets: event.targets,
      pos,
      tenantId,
      words: ftsWords(tenantId, event.searchText),
    };
  };
  let insertMs = 0;
  for (const group of numberedEvents(workload, 1000, now)) {
    const rows = group.map(toRow);
    const t0 = performance.now();
    insertRows(rows);
    insertMs += performance.now() - t0;
  }
  db.close();
  return insertMs / 1000;
}
