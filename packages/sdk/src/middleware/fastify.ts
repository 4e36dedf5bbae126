/**
 * Request logging for Fastify (4 and 5): `await app.register(fastifyRequestLogger(client, options))`.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
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
  readonly raw: { readonly writableFinished: boolean };
}

interface FastifyHooks {
  addHook(
    name: 'onRequest' | 'onResponse',
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
  const started = new WeakMap<object, number>();
  const plugin: FastifyRequestPlugin = (instance, _options, done) => {
    const app = instance as FastifyHooks;
    app.addHook('onRequest', async (request) => {
      if (!log.excluded(request as Req, request.url)) started.set(request, performance.now());
    });
    app.addHook('onResponse', async (request, reply) => {
      const start = started.get(request);
      if (start === undefined) return;
      log.record(request as Req, {
        method: request.method,
        url: request.url,
        status: reply.raw.writableFinished ? reply.statusCode : undefined,
        durationMs: performance.now() - start,
        remoteAddress: request.raw.socket.remoteAddress,
        header: (name) => {
          const value = request.headers[name];
          return Array.isArray(value) ? value[0] : value;
        },
      });
    });
    done();
  };
  // What `fastify-plugin` sets: the hooks apply to the app, not to a child context.
  Reflect.set(plugin, Symbol.for('skip-override'), true);
  Reflect.set(plugin, Symbol.for('fastify.display-name'), '@hindsight/sdk request logger');
  return plugin;
}
