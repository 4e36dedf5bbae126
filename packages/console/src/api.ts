/**
 * The console's client of the Hindsight HTTP API (docs/api.md, docs/views.md). Every request
 * carries the credentials' `Authorization` header; every failure becomes an `ApiError` with
 * the API's stable code.
 */
import type { StoredEvent, TenantSettings, ViewDefinition } from '@hindsight/core';
import type { EventProof, IntegrityVerdict } from '@hindsight/core/event-proof';
import type {
  Deletion,
  EventPage,
  IntegrationList,
  LoginAccountPage,
  MessageDetail,
  MessagePage,
  Session,
  Stats,
  TenantSummary,
} from './api-types.js';
import type { Credentials } from './auth.js';
import { showBidiControls } from './formats.js';

/** One problem the API names in `error.details`. */
export interface ErrorDetail {
  readonly path?: string;
  readonly message?: string;
  readonly position?: number;
}

/** A failed request: the API's error code and message, or `network_error`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    /** The API's error code (docs/errors.md), or `network_error` / `http_error`. */
    readonly code: string,
    message: string,
    readonly details: readonly ErrorDetail[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A downloaded file. */
export interface Download {
  readonly blob: Blob;
  readonly filename: string;
}

type Params = Readonly<Record<string, string>>;

/** What the console asks the server. */
export interface Api {
  /** The views (tabs): the built-in ones, and with a tenant also the tenant's own. */
  views(tenant?: string, signal?: AbortSignal): Promise<ViewDefinition[]>;
  tenants(signal?: AbortSignal): Promise<TenantSummary[]>;
  /** Who the credentials are: a key or a viewer, and what they may do. */
  session(signal?: AbortSignal): Promise<Session>;
  /** The tenant's settings (the embedded console's look). */
  settings(tenant: string, signal?: AbortSignal): Promise<TenantSettings>;
  events(tenant: string, params: Params, signal?: AbortSignal): Promise<EventPage>;
  event(tenant: string, id: string, signal?: AbortSignal): Promise<StoredEvent>;
  /** `GET /v1/tenants/{t}/events/{id}/proof`: the event, its salts, checkpoint and proof. */
  eventProof(tenant: string, id: string, signal?: AbortSignal): Promise<EventProof>;
  /** `GET /v1/keys/public`: the key that signs checkpoints, and their origin prefix. */
  publicKey(signal?: AbortSignal): Promise<{ verifierKey: string; origin: string }>;
  /** `GET /v1/tenants/{t}/checkpoint`: the newest signed checkpoint, as its note text. */
  checkpoint(tenant: string, signal?: AbortSignal): Promise<string>;
  /**
   * `GET /v1/tenants/{t}/integrity`: the newest verdict of the server's integrity scrub on the
   * stored log; `null` while no check ever found a problem.
   */
  integrity(tenant: string, signal?: AbortSignal): Promise<IntegrityVerdict | null>;
  /** `GET /v1/tenants/{t}/proofs/consistency`: the proof (hex) that `from` is a prefix of `to`. */
  consistency(tenant: string, from: number, to: number, signal?: AbortSignal): Promise<string[]>;
  loginAccounts(tenant: string, params: Params, signal?: AbortSignal): Promise<LoginAccountPage>;
  /** `GET /v1/tenants/{t}/stats`: counts over time, by action, actor and outcome. */
  stats(tenant: string, params: Params, signal?: AbortSignal): Promise<Stats>;
  messages(tenant: string, params: Params, signal?: AbortSignal): Promise<MessagePage>;
  message(tenant: string, id: string, signal?: AbortSignal): Promise<MessageDetail>;
  /** The systems, and the log's size when they were read (what Acknowledge may cover). */
  integrations(tenant: string, signal?: AbortSignal): Promise<IntegrationList>;
  /** Acknowledges the system's errors and notifications recorded up to `upToSeq`. */
  acknowledge(tenant: string, system: string, upToSeq: number): Promise<void>;
  /** `POST /v1/tenants/{t}/deletions`: deletes the events (docs/erasure.md#permitted-deletion). */
  deleteEvents(tenant: string, ids: readonly string[]): Promise<Deletion>;
  /** `GET /v1/tenants/{t}/export` as a file. */
  exportFile(tenant: string, params: Params): Promise<Download>;
  /**
   * Starts, at once and side by side, requests the console makes on opening: who the
   * credentials are and their tenants (`session`), and a tenant's views and settings. Each
   * answer is handed to the first screen that asks for it within `EARLY_FOR_MS`, so opening a
   * tab waits for one round of requests before its page is asked for, not for three in turn.
   */
  prefetch(what: { readonly session: boolean; readonly tenant: string | null }): void;
}

/** How long a request started by `prefetch` may wait for the screen that asks for it. */
export const EARLY_FOR_MS = 10_000;

const enc = encodeURIComponent;

function query(params: Params): string {
  const search = new URLSearchParams(params).toString();
  return search === '' ? '' : `?${search}`;
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; details?: ErrorDetail[] };
    };
    if (body.error?.code) {
      return new ApiError(
        response.status,
        body.error.code,
        body.error.message ?? response.statusText,
        body.error.details ?? [],
      );
    }
  } catch {
    // not an API error body: fall through
  }
  return new ApiError(
    response.status,
    'http_error',
    `The server answered ${response.status} ${response.statusText}.`,
  );
}

function filenameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  const m = /filename="?([^";]+)"?/i.exec(disposition);
  return m?.[1] ?? fallback;
}

/**
 * A client for the server at `base` (the console's own origin by default).
 * @example await createApi(credentials).events('acme', { category: 'logins' })
 */
/** Members whose values the console sends back (an event's or message's id, an integration). */
const SENT_BACK = new Set(['id', 'system']);

export function createApi(credentials: Credentials, base = ''): Api {
  const request = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: {
        authorization: credentials.authorization,
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
    });
  /** GETs started by `prefetch`, by path, each taken by the first `send` of its path. */
  const early = new Map<string, { readonly response: Promise<Response>; readonly at: number }>();
  const takeEarly = (path: string): Promise<Response> | undefined => {
    const started = early.get(path);
    early.delete(path);
    return started && performance.now() - started.at < EARLY_FOR_MS ? started.response : undefined;
  };

  async function send(
    path: string,
    init: { method?: string; body?: unknown; signal?: AbortSignal | undefined } = {},
  ): Promise<Response> {
    let response: Response;
    try {
      response = await ((init.method === undefined ? takeEarly(path) : undefined) ??
        request(path, {
          method: init.method ?? 'GET',
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
          ...(init.signal ? { signal: init.signal } : {}),
        }));
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
      throw new ApiError(
        0,
        'network_error',
        'The Hindsight server could not be reached. Check your connection and that the server is running, then try again.',
        [],
        { cause },
      );
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }
  /**
   * A JSON answer for display: every string shows its direction overrides as marks
   * (`showBidiControls`), but those the console sends back to the server stay as they are.
   */
  const json = async <T>(path: string, signal?: AbortSignal): Promise<T> =>
    JSON.parse(await (await send(path, { signal })).text(), (key, value: unknown) =>
      typeof value === 'string' && !SENT_BACK.has(key) ? showBidiControls(value) : value,
    ) as T;
  /** A JSON answer exactly as sent: an event whose content Verify hashes. */
  const exactJson = async <T>(path: string, signal?: AbortSignal): Promise<T> =>
    (await (await send(path, { signal })).json()) as T;
  const tenantPath = (tenant: string) => `/v1/tenants/${enc(tenant)}`;
  const tenants = async (signal?: AbortSignal) =>
    (await json<{ tenants: TenantSummary[] }>('/v1/tenants', signal)).tenants;
  const prefetch: Api['prefetch'] = ({ session, tenant }) => {
    const paths = session ? ['/v1/session', '/v1/tenants'] : [];
    if (tenant !== null)
      paths.push(`${tenantPath(tenant)}/views`, `${tenantPath(tenant)}/settings`);
    for (const path of paths) {
      const response = request(path);
      // Its failure is reported to the screen that takes it, or to no one if none does.
      response.catch(() => undefined);
      early.set(path, { response, at: performance.now() });
    }
  };

  return {
    views: async (tenant, signal) =>
      (
        await json<{ views: ViewDefinition[] }>(
          tenant === undefined ? '/v1/views' : `${tenantPath(tenant)}/views`,
          signal,
        )
      ).views,
    session: (signal) => json('/v1/session', signal),
    settings: async (tenant, signal) =>
      (await json<{ settings: TenantSettings }>(`${tenantPath(tenant)}/settings`, signal)).settings,
    tenants,
    events: (tenant, params, signal) =>
      json(`${tenantPath(tenant)}/events${query(params)}`, signal),
    event: (tenant, id, signal) => json(`${tenantPath(tenant)}/events/${enc(id)}`, signal),
    eventProof: (tenant, id, signal) =>
      exactJson(`${tenantPath(tenant)}/events/${enc(id)}/proof`, signal),
    publicKey: (signal) => json('/v1/keys/public', signal),
    integrity: async (tenant, signal) =>
      (await json<{ verdict: IntegrityVerdict | null }>(`${tenantPath(tenant)}/integrity`, signal))
        .verdict,
    checkpoint: async (tenant, signal) =>
      (await send(`${tenantPath(tenant)}/checkpoint`, { signal })).text(),
    consistency: async (tenant, from, to, signal) =>
      (
        await json<{ proof: string[] }>(
          `${tenantPath(tenant)}/proofs/consistency${query({ from: String(from), to: String(to) })}`,
          signal,
        )
      ).proof,
    loginAccounts: (tenant, params, signal) =>
      json(`${tenantPath(tenant)}/logins/users${query(params)}`, signal),
    stats: (tenant, params, signal) => json(`${tenantPath(tenant)}/stats${query(params)}`, signal),
    messages: (tenant, params, signal) =>
      json(`${tenantPath(tenant)}/messages${query(params)}`, signal),
    message: (tenant, id, signal) => json(`${tenantPath(tenant)}/messages/${enc(id)}`, signal),
    integrations: (tenant, signal) => json(`${tenantPath(tenant)}/integrations`, signal),
    acknowledge: async (tenant, system, upToSeq) => {
      await send(`${tenantPath(tenant)}/integrations/${enc(system)}/acknowledge`, {
        method: 'POST',
        body: { upToSeq },
      });
    },
    deleteEvents: async (tenant, ids) =>
      (await send(`${tenantPath(tenant)}/deletions`, { method: 'POST', body: { ids } })).json(),
    exportFile: async (tenant, params) => {
      const response = await send(`${tenantPath(tenant)}/export${query(params)}`);
      const fallback = `${tenant}-events.${params['format'] ?? 'txt'}`;
      return { blob: await response.blob(), filename: filenameOf(response, fallback) };
    },
    prefetch,
  };
}
