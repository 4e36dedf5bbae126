/**
 * Test infrastructure, not a stand-in for Hindsight: a real `node:http` proxy in front of the
 * real server that forwards every request unless a rule answers it itself (a 429 with
 * `Retry-After`, a 503) or holds the answer back — what a gateway or a bad network does.
 * It logs every request it received, with its body.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A request the proxy received. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  /** The body's text, decompressed when it came with a `Content-Encoding`. */
  readonly body: string;
  /** Its `Content-Encoding`, if any; it is forwarded with the body as it came. */
  readonly encoding: string | undefined;
  /** `performance.now()` when it arrived. */
  readonly at: number;
}

/** What the proxy does with a request. */
export type ProxyAction =
  | {
      readonly forward: true;
      readonly delayAnswerMs?: number;
      /** Forward, then cut the connection instead of answering: the answer is lost. */
      readonly dropAnswer?: boolean;
    }
  | {
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: string;
    };

/** A running proxy. */
export interface TestProxy {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** The POSTs to /v1/events, with the events of each. */
  posts(): Array<{ at: number; events: Array<{ id: string; [key: string]: unknown }> }>;
  close(): Promise<void>;
}

const FORWARD: ProxyAction = { forward: true };

/**
 * Starts a proxy to `target`; `rule` decides per request (index counts from 0).
 * @example const proxy = await startProxy(hindsight.url, (req, i) => i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { forward: true });
 */
export async function startProxy(
  target: string,
  rule: (request: SeenRequest, index: number) => ProxyAction = () => FORWARD,
): Promise<TestProxy> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const encoding = req.headers['content-encoding'];
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
        encoding,
        at: performance.now(),
      };
      const action = rule(seen, requests.length);
      requests.push(seen);
      if (!('forward' in action)) {
        res.writeHead(action.status, {
          'content-type': 'application/json',
          ...action.headers,
        });
        res.end(action.body ?? '{}');
        return;
      }
      const upstream = await fetch(`${target}${seen.url}`, {
        method: seen.method,
        headers: {
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}),
          ...(encoding ? { 'content-encoding': encoding } : {}),
        },
        ...(seen.method === 'GET' || seen.method === 'HEAD' ? {} : { body: raw }),
      });
      const text = await upstream.text();
      if (action.dropAnswer === true) {
        res.destroy();
        return;
      }
      if (action.delayAnswerMs !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, action.delayAnswerMs));
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(text);
    })().catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    posts: () =>
      requests
        .filter((r) => r.method === 'POST' && r.url === '/v1/events')
        .map((r) => ({
          at: r.at,
          events: (JSON.parse(r.body) as { events: Array<{ id: string }> }).events,
        })),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
