/**
 * Builds the console into `dist/`: `index.html` and content-hashed files under `assets/`, with
 * no inline script or style, so the server can serve it under a strict Content Security
 * Policy. The console may use `@hindsight/core` for types only, with two exceptions made for the
 * browser — `@hindsight/core/event-proof`, which checks an event's proof with Web Crypto, and
 * `@hindsight/core/text`, pure text functions — and never server code nor Node built-ins: any
 * other import of them that survives type erasure fails the build.
 */
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const FORBIDDEN = /^@hindsight\/(core|server)(\/|$)|packages\/server\/|^node:/;
/** What the console may import from `@hindsight/core` at run time: pure, for the browser. */
const ALLOWED = new Set(['@hindsight/core/event-proof', '@hindsight/core/text']);

/** Fails the build on a runtime import of `@hindsight/core` or of server code. */
function typesOnly(): Plugin {
  return {
    name: 'hindsight-types-only',
    enforce: 'pre',
    resolveId(source, importer) {
      if (FORBIDDEN.test(source) && !ALLOWED.has(source)) {
        this.error(
          `${importer ?? 'The console'} imports "${source}" at run time. The console may import ` +
            'only types from @hindsight/core (use `import type`), besides ' +
            '@hindsight/core/event-proof and @hindsight/core/text, and nothing from the server or Node.',
        );
      }
      return null;
    },
  };
}

export default defineConfig({
  plugins: [typesOnly(), react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: { '/v1': process.env['HINDSIGHT_URL'] ?? 'http://127.0.0.1:3100' },
  },
  preview: {
    proxy: { '/v1': process.env['HINDSIGHT_URL'] ?? 'http://127.0.0.1:3100' },
  },
});
