/**
 * The SQLite purge: after an erasure or a deletion removed values, the steps that remove what
 * SQLite still keeps of them in its files (issue #9; see `sqlite-erase.ts`).
 *
 * - The full-text index is contentless: a deleted row's words stay in the index's segments,
 *   only marked deleted, until a merge rewrites those segments. The whole index is merged into
 *   one segment (FTS5 `optimize`). Merging it in small incremental steps instead measured
 *   unsafe: with appends adding segments between the steps, a 143 MB index of 1,000,000
 *   events grew past 2 GB before the steps ran out.
 * - An index keeps stale copies of deleted keys in the unused space of its pages, left there
 *   when pages split. The indexes whose keys are personal values (the actor's e-mail and the
 *   IP) are rebuilt.
 * - `secure_delete` is on for each of these steps: every page they free is overwritten with
 *   zeros.
 * - The WAL still holds the pages as they were: a `TRUNCATE` checkpoint copies the new pages
 *   into the file and empties the WAL.
 *
 * Each step runs on the writer thread, between two append transactions, as a retention step
 * does: appends wait in the queue meanwhile, and never for a lock held by another connection,
 * so none fails however long a step takes on a large store. At 1,000,000 events the steps take
 * about 4 s (search index), 1.8 s and 1.6 s (the two indexes).
 */
import type Database from 'better-sqlite3';
import { withSecureDelete } from './sqlite-erase.js';

/** The steps run once each, in order; then `wal`, repeated until readers let the WAL go. */
export const PURGE_STEPS = ['search', 'email', 'ip'] as const;
export type PurgeStep = (typeof PURGE_STEPS)[number] | 'wal';

/** What each step but `wal` runs, with `secure_delete` on. */
const STATEMENTS: Record<(typeof PURGE_STEPS)[number], string> = {
  search: "INSERT INTO events_fts (events_fts) VALUES ('optimize')",
  // The indexes whose keys are personal values (`sqlite-schema.ts`).
  email: 'REINDEX events_email',
  ip: 'REINDEX events_ip',
};

/**
 * How long one `TRUNCATE` attempt waits for readers to leave the WAL. Writers wait while it
 * does, so an attempt is short, and the store tries again a little later.
 */
const WAL_WAIT_MS = 100;

/** Runs one step; false when the WAL could not be truncated yet (readers still use it). */
export function purgeStep(db: Database.Database, step: PurgeStep): boolean {
  if (step !== 'wal') {
    withSecureDelete(db, () => db.exec(STATEMENTS[step]));
    return true;
  }
  const before = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${WAL_WAIT_MS}`);
  try {
    const [status] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return status?.busy === 0;
  } finally {
    db.pragma(`busy_timeout = ${before}`);
  }
}
