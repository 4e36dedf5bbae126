/**
 * `hindsight serve`: opens the store, makes the first admin key, loads the demo tenant when
 * asked, and listens. The only place that binds a port.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { note } from '@hindsight/core';
import type { FastifyInstance } from 'fastify';
import { createFirstApiKey } from './auth.js';
import { cosignNewest, DEFAULT_ORIGIN, loadOrCreateSigner } from './checkpoints.js';
import { loadDemo } from './demo-loader.js';
import { createEnricher, type EnricherOptions } from './enrich.js';
import { checkHookSecrets } from './hooks/index.js';
import { createApp, metricsOf, type RateLimit } from './http/app.js';
import type { HookOptions } from './http/hook-routes.js';
import { listenForMetrics } from './metrics.js';
import type { PdfFont } from './pdf-fonts.js';
import type { RetentionOptions } from './retention.js';
import type { ScrubOptions } from './scrub.js';
import { defaultSigningKeyFile, openStore, type StoreLocation } from './store/index.js';
import type { Store } from './store/types.js';

/** Options of `hindsight serve`. */
export interface ServeOptions extends StoreLocation {
  readonly port: number;
  readonly host: string;
  readonly demo: boolean;
  readonly geo?: EnricherOptions['geo'];
  /** Pino log level; `silent` turns logging off. */
  readonly logLevel?: string;
  /** Checkpoint origin prefix (default `hindsight`); checkpoints name `<origin>/<tenant>`. */
  readonly origin?: string;
  /**
   * The checkpoint signer key file (`PRIVATE+KEY+…`, as Go's note tooling writes it). Default
   * `<data>/signing.key`, created on first start.
   */
  readonly signingKey?: string;
  /** Also append every new checkpoint to this file (one JSON line each). */
  readonly anchorFile?: string;
  /** Also POST every new checkpoint (JSON) to this URL. */
  readonly anchorUrl?: string;
  /** Provider webhook secrets and the server's public URL (docs/webhooks.md). */
  readonly hooks?: HookOptions;
  /**
   * The built web console served at `/`; default the `dist` directory of `@hindsight/console`,
   * `null` for none (see `AppOptions.consoleDir`).
   */
  readonly consoleDir?: string | null;
  /** Requests per minute per key or viewer token (see `AppOptions.rateLimit`). */
  readonly rateLimit?: RateLimit;
  /** Producers' events held at once before 503 `overloaded` (see `AppOptions.maxPendingEvents`). */
  readonly maxPendingEvents?: number;
  /** Retention: the server's default and the background job (see `AppOptions.retention`). */
  readonly retention?: RetentionOptions & { readonly intervalMs?: number };
  /**
   * Also serve `GET /metrics` without a key on this address (`--metrics-host`,
   * `--metrics-port`), for a scrape on an internal network.
   */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** The reverse proxies whose `X-Forwarded-For` is believed (see `AppOptions.trustProxy`). */
  readonly trustProxy?: number | readonly string[];
  /** The integrity scrub (see `AppOptions.scrub`); off when absent. */
  readonly scrub?: ScrubOptions;
  /** Fallback fonts of PDF exports (see `AppOptions.pdfFonts`). */
  readonly pdfFonts?: readonly PdfFont[];
}

/** A running server. */
export interface RunningServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly url: string;
  /** Stops accepting requests, commits what was accepted, closes the store. */
  close(): Promise<void>;
}

/**
 * Starts a server; `print` receives the lines meant for the operator (the first admin key).
 * @example const server = await startServer({ port: 3100, host: '127.0.0.1', demo: true }, console.log);
 */
export async function startServer(
  options: ServeOptions,
  print: (line: string) => void,
): Promise<RunningServer> {
  const origin = options.origin ?? DEFAULT_ORIGIN;
  // The key given (which must exist: a mistyped path would start a new key), else the one
  // beside the database, made on the first start.
  if (options.signingKey !== undefined && !existsSync(options.signingKey)) {
    throw new Error(`No signing key file at ${options.signingKey}.`);
  }
  if (options.hooks) checkHookSecrets(options.hooks);
  const store = await openStore(options);
  try {
    // Made once the store opens: a database that cannot be reached leaves no new key behind.
    const file = resolve(options.signingKey ?? defaultSigningKeyFile(options));
    const loaded = loadOrCreateSigner(file, origin);
    const signer = loaded.signer;
    if (loaded.created) {
      print(`Created the checkpoint signing key ${file} (keep it secret, and back it up).`);
    }
    const rotated = await cosignNewest(store, signer, origin);
    if (rotated.cosigned.length > 0) {
      const some = rotated.cosigned.slice(0, 3).join(', ');
      print(
        `Warning: the newest checkpoints of ${rotated.cosigned.length} tenant(s) (${some}) were ` +
          `signed by another key (${rotated.keys.join(', ')}) than this server's ` +
          `(${note.verifierKeyText(signer)}); the server signed them with its own key as well. ` +
          'If the signing key was not rotated on purpose, stop and give the server its key ' +
          '(docs/operations.md#backups); if it was, auditors need both keys for the older ' +
          'checkpoints (docs/operations.md#rotating-the-signing-key).',
      );
    }
    if (rotated.mismatched.length > 0) {
      const some = rotated.mismatched.slice(0, 3).join(', ');
      print(
        `Warning: the stored tree of ${rotated.mismatched.length} tenant(s) (${some}) does not ` +
          'give the root of their newest checkpoint, which another key signed: the database was ' +
          'changed outside the server, or damaged. Export each log and check it with ' +
          '`hindsight verify` (docs/operations.md#rotating-the-signing-key).',
      );
    }
    const enricher = createEnricher(options.geo === undefined ? {} : { geo: options.geo });
    const first = await createFirstApiKey(store, { scopes: ['admin'], name: 'admin' });
    if (first) {
      print('Created the first API key (scope admin). It is shown only this once; keep it safe:');
      print(`  ${first.token}`);
    }
    if (options.demo) {
      const count = await loadDemo(store, enricher);
      if (count > 0) print(`Loaded the demo tenant "acme" with ${count} events.`);
    }
    const app = await createApp({
      store,
      enricher,
      checkpoints: {
        signer,
        origin,
        catchUp: true,
        anchors: {
          ...(options.anchorFile === undefined ? {} : { file: options.anchorFile }),
          ...(options.anchorUrl === undefined ? {} : { url: options.anchorUrl }),
        },
      },
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
      ...(options.consoleDir === undefined ? {} : { consoleDir: options.consoleDir }),
      ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
      ...(options.maxPendingEvents === undefined
        ? {}
        : { maxPendingEvents: options.maxPendingEvents }),
      ...(options.retention === undefined ? {} : { retention: options.retention }),
      ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
      ...(options.scrub === undefined ? {} : { scrub: options.scrub }),
      ...(options.pdfFonts === undefined ? {} : { pdfFonts: options.pdfFonts }),
      logger: { level: options.logLevel ?? 'info' },
    });
    await app
      .listen({ port: options.port, host: options.host })
      .catch((error: unknown) => Promise.reject(listenError('the API', '--port', options, error)));
    const url = urlOf(app.server, options.host);
    print(`Checkpoints are signed by ${note.verifierKeyText(signer)}`);
    print(`Hindsight is listening on ${url} (store: ${store.kind}).`);
    let metricsServer: Server | null = null;
    if (options.metrics) {
      const address = options.metrics;
      metricsServer = await listenForMetrics(metricsOf(app), address).catch(
        async (error: unknown) => {
          await app.close();
          throw listenError('the metrics', '--metrics-port', address, error);
        },
      );
      print(`Metrics, without a key: ${urlOf(metricsServer, options.metrics.host)}/metrics`);
    }
    print(`Open ${url}/ in a browser and sign in with an API key to read the logs.`);
    if (options.demo) {
      print(`Try: curl -H "Authorization: Bearer $KEY" "${url}/v1/tenants/acme/events?limit=5"`);
    }
    return {
      app,
      store,
      url,
      close: async () => {
        await app.close();
        await new Promise((done) => (metricsServer ? metricsServer.close(done) : done(null)));
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Why the server could not listen on an address, in words, naming what it was to serve and the
 * flag of its port.
 */
function listenError(
  what: string,
  portFlag: string,
  address: { readonly host: string; readonly port: number },
  error: unknown,
): unknown {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const why = LISTEN_ERRORS[code];
  if (why === undefined) return error;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const another = code === 'EADDRNOTAVAIL' ? 'another --host' : `another port with ${portFlag}`;
  return new Error(`Cannot serve ${what} on ${host}:${address.port}: ${why}; give ${another}.`);
}

/** The errors of listening on an address that an operator can act on. */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is in use (by another program, or another Hindsight)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no network interface of this machine has that address',
};

/** The `http://host:port` a server listens on. */
function urlOf(server: Server, host: string): string {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
