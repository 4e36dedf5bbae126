/**
 * Request logging for plain `node:http` (and anything built on it, such as Express).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Recorder, type RequestLogOptions, requestLog } from './request-log.js';

/** What is read of a Node response to know when, and how, it ended. */
export interface NodeResponseLike {
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * Calls `ended` once: with `true` when the response has been sent in full, with `false` when
 * its connection closed before (the client went away). At once if that already happened.
 * @example whenResponseEnds(res, (sent) => console.log(sent ? 'sent' : 'client went away'));
 */
export function whenResponseEnds(res: NodeResponseLike, ended: (sent: boolean) => void): void {
  if (res.writableFinished || res.destroyed) {
    ended(res.writableFinished);
    return;
  }
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    ended(res.writableFinished);
  };
  res.once('finish', end);
  res.once('close', end);
}

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
    const remoteAddress = log.peer(req, req.socket.remoteAddress);
    whenResponseEnds(res, (sent) => {
      log.record(req, {
        method: req.method ?? 'GET',
        url,
        status: sent ? res.statusCode : undefined,
        durationMs: performance.now() - start,
        remoteAddress,
        header: (name) => first(req.headers[name]),
      });
    });
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
