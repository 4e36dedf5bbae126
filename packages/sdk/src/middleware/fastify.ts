/**
 * Request logging for Fastify (4 and 5): `await app.register(fastifyRequestLogger(client, options))`.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type NodeResponseLike, whenResponseEnds } from './node.js';
import { type Recorder, type RequestLogOptions, requestLog } from './request-log.js';

/** What the plugin reads of a Fastify request. */
export interface FastifyRequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: IncomingMessage;
}

/** What the plugin reads of a Fastify reply. */
export interface FastifyReplyLike {
  readonly statusCode: number;
  readonly raw: NodeResponseLike;
}

interface FastifyHooks {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void>,
  ): unknown;
}

/** A Fastify plugin (callback style), registered without encapsulation like `fastify-plugin`. */
export type FastifyRequestPlugin = (
  instance: object,
  options: unknown,
  done: (error?: Error) => void,
) => void;

/**
 * A Fastify plugin recording every request as a `requests` or `api` event. Its hooks apply to
 * the whole app (it is not encapsulated). Give your request type as `Req` to type the callbacks.
 * @example
 * await app.register(fastifyRequestLogger(client, { log: 'api', tenant: (req) => req.headers['x-tenant'] as string }));
 */
export function fastifyRequestLogger<Req extends FastifyRequestLike = FastifyRequestLike>(
  client: Recorder,
  options: RequestLogOptions<Req>,
): FastifyRequestPlugin {
  const log = requestLog(client, options);
  const plugin: FastifyRequestPlugin = (instance, _options, done) => {
    const app = instance as FastifyHooks;
    // The raw response's end rather than `onResponse`, which never runs for a client that went
    // away, and `onRequestAbort`, which runs only while the request body is still unread.
    app.addHook('onRequest', async (request, reply) => {
      const req = request as Req;
      if (log.excluded(req, request.url)) return;
      const start = performance.now();
      const remoteAddress = log.peer(req, request.raw.socket.remoteAddress);
      whenResponseEnds(reply.raw, (sent) => {
        log.record(req, {
          method: request.method,
          url: request.url,
          status: sent ? reply.statusCode : undefined,
          durationMs: performance.now() - start,
          remoteAddress,
          header: (name) => {
            const value = request.headers[name];
            return Array.isArray(value) ? value[0] : value;
          },
        });
      });
    });
    done();
  };
  // What `fastify-plugin` sets: the hooks apply to the app, not to a child context.
  Reflect.set(plugin, Symbol.for('skip-override'), true);
  Reflect.set(plugin, Symbol.for('fastify.display-name'), '@hindsight/sdk request logger');
  return plugin;
}
