/**
 * Routes for the people who read logs (issue #8): viewer tokens and their revocation, who the
 * caller is (for the console), and tenant settings (how the embedded console looks, who may
 * frame it).
 */
import { createHash } from 'node:crypto';
import { TenantSettings } from '@hindsight/core';
import { Type } from '@sinclair/typebox';
import { authorize } from '../auth.js';
import { HindsightError } from '../errors.js';
import type { EventPage, PendingAudit, Store } from '../store/types.js';
import { MAX_TOKEN_SECONDS, ViewerTokenRequest } from '../viewer-tokens.js';
import type { AuditEntry } from './audit.js';
import { filterClauses } from './event-query.js';
import {
  AUTH_ERRORS,
  checkBody,
  type RouteHeader,
  type RouteSpec,
  TenantParams,
} from './routes.js';

const TokenId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

const Revocation = Type.Union([
  Type.Object(
    { tenant: ViewerTokenRequest.properties.tenant, tokenId: TokenId },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      tenant: ViewerTokenRequest.properties.tenant,
      viewerId: ViewerTokenRequest.properties.viewer.properties.id,
    },
    { additionalProperties: false },
  ),
]);

const Session = Type.Object({
  kind: Type.Union([Type.Literal('key'), Type.Literal('viewer')]),
  tenant: Type.Union([Type.String(), Type.Null()]),
  viewer: Type.Optional(ViewerTokenRequest.properties.viewer),
  permissions: Type.Array(Type.String()),
  categories: Type.Union([Type.Array(Type.String()), Type.Null()]),
  expiresAt: Type.Optional(Type.String()),
});

const StoredSettings = Type.Object({
  settings: TenantSettings,
  updatedAt: Type.Union([Type.String(), Type.Null()]),
});

/** The `ETag` of a tenant's settings: a digest of their JSON, quoted (RFC 9110). */
function settingsEtag(settings: TenantSettings): string {
  return `"${createHash('sha256').update(JSON.stringify(settings)).digest('base64url').slice(0, 22)}"`;
}

/**
 * Whether an `If-Match` header (`*`, or a list of entity tags) names `etag`. A weak tag
 * (`W/"…"`) never matches: `If-Match` compares strongly (RFC 9110 §13.1.1).
 */
function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim() === etag);
}

const SETTINGS_ETAG: RouteHeader = {
  name: 'ETag',
  description: 'Names the settings as they are now; send it back in `If-Match` with a change.',
};

export const ACCESS_ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/viewer-tokens',
    operationId: 'createViewerToken',
    summary: 'Issue a short-lived token with which one viewer reads one tenant’s log',
    description:
      'For the SaaS backend: a key with `viewer-tokens:create` (or `admin`; a key limited to a ' +
      'tenant only for it) gets a signed token (JWT, EdDSA) for `tenant`, naming the viewer, ' +
      'what they may do (`view`, `export`, `delete`, `verify`) and optionally which categories. ' +
      'The reader sends it as `Authorization: Bearer <token>` or opens `/embed?token=…`. Roles: ' +
      '`admin` gets what is granted, `supervisor` may only `view`, `employee` is refused ' +
      '(403). Recorded in the tenant’s `audit` log.',
    scope: 'viewer-tokens:create',
    body: ViewerTokenRequest,
    success: {
      status: 201,
      description: 'The token; it is shown only here.',
      schema: Type.Object({
        token: Type.String(),
        tokenId: Type.String(),
        expiresAt: Type.String(),
      }),
    },
    errors: ['invalid_json', 'invalid_request', ...AUTH_ERRORS],
    handler: async (ctx, req, reply, principal) => {
      const body = checkBody(ViewerTokenRequest, req.body);
      if (principal) authorize(principal, 'viewer-tokens:create', body.tenant);
      const issued = await ctx.tokens.issue(body);
      const { viewer } = body;
      await ctx.audit.record(principal, req, {
        tenant: body.tenant,
        action: 'viewer_token.issued',
        log: 'all',
        description: `issued a viewer token: ${viewer.id} (${viewer.role}) may read the audit log until ${issued.expiresAt}`,
        targets: [{ type: 'viewer', id: viewer.id, ...(viewer.name ? { name: viewer.name } : {}) }],
        metadata: {
          tokenId: issued.tokenId,
          role: viewer.role,
          permissions: body.permissions,
          ...(body.categories ? { categories: body.categories } : {}),
          expiresAt: issued.expiresAt,
        },
      });
      return reply.code(201).send(issued);
    },
  },
  {
    method: 'POST',
    path: '/v1/viewer-tokens/revocations',
    operationId: 'revokeViewerTokens',
    summary: 'Revoke a viewer token, or every token of a viewer',
    description:
      '`{ tenant, tokenId }` revokes one token (404 `not_found` when the tenant issued no ' +
      'token of that id that is still valid); `{ tenant, viewerId }` every token issued to ' +
      'that viewer until now (tokens issued later work). Every server refuses them from the ' +
      'next request on. Recorded in the tenant’s `audit` log.',
    scope: 'viewer-tokens:create',
    body: Revocation,
    success: {
      status: 201,
      description: 'Revoked.',
      schema: Type.Object({ revokedAt: Type.String() }),
    },
    errors: ['invalid_json', 'invalid_request', 'not_found', ...AUTH_ERRORS],
    handler: async (ctx, req, reply, principal) => {
      const body = checkBody(Revocation, req.body);
      if (principal) authorize(principal, 'viewer-tokens:create', body.tenant);
      const now = Date.now();
      // A token of another tenant, or none: saying "revoked" would be untrue (a token is
      // checked against its own tenant's revocations).
      if (
        'tokenId' in body &&
        !(await liveTokenIssued(ctx.store, body.tenant, body.tokenId, now))
      ) {
        throw new HindsightError(
          'not_found',
          `Tenant "${body.tenant}" has no viewer token "${body.tokenId}" that is still valid ` +
            '(a token lives at most an hour); nothing was revoked.',
        );
      }
      // Every token it names expires within the longest lifetime of a token.
      const expiresAtMs = now + MAX_TOKEN_SECONDS * 1000 + 60_000;
      const which = 'tokenId' in body ? { tokenId: body.tokenId } : { viewerId: body.viewerId };
      const audit = ctx.audit.change(principal, req, {
        tenant: body.tenant,
        action: 'viewer_token.revoked',
        log: 'all',
        description:
          'tokenId' in body
            ? `revoked viewer token ${body.tokenId}`
            : `revoked every viewer token of ${body.viewerId}`,
        ...('viewerId' in body ? { targets: [{ type: 'viewer', id: body.viewerId }] } : {}),
        metadata: which,
      });
      await ctx.store.revokeViewerTokens(
        { tenant: body.tenant, revokedAtMs: now, expiresAtMs, ...which },
        audit ?? undefined,
      );
      await ctx.audit.settle(audit);
      return reply.code(201).send({ revokedAt: new Date(now).toISOString() });
    },
  },
  {
    method: 'GET',
    path: '/v1/session',
    operationId: 'getSession',
    summary: 'Who is calling: a key or a viewer token, and what it may do',
    description:
      'For the console: the tenant a key or token is limited to, a viewer’s name and role, ' +
      'permissions (a key’s scopes) and categories (`null`: all).',
    scope: 'events:read',
    success: { status: 200, description: 'The caller.', schema: Session },
    errors: AUTH_ERRORS,
    handler: async (_ctx, _req, _reply, principal) => {
      if (!principal)
        throw new HindsightError('unauthorized', 'Send an API key or a viewer token.');
      const claims = principal.viewer;
      if (claims) {
        return {
          kind: 'viewer',
          tenant: claims.tenant,
          viewer: claims.viewer,
          permissions: [...claims.permissions],
          categories: claims.categories === null ? null : [...claims.categories],
          expiresAt: new Date(claims.expiresAt * 1000).toISOString(),
        };
      }
      return {
        kind: 'key',
        tenant: principal.tenant,
        permissions: [...principal.scopes],
        categories: null,
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/:tenant/settings',
    operationId: 'getTenantSettings',
    summary: 'The tenant’s settings: how its embedded console looks, who may frame it',
    scope: 'events:read',
    params: TenantParams,
    success: { status: 200, description: 'The settings.', schema: StoredSettings },
    errors: ['invalid_request', ...AUTH_ERRORS],
    responseHeaders: [SETTINGS_ETAG],
    handler: async (ctx, req, reply) => {
      const { tenant } = req.params as { tenant: string };
      const stored = await ctx.store.tenantSettings(tenant);
      reply.header('etag', settingsEtag(stored.settings));
      return stored;
    },
  },
  {
    method: 'PUT',
    path: '/v1/tenants/:tenant/settings',
    operationId: 'putTenantSettings',
    summary: 'Replace the tenant’s settings',
    description:
      '`embed.frameAncestors`: the origins whose pages may embed the console (CSP ' +
      '`frame-ancestors`; none by default); `embed.accentColor`, `embed.logoUrl` (https), ' +
      '`embed.title`: how it looks there. `retention` (days per category, docs/retention.md) ' +
      'and `displayWindowDays` (how far back the console shows by default). Each change is ' +
      'recorded in the tenant’s `audit` log (`retention.changed`, `settings.changed`). ' +
      '`legalHold` is kept as it is: ' +
      'place and lift it with `/v1/tenants/{tenant}/legal-hold`. With `If-Match` (the `ETag` ' +
      'of a `GET`), the settings are replaced only if nobody changed them since (`412` else).',
    scope: 'admin',
    params: TenantParams,
    body: TenantSettings,
    success: { status: 200, description: 'The settings as stored.', schema: StoredSettings },
    errors: ['invalid_json', 'invalid_request', 'precondition_failed', ...AUTH_ERRORS],
    headers: [
      {
        name: 'If-Match',
        description:
          'The `ETag` of the settings this change was made on (or `*`): when they have ' +
          'changed since, nothing is written and the answer is `412 precondition_failed`.',
      },
    ],
    responseHeaders: [SETTINGS_ETAG],
    handler: async (ctx, req, reply, principal) => {
      const { tenant } = req.params as { tenant: string };
      const body = checkBody(TenantSettings, req.body);
      const { legalHold: _kept, ...rest } = body;
      const ifMatch = req.headers['if-match'];
      const update = await ctx.store.updateTenantSettings(
        tenant,
        (stored) => {
          // Checked on what the write replaces, in the same compare-and-set.
          if (ifMatch !== undefined && !etagMatches(ifMatch, settingsEtag(stored))) {
            throw new HindsightError(
              'precondition_failed',
              `The settings of tenant "${tenant}" changed since the ETag ${ifMatch} was read; ` +
                'nothing was changed. Read them again and send the change with the new ETag.',
            );
          }
          // The legal hold is placed and lifted only through its own routes, which record it.
          if (
            body.legalHold !== undefined &&
            JSON.stringify(body.legalHold) !== JSON.stringify(stored.legalHold)
          ) {
            throw new HindsightError(
              'invalid_request',
              'Place or lift a legal hold with PUT or DELETE /v1/tenants/{tenant}/legal-hold, ' +
                'not through the settings.',
            );
          }
          return { ...rest, ...(stored.legalHold ? { legalHold: stored.legalHold } : {}) };
        },
        ({ before, after }) =>
          settingsEntries(before, after.settings, (entry) =>
            ctx.audit.change(principal, req, { tenant, log: 'all', ...entry }),
          ),
      );
      for (const entry of update.audit) await ctx.audit.settle(entry);
      reply.header('etag', settingsEtag(update.after.settings));
      return update.after;
    },
  },
];

/**
 * The `audit` entries of a settings change: `retention.changed` with the policy before and
 * after, and `settings.changed` with the other settings that changed (the embedding, the
 * console's window, whether events may be deleted), each before and after (`null`: unset).
 * The legal hold changes only through its own routes, which record it.
 */
function settingsEntries(
  before: TenantSettings,
  after: TenantSettings,
  entry: (e: Pick<AuditEntry, 'action' | 'description' | 'metadata'>) => PendingAudit | null,
): PendingAudit[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const entries: Array<PendingAudit | null> = [];
  const retention = { before: before.retention ?? {}, after: after.retention ?? {} };
  if (!same(retention.before, retention.after)) {
    entries.push(
      entry({
        action: 'retention.changed',
        description: 'changed the retention policy',
        metadata: retention,
      }),
    );
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k): k is keyof TenantSettings => k !== 'retention' && k !== 'legalHold')
    .filter((k) => !same(before[k], after[k]))
    .sort();
  if (keys.length > 0) {
    const values = (s: TenantSettings) => Object.fromEntries(keys.map((k) => [k, s[k] ?? null]));
    entries.push(
      entry({
        action: 'settings.changed',
        description: `changed the settings: ${keys.join(', ')}`,
        metadata: { changed: keys, before: values(before), after: values(after) },
      }),
    );
  }
  return entries.filter((e): e is PendingAudit => e !== null);
}

/**
 * Whether the tenant issued a viewer token of this id that may still be valid: its issue is in
 * the tenant's `audit` log (`viewer_token.issued`, recorded before the token is handed out)
 * within the longest lifetime of a token.
 */
async function liveTokenIssued(
  store: Store,
  tenant: string,
  tokenId: string,
  now: number,
): Promise<boolean> {
  const clauses = filterClauses({
    category: 'audit',
    action: 'viewer_token.issued',
    since: new Date(now - MAX_TOKEN_SECONDS * 1000 - 60_000).toISOString(),
  });
  let after: string | null = null;
  do {
    const page: EventPage = await store.queryEvents(tenant, {
      clauses,
      limit: 500,
      order: 'desc',
      ...(after === null ? {} : { after }),
    });
    if (page.events.some((e) => e.metadata?.['tokenId'] === tokenId)) return true;
    after = page.next;
  } while (after !== null);
  return false;
}
