/**
 * Request logging for Hono (4): `app.use(honoRequestLogger(client, options))`.
 */
import { type Recorder, type RequestLogOptions, requestLog } from './request-log.js';

/** What the middleware reads of a Hono context. */
export interface HonoContextLike {
  readonly req: {
    readonly method: string;
    /** The full URL. */
    readonly url: string;
    header(name: string): string | undefined;
  };
  readonly res: Response;
  readonly env: unknown;
}

/**
 * Hono middleware recording every request as a `requests` or `api` event. On Node
 * (`@hono/node-server`) the client's address comes from the socket; elsewhere give
 * `remoteAddress`. Give your context type as `C` to type the callbacks.
 * @example
 * app.use(honoRequestLogger(client, { log: 'api', tenant: (c) => c.req.header('x-tenant') }));
 */
export function honoRequestLogger<C extends HonoContextLike = HonoContextLike>(
  client: Recorder,
  options: RequestLogOptions<C>,
): (c: C, next: () => Promise<void>) => Promise<void> {
  const log = requestLog(client, options);
  return async (c, next) => {
    const url = pathAndQuery(c.req.url);
    if (log.excluded(c, url)) {
      await next();
      return;
    }
    const start = performance.now();
    try {
      await next();
    } finally {
      log.record(c, {
        method: c.req.method,
        url,
        status: c.res.status,
        durationMs: performance.now() - start,
        remoteAddress: nodeSocketAddress(c.env),
        header: (name) => c.req.header(name),
      });
    }
  };
}

/** `https://host:8080/a/b?x=1` → `/a/b?x=1`. */
function pathAndQuery(url: string): string {
  const scheme = url.indexOf('://');
  if (scheme < 0) return url;
  const slash = url.indexOf('/', scheme + 3);
  if (slash >= 0) return url.slice(slash);
  const question = url.indexOf('?', scheme + 3);
  return question < 0 ? '/' : `/${url.slice(question)}`;
}

/** The peer address `@hono/node-server` exposes as `env.incoming.socket`. */
function nodeSocketAddress(env: unknown): string | undefined {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)
    ?.incoming;
  const address = incoming?.socket?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}
