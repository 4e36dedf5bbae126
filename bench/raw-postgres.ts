/**
 * The PostgreSQL raw baseline: the workload's rows — events, search words, targets and Merkle
 * tree nodes — loaded with COPY straight into the store's schema (same tables, partitions and
 * indexes), `rowsPerTransaction` events per transaction (`--raw-batch`), in one connection.
 * Only the COPYs and commits are timed.
 */
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { merkle } from '@hindsight/core';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  addRow,
  createPartitions,
  EVENT_COLUMNS,
  emptyColumns,
  eventRows,
  migratePostgres,
  monthOf,
  SEARCH_COLUMNS,
  searchRows,
} from '../packages/server/src/store/postgres-schema.js';
import { generateEvents, numberedEvents, type WorkloadOptions } from './workload.js';

/** A value in COPY's text format. */
function field(value: string | number | Uint8Array | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (value instanceof Uint8Array) return `\\\\x${Buffer.from(value).toString('hex')}`;
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

export async function rawPostgres(
  url: string,
  workload: WorkloadOptions,
  now: Date,
  rowsPerTransaction: number,
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await migratePostgres(client as unknown as pg.PoolClient);
  // Untimed set-up: the tenants and the months' partitions.
  const tenants = new Set<string>();
  const months = new Set<number>();
  for (const batch of generateEvents(workload, 10_000)) {
    for (const e of batch) {
      tenants.add(e.tenant);
      months.add(monthOf(Date.parse(e.time ?? '')));
    }
  }
  const { rows } = await client.query<{ id: number; name: string }>(
    'INSERT INTO tenants (name) SELECT unnest($1::text[]) RETURNING id, name',
    [[...tenants].sort()],
  );
  const tenantIds = new Map(rows.map((r) => [r.name, r.id]));
  await createPartitions(client as unknown as pg.PoolClient, months);

  const copy = async (sql: string, text: string) => {
    await pipeline(Readable.from([text]), client.query(copyFrom(sql)));
  };
  // Each tenant's Merkle tree, kept as its frontier, as the store keeps it.
  const frontiers = new Map<number, Map<number, Uint8Array>>();
  let ms = 0;
  for (const group of numberedEvents(workload, rowsPerTransaction, now)) {
    // The same rows as the server's insert builds, written as COPY text.
    const columns = emptyColumns();
    for (const { event, seq, hash } of group) {
      addRow(columns, tenantIds.get(event.tenant) as number, seq, hash, event);
    }
    const rows = (arrays: unknown[]) => {
      const fields = arrays as Array<Array<Parameters<typeof field>[0]>>;
      let text = '';
      for (let i = 0; i < group.length; i++) {
        text += `${fields.map((column) => field(column[i] ?? null)).join('\t')}\n`;
      }
      return text;
    };
    const events = rows(eventRows(columns.events));
    const search = rows(searchRows(columns.events));
    let nodes = '';
    for (const { event, seq, hash } of group) {
      const tenantId = tenantIds.get(event.tenant) as number;
      let frontier = frontiers.get(tenantId);
      if (!frontier) {
        frontier = new Map();
        frontiers.set(tenantId, frontier);
      }
      for (const n of merkle.appendLeaves(frontier, seq - 1, [Buffer.from(hash, 'hex')])) {
        nodes += `${tenantId}\t${n.level}\t${n.index}\t${field(n.hash)}\n`;
      }
    }
    const t = columns.targets;
    let targets = '';
    for (let i = 0; i < t.seq.length; i++) {
      targets += `${t.tenantId[i]}\t${field(t.targetId[i] ?? null)}\t${t.time[i]}\t${t.seq[i]}\n`;
    }
    const t0 = performance.now();
    await client.query('BEGIN');
    await copy(`COPY events (${EVENT_COLUMNS}) FROM STDIN`, events);
    await copy(`COPY event_search (${SEARCH_COLUMNS}) FROM STDIN`, search);
    if (targets !== '') {
      await copy('COPY event_targets (tenant_id, target_id, time, seq) FROM STDIN', targets);
    }
    await copy('COPY tree_nodes (tenant_id, level, idx, hash) FROM STDIN', nodes);
    await client.query('COMMIT');
    ms += performance.now() - t0;
  }
  await client.end();
  return ms / 1000;
}
