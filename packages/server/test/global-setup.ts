/**
 * Runs once before the tests: builds the packages (tests that run the `hindsight` binary or the
 * SQLite writer thread run what the current sources compile to; `tsc -b` is a no-op when up to
 * date), and provides a PostgreSQL server: `HINDSIGHT_TEST_DATABASE_URL`, or an embedded one
 * started here and stopped after the run. Under `CI=true` a PostgreSQL that cannot start fails
 * the run; elsewhere its suites are skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { type EmbeddedServer, startEmbeddedPostgres } from './embedded-postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'inherit' });

  const given = process.env['HINDSIGHT_TEST_DATABASE_URL'];
  if (given) {
    project.provide('postgres', { url: given });
    return async () => {};
  }
  let server: EmbeddedServer | undefined;
  try {
    server = await startEmbeddedPostgres();
    project.provide('postgres', { url: server.url });
  } catch (error) {
    if (process.env['CI'] === 'true') throw error;
    project.provide('postgres', {
      skip: `PostgreSQL could not start (${error instanceof Error ? error.message : String(error)}); set HINDSIGHT_TEST_DATABASE_URL to use a running one`,
    });
  }
  return async () => {
    await server?.remove();
  };
}
