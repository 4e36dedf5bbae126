/**
 * Test fixtures: a real SQLite store in a temporary directory, the real app driven by
 * `inject()`, and keys made through the real key path.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type EventInput, parseQuery } from '@hindsight/core';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { createApiKey, type Scope } from '../src/auth.js';
import type { CheckpointOptions } from '../src/checkpoints.js';
import { createEnricher, type Enricher } from '../src/enrich.js';
import { type AppOptions, createApp, type RateLimit } from '../src/http/app.js';
import type { HookOptions } from '../src/http/hook-routes.js';
import { prepareEvents } from '../src/ingest.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';

/** The built command line, as `hindsight` runs. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/**
 * Runs `hindsight verify` on an export's text, with the verifier key (text or the JSON of
 * `GET /v1/keys/public`), both written into `dir`: its exit code and what it printed.
 */
export async function cliVerify(
  dir: string,
  exportText: string,
  verifierKey: string,
): Promise<{ code: number; stdout: string }> {
  const file = join(dir, 'export.ndjson');
  const keyFile = join(dir, 'key.pub');
  writeFileSync(file, exportText);
  writeFileSync(keyFile, `${verifierKey}\n`);
  return promisify(execFile)(process.execPath, [CLI, 'verify', file, '--public-key', keyFile]).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix = 'hindsight-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let sharedEnricher: Enricher | undefined;
/** One enricher (with the bundled geo database) for the whole test process. */
export function testEnricher(): Enricher {
  sharedEnricher ??= createEnricher();
  return sharedEnricher;
}

/** An app over a fresh SQLite store, with an admin key. */
export interface TestApp {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly admin: string;
  /** Makes a key with these scopes (and tenant limit). */
  key(scopes: Scope[], tenant?: string): Promise<string>;
  /** POSTs a body to /v1/events with a key (admin by default). */
  post(body: unknown, key?: string): Promise<LightMyRequestResponse>;
  /** GETs a URL with a key (admin by default). */
  get(url: string, key?: string): Promise<LightMyRequestResponse>;
  /** Sends a request with a key (admin by default) and, when given, a JSON body. */
  send(
    method: 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    key?: string,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function testApp(
  checkpoints?: CheckpointOptions,
  hooks?: HookOptions,
  rateLimit?: RateLimit,
  retention?: AppOptions['retention'],
  more: Partial<Pick<AppOptions, 'pdfFonts' | 'auditRetryMs'>> = {},
): Promise<TestApp> {
  const tmp = tempDir();
  const store = await openStore({ data: tmp.dir });
  const app = await createApp({
    store,
    enricher: testEnricher(),
    ...(checkpoints ? { checkpoints } : {}),
    ...(hooks ? { hooks } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(retention ? { retention } : {}),
    ...more,
  });
  const key = async (scopes: Scope[], tenant?: string) =>
    (await createApiKey(store, { scopes, tenant: tenant ?? null })).token;
  const admin = await key(['admin']);
  return {
    app,
    store,
    admin,
    key,
    post: (body, k = admin) =>
      app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (url, k = admin) =>
      app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${k}` } }),
    send: (method, url, body, k = admin) =>
      app.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${k}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      }),
    close: async () => {
      await app.close();
      await store.close();
      tmp.remove();
    },
  };
}

/**
 * The ids of every page of a query (`q`, the search syntax) of a tenant, `limit` at a time,
 * and how many pages that took.
 * @example const { ids } = await pageIds(store, 'acme', 'outcome:failure', 50, 'desc')
 */
export async function pageIds(
  store: Store,
  tenant: string,
  q: string,
  limit: number,
  order: 'asc' | 'desc',
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await store.queryEvents(tenant, {
      clauses: parseQuery(q).clauses,
      limit,
      order,
      ...(after === undefined ? {} : { after }),
    });
    ids.push(...page.events.map((e) => e.id));
    after = page.next ?? undefined;
    pages++;
  } while (after !== undefined);
  return { ids, pages };
}

/** A minimal valid event, with overrides. */
export function event(overrides: Partial<EventInput> = {}): EventInput {
  return { tenant: 'acme', action: 'user.created', actor: { id: 'u1' }, ...overrides };
}

/**
 * Two failed sign-ins of tenant `one` by one address in two spellings (`a`: `Alice@ACME.test`,
 * `b`: `alice@acme.test`) — for the upgrades that key actor e-mails in lower case.
 */
export const EMAIL_CASE_EVENTS: readonly EventInput[] = (
  [
    ['a', 'Alice@ACME.test'],
    ['b', 'alice@acme.test'],
  ] as const
).map(([id, email]) => ({
  tenant: 'one',
  id,
  category: 'logins',
  action: 'login.failed',
  outcome: 'failure',
  actor: { type: 'anonymous', email },
}));

/** Asserts that the actor filter, given `ALICE@acme.test`, finds both, each as it was sent. */
export async function expectEmailInAnyCase(store: Store): Promise<void> {
  const page = await store.queryEvents('one', {
    clauses: parseQuery('actor:ALICE@acme.test').clauses,
    limit: 10,
    order: 'asc',
  });
  expect(page.events.map((e) => [e.id, e.actor.email])).toEqual([
    ['a', 'Alice@ACME.test'],
    ['b', 'alice@acme.test'],
  ]);
}

/** A successful sign-in to tenant `one` by `user`, `minutesAgo`, from an IP of `country`. */
function signIn(user: string, country: 'GB' | 'SE' | 'US', minutesAgo: number): EventInput {
  const ip = { GB: '81.2.69.142', SE: '89.160.20.112', US: '8.8.8.8' }[country];
  return {
    tenant: 'one',
    category: 'logins',
    action: 'login.succeeded',
    actor: { id: user },
    time: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    context: { ip },
  };
}

/**
 * Sign-ins of tenant `one` for the upgrades that add `newCountry`: `u-ann` from GB twice, then
 * from SE (new); `u-bob` from SE only (his first country, not new).
 */
export const NEW_COUNTRY_EVENTS: readonly EventInput[] = [
  signIn('u-ann', 'GB', 3000),
  signIn('u-ann', 'GB', 2000),
  signIn('u-ann', 'SE', 100),
  signIn('u-bob', 'SE', 100),
];

/**
 * Asserts the logins view's `newCountry` of {@link NEW_COUNTRY_EVENTS}, then that the store
 * keeps it as sign-ins arrive: Bob from GB is new, Ann's earlier sign-in from SE arriving late
 * makes hers not new.
 */
export async function expectNewCountry(store: Store, enricher: Enricher): Promise<void> {
  const flags = async () => {
    const page = await store.loginUsers('one', {
      sort: 'name',
      order: 'asc',
      limit: 10,
      recentSince: new Date().toISOString(),
      newCountrySince: new Date(Date.now() - 30 * 86_400_000).toISOString(),
    });
    return page.users.map((u) => [u.key, u.newCountry]);
  };
  expect(await flags()).toEqual([
    ['u-ann', true],
    ['u-bob', false],
  ]);
  await store.append([
    prepareEvents({ events: [signIn('u-bob', 'GB', 10), signIn('u-ann', 'SE', 4000)] }, enricher),
  ]);
  expect(await flags()).toEqual([
    ['u-ann', false],
    ['u-bob', true],
  ]);
}

/**
 * Two events of tenant `one`, with ids: `pin` changes a sensitive field, `role` does not — for
 * the upgrades that forget the input digests older versions computed over sensitive values.
 */
export const SENSITIVE_CHANGE_EVENTS: readonly EventInput[] = [
  {
    tenant: 'one',
    id: 'pin',
    action: 'card.pin_changed',
    actor: { id: 'u7' },
    changes: [{ field: 'pin', after: '9157', sensitive: true }],
  },
  {
    tenant: 'one',
    id: 'role',
    action: 'user.updated',
    actor: { id: 'u7' },
    changes: [{ field: 'role', before: 'member', after: 'admin' }],
  },
];
