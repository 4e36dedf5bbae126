/**
 * Request logging for Express (4 and 5): `app.use(expressRequestLogger(client, options))`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeRequestLogger } from './node.js';
import type { Recorder, RequestLogOptions } from './request-log.js';

/**
 * Express middleware recording every request as a `requests` or `api` event. Mount it before
 * your routes; the `actor` callback runs after them, so it sees what authentication set.
 * Give Express's `Request` as `Req` to type the callbacks.
 * @example
 * app.use(expressRequestLogger<Request>(client, {
 *   log: 'requests', tenant: (req) => req.user?.tenant, actor: (req) => req.user?.actor,
 *   exclude: ['/healthz', '/assets/'],
 * }));
 */
export function expressRequestLogger<Req extends IncomingMessage = IncomingMessage>(
  client: Recorder,
  options: RequestLogOptions<Req>,
): (req: Req, res: ServerResponse, next: (error?: unknown) => void) => void {
  const logRequest = nodeRequestLogger(client, options);
  return (req, res, next) => {
    logRequest(req, res);
    next();
  };
}
