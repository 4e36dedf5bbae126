/**
 * The SQLite purge: a one-off thread, started after an erasure or a deletion removed values,
 * that removes what SQLite still keeps of them in its files (issue #9; see `sqlite-erase.ts`).
 *
 * - The full-text index is contentless: a deleted row's words stay in the index's segments,
 *   only marked deleted, until a merge rewrites those segments. The whole index is merged into
 *   one segment (FTS5 `optimize`). Merging it in small incremental steps instead measured
 *   unsafe: with appends adding segments between the steps, a 143 MB index of 1,000,000
 *   events grew past 2 GB before the steps ran out.
 * - An index keeps stale copies of deleted keys in the unused space of its pages, left there
 *   when pages split. The indexes whose keys are personal values (the actor's e-mail and the
 *   IP) are rebuilt.
 * - `secure_delete` is on throughout: every page these steps free is overwritten with zeros.
 * - The WAL still holds the pages as they were: a `TRUNCATE` checkpoint copies the new pages
 *   into the file and empties the WAL.
 *
 * It runs on a thread of its own so that the server keeps answering meanwhile. Appends wait
 * while a step holds the write lock; each step gives it up for a moment before the next. At
 * 1,000,000 events the steps take about 3 s (search index), 5 s and 2.5 s (the two indexes).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What the purge thread is started with. */
export interface PurgeData {
  readonly hindsightSqlitePurge: true;
  readonly path: string;
}

/** What the purge thread answers once done. */
export type PurgeReport =
  | { readonly ok: true; readonly walTruncated: boolean }
  | { readonly ok: false; readonly error: string };

/** The indexes whose keys are personal values (`sqlite-schema.ts`). */
export const PERSONAL_INDEXES = ['events_email', 'events_ip'] as const;

/**
 * Between two steps the write lock is left free this long, so that the appends waiting for it
 * (the writer thread retries every few ms) commit before the next step takes it again.
 */
const PAUSE_MS = 200;

/** How often the `TRUNCATE` checkpoint is tried while readers keep the WAL in use. */
const TRUNCATE_ATTEMPTS = 40;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Runs every step on a connection of its own; see the module comment. */
export function purge(path: string): { walTruncated: boolean } {
  const db = new Database(path);
  try {
    // Each step waits for the lock as long as an append may take it.
    db.pragma('busy_timeout = 30000');
    db.pragma('secure_delete = ON');
    db.exec("INSERT INTO events_fts (events_fts) VALUES ('optimize')");
    for (const index of PERSONAL_INDEXES) {
      sleep(PAUSE_MS);
      db.exec(`REINDEX ${index}`);
    }
    let walTruncated = false;
    for (let attempt = 1; attempt <= TRUNCATE_ATTEMPTS && !walTruncated; attempt++) {
      const [status] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      walTruncated = status?.busy === 0;
      if (!walTruncated) sleep(50);
    }
    return { walTruncated };
  } finally {
    db.close();
  }
}

if (!isMainThread && (workerData as PurgeData | undefined)?.hindsightSqlitePurge && parentPort) {
  let report: PurgeReport;
  try {
    report = { ok: true, ...purge((workerData as PurgeData).path) };
  } catch (error) {
    report = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort.postMessage(report);
}
