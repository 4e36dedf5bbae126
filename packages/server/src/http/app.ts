/**
 * Builds the HTTP application without listening: tests drive it with `inject()`, and only
 * `serve` (see `../server.ts`) binds a port.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rateLimitPlugin from '@fastify/rate-limit';
import { type ErasureSubject, hasControlCharacters, note } from '@hindsight/core';
import { Type } from '@sinclair/typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { eraseFromArchives } from '../archive-erase.js';
import { authenticate, authorize, type Principal } from '../auth.js';
import { Checkpointer, type CheckpointOptions, DEFAULT_ORIGIN } from '../checkpoints.js';
import { CommitQueue, OVERLOADED_RETRY_AFTER_S } from '../commit-queue.js';
import type { Enricher } from '../enrich.js';
import { HindsightError } from '../errors.js';
import { ExportJobs } from '../export-jobs.js';
import { RecordedCalls } from '../hooks/recorded-calls.js';
import { Metrics } from '../metrics.js';
import type { PdfFont } from '../pdf-fonts.js';
import { RetentionJob, type RetentionOptions } from '../retention.js';
import { leadingProblems, ScrubJob, type ScrubOptions } from '../scrub.js';
import type { Store } from '../store/types.js';
import { VERSION } from '../version.js';
import { ViewerTokens } from '../viewer-tokens.js';
import { ACCESS_ROUTES } from './access-routes.js';
import { AuditTrail } from './audit.js';
import { BODY_ENCODINGS, bodyEncoding, decodeBody } from './body-encoding.js';
import { defaultConsoleDir, registerConsole } from './console.js';
import { ERASURE_ROUTES } from './erasure-routes.js';
import { EXPORT_JOB_ROUTES } from './export-job-routes.js';
import { HOOK_ROUTES, type HookOptions } from './hook-routes.js';
import { openApiDocument } from './openapi.js';
import { RETENTION_ROUTES } from './retention-routes.js';
import { ROUTES, type RouteContext, type RouteSpec, recordEvents } from './routes.js';
import { VIEW_ROUTES } from './view-routes.js';

/** Requests per minute per caller (see `AppOptions.rateLimit`); 0 is unlimited. */
export interface RateLimit {
  readonly read: number;
  readonly write: number;
}

/** Generous for people and programs alike; a runaway loop or a stolen key is slowed down. */
export const DEFAULT_RATE_LIMIT: RateLimit = { read: 1200, write: 60_000 };

/** The largest request body accepted (SPEC §3). */
export const BODY_LIMIT = 4 * 1024 * 1024;

/** What the app is built from. */
export interface AppOptions {
  readonly store: Store;
  readonly enricher: Enricher;
  /**
   * How checkpoints are signed. `hindsight serve` passes the server's key; without it (tests,
   * embedding) a key is made for this app alone and origin is `hindsight`.
   */
  readonly checkpoints?: CheckpointOptions;
  /** Provider webhook secrets (`POST /v1/hooks/{provider}`); none configured by default. */
  readonly hooks?: HookOptions;
  /**
   * Requests per minute per API key or viewer token (per client IP without either): `read` for
   * every request but `write`s (`POST /v1/events` and webhooks); 0 is unlimited. Default
   * {@link DEFAULT_RATE_LIMIT}.
   */
  readonly rateLimit?: RateLimit;
  /**
   * Most events from producers (`POST /v1/events`, webhooks) held at once, from before they are
   * prepared until they are durable; more are answered 503 `overloaded` with `Retry-After`.
   * Default `DEFAULT_MAX_PENDING_EVENTS` (20,000); 0 is no limit.
   */
  readonly maxPendingEvents?: number;
  /**
   * Where background export jobs write their files; default a new directory under the system's
   * temporary directory. Their files are removed when the app closes.
   */
  readonly exportDir?: string;
  /** Fastify logger options; off by default (tests). */
  readonly logger?: FastifyServerOptions['logger'];
  /**
   * The built web console served at `/` (Vite's `dist`: `index.html` and `assets/`). Default:
   * the `dist` directory of the `@hindsight/console` package ({@link defaultConsoleDir}); `null`
   * serves no console.
   */
  readonly consoleDir?: string | null;
  /**
   * Retention (issue #9, docs/retention.md): with `intervalMs`, a background job removes
   * expired events every `intervalMs`, from start to close. None by default.
   */
  readonly retention?: RetentionOptions & { readonly intervalMs?: number };
  /**
   * The integrity scrub (docs/operations.md#the-integrity-scrub): every tenant's stored log
   * checked with the offline verifier every `intervalMs`, from start to close. None by default
   * (`hindsight serve` runs it daily).
   */
  readonly scrub?: ScrubOptions;
  /**
   * The reverse proxies in front of the server, whose `X-Forwarded-For` is believed: their
   * addresses, CIDRs or `loopback` / `linklocal` / `uniquelocal`, or how many hops of proxies
   * there are. The client address they forward is then the caller's address: in the `audit`
   * log's reads, the slowing of invalid credentials and the rate limit of requests without a
   * key. None by default (the address the connection comes from).
   */
  readonly trustProxy?: number | readonly string[];
  /**
   * Fonts for the characters of events that DejaVu Sans lacks in PDF exports (`--pdf-font`,
   * loaded with `loadPdfFont`); none by default.
   */
  readonly pdfFonts?: readonly PdfFont[];
  /**
   * How often the `audit` entries of admin changes left pending (the server stopped, or the
   * store was unavailable, between a change and its entry) are appended; default
   * `AUDIT_RETRY_MS` (10 s). They are also appended when the server starts.
   */
  readonly auditRetryMs?: number;
}

/** The routes the app adds beside the v1 API: health, metrics and OpenAPI. */
function builtinRoutes(getDocument: () => unknown, metrics: Metrics): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/v1/openapi.json',
      operationId: 'openApi',
      summary: 'This API as OpenAPI 3.1',
      scope: null,
      success: { status: 200, description: 'The OpenAPI document.', schema: Type.Object({}) },
      errors: [],
      handler: async () => getDocument(),
    },
    {
      method: 'GET',
      path: '/metrics',
      operationId: 'metrics',
      summary: "The server's metrics, for Prometheus",
      description:
        'Requests and latency per route, error codes, group commits, checkpoints and anchors, ' +
        'and the process, in the Prometheus text format (docs/operations.md). They span every ' +
        'tenant and name none, so a key limited to one tenant may not read them.',
      scope: 'metrics:read',
      success: {
        status: 200,
        description: 'The metrics.',
        schema: Type.String(),
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
      },
      errors: ['unauthorized', 'forbidden'],
      handler: async (_ctx, _req, _reply, principal) => {
        if (principal?.tenant !== null) {
          throw new HindsightError(
            'forbidden',
            'Metrics span every tenant: read them with a key not limited to one.',
          );
        }
        return metrics.text();
      },
    },
    {
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness and readiness',
      description: 'Answers 200 when the store answers, 503 `store_unavailable` otherwise.',
      scope: null,
      success: {
        status: 200,
        description: 'Serving.',
        schema: Type.Object({
          status: Type.Literal('ok'),
          store: Type.String(),
          geoSource: Type.Union([Type.String(), Type.Null()]),
        }),
      },
      errors: ['store_unavailable'],
      handler: async (ctx) => {
        try {
          await ctx.store.ping();
        } catch (cause) {
          throw new HindsightError('store_unavailable', 'The event store does not answer.', {
            cause,
          });
        }
        return {
          status: 'ok',
          store: ctx.store.kind,
          geoSource: ctx.enricher.geoSource?.attribution ?? null,
        };
      },
    },
  ];
}

/** Parameters may hold tab and line breaks, as multi-line event fields do. */
const LINE_BREAKS = { lineBreaks: true } as const;

/**
 * Refuses what validation let through but no store can take or match: a number that is not
 * finite — Ajv coerces the text `Infinity` (or `1e309`) to a number and then skips `minimum`
 * and `maximum`, which it checks on finite numbers only — and a string with a control
 * character. Walks a route's parameters and its JSON body.
 */
function refuseUnreadable(context: string, value: unknown, path = ''): void {
  const refuse = (message: string) => {
    throw new HindsightError(
      'invalid_request',
      `Invalid ${context}: ${context}${path} ${message}.`,
      {
        details: [{ path: `/${context}${path}`, message }],
      },
    );
  };
  if (typeof value === 'number' && !Number.isFinite(value)) refuse('must be a finite number');
  // C0 controls but tab and line breaks, DEL and C1 controls: no stored value holds one (an
  // event's fields refuse them), PostgreSQL's text refuses U+0000, and an `audit` entry quoting
  // one would not validate.
  if (typeof value === 'string') {
    if (hasControlCharacters(value, LINE_BREAKS)) {
      refuse('must not contain control characters other than tab and line breaks');
    }
    // A lone surrogate: no store keeps it as given, and no event takes it.
    if (!value.isWellFormed()) refuse('must be valid Unicode (lone surrogate)');
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    if (hasControlCharacters(key, LINE_BREAKS) || !key.isWellFormed()) {
      refuse('must not contain control characters or lone surrogates in its names');
    }
    refuseUnreadable(context, item, `${path}/${key}`);
  }
}

/**
 * Refuses a query string with a malformed %-escape or one that is not UTF-8 (`%zz`, `%FF`,
 * `%C0%AF`): the query parser would pass it on as other text than was sent.
 */
function refuseMalformedQuery(url: string): void {
  const start = url.indexOf('?');
  if (start < 0 || !url.includes('%', start)) return;
  for (const part of url.slice(start + 1).split('&')) {
    try {
      decodeURIComponent(part);
    } catch {
      throw new HindsightError(
        'invalid_request',
        'Invalid querystring: it holds a malformed %-escape, or one that is not UTF-8.',
        { details: [{ path: '/querystring', message: `cannot be read: "${part.slice(0, 100)}"` }] },
      );
    }
  }
}

/** Maps any error to the API's error body. */
function toHindsightError(error: FastifyError | HindsightError | Error): HindsightError {
  if (error instanceof HindsightError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const context = fe.validationContext ?? 'request';
    // A choice among words (`order`, `format`) fails as one "must be equal to constant" per
    // word and a "must match a schema in anyOf": told instead as the words it may be.
    const choices = new Map<string, unknown[]>();
    for (const v of fe.validation) {
      if (v.keyword !== 'const') continue;
      const allowed = (v.params as { allowedValue?: unknown }).allowedValue;
      choices.set(v.instancePath, [...(choices.get(v.instancePath) ?? []), allowed]);
    }
    const details = fe.validation
      .filter((v) => v.keyword !== 'const' || !choices.has(v.instancePath))
      .map((v) => {
        const words = v.keyword === 'anyOf' ? choices.get(v.instancePath) : undefined;
        return {
          path: `/${context}${v.instancePath}${
            v.keyword === 'additionalProperties'
              ? `/${String((v.params as { additionalProperty?: string }).additionalProperty)}`
              : ''
          }`,
          message: words
            ? `must be one of ${words.map((w) => JSON.stringify(w)).join(', ')}`
            : (v.message ?? 'is invalid'),
        };
      });
    const [first] = details;
    const message = first ? `${first.path.slice(1)} ${first.message}` : fe.message;
    return new HindsightError('invalid_request', `Invalid ${context}: ${message}.`, {
      details,
      cause: error,
    });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HindsightError('payload_too_large', 'The body is larger than 4 MiB.', {
        cause: error,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HindsightError('unsupported_media_type', 'Send the body as application/json.', {
        cause: error,
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HindsightError('invalid_json', 'The body is empty; send a JSON event.', {
        cause: error,
      });
    default:
      if (fe.statusCode === 413) {
        return new HindsightError('payload_too_large', 'The body is too large.', { cause: error });
      }
      if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
        return new HindsightError('invalid_request', fe.message, { cause: error });
      }
      return new HindsightError('internal_error', 'Something went wrong on our side.', {
        cause: error,
      });
  }
}

/** The query string of a route that takes no parameters. */
const NO_PARAMETERS = Type.Object({}, { additionalProperties: false });

/** The longest path parameter the router matches, percent-encoded. */
const MAX_PARAM_LENGTH = 2048;

/** Each app's metrics, for a listener of their own (`listenForMetrics`). */
const appMetrics = new WeakMap<FastifyInstance, Metrics>();

/** The metrics an app built by {@link createApp} counts. */
export function metricsOf(app: FastifyInstance): Metrics {
  const metrics = appMetrics.get(app);
  if (metrics === undefined) throw new Error('Not an app built by createApp.');
  return metrics;
}

/**
 * Builds the Fastify app for a store.
 * @example const app = await createApp({ store, enricher }); await app.inject({ url: '/healthz' });
 */
export async function createApp(options: AppOptions): Promise<FastifyInstance> {
  // Its gauges read the queue and the checkpointer below when scraped.
  const metrics = new Metrics(options.store.kind, {
    queuedEvents: () => queue.queuedEvents,
    pendingEvents: () => queue.pendingEvents,
    checkpoints: () => checkpoints.stats(),
    scrub: () => scrub?.stats() ?? null,
    auditPending: () => ctx.audit.left,
  });
  const proxies = options.trustProxy;
  // A number of hops is a function of the hop, as `proxy-addr` reads one.
  const trustProxy: boolean | string[] | ((address: string, hop: number) => boolean) =
    proxies === undefined
      ? false
      : typeof proxies === 'number'
        ? (_address, hop) => hop < proxies
        : [...proxies];
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy,
    // Request lines are not logged: they would carry search queries of customers' logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // An event id may be 128 characters, up to 9 each once percent-encoded in a path; the
    // router's default of 100 answered `404 No route` for a long one.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A request Node.js refuses before Fastify sees it (headers too large, not HTTP, too slow)
    // gets the API's error body too, then the connection is closed.
    clientErrorHandler: (error, socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const mapped =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? new HindsightError('headers_too_large', 'The request headers are too large.')
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? new HindsightError('request_timeout', 'The request did not arrive in time.')
            : new HindsightError('invalid_request', 'The request is not valid HTTP.');
      metrics.error(mapped.code);
      if (socket.writable) {
        const body = JSON.stringify(mapped.toBody());
        socket.write(
          `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status]}\r\nContent-Type: ` +
            `application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
            `Connection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(error);
    },
    // A URL Fastify cannot route (a malformed %-escape) gets the API's error body too.
    frameworkErrors: (error, _req, reply) => {
      const mapped = toHindsightError(error);
      metrics.error(mapped.code);
      void (reply as FastifyReply)
        .code(mapped.status)
        .headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' })
        .send(mapped.toBody());
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  appMetrics.set(app, metrics);
  const queue = new CommitQueue(options.store, {
    observe: (observation) => metrics.commit(observation),
    ...(options.maxPendingEvents === undefined
      ? {}
      : { maxPendingEvents: options.maxPendingEvents }),
  });
  const signing = options.checkpoints ?? {
    signer: note.signerFromSeed(DEFAULT_ORIGIN, randomBytes(32)),
    origin: DEFAULT_ORIGIN,
  };
  const checkpoints = new Checkpointer(options.store, {
    ...signing,
    // Once when an anchor starts failing and once when it recovers; the backlog is a metric.
    onAnchorChange: (change) => {
      signing.onAnchorChange?.(change);
      if (change.ok) app.log.info(`The checkpoint anchor (${change.anchor}) works again.`);
      else {
        app.log.warn(
          { err: change.error, anchor: change.anchor, backlog: change.backlog },
          `The checkpoint anchor (${change.anchor}) failed; its checkpoints are kept and retried.`,
        );
      }
    },
  });
  if (signing.catchUp) {
    checkpoints.catchUp().catch((error: unknown) => {
      app.log.warn({ err: error }, 'Could not find the logs that grew past their checkpoints.');
    });
  }
  // Every server with the same signing key accepts the viewer tokens of the others.
  const tokens = ViewerTokens.fromSecret(signing.signer.privateKeyText);
  // The bytes of each request's body, for the webhooks whose signatures cover them.
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  const archiveDir = options.retention?.archiveDir;
  const ctx: RouteContext = {
    store: options.store,
    enricher: options.enricher,
    queue,
    checkpoints,
    hooks: options.hooks ?? {},
    hookCalls: new RecordedCalls(options.store),
    pdfFonts: options.pdfFonts ?? [],
    rawBody: (req) => rawBodies.get(req),
    tokens,
    audit: new AuditTrail(
      async (event) => {
        await recordEvents(ctx, { events: [event] }, null);
      },
      options.store,
      {
        ...(options.auditRetryMs === undefined ? {} : { retryMs: options.auditRetryMs }),
        onError: (error) =>
          app.log.error(
            { err: error },
            'The audit entry of an admin change could not be appended.',
          ),
      },
    ),
    exports: new ExportJobs(
      options.exportDir ?? join(tmpdir(), `hindsight-exports-${randomBytes(6).toString('hex')}`),
    ),
    ...(archiveDir === undefined
      ? {}
      : {
          archives: {
            erase: async (tenant: string, subject: ErasureSubject) => {
              await retention?.idle();
              return eraseFromArchives(archiveDir, tenant, subject);
            },
          },
        }),
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const parse = (buffer: Buffer) => {
      rawBodies.set(req, buffer);
      if (!isUtf8(buffer)) {
        done(new HindsightError('invalid_json', 'The body is not valid UTF-8.'), undefined);
        return;
      }
      try {
        done(null, JSON.parse(buffer.toString('utf8')));
      } catch (error) {
        done(
          new HindsightError(
            'invalid_json',
            `The body is not valid JSON: ${(error as Error).message}`,
          ),
          undefined,
        );
      }
    };
    const coding = bodyEncoding(req.headers['content-encoding']);
    if (coding === null) parse(body as Buffer);
    else
      decodeBody(body as Buffer, coding, BODY_LIMIT).then(parse, (error) => done(error, undefined));
  });

  app.setErrorHandler((error: FastifyError | HindsightError, request, reply) => {
    const mapped = toHindsightError(error);
    metrics.error(mapped.code);
    if (mapped.status >= 500) request.log.error({ err: error }, mapped.message);
    // RFC 9110 §15.5.16: a 415 names the content codings the server would have taken.
    if (mapped.code === 'unsupported_media_type')
      void reply.header('accept-encoding', BODY_ENCODINGS);
    if (mapped.code === 'overloaded') void reply.header('retry-after', OVERLOADED_RETRY_AFTER_S);
    void reply.code(mapped.status).send(mapped.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new HindsightError(
      'not_found',
      `No route ${request.method} ${request.url.split('?')[0]}. See GET /v1/openapi.json.`,
    );
    metrics.error(error.code);
    void reply.code(404).send(error.toBody());
  });
  // Writes are shed before their bodies are read when no room is left (after authentication:
  // an unknown caller still gets 401).
  app.addHook('preParsing', async (request) => {
    if (isWrite(request)) queue.refuseWhenFull();
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.request(
      request.method,
      request.routeOptions.url ?? null,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  // Stopping: Node.js closes the connections idle at that moment only, so one whose request was
  // in flight stayed open after answering until its keep-alive timeout (72 s) and held up the
  // stop; and a connection on which no request came yet (a browser opens some ahead of need)
  // counts as busy until its headers time out (30–60 s). While closing, answers say
  // `Connection: close`, connections that fall idle are closed every 100 ms, and once no
  // request is in flight every connection is.
  let closing = false;
  let sweep: NodeJS.Timeout | undefined;
  let inFlight = 0;
  app.server.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
  });
  app.addHook('preClose', async () => {
    closing = true;
    sweep = setInterval(() => {
      app.server.closeIdleConnections();
      if (inFlight === 0) app.server.closeAllConnections();
    }, 100).unref();
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
    reply.header('x-content-type-options', 'nosniff');
    // The API's answers are never cached; the console's files say how they may be.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  const retention =
    options.retention?.intervalMs === undefined
      ? null
      : new RetentionJob(
          options.store,
          { ...options.retention, intervalMs: options.retention.intervalMs },
          {
            record: async (event) => {
              await recordEvents(ctx, { events: [event] }, null);
            },
            onError: (error) => app.log.error({ err: error }, 'A retention run failed.'),
          },
        );
  const scrub =
    options.scrub === undefined
      ? null
      : new ScrubJob(
          options.store,
          checkpoints,
          // Each log must also reach the newest checkpoint the anchor file holds for it.
          {
            ...options.scrub,
            ...(signing.anchors?.file ? { anchorFile: signing.anchors.file } : {}),
          },
          {
            quiet: async () => retention?.idle(),
            record: async (event) => {
              await recordEvents(ctx, { events: [event] }, null);
            },
            failed: ({ tenant, report }) =>
              app.log.error(
                {
                  tenant,
                  problems: leadingProblems(report, 5).map((p) => p.message),
                  problemCount: report.problems.length,
                },
                'The integrity scrub found a log that does not verify: export it and check it with `hindsight verify` (docs/operations.md#the-integrity-scrub).',
              ),
            skipped: (tenants, maxEvents) =>
              app.log.warn(
                { tenants: tenants.slice(0, 10), count: tenants.length },
                `The integrity scrub did not check ${tenants.length} log(s) of more than ${maxEvents} events (--scrub-max-events): check them with \`hindsight scrub\` (docs/operations.md#the-integrity-scrub).`,
              ),
            onError: (error) => app.log.error({ err: error }, 'An integrity scrub run failed.'),
          },
        );
  app.addHook('onReady', async () => {
    ctx.audit.start();
    retention?.start();
    scrub?.start();
  });
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await ctx.audit.stop();
    await scrub?.stop();
    await retention?.stop();
    await ctx.exports.close();
    await queue.drain();
    await checkpoints.flush();
  });

  let document: unknown;
  const routes = [
    ...ROUTES,
    ...VIEW_ROUTES,
    ...ACCESS_ROUTES,
    ...RETENTION_ROUTES,
    ...EXPORT_JOB_ROUTES,
    ...ERASURE_ROUTES,
    ...HOOK_ROUTES,
    ...builtinRoutes(() => document, metrics),
  ];
  document = openApiDocument(routes, VERSION);
  // Who is calling, per request: set before the body is read, so that an unauthenticated
  // request never costs a body parse.
  const principals = new WeakMap<FastifyRequest, Principal>();
  const limits = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  await registerRateLimit(app, limits, (req) => principals.get(req));
  // Guessing keys or tokens is slowed down before any is known: by address.
  const failures = new FailedAuth(
    limits.read === 0 ? 0 : Math.max(30, Math.ceil(limits.read / 40)),
  );
  const addRoute = (instance: FastifyInstance, route: RouteSpec) => {
    const { scope } = route;
    instance.route({
      method: route.method,
      url: route.path,
      schema: {
        ...(route.params ? { params: route.params } : {}),
        // A route that takes no query parameters refuses them, as the others refuse unknown
        // ones: a misspelt filter never silently does nothing.
        querystring: route.querystring ?? NO_PARAMETERS,
      },
      ...(scope === null
        ? {}
        : {
            onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
              let principal: Principal;
              try {
                principal = await authenticate(options.store, req.headers.authorization, tokens);
              } catch (error) {
                // Valid credentials always pass; an address that keeps sending invalid ones is
                // told to wait instead.
                const wait =
                  error instanceof HindsightError && error.code === 'unauthorized'
                    ? failures.count(req.ip)
                    : 0;
                if (wait === 0) throw error;
                void reply.header('retry-after', String(wait));
                throw new HindsightError(
                  'rate_limited',
                  `Too many requests with invalid credentials from this address; retry in ${wait} seconds.`,
                );
              }
              const { tenant } = req.params as { tenant?: string };
              authorize(principal, scope, tenant, route.permission);
              principals.set(req, principal);
            },
          }),
      handler: async (req, reply) => {
        refuseMalformedQuery(req.url);
        refuseUnreadable('querystring', req.query);
        refuseUnreadable('params', req.params);
        // Events are checked field by field by the ingest path itself.
        if (route.body !== undefined && route.operationId !== 'ingestEvents') {
          refuseUnreadable('body', req.body);
        }
        const result = await route.handler(ctx, req, reply, principals.get(req) ?? null);
        // Set only on success: an error is always JSON.
        const { contentType } = route.success;
        if (contentType !== undefined && !reply.hasHeader('content-type')) {
          void reply.type(typeof contentType === 'string' ? contentType : contentType[0]);
        }
        return result;
      },
    });
  };
  for (const route of routes) if (!route.formBody) addRoute(app, route);
  // Form bodies only where a route takes them: everywhere else they stay a 415.
  await app.register(async (child) => {
    child.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'buffer' },
      (req, body, done) => {
        decodeBody(body as Buffer, bodyEncoding(req.headers['content-encoding']), BODY_LIMIT).then(
          (buffer) => {
            rawBodies.set(req, buffer);
            done(null, Object.fromEntries(new URLSearchParams(buffer.toString('utf8'))));
          },
          (error) => done(error, undefined),
        );
      },
    );
    for (const route of routes) if (route.formBody) addRoute(child, route);
  });
  const consoleDir = options.consoleDir === undefined ? defaultConsoleDir() : options.consoleDir;
  if (consoleDir !== null) {
    registerConsole(app, consoleDir, {
      tenantOf: async (token) => {
        const principal = await authenticate(options.store, `Bearer ${token}`, tokens);
        if (!principal.viewer?.permissions.includes('view')) {
          throw new HindsightError('forbidden', 'Not a viewer token that may view.');
        }
        return principal.viewer.tenant;
      },
      settings: async (tenant) => (await options.store.tenantSettings(tenant)).settings,
    });
  }
  return app;
}

/** Whether a request writes producers' events: `POST /v1/events` and the provider webhooks. */
function isWrite(req: FastifyRequest): boolean {
  return req.method === 'POST' && /^\/v1\/(events(\?|$)|hooks\/)/.test(req.url);
}

/**
 * Limits each caller — its API key or viewer token, after authentication; else its IP — to
 * `limit` requests a minute, writes and reads apart. Over the limit: 429 `rate_limited` with
 * `Retry-After`. Counted in this process's memory: servers sharing a database count apart.
 */
async function registerRateLimit(
  app: FastifyInstance,
  limit: RateLimit,
  principalOf: (req: FastifyRequest) => Principal | undefined,
): Promise<void> {
  await app.register(rateLimitPlugin, {
    global: true,
    // After `onRequest`, where the caller is authenticated.
    hook: 'preHandler',
    timeWindow: 60_000,
    keyGenerator: (req) =>
      `${isWrite(req) ? 'write' : 'read'} ${principalOf(req)?.id ?? `ip:${req.ip}`}`,
    max: (_req, key) => (key.startsWith('write') ? limit.write : limit.read),
    allowList: (req) => (isWrite(req) ? limit.write : limit.read) <= 0,
    errorResponseBuilder: (_req, context) =>
      new HindsightError(
        'rate_limited',
        `Too many requests: at most ${context.max} a minute. Retry in ${context.after}.`,
      ),
  });
}

/**
 * Requests with unknown or invalid credentials per client address, in one-minute windows: past
 * `max` in a window, they are answered 429 instead of 401 until the window ends (0: unlimited).
 * Kept in memory; ended windows are forgotten.
 */
class FailedAuth {
  readonly #max: number;
  readonly #windows = new Map<string, { count: number; endsAt: number }>();

  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Counts a failed authentication from `ip`; resolves the seconds it should wait when it is
   * past the limit, else 0.
   */
  count(ip: string): number {
    if (this.#max === 0) return 0;
    const now = Date.now();
    let window = this.#windows.get(ip);
    if (!window || window.endsAt <= now) {
      if (this.#windows.size > 100_000) this.#forgetEnded(now);
      window = { count: 0, endsAt: now + 60_000 };
      this.#windows.set(ip, window);
    }
    window.count++;
    return window.count > this.#max ? Math.ceil((window.endsAt - now) / 1000) : 0;
  }

  #forgetEnded(now: number): void {
    for (const [ip, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(ip);
  }
}
