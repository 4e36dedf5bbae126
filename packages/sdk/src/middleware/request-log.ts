/**
 * What every framework's middleware shares: from a finished request to the `requests` or `api`
 * event of SPEC §4 (docs/event-conventions.md) — method, redacted path and query, status,
 * duration, client address, user agent, actor — and the rules of what is not recorded
 * (exclusions, sampling). Request and response bodies are never read. A request whose client
 * went away before the response was complete is recorded as a failure without a status, with
 * `metadata.reason` {@link CLIENT_CLOSED}.
 */
import type { Actor, EventInput, HttpContext } from '@hindsight/core';
import { currentActor } from '../actor.js';
import { isFields, refuse } from '../arguments.js';
import { HindsightError } from '../errors.js';
import { clientIp, type TrustProxy, trustedBy } from './client-ip.js';
import { DEFAULT_REDACT, originForm, redactUrl } from './redact.js';

/**
 * `metadata.reason` of a request whose client closed the connection before the response was
 * complete (the event has no `context.http.status`: none reached the client).
 */
export const CLIENT_CLOSED = 'client_closed';

/** What the middleware needs of a client. */
export interface Recorder {
  record(event: EventInput): Promise<void>;
}

/** Options of every framework's middleware; `Req` is the framework's request (or context). */
export interface RequestLogOptions<Req> {
  /**
   * Which log: `requests` — a person using the product's UI (`http.request`, channel `ui`) —
   * or `api` — calls to the product's API (`api.request`, channel `api`).
   */
  readonly log: 'requests' | 'api';
  /** The tenant a request belongs to; `undefined` records nothing for it. */
  readonly tenant: (req: Req) => string | undefined;
  /**
   * Who made the request, asked once the response is sent (so after your authentication ran):
   * the signed-in user for `requests`, `{ type: 'api_key', id, name }` for `api`. Default: the
   * actor of the enclosing `withActor`, else `{ type: 'anonymous' }`.
   */
  readonly actor?: (req: Req) => Actor | undefined;
  /** The event's description; default `<actor>: <METHOD> <path> → <status>`. */
  readonly describe?: (req: Req, http: HttpContext) => string | undefined;
  /** The session id, for the `requests` log. */
  readonly sessionId?: (req: Req) => string | undefined;
  /** The request id; default the `X-Request-Id` header. */
  readonly requestId?: (req: Req) => string | undefined;
  /**
   * Query parameters whose values are replaced by `REDACTED`: a parameter is secret when its
   * name, in lower case and without `-` and `_`, contains one of these. Default
   * {@link DEFAULT_REDACT} (`token`, `key`, `password`, `secret`, `authorization`); give
   * `[...DEFAULT_REDACT, 'sig']` to add to it.
   */
  readonly redact?: readonly string[];
  /** Which proxies' `X-Forwarded-For` to believe; default none (the socket's peer). */
  readonly trustProxy?: TrustProxy;
  /**
   * The socket's peer when the framework does not expose the socket (Hono on another runtime
   * than Node): a function of the request, asked when the request starts.
   */
  readonly remoteAddress?: (req: Req) => string | undefined;
  /**
   * Requests not to record (health checks, static files): path prefixes (`'/healthz'`,
   * `'/assets/'`), regular expressions tested on the path, or a predicate of the request.
   */
  readonly exclude?: readonly (string | RegExp)[] | ((req: Req) => boolean);
  /**
   * The share of successful requests recorded, from 0 to 1 (default 1). Failed requests
   * (status ≥ 400, or a client that went away) are always recorded.
   */
  readonly sampleRate?: number;
  /** Told when an event could not be recorded; default a process warning. Never throws into a request. */
  readonly onError?: (error: unknown) => void;
}

/** A finished request, as a framework adapter saw it. */
export interface RequestFacts {
  readonly method: string;
  /** The request-target as received: origin-form (`/r?x=1`) or absolute-form (`http://host/r?x=1`). */
  readonly url: string;
  /** `undefined` when the client went away before the response was complete. */
  readonly status: number | undefined;
  readonly durationMs: number;
  /** What {@link RequestLog.peer} answered when the request started. */
  readonly remoteAddress: string | undefined;
  /**
   * The actor of `withActor` where the response was made, when the adapter could read it there
   * (Hono); otherwise the actor current when `record` is called is used.
   */
  readonly actor?: Actor;
  /** A request header by lower-case name (first value). */
  header(name: string): string | undefined;
}

/**
 * A middleware's recorder; adapters call `excluded` and `peer` when a request starts and
 * `record` once when it ends.
 */
export interface RequestLog<Req> {
  /** Whether not to record a request, from its request-target as received. */
  excluded(req: Req, url: string): boolean;
  /**
   * The peer address to record: the `remoteAddress` option's, else the socket's. Asked when the
   * request starts: once the client has gone away, its socket no longer knows it. Never throws
   * (a failing `remoteAddress` goes to `onError`).
   */
  peer(req: Req, socketAddress: string | undefined): string | undefined;
  record(req: Req, facts: RequestFacts): void;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: headers become one clean line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Checks the options once and returns the recorder an adapter drives.
 * @example const log = requestLog(client, { log: 'api', tenant: () => 'acme' });
 */
export function requestLog<Req>(
  client: Recorder,
  options: RequestLogOptions<Req>,
): RequestLog<Req> {
  if (!isFields(options)) {
    refuse('Request logging', 'options', 'an object { log, tenant, … }', options);
  }
  if (!isFields(client) || typeof client.record !== 'function') {
    refuse('Request logging', 'client', 'a Hindsight client (createClient())', client);
  }
  for (const name of [
    'actor',
    'describe',
    'sessionId',
    'requestId',
    'remoteAddress',
    'onError',
  ] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      refuse('Request logging', name, 'a function (or left out)', options[name]);
    }
  }
  const redact = options.redact ?? DEFAULT_REDACT;
  if (!Array.isArray(redact) || !redact.every((word) => typeof word === 'string')) {
    refuse('Request logging', 'redact', 'an array of words (strings)', redact);
  }
  const exclude = options.exclude;
  if (
    exclude !== undefined &&
    typeof exclude !== 'function' &&
    (!Array.isArray(exclude) ||
      !exclude.every((rule) => typeof rule === 'string' || rule instanceof RegExp))
  ) {
    refuse(
      'Request logging',
      'exclude',
      'an array of path prefixes and RegExps, or a function',
      exclude,
    );
  }
  if (options.log !== 'requests' && options.log !== 'api') {
    throw new HindsightError('invalid_options', 'Request logging: log is "requests" or "api".');
  }
  if (typeof options.tenant !== 'function') {
    throw new HindsightError(
      'invalid_options',
      'Request logging: tenant (a function) is required.',
    );
  }
  const rate = options.sampleRate ?? 1;
  if (!(rate >= 0 && rate <= 1)) {
    throw new HindsightError('invalid_options', 'Request logging: sampleRate is from 0 to 1.');
  }
  const trusted = trustedBy(options.trustProxy ?? false);
  const excluded = exclusion(options.exclude);
  const api = options.log === 'api';
  const report =
    options.onError ??
    ((error: unknown) =>
      process.emitWarning(`Hindsight could not record a request: ${String(error)}`, {
        code: 'HINDSIGHT_REQUEST_LOG',
      }));

  return {
    excluded: (req, url) => excluded(req, originForm(url)),
    peer(req, socketAddress) {
      try {
        return options.remoteAddress?.(req) ?? socketAddress;
      } catch (error) {
        report(error);
        return socketAddress;
      }
    },
    record(req, facts) {
      try {
        const failed = facts.status === undefined || facts.status >= 400;
        if (!failed && rate < 1 && Math.random() >= rate) return;
        const tenant = options.tenant(req);
        if (tenant === undefined) return;
        const actor = options.actor?.(req) ??
          facts.actor ??
          currentActor() ?? { type: 'anonymous' as const };
        const http: HttpContext = {
          method:
            facts.method
              .toUpperCase()
              .replace(/[^A-Z]/g, '')
              .slice(0, 16) || 'GET',
          url: redactUrl(originForm(facts.url), redact),
          ...(facts.status === undefined ? {} : { status: facts.status }),
          durationMs: Math.round(facts.durationMs * 10) / 10,
        };
        const ip = clientIp(facts.remoteAddress, facts.header('x-forwarded-for'), trusted);
        const userAgent = line(facts.header('user-agent'), 1024);
        const requestId = options.requestId
          ? options.requestId(req)
          : line(facts.header('x-request-id'), 128);
        const sessionId = options.sessionId?.(req);
        const description = options.describe?.(req, http) ?? describe(actor, http);
        client
          .record({
            tenant,
            action: api ? 'api.request' : 'http.request',
            category: options.log,
            actor,
            channel: api ? 'api' : 'ui',
            ...(failed ? { outcome: 'failure' as const } : {}),
            description: description.slice(0, 2000),
            context: {
              ...(ip === undefined ? {} : { ip }),
              ...(userAgent === undefined ? {} : { userAgent }),
              ...(requestId === undefined ? {} : { requestId }),
              ...(sessionId === undefined ? {} : { sessionId }),
              http,
            },
            ...(facts.status === undefined ? { metadata: { reason: CLIENT_CLOSED } } : {}),
          })
          .catch(report);
      } catch (error) {
        report(error);
      }
    },
  };
}

function exclusion<Req>(
  exclude: RequestLogOptions<Req>['exclude'],
): (req: Req, url: string) => boolean {
  if (exclude === undefined) return () => false;
  if (typeof exclude === 'function') return (req) => exclude(req);
  return (_req, url) => {
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    return exclude.some((rule) =>
      typeof rule === 'string' ? path.startsWith(rule) : rule.test(path),
    );
  };
}

function describe(actor: Actor, http: HttpContext): string {
  const who = actor.name ?? actor.email ?? actor.id;
  const query = http.url.indexOf('?');
  const path = query < 0 ? http.url : http.url.slice(0, query);
  const status =
    http.status === undefined ? 'no response (the client went away)' : String(http.status);
  return `${who === undefined ? '' : `${who}: `}${http.method} ${path} → ${status}`;
}

function line(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  const text = value.replace(CONTROL, ' ').trim().slice(0, max);
  return text === '' ? undefined : text;
}
