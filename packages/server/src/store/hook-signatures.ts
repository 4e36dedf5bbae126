/**
 * The webhook signatures taken (`Store.claimHookSignature`, docs/webhooks.md "Replays"): each
 * provider signature that is good for one call, with a digest of the call it was taken for and
 * until when it is good at all. Kept in the database, so that every server on it, and a server
 * after a restart, refuses the same signature on another call. The same table in SQLite and
 * PostgreSQL; SQLite takes a signature in a short transaction on its writer thread, PostgreSQL
 * in one statement.
 */
import type Database from 'better-sqlite3';
import { numberPlaceholders } from './access-rows.js';
import type { HookSignatureClaim, HookSignatureOutcome } from './types.js';

/** The table, in SQL both databases take: SQLite schema version 10, PostgreSQL migration 13. */
export const HOOK_SIGNATURES_TABLE = `
CREATE TABLE IF NOT EXISTS hook_signatures (
  provider TEXT NOT NULL,
  key TEXT NOT NULL,
  call TEXT NOT NULL,
  until_ms BIGINT NOT NULL,
  PRIMARY KEY (provider, key)
);
CREATE INDEX IF NOT EXISTS hook_signatures_until ON hook_signatures (until_ms);`;

/**
 * How many signatures that expired a claim forgets, oldest first: more than the one it adds, so
 * that the table holds little more than the signatures still good, without a job of its own.
 */
export const FORGET_PER_CLAIM = 10;

/**
 * Takes a signature: inserts it, or takes over the row of one that expired by then; otherwise
 * changes nothing. Parameters: provider, key, call, until (ms), now (ms).
 */
const TAKE_SQL =
  'INSERT INTO hook_signatures (provider, key, call, until_ms) VALUES (?, ?, ?, ?) ' +
  'ON CONFLICT (provider, key) DO UPDATE SET call = excluded.call, until_ms = excluded.until_ms ' +
  'WHERE hook_signatures.until_ms < ?';

/**
 * The expired signatures a claim forgets, oldest first, its own aside (a claim takes its own
 * over instead). Its arguments are the placeholders of now, provider and key.
 */
function expiredSql(now: string, provider: string, key: string): string {
  return (
    'SELECT provider, key FROM hook_signatures ' +
    `WHERE until_ms < ${now} AND NOT (provider = ${provider} AND key = ${key}) ` +
    `ORDER BY until_ms LIMIT ${FORGET_PER_CLAIM}`
  );
}

/**
 * Gives a signature back, only while it is taken for the call given: a server never frees
 * another call's. Parameters: provider, key, call.
 */
const RELEASE_SQL = 'DELETE FROM hook_signatures WHERE provider = ? AND key = ? AND call = ?';

/**
 * A claim in one PostgreSQL statement, answering its outcome. Parameters: provider, key, call,
 * until, now. Expired signatures locked by another server's claim are skipped, not waited for.
 * A signature taken by a claim committed after this statement began is not seen by its read
 * (the statement's snapshot), and no row is answered: the claim is then made again.
 */
export const CLAIM_HOOK_SIGNATURE_PG =
  'WITH forgotten AS (DELETE FROM hook_signatures WHERE (provider, key) IN (' +
  `${expiredSql('$5', '$1', '$2')} FOR UPDATE SKIP LOCKED)), ` +
  `taken AS (${numberPlaceholders(TAKE_SQL)} RETURNING call) ` +
  "SELECT 'claimed' AS outcome FROM taken UNION ALL " +
  "SELECT CASE WHEN call = $3 THEN 'same_call' ELSE 'other_call' END FROM hook_signatures " +
  'WHERE provider = $1 AND key = $2 AND until_ms >= $5 AND NOT EXISTS (SELECT 1 FROM taken)';

/** {@link RELEASE_SQL} with PostgreSQL's numbered parameters. */
export const RELEASE_HOOK_SIGNATURE_PG = numberPlaceholders(RELEASE_SQL);

/** The parameters of {@link CLAIM_HOOK_SIGNATURE_PG}. */
export function claimParams(claim: HookSignatureClaim, nowMs: number): unknown[] {
  return [claim.provider, claim.key, claim.call, claim.untilMs, nowMs];
}

/** The parameters of a release. */
export function releaseParams(claim: HookSignatureClaim): unknown[] {
  return [claim.provider, claim.key, claim.call];
}

/** Claims and releases on a SQLite connection (the writer thread's). */
export class SqliteHookSignatures {
  readonly #claim: Database.Transaction<
    (claim: HookSignatureClaim, nowMs: number) => HookSignatureOutcome
  >;
  readonly #release: Database.Statement;

  constructor(db: Database.Database) {
    const forget = db.prepare(
      `DELETE FROM hook_signatures WHERE (provider, key) IN (${expiredSql('?', '?', '?')})`,
    );
    const take = db.prepare(TAKE_SQL);
    const taken = db
      .prepare('SELECT call FROM hook_signatures WHERE provider = ? AND key = ?')
      .pluck();
    // One transaction holding the write lock: no other connection (server) claims in between.
    this.#claim = db.transaction((claim: HookSignatureClaim, nowMs: number) => {
      forget.run(nowMs, claim.provider, claim.key);
      if (take.run(...claimParams(claim, nowMs)).changes === 1) return 'claimed';
      return taken.get(claim.provider, claim.key) === claim.call ? 'same_call' : 'other_call';
    });
    this.#release = db.prepare(RELEASE_SQL);
  }

  /** See `Store.claimHookSignature`. */
  claim(claim: HookSignatureClaim, nowMs: number): HookSignatureOutcome {
    return this.#claim.immediate(claim, nowMs);
  }

  /** See `Store.releaseHookSignature`. */
  release(claim: HookSignatureClaim): void {
    this.#release.run(...releaseParams(claim));
  }
}
