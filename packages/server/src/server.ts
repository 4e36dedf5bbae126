/**
 * `hindsight serve`: opens the store, makes the first admin key, loads the demo tenant when
 * asked, and listens. The only place that binds a port.
 */
import type { FastifyInstance } from 'fastify';
import { createFirstApiKey } from './auth.js';
import { loadDemo } from './demo-loader.js';
import { createEnricher, type EnricherOptions } from './enrich.js';
import { createApp } from './http/app.js';
import { openStore, type StoreLocation } from './store/index.js';
import type { Store } from './store/types.js';

/** Options of `hindsight serve`. */
export interface ServeOptions extends StoreLocation {
  readonly port: number;
  readonly host: string;
  readonly demo: boolean;
  readonly geo?: EnricherOptions['geo'];
  /** Pino log level; `silent` turns logging off. */
  readonly logLevel?: string;
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
  const store = await openStore(options);
  try {
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
      logger: { level: options.logLevel ?? 'info' },
    });
    await app.listen({ port: options.port, host: options.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
    print(`Hindsight is listening on ${url} (store: ${store.kind}).`);
    if (options.demo) {
      print(`Try: curl -H "Authorization: Bearer $KEY" "${url}/v1/tenants/acme/events?limit=5"`);
    }
    return {
      app,
      store,
      url,
      close: async () => {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
