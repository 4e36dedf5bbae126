/**
 * The SQLite raw baseline: the workload's rows — events, targets, search words, Merkle tree
 * nodes and the views' summary rows — inserted straight into the store's schema with
 * better-sqlite3 in one process, `rowsPerTransaction` events per transaction (`--raw-batch`),
 * same durability as the server. Only the inserts and commits are timed.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { merkle } from '@hindsight/core';
import Database from 'better-sqlite3';
import type { WriterEvent } from '../packages/server/src/store/append-plan.js';
import { INSERT_TARGET_SQL, targetParams } from '../packages/server/src/store/sqlite-keys.js';
import { Projector } from '../packages/server/src/store/sqlite-projections.js';
import {
  eventRow,
  INSERT_EVENT_SQL,
  INSERT_NODE_SQL,
  migrateSqlite,
  nodeRow,
  SLOTS_PER_MS,
} from '../packages/server/src/store/sqlite-schema.js';
import { ftsWords, INSERT_FTS_SQL } from '../packages/server/src/store/sqlite-words.js';
import { type NumberedEvent, numberedEvents, type WorkloadOptions } from './workload.js';

export function rawSqlite(
  dir: string,
  workload: WorkloadOptions,
  now: Date,
  rowsPerTransaction: number,
): number {
  const db = new Database(join(dir, 'raw.db'));
  migrateSqlite(db);
  const insertEvent = db.prepare(INSERT_EVENT_SQL);
  const insertTarget = db.prepare(INSERT_TARGET_SQL);
  const insertFts = db.prepare(INSERT_FTS_SQL);
  const insertTenant = db.prepare('INSERT INTO tenants (name, size) VALUES (?, 0)');
  const insertNode = db.prepare(INSERT_NODE_SQL);
  // Each tenant's Merkle tree, kept as its frontier, as the writer keeps it.
  const frontiers = new Map<number, Map<number, Uint8Array>>();
  const tenantIds = new Map<string, number>();
  const last = { ms: Number.NaN, pos: 0 };
  // The summary tables of the views are rows of the schema too, kept as the writer keeps them.
  const projector = new Projector(db);
  type Row = {
    event: WriterEvent;
    params: unknown[];
    targets: string[];
    pos: number;
    tenantId: number;
    words: string;
    nodes: Array<merkle.NodeId & { hash: Uint8Array }>;
  };
  const insertRows = db.transaction((rows: Row[]) => {
    for (const r of rows) {
      insertEvent.run(r.params);
      for (const target of r.targets) insertTarget.run(targetParams(r.tenantId, target, r.pos));
      insertFts.run(r.pos, r.words);
      for (const n of r.nodes) insertNode.run(nodeRow(r.tenantId, n));
      projector.add(r.tenantId, r.pos, r.event);
    }
    projector.write();
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
    let frontier = frontiers.get(tenantId);
    if (!frontier) {
      frontier = new Map();
      frontiers.set(tenantId, frontier);
    }
    return {
      event,
      params: eventRow(tenantId, pos, seq, hash, event),
      targets: event.targets,
      pos,
      tenantId,
      words: ftsWords(tenantId, event.searchText),
      nodes: merkle.appendLeaves(frontier, seq - 1, [Buffer.from(hash, 'hex')]),
    };
  };
  let insertMs = 0;
  for (const group of numberedEvents(workload, rowsPerTransaction, now)) {
    const rows = group.map(toRow);
    const t0 = performance.now();
    insertRows(rows);
    insertMs += performance.now() - t0;
  }
  db.close();
  return insertMs / 1000;
}
