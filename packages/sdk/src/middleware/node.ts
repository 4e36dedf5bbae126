/**
 * Request logging for plain `node:http` (and anything built on it, such as Express).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Recorder, type RequestLogOptions, requestLog } from './request-log.js';

/**
 * Returns a function to call first thing in your request handler: it records the request
 * when its response is finished (or the client goes away).
 * @example
 * const logRequest = nodeRequestLogger(client, { log: 'api', tenant: (req) => tenantOf(req) });
 * createServer((req, res) => { logRequest(req, res); route(req, res); });
 */
export function nodeRequestLogger<Req extends IncomingMessage = IncomingMessage>(
  client: Recorder,
  options: RequestLogOptions<Req>,
): (req: Req, res: ServerResponse) => void {
  const log = requestLog(client, options);
  return (req, res) => {
    // Express rewrites `url` inside mounted routers; `originalUrl` is what the client asked.
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    if (log.excluded(req, url)) return;
    const start = performance.now();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      log.record(req, {
        method: req.method ?? 'GET',
        url,
        status: res.writableFinished ? res.statusCode : undefined,
        durationMs: performance.now() - start,
        remoteAddress: req.socket.remoteAddress,
        header: (name) => first(req.headers[name]),
      });
    };
    res.once('finish', finish);
    res.once('close', finish);
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
