/**
 * Erasure and permitted deletion in PostgreSQL (issue #9). Each runs in one transaction that
 * first reads the tenant's settings (`FOR SHARE`, so a legal hold cannot be placed while it
 * runs and be overtaken) and locks the tenant's row (`FOR UPDATE`, as appends do, so the
 * tenant's appends wait for it), then rewrites or removes the rows and recomputes the tenant's
 * summaries (`postgres-projections.ts`).
 */
import type { ErasureSubject } from '@hindsight/core';
import type { PoolClient } from 'pg';
import { numberPlaceholders, type TransactionStep } from './access-rows.js';
import {
  eraseRow,
  refuseUnderLegalHold,
  refuseUnlessDeletionAllowed,
  subjectKey,
  targetIds,
} from './erase-plan.js';
import { actorKeySql, rebuildTenantProjectionsSql } from './postgres-projections.js';
import { tsvectorText } from './postgres-schema.js';
import type { ErasureResult, RedactedLeaf, RedactionRequest, RedactionResult } from './types.js';

/** Runs a statement written with `?` placeholders; resolves how many rows it touched. */
export async function runStep(client: PoolClient, step: TransactionStep): Promise<number> {
  const text = numberPlaceholders(step.sql);
  return (await client.query({ text, values: step.params })).rowCount ?? 0;
}

/** Runs `work` in a transaction on `client`: committed when it resolves, else rolled back. */
export async function inTransaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * The tenant's settings (locked against change) and its id (locked as appends lock it), or
 * `undefined` for a tenant without events.
 */
async function lockTenant(
  client: PoolClient,
  tenant: string,
): Promise<{ id: number | undefined; settings: string | undefined }> {
  const settings = await client.query<{ settings: string }>(
    'SELECT settings FROM tenant_settings WHERE tenant = $1 FOR SHARE',
    [tenant],
  );
  const tenants = await client.query<{ id: number }>(
    'SELECT id FROM tenants WHERE name = $1 FOR UPDATE',
    [tenant],
  );
  return { id: tenants.rows[0]?.id, settings: settings.rows[0]?.settings };
}

type Row = { time: Date; seq: string; hash: Buffer; body: string; salts: string | null };

/** See `Store.erase`; run inside {@link inTransaction}. */
export async function erasePostgres(
  client: PoolClient,
  tenant: string,
  subject: ErasureSubject,
): Promise<ErasureResult> {
  const { id: tenantId, settings } = await lockTenant(client, tenant);
  refuseUnderLegalHold(tenant, settings, 'erased');
  if (tenantId === undefined) return { events: 0, values: 0 };
  const key = subjectKey(subject);
  // As actor (id or e-mail) and as target: two index scans, joined.
  const { rows } = await client.query<Row>(
    'SELECT time, seq, hash, body, salts FROM events ' +
      `WHERE tenant_id = $1 AND ${key.column} = $2 ` +
      'UNION SELECT e.time, e.seq, e.hash, e.body, e.salts FROM event_targets t ' +
      'JOIN events e ON e.tenant_id = t.tenant_id AND e.time = t.time AND e.seq = t.seq ' +
      'WHERE t.tenant_id = $1 AND t.target_id = $3',
    [tenantId, key.value, key.target],
  );
  const u = {
    time: [] as string[],
    seq: [] as number[],
    body: [] as string[],
    salts: [] as (string | null)[],
    email: [] as (string | null)[],
    ip: [] as (Buffer | null)[],
    words: [] as string[],
  };
  let values = 0;
  for (const row of rows) {
    const seq = Number(row.seq);
    const erased = eraseRow(
      { seq, hash: row.hash.toString('hex'), body: row.body, salts: row.salts },
      subject,
    );
    if (!erased) continue;
    u.time.push(row.time.toISOString());
    u.seq.push(seq);
    u.body.push(erased.body);
    u.salts.push(erased.salts);
    u.email.push(erased.actorEmail);
    u.ip.push(erased.ip === null ? null : Buffer.from(erased.ip));
    u.words.push(tsvectorText(tenantId, erased.searchText));
    values += erased.values;
  }
  if (u.seq.length === 0) return { events: 0, values: 0 };
  // The events lose the values, and their search rows the words and the actor key (an erased
  // e-mail was part of it), in one statement.
  await client.query(
    'WITH e AS (UPDATE events e SET body = v.body, salts = v.salts, actor_email = v.email, ' +
      'ip = v.ip, digest = NULL FROM unnest($2::timestamptz[], $3::bigint[], $4::text[], ' +
      '$5::text[], $6::text[], $7::bytea[], $8::text[]) ' +
      'AS v(time, seq, body, salts, email, ip, words) ' +
      'WHERE e.tenant_id = $1 AND e.time = v.time AND e.seq = v.seq ' +
      'RETURNING e.time, e.seq, e.actor_id, e.actor_email, e.body, v.words) ' +
      `UPDATE event_search s SET words = e.words::tsvector, actor = ${actorKeySql('e')} ` +
      'FROM e WHERE s.tenant_id = $1 AND s.time = e.time AND s.seq = e.seq',
    [tenantId, u.time, u.seq, u.body, u.salts, u.email, u.ip, u.words],
  );
  await client.query(rebuildTenantProjectionsSql(tenantId));
  return { events: u.seq.length, values };
}

/** See `Store.redact`; run inside {@link inTransaction}. */
export async function redactPostgres(
  client: PoolClient,
  request: RedactionRequest,
): Promise<RedactionResult> {
  const { tenant } = request;
  const { id: tenantId, settings } = await lockTenant(client, tenant);
  refuseUnlessDeletionAllowed(tenant, refuseUnderLegalHold(tenant, settings, 'deleted'));
  const result: RedactionResult = { deleted: [], alreadyDeleted: [], notFound: [] };
  const ids = [...new Set(request.ids)];
  if (tenantId === undefined) {
    result.notFound.push(...ids);
    return result;
  }
  const { rows } = await client.query<{
    time: Date;
    seq: string;
    id: string;
    hash: Buffer;
    body: string;
  }>('SELECT time, seq, id, hash, body FROM events WHERE tenant_id = $1 AND id = ANY($2::text[])', [
    tenantId,
    ids,
  ]);
  const found = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.filter((id) => !found.has(id));
  const earlier = new Map<string, number>();
  if (missing.length > 0) {
    const { rows: redacted } = await client.query<{ id: string; seq: string }>(
      'SELECT DISTINCT ON (id) id, seq FROM redactions WHERE tenant_id = $1 ' +
        'AND id = ANY($2::text[]) ORDER BY id, seq DESC',
      [tenantId, missing],
    );
    for (const r of redacted) earlier.set(r.id, Number(r.seq));
  }
  for (const id of ids) {
    const row = found.get(id);
    if (row) result.deleted.push({ id, seq: Number(row.seq) });
    else {
      const seq = earlier.get(id);
      if (seq === undefined) result.notFound.push(id);
      else result.alreadyDeleted.push({ id, seq });
    }
  }
  if (rows.length === 0) return result;
  const times = rows.map((r) => r.time.toISOString());
  const seqs = rows.map((r) => Number(r.seq));
  await client.query(
    'INSERT INTO redactions (tenant_id, seq, id, hash, redacted_at, redacted_by) ' +
      'SELECT $1, s, i, h, $5, $6 FROM unnest($2::bigint[], $3::text[], $4::bytea[]) AS v(s, i, h)',
    [tenantId, seqs, rows.map((r) => r.id), rows.map((r) => r.hash), request.at, request.by],
  );
  const targets = { id: [] as string[], time: [] as string[], seq: [] as number[] };
  rows.forEach((r, i) => {
    for (const target of targetIds(r.body)) {
      targets.id.push(target);
      targets.time.push(times[i] as string);
      targets.seq.push(seqs[i] as number);
    }
  });
  await client.query(
    'DELETE FROM event_targets WHERE tenant_id = $1 AND (target_id, time, seq) IN ' +
      '(SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::bigint[]))',
    [tenantId, targets.id, targets.time, targets.seq],
  );
  for (const table of ['event_search', 'events']) {
    await client.query(
      `DELETE FROM ${table} WHERE tenant_id = $1 AND (time, seq) IN ` +
        '(SELECT * FROM unnest($2::timestamptz[], $3::bigint[]))',
      [tenantId, times, seqs],
    );
  }
  await client.query(rebuildTenantProjectionsSql(tenantId));
  return result;
}

/** See `Store.redactedLeaves`. */
export async function redactedLeavesPostgres(
  client: PoolClient,
  tenant: string,
  maxSeq: number,
): Promise<RedactedLeaf[]> {
  const { rows } = await client.query<{
    seq: string;
    id: string;
    hash: Buffer;
    redacted_at: string;
    redacted_by: string;
  }>(
    'SELECT r.seq, r.id, r.hash, r.redacted_at, r.redacted_by FROM redactions r ' +
      'JOIN tenants t ON t.id = r.tenant_id WHERE t.name = $1 AND r.seq <= $2 ORDER BY r.seq',
    [tenant, maxSeq],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    id: r.id,
    hash: r.hash.toString('hex'),
    redactedAt: r.redacted_at,
    redactedBy: r.redacted_by,
  }));
}
