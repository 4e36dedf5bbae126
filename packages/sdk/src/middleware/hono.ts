/**
 * Request logging for Hono (4): `app.use(honoRequestLogger(client, options))`.
 */
import { performance } from 'node:perf_hooks';
import type { Actor } from '@hindsight/core';
import { currentActor } from '../actor.js';
import { type NodeResponseLike, whenResponseEnds } from './node.js';
import { type Recorder, type RequestLogOptions, requestLog } from './request-log.js';

/** What the middleware reads of a Hono context. */
export interface HonoContextLike {
  readonly req: {
    readonly method: string;
    /** The full URL. */
    readonly url: string;
    /** The standard request: its `signal` tells that the client went away. */
    readonly raw?: { readonly signal?: AbortSignal };
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
    const url = c.req.url;
    if (log.excluded(c, url)) {
      await next();
      return;
    }
    const start = performance.now();
    const remoteAddress = log.peer(c, nodeSocketAddress(c.env));
    const signal = c.req.raw?.signal;
    let leftAt = signal?.aborted ? start : undefined;
    signal?.addEventListener(
      'abort',
      () => {
        leftAt ??= performance.now();
      },
      { once: true },
    );
    const made = watchResponse(c);
    try {
      await next();
    } finally {
      const record = (sent: boolean) => {
        const actor = made.actor();
        log.record(c, {
          method: c.req.method,
          url,
          status: sent ? c.res.status : undefined,
          // Until the response was sent, or until the client went away.
          durationMs: (leftAt ?? performance.now()) - start,
          remoteAddress,
          ...(actor === undefined ? {} : { actor }),
          header: (name) => c.req.header(name),
        });
      };
      // On Node the response is written after the handlers returned: wait for its end.
      const outgoing = nodeOutgoing(c.env);
      if (outgoing === undefined) record(signal?.aborted !== true);
      else whenResponseEnds(outgoing, (sent) => record(sent && signal?.aborted !== true));
    }
  };
}

/**
 * The actor of `withActor` where the response was made. Hono's handlers run inside the
 * middleware that called `next()`, but this middleware resumes in its own async context, so a
 * `withActor(actor, next)` of a middleware registered after it is not current any more. The
 * context's `res` is set where the response is made (by the handler that returned it, a
 * middleware that replaced it, or the error handler): the actor current there is the one
 * Express and `node:http` see when the response ends.
 */
function watchResponse(c: object): { actor(): Actor | undefined } {
  let owner: object | null = c;
  let accessor: PropertyDescriptor | undefined;
  while (owner !== null && accessor === undefined) {
    accessor = Object.getOwnPropertyDescriptor(owner, 'res');
    owner = Object.getPrototypeOf(owner) as object | null;
  }
  const { get, set } = accessor ?? {};
  const own = Object.getOwnPropertyDescriptor(c, 'res');
  if (
    get === undefined ||
    set === undefined ||
    !Object.isExtensible(c) ||
    own?.configurable === false
  ) {
    // Not Hono's context: the actor current when the request is recorded is used.
    return { actor: () => undefined };
  }
  let actor: Actor | undefined;
  Object.defineProperty(c, 'res', {
    configurable: true,
    get(this: object) {
      return get.call(this);
    },
    set(this: object, value: unknown) {
      actor = currentActor();
      set.call(this, value);
    },
  });
  return { actor: () => actor };
}

/** What `@hono/node-server` exposes as `env.incoming` and `env.outgoing`. */
interface NodeEnv {
  readonly incoming?: { readonly socket?: { readonly remoteAddress?: unknown } };
  readonly outgoing?: Partial<NodeResponseLike>;
}

/** The socket's peer, read when the request starts (the socket forgets it once closed). */
function nodeSocketAddress(env: unknown): string | undefined {
  const address = (env as NodeEnv | undefined)?.incoming?.socket?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}

function nodeOutgoing(env: unknown): NodeResponseLike | undefined {
  const outgoing = (env as NodeEnv | undefined)?.outgoing;
  return typeof outgoing?.once === 'function' && typeof outgoing.writableFinished === 'boolean'
    ? (outgoing as NodeResponseLike)
    : undefined;
}
