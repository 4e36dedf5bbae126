/**
 * Serves the web console (`@hindsight/console`, built by Vite into its `dist` directory) at `/`:
 * `index.html` for `/` and every client-side route (a path whose last segment has no file
 * extension), the hashed files under `/assets/` cached for a year. Files are read with
 * `node:fs`, only from inside the directory; `/v1/…`, `/healthz…` and `/metrics…` stay the API's.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAME_ANCESTOR_PATTERN, type TenantSettings } from '@hindsight/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HindsightError } from '../errors.js';
import { EMBED_ELEMENT_JS } from './embed-element.js';

/** The Content-Security-Policy of the console, with who may frame it and which images load. */
function consolePolicy(frameAncestors: string, imageOrigins: readonly string[] = []): string {
  return (
    "default-src 'self'; script-src 'self'; style-src 'self'; " +
    `img-src 'self' data:${imageOrigins.map((o) => ` ${o}`).join('')}; ` +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; " +
    `frame-ancestors ${frameAncestors}`
  );
}

/** Headers of every console response (X-Content-Type-Options is set on all responses). */
export const CONSOLE_HEADERS = {
  'content-security-policy': consolePolicy("'none'"),
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

/** What the embedded console (`/embed?token=…`) needs from the app. */
export interface EmbedOptions {
  /** The tenant of a valid viewer token; throws for any other. */
  readonly tenantOf: (token: string) => Promise<string>;
  readonly settings: (tenant: string) => Promise<TenantSettings>;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * Where the console's build is by default: the `dist` directory of the `@hindsight/console`
 * package, as installed beside this one (npm workspaces link it into `node_modules`), else as
 * its sibling in `packages/`. It may not be built yet.
 */
export function defaultConsoleDir(): string {
  try {
    const manifest = createRequire(import.meta.url).resolve('@hindsight/console/package.json');
    return join(dirname(manifest), 'dist');
  } catch {
    // From `packages/server/{src,dist}/http/`.
    return fileURLToPath(new URL('../../../console/dist/', import.meta.url));
  }
}

function notBuilt(): HindsightError {
  return new HindsightError(
    'not_found',
    'The web console is not built. Run "npm run build" in the Hindsight repository (it builds ' +
      'packages/console into packages/console/dist) and reload; the API under /v1 works without it.',
  );
}

/** A regular file's bytes, when `file` is one inside `root` (after symbolic links), else null. */
async function readInside(root: string, file: string): Promise<Buffer | null> {
  try {
    const real = await realpath(file);
    if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) return null;
    return await readFile(real);
  } catch {
    return null;
  }
}

/**
 * Adds the console's routes (GET, and HEAD through Fastify) for the files in `dir`.
 * @example registerConsole(app, defaultConsoleDir())
 */
export function registerConsole(app: FastifyInstance, dir: string, embed?: EmbedOptions): void {
  let root: string | undefined;
  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    const pathname = req.url.split('?', 1)[0] ?? '/';
    if (/^\/(v1|healthz|metrics)(\/|$)/.test(pathname)) return reply.callNotFound();
    let path: string;
    try {
      path = decodeURIComponent(pathname);
    } catch {
      return reply.callNotFound();
    }
    const segments = path.split('/').slice(1);
    // No `..`, no hidden files, no Windows separators or NUL: anything odd is simply not there.
    if (segments.some((s) => s.startsWith('.') || /[\\\0]/.test(s))) return reply.callNotFound();
    // The directory may be built after the server started; resolved once it exists.
    root ??= await realpath(resolve(dir)).catch(() => undefined);
    const last = segments[segments.length - 1] ?? '';
    const isFile = extname(last) !== '';
    const body = root && (await readInside(root, join(root, isFile ? path : 'index.html')));
    if (!body) {
      if (isFile) return reply.callNotFound();
      throw notBuilt();
    }
    const ext = isFile ? extname(last).toLowerCase() : '.html';
    return reply
      .headers(CONSOLE_HEADERS)
      .header('cache-control', isFile && path.startsWith('/assets/') ? IMMUTABLE : 'no-cache')
      .type(TYPES[ext] ?? 'application/octet-stream')
      .send(body);
  };
  app.get('/', serve);
  app.get('/*', serve);
  if (embed)
    registerEmbed(app, embed, async () => {
      root ??= await realpath(resolve(dir)).catch(() => undefined);
      return root ? readInside(root, join(root, 'index.html')) : null;
    });
}

/**
 * The embedded console: `/embed?token=…` serves the console to a page of an origin the tenant
 * allows (`embed.frameAncestors`), and `/embed.js` the `<hindsight-audit-log>` element that
 * frames it. The token stays in the page's address only until the console reads it; it is
 * checked here so that the frame policy is the token's tenant's.
 */
function registerEmbed(
  app: FastifyInstance,
  embed: EmbedOptions,
  indexHtml: () => Promise<Buffer | null>,
): void {
  app.get('/embed', async (req, reply) => {
    const { token, logo } = req.query as { token?: unknown; logo?: unknown };
    let tenant: string;
    try {
      if (typeof token !== 'string') throw new Error('no token');
      tenant = await embed.tenantOf(token);
    } catch {
      // A plain message the host page may show in its frame: nothing of any log is in it.
      return reply
        .code(401)
        .headers({
          'content-security-policy': "default-src 'none'; frame-ancestors *",
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        })
        .type('text/plain; charset=utf-8')
        .send(
          'This audit log link is not valid any more (it expired or was revoked). ' +
            'Reload the page in the application to get a new one.',
        );
    }
    const body = await indexHtml();
    if (!body) throw notBuilt();
    const settings = (await embed.settings(tenant)).embed ?? {};
    const ancestors = (settings.frameAncestors ?? []).filter((o) => FRAME_ANCESTOR_PATTERN.test(o));
    const images = [settings.logoUrl, typeof logo === 'string' ? logo : undefined]
      .map((url) => httpsOrigin(url))
      .filter((o): o is string => o !== null);
    return reply
      .headers({
        'content-security-policy': consolePolicy(
          ancestors.length === 0 ? "'none'" : ancestors.join(' '),
          [...new Set(images)],
        ),
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      })
      .type('text/html; charset=utf-8')
      .send(body);
  });
  app.get('/embed.js', async (_req, reply) =>
    reply
      .header('cache-control', 'public, max-age=300')
      .type('text/javascript; charset=utf-8')
      .send(EMBED_ELEMENT_JS),
  );
}

/** The origin of an https URL, or null. */
function httpsOrigin(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' ? parsed.origin : null;
  } catch {
    return null;
  }
}
