/**
 * A real Hindsight server with the demo tenant, serving the built console at `/`, for the
 * browser tests: the same `startServer` that `hindsight serve --demo` runs, on a free port and
 * a temporary data directory.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { createApiKey } from '../../server/src/auth.js';
import { type RunningServer, type ServeOptions, startServer } from '../../server/src/server.js';
import { type Browser, launchChromium } from './chromium.js';

const DIST = fileURLToPath(new URL('../dist/index.html', import.meta.url));

/** The server, its keys and a small client of its API. */
export interface ServedConsole {
  readonly url: string;
  readonly server: RunningServer;
  /** The data directory (its SQLite file, for tests that tamper with it). */
  readonly data: string;
  /** The first admin key, as `hindsight serve` prints it. */
  readonly adminKey: string;
  /** A key with `events:read` only. */
  readonly readKey: string;
  /** GETs an API path with the admin key; throws on an error status. */
  get<T>(path: string): Promise<T>;
  /** POSTs JSON with the admin key; throws on an error status. */
  post<T>(path: string, body: unknown): Promise<T>;
  /** PUTs JSON with the admin key; throws on an error status. */
  put<T>(path: string, body: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts the server with the demo tenant; the console must have been built. `options` are more
 * of `hindsight serve`'s (the integrity scrub, say).
 */
export async function serveConsole(
  options: Partial<Pick<ServeOptions, 'scrub'>> = {},
): Promise<ServedConsole> {
  if (!existsSync(DIST)) {
    throw new Error(`No built console at ${DIST}: run "npm run build" at the repository root.`);
  }
  const data = mkdtempSync(join(tmpdir(), 'hindsight-console-'));
  const lines: string[] = [];
  const server = await startServer(
    { port: 0, host: '127.0.0.1', data, demo: true, logLevel: 'silent', ...options },
    (line) => lines.push(line),
  );
  const adminKey = /^\s+(hsk_\S+)$/m.exec(lines.join('\n'))?.[1];
  if (!adminKey) throw new Error(`No admin key in:\n${lines.join('\n')}`);
  const { token: readKey } = await createApiKey(server.store, { scopes: ['events:read'] });
  const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const response = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    url: server.url,
    server,
    data,
    adminKey,
    readKey,
    get: (path) => call(path),
    post: (path, body) => call(path, { method: 'POST', body: JSON.stringify(body) }),
    put: (path, body) => call(path, { method: 'PUT', body: JSON.stringify(body) }),
    close: async () => {
      await server.close();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the console at `path` in `page` and signs in with `key`; resolves once the logs show.
 * @example await signIn(page, served, served.readKey, '/?tenant=acme&view=all')
 */
export async function signIn(
  page: Page,
  served: ServedConsole,
  key: string,
  path = '/?tenant=acme',
): Promise<void> {
  await page.goto(`${served.url}${path}`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('tablist', { name: 'Logs' }).waitFor({ timeout: 15_000 });
}

/**
 * Records the message of every dialog `page` opens (`confirm`, `alert`) in `into`, and dismisses
 * it, as a reader pressing Cancel would; returns `into`.
 * @example const dialogs = recordDialogs(page); … expect(dialogs).toEqual(['Delete 2 events?'])
 */
export function recordDialogs(page: Page, into: string[] = []): string[] {
  page.on('dialog', (dialog) => {
    into.push(dialog.message());
    void dialog.dismiss();
  });
  return into;
}

/** What {@link consoleInChromium} gives a suite's tests, set before the first of them. */
export interface ConsoleInChromium {
  readonly served: ServedConsole;
  readonly browser: Browser;
  readonly page: Page;
}

/**
 * For one browser suite: the demo console served ({@link serveConsole}) and a Chromium page,
 * started before its tests and closed after them. Read the fields inside tests only.
 * @example const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 } }); … ctx.page
 */
export function consoleInChromium(
  options: BrowserContextOptions,
  serve: Parameters<typeof serveConsole>[0] = {},
): ConsoleInChromium {
  const ctx = {} as { served: ServedConsole; browser: Browser; page: Page };
  beforeAll(async () => {
    ctx.served = await serveConsole(serve);
    ctx.browser = await launchChromium(options);
    ctx.page = ctx.browser.context.pages()[0] ?? (await ctx.browser.context.newPage());
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.served?.close();
  });
  return ctx;
}
