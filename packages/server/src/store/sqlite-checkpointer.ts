/**
 * The SQLite checkpointer: a thread of its own that copies committed pages from the WAL back
 * into the database file, once a second.
 *
 * Left to SQLite, the copy runs inside whichever commit crosses the WAL's size limit — an
 * append's, or a retention step's — and that commit, with every request queued behind it,
 * waits for tens of megabytes to be copied and synced. A passive checkpoint on another
 * connection never blocks the writer (SQLite lets one checkpointer run beside one writer), so
 * here it costs appends nothing but disk bandwidth. The writer keeps SQLite's own automatic
 * checkpoint only as a backstop, at a size this thread keeps the WAL well under.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What the checkpointer thread is started with. */
export interface CheckpointerData {
  readonly hindsightSqliteCheckpointer: true;
  readonly path: string;
}

/** How often the WAL is copied back. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * The writer's automatic checkpoint, in pages: a backstop, reached only if this thread falls far
 * behind (100,000 pages of 8 KiB: about 800 MB of WAL).
 */
export const BACKSTOP_CHECKPOINT_PAGES = 100_000;

if (
  !isMainThread &&
  (workerData as CheckpointerData | undefined)?.hindsightSqliteCheckpointer &&
  parentPort
) {
  const port = parentPort;
  const db = new Database((workerData as CheckpointerData).path);
  // A passive checkpoint copies what it can without waiting for readers or the writer; with
  // nothing new in the WAL it does nothing at all.
  const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), CHECKPOINT_INTERVAL_MS);
  port.on('message', (message: unknown) => {
    if (message !== 'close') return;
    clearInterval(timer);
    db.close();
    port.close();
  });
}
