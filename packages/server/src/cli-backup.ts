/**
 * `hindsight backup BACKUP_DIR`: a consistent copy of the embedded SQLite store, taken while a
 * server runs on it, with the checkpoint signing key beside it, so that
 * `hindsight serve --data BACKUP_DIR` starts from the copy.
 *
 * The copy is SQLite's `VACUUM INTO` on a read-only connection: one read transaction, so it is
 * the database as one commit left it (every event with its tree nodes, summaries and
 * checkpoints), and the server's appends go on meanwhile (they wait for nothing; only the WAL
 * is not copied back past that commit until the copy is done). The copy holds no free pages,
 * and so none of the bytes an erasure freed. It is then checked (`PRAGMA quick_check`).
 * PostgreSQL is backed up with its own tools (docs/operations.md).
 */
import { chmodSync, copyFileSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { storeLocation, storeOptions, UsageError } from './cli-usage.js';
import { makeDirectory } from './file-errors.js';
import { defaultSigningKeyFile, sqliteFile } from './store/index.js';

/** What a backup holds, as `hindsight backup` reports it. */
export interface BackupSummary {
  readonly database: string;
  readonly bytes: number;
  readonly tenants: number;
  readonly events: number;
  /** Where the signing key was copied to, or `null` when there was none to copy. */
  readonly signingKey: string | null;
}

/**
 * Copies the SQLite store at `source` and the signing key `key` (when it exists) into the new
 * or empty directory `target`.
 * @example await backupSqlite('./hindsight-data/hindsight.db', './hindsight-data/signing.key', './backup')
 */
export async function backupSqlite(
  source: string,
  key: string,
  target: string,
): Promise<BackupSummary> {
  if (!existsSync(source)) throw new Error(`No Hindsight database at ${source}.`);
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new Error(`${target} already exists and is not an empty directory; give a new one.`);
  }
  makeDirectory(target, 0o700);
  const database = join(target, 'hindsight.db');
  const { default: Database } = await import('better-sqlite3');
  const from = new Database(source, { readonly: true, fileMustExist: true });
  try {
    // As long as the server's writer may hold the lock that a read takes for a moment.
    from.pragma('busy_timeout = 10000');
    from.prepare('VACUUM INTO ?').run(database);
  } catch (error) {
    // A copy cut short (a full disk) is not left to be mistaken for a backup.
    rmSync(database, { force: true });
    throw error;
  } finally {
    from.close();
  }
  const copy = new Database(database, { readonly: true, fileMustExist: true });
  let counts: { tenants: number; events: number };
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`The copy at ${database} is damaged: ${String(check)}.`);
    counts = copy
      .prepare(
        'SELECT (SELECT count(*) FROM tenants) AS tenants, (SELECT count(*) FROM events) AS events',
      )
      .get() as { tenants: number; events: number };
  } finally {
    copy.close();
  }
  let signingKey: string | null = null;
  if (existsSync(key)) {
    signingKey = join(target, 'signing.key');
    copyFileSync(key, signingKey);
    chmodSync(signingKey, 0o600);
  }
  return { database, bytes: statSync(database).size, ...counts, signingKey };
}

const grouped = new Intl.NumberFormat('en-US').format;

/** `hindsight backup BACKUP_DIR [--data DIR | --database-url sqlite:…] [--signing-key FILE]`. */
export async function backupCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...storeOptions, 'signing-key': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [target, ...extra] = positionals;
  if (target === undefined || extra.length > 0) {
    throw new UsageError('Give the one directory to back up to: hindsight backup BACKUP_DIR.');
  }
  const location = storeLocation(values);
  const source = sqliteFile(location);
  if (source === null) {
    throw new Error(
      'hindsight backup copies the embedded SQLite store. Back up PostgreSQL with its own ' +
        'tools (pg_dump, base backups), and the signing key file with it (docs/operations.md).',
    );
  }
  // Where `hindsight serve` finds its key with the same flags and environment.
  const key =
    values['signing-key'] ??
    process.env['HINDSIGHT_SIGNING_KEY'] ??
    defaultSigningKeyFile(location);
  const summary = await backupSqlite(source, key, resolve(target));
  const megabytes = (summary.bytes / 1024 / 1024).toFixed(1);
  const lines = [
    `Backed up ${source} to ${resolve(target)}:`,
    `  hindsight.db  ${grouped(summary.events)} events of ${grouped(summary.tenants)} tenant${summary.tenants === 1 ? '' : 's'}, ${megabytes} MB, checked`,
    summary.signingKey === null
      ? `  no signing key at ${key}: back up the key the server signs with yourself`
      : '  signing.key   the checkpoint signing key: keep this backup as secret as the key',
    `Restore by serving it: hindsight serve --data ${resolve(target)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
