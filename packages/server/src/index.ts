/**
 * @hindsight/server — embed Hindsight in a Node.js process, or run it with the `hindsight` CLI.
 * @example
 * const server = await startServer({ port: 3100, host: '127.0.0.1', demo: false }, console.log);
 */
export { createApiKey, SCOPES, type Scope } from './auth.js';
export { createEnricher, type Enricher, type EnricherOptions, type GeoSource } from './enrich.js';
export { ERROR_CODES, type ErrorCode, HindsightError } from './errors.js';
export { type AppOptions, createApp } from './http/app.js';
export { type RunningServer, type ServeOptions, startServer } from './server.js';
export { openStore, type StoreLocation } from './store/index.js';
export type * from './store/types.js';
