/**
 * Viewer tokens (issue #8): short-lived, signed tokens with which a SaaS product lets one of its
 * customers' administrators read that customer's log, in the product or in the embedded console,
 * without an API key. A token names its tenant, its viewer (id, name, role), what the viewer may
 * do (`view`, `export`, `delete`, `verify`) and optionally which categories; the server checks
 * every claim on every request. Tokens are JWTs signed with EdDSA (Ed25519) by `jose`, with a
 * key derived from the server's signing key, so every server sharing that key accepts them.
 */
import {
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { CATEGORY_PATTERN, TENANT_PATTERN, Tenant } from '@hindsight/core';
import { type Static, Type } from '@sinclair/typebox';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { HindsightError } from './errors.js';

/** What a token may allow. */
export const VIEWER_PERMISSIONS = ['view', 'export', 'delete', 'verify'] as const;
export type ViewerPermission = (typeof VIEWER_PERMISSIONS)[number];

/**
 * The seeds' roles: an `admin` gets what the token grants, a `supervisor` may only view
 * (optionally only some categories), an `employee` may not read audit logs at all.
 */
export const VIEWER_ROLES = ['admin', 'supervisor', 'employee'] as const;
export type ViewerRole = (typeof VIEWER_ROLES)[number];

/** The longest a token lives, in seconds. */
export const MAX_TOKEN_SECONDS = 3600;

const TENANT = new RegExp(TENANT_PATTERN);
const ISSUER = 'hindsight';
const AUDIENCE = 'hindsight-viewer';
/** DER prefix of a PKCS #8 Ed25519 private key, before its 32-byte seed. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export const Viewer = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    name: Type.Optional(Type.String({ maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
    email: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
    role: Type.Union(VIEWER_ROLES.map((r) => Type.Literal(r))),
  },
  { additionalProperties: false, description: 'Who reads: a user of the SaaS product.' },
);
export type Viewer = Static<typeof Viewer>;

/** The body of `POST /v1/viewer-tokens`. */
export const ViewerTokenRequest = Type.Object(
  {
    tenant: Tenant,
    viewer: Viewer,
    permissions: Type.Array(Type.Union(VIEWER_PERMISSIONS.map((p) => Type.Literal(p))), {
      minItems: 1,
      maxItems: VIEWER_PERMISSIONS.length,
      uniqueItems: true,
    }),
    categories: Type.Optional(
      Type.Array(Type.String({ pattern: CATEGORY_PATTERN }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        description: 'Only these categories; all when absent.',
      }),
    ),
    expiresIn: Type.Optional(
      Type.Integer({
        minimum: 30,
        maximum: MAX_TOKEN_SECONDS,
        default: 900,
        description: 'Seconds until the token expires (30–3600, default 900).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ViewerTokenRequest = Static<typeof ViewerTokenRequest>;

/** What a verified token says. */
export interface ViewerClaims {
  /** The token's id (`jti`), by which it can be revoked. */
  readonly tokenId: string;
  readonly tenant: string;
  readonly viewer: Viewer;
  readonly permissions: readonly ViewerPermission[];
  /** `null`: every category. */
  readonly categories: readonly string[] | null;
  /**
   * When it was issued, in ms since 1970 (its `iat_ms` claim; for a token without one, its
   * `iat`, in whole seconds): a revocation of its viewer revokes it when made at or after this.
   */
  readonly issuedAtMs: number;
  /** Seconds since 1970. */
  readonly expiresAt: number;
}

/** Whether an `Authorization` bearer value has the shape of a viewer token (a JWS). */
export function looksLikeViewerToken(bearer: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(bearer);
}

/**
 * Issues and verifies viewer tokens with an Ed25519 key derived (HKDF-SHA-256) from the server's
 * signing key text: a token never verifies under another server key.
 * @example const tokens = ViewerTokens.fromSecret(signer.privateKeyText); const { token } = await tokens.issue(request);
 */
export class ViewerTokens {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  private constructor(seed: Uint8Array) {
    this.#privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    this.#publicKey = createPublicKey(this.#privateKey);
  }

  /** Tokens keyed by a secret (the server's signing key text). */
  static fromSecret(secret: string): ViewerTokens {
    const seed = hkdfSync('sha256', secret, 'hindsight', 'viewer-tokens/v1', 32);
    return new ViewerTokens(new Uint8Array(seed));
  }

  /**
   * Signs a token for a request already checked against {@link ViewerTokenRequest}. Refuses an
   * `employee` (no access to audit logs) and a `supervisor` asking for more than `view`.
   */
  async issue(
    request: ViewerTokenRequest,
    now = Date.now(),
  ): Promise<{ token: string; tokenId: string; expiresAt: string }> {
    checkRole(request.viewer.role, request.permissions);
    const tokenId = randomBytes(12).toString('base64url');
    const issuedAt = Math.floor(now / 1000);
    const expiresAt = issuedAt + (request.expiresIn ?? 900);
    const token = await new SignJWT({
      // `iat` is in whole seconds: a token issued in the second its viewer's tokens were revoked
      // would be revoked too, though issued after.
      iat_ms: now,
      ten: request.tenant,
      viewer: request.viewer,
      perm: request.permissions,
      ...(request.categories ? { cat: request.categories } : {}),
    })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(request.viewer.id)
      .setJti(tokenId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.#privateKey);
    return { token, tokenId, expiresAt: new Date(expiresAt * 1000).toISOString() };
  }

  /**
   * The claims of a valid token; throws `unauthorized` for one that is expired, altered, signed
   * by another key or malformed, and `forbidden` for an employee's.
   */
  async verify(token: string, now = Date.now()): Promise<ViewerClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey, {
        algorithms: ['EdDSA'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(now),
        requiredClaims: ['jti', 'iat', 'exp', 'sub'],
      }));
    } catch (error) {
      const expired = error instanceof joseErrors.JWTExpired;
      throw new HindsightError(
        'unauthorized',
        expired
          ? 'The viewer token has expired; ask the application for a new one.'
          : 'The viewer token is not valid.',
      );
    }
    const claims = toClaims(payload);
    if (!claims) throw new HindsightError('unauthorized', 'The viewer token is not valid.');
    checkRole(claims.viewer.role, claims.permissions);
    return claims;
  }
}

/** Refuses what a role may not have. */
function checkRole(role: ViewerRole, permissions: readonly ViewerPermission[]): void {
  if (role === 'employee') {
    throw new HindsightError(
      'forbidden',
      'Employees have no access to audit logs: only administrators and supervisors may read them.',
    );
  }
  if (role === 'supervisor' && permissions.some((p) => p !== 'view')) {
    throw new HindsightError(
      'forbidden',
      'A supervisor may only view audit logs: ask for the "view" permission alone.',
    );
  }
}

/** The claims of a verified payload, or null when it is not one this server issues. */
function toClaims(payload: Record<string, unknown>): ViewerClaims | null {
  const { jti, ten, viewer, perm, cat, iat, iat_ms: iatMs, exp } = payload;
  const v = viewer as Partial<Viewer> | undefined;
  if (
    typeof jti !== 'string' ||
    typeof ten !== 'string' ||
    !TENANT.test(ten) ||
    typeof v !== 'object' ||
    v === null ||
    typeof v.id !== 'string' ||
    !(VIEWER_ROLES as readonly unknown[]).includes(v.role) ||
    !Array.isArray(perm) ||
    !perm.every((p) => (VIEWER_PERMISSIONS as readonly unknown[]).includes(p)) ||
    (cat !== undefined && (!Array.isArray(cat) || !cat.every((c) => typeof c === 'string'))) ||
    typeof iat !== 'number' ||
    typeof exp !== 'number'
  ) {
    return null;
  }
  return {
    tokenId: jti,
    tenant: ten,
    viewer: {
      id: v.id,
      role: v.role as ViewerRole,
      ...(typeof v.name === 'string' ? { name: v.name } : {}),
      ...(typeof v.email === 'string' ? { email: v.email } : {}),
    },
    permissions: perm as ViewerPermission[],
    categories: (cat as string[] | undefined) ?? null,
    // Only a time within the `iat` second signed with it: never earlier than the token says.
    issuedAtMs: typeof iatMs === 'number' && Math.floor(iatMs / 1000) === iat ? iatMs : iat * 1000,
    expiresAt: exp,
  };
}
