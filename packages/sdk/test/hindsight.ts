/**
 * A real Hindsight for the SDK's tests: `startServer` (the code `hindsight serve` runs) on
 * 127.0.0.1 over a fresh SQLite directory, which can be stopped and started again on the
 * same port and data, and read back over its HTTP API without the SDK.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventInput, StoredEvent } from '@hindsight/core';
import { afterAll, beforeAll, expect } from 'vitest';
import { createApiKey, type Scope } from '../../server/src/auth.js';
import { type RunningServer, type ServeOptions, startServer } from '../../server/src/server.js';
import { createClient, type HindsightClient } from '../src/index.js';

/** A running (or stopped) Hindsight. */
export interface Hindsight {
  /** `http://127.0.0.1:<port>`, the same across restarts. */
  readonly url: string;
  /** An admin key. */
  readonly key: string;
  /** Its data directory (the SQLite store). */
  readonly data: string;
  /** A key with these scopes (and tenant limit). */
  createKey(scopes: Scope[], tenant?: string): Promise<string>;
  /** Every event of a tenant, oldest first, read page by page over HTTP. */
  events(tenant: string): Promise<StoredEvent[]>;
  /** Stops the server (Hindsight is down); the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

async function serve(
  data: string,
  port: number,
  options: HindsightOptions,
): Promise<{ server: RunningServer; key?: string }> {
  const lines: string[] = [];
  const server = await startServer(
    {
      port,
      host: '127.0.0.1',
      demo: false,
      data,
      logLevel: 'silent',
      consoleDir: null,
      ...options,
    },
    (line) => lines.push(line),
  );
  const key = lines.map((line) => /^\s+(hsk_\S+)$/.exec(line)?.[1]).find((k) => k !== undefined);
  return key === undefined ? { server } : { server, key };
}

/** More of `hindsight serve`'s options (the integrity scrub, say). */
export type HindsightOptions = Partial<Pick<ServeOptions, 'scrub'>>;

/**
 * Starts a Hindsight on a free port.
 * @example const hindsight = await startHindsight(); … await hindsight.close();
 */
export async function startHindsight(options: HindsightOptions = {}): Promise<Hindsight> {
  const data = mkdtempSync(join(tmpdir(), 'hindsight-sdk-test-'));
  const first = await serve(data, 0, options);
  let server: RunningServer | null = first.server;
  const url = first.server.url;
  const port = Number(new URL(url).port);
  const key = first.key;
  if (key === undefined) throw new Error('The server printed no admin key.');
  const running = () => {
    if (server === null) throw new Error('Hindsight is stopped.');
    return server;
  };

  return {
    url,
    key,
    data,
    createKey: async (scopes, tenant) =>
      (await createApiKey(running().store, { scopes, tenant: tenant ?? null })).token,
    events: async (tenant) => {
      const events: StoredEvent[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: '500', order: 'asc' });
        if (cursor !== null) query.set('cursor', cursor);
        const response = await fetch(`${url}/v1/tenants/${tenant}/events?${query}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        if (response.status !== 200) throw new Error(`GET events: ${response.status}`);
        const page = (await response.json()) as {
          events: StoredEvent[];
          nextCursor: string | null;
        };
        events.push(...page.events);
        cursor = page.nextCursor;
      } while (cursor !== null);
      return events;
    },
    stop: async () => {
      await running().close();
      server = null;
    },
    restart: async () => {
      if (server !== null) throw new Error('Hindsight is running.');
      server = (await serve(data, port, options)).server;
    },
    close: async () => {
      await server?.close();
      server = null;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A tenant name no other test uses. */
export function uniqueTenant(prefix = 't'): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A Hindsight and a client of it, shared by a test file. */
export interface TestContext {
  readonly hindsight: Hindsight;
  readonly client: HindsightClient;
}

/**
 * Starts a Hindsight and a client with default options before the file's tests, and closes
 * both after them.
 * @example const ctx = useHindsight(); it('…', async () => { await ctx.client.record(…) });
 */
export function useHindsight(): TestContext {
  const context: { hindsight?: Hindsight; client?: HindsightClient } = {};
  beforeAll(async () => {
    context.hindsight = await startHindsight();
    context.client = createClient({ url: context.hindsight.url, key: context.hindsight.key });
  });
  afterAll(async () => {
    await context.client?.close();
    await context.hindsight?.close();
  });
  return {
    get hindsight() {
      if (context.hindsight === undefined) throw new Error('Hindsight is not started yet.');
      return context.hindsight;
    },
    get client() {
      if (context.client === undefined) throw new Error('Hindsight is not started yet.');
      return context.client;
    },
  };
}

/** Event number `i` of a test: `metadata.i` tells it apart. */
export function numbered(tenant: string, i: number): EventInput {
  return {
    tenant,
    action: 'report.exported',
    actor: { id: 'u-1', name: 'Alice Martin' },
    description: `Report ${i}`,
    metadata: { i },
  };
}

/** Checks that the tenant holds the numbered events 0 … n−1, each exactly once. */
export async function expectExactlyOnce(
  hindsight: Hindsight,
  tenant: string,
  n: number,
): Promise<void> {
  const stored = await hindsight.events(tenant);
  const numbers = stored.map((e) => (e.metadata as { i: number }).i).sort((a, b) => a - b);
  expect(numbers).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(new Set(stored.map((e) => e.id)).size).toBe(n);
}
