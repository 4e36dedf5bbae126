/**
 * Who may call: API keys — random 256-bit secrets shown once, stored only as SHA-256 hashes,
 * compared in constant time, with scopes and optionally one tenant — and viewer tokens (see
 * `viewer-tokens.ts`), signed, short-lived, for one tenant, with permissions and optionally
 * categories.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HindsightError } from './errors.js';
import type { ApiKeyRecord, Store } from './store/types.js';
import {
  looksLikeViewerToken,
  type ViewerClaims,
  type ViewerPermission,
  type ViewerTokens,
} from './viewer-tokens.js';

/** Every scope a key can hold; `admin` implies all others. */
export const SCOPES = [
  'events:write',
  'events:read',
  'events:export',
  'events:delete',
  'viewer-tokens:create',
  'metrics:read',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

const TOKEN = /^hsk_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;
const DUMMY_HASH = Buffer.alloc(32);

/** Who is calling: a key (its id, scopes and tenant limit) or a viewer token. */
export interface Principal {
  /** `key:<id>` or `viewer:<token id>`: for rate limits and the audit log. */
  readonly id: string;
  /** The API key's id; `null` for a viewer token. */
  readonly keyId: string | null;
  /** The API key's name (`keys create --name`), `null` for none or a viewer token. */
  readonly keyName: string | null;
  /** A key's scopes; none for a viewer token, whose {@link viewer} permissions apply. */
  readonly scopes: ReadonlySet<string>;
  readonly tenant: string | null;
  /** The claims of a viewer token. */
  readonly viewer: ViewerClaims | null;
}

/** The viewer permission that stands for a scope; routes needing other scopes are keys' only. */
const PERMISSION_OF_SCOPE: Partial<Record<Scope, ViewerPermission>> = {
  'events:read': 'view',
  'events:export': 'export',
  'events:delete': 'delete',
};

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Whether a string is a known scope. */
export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** What a new key is for. */
export interface KeyOptions {
  readonly scopes: readonly Scope[];
  readonly tenant?: string | null;
  readonly name?: string;
}

/**
 * Creates a key and stores its hash; the returned `token` is the only copy of the secret.
 * @example const { token } = await createApiKey(store, { scopes: ['events:write'], tenant: 'acme' });
 */
export async function createApiKey(
  store: Store,
  options: KeyOptions,
): Promise<{ token: string; record: ApiKeyRecord }> {
  const key = newKey(options);
  await store.createKey(key.record);
  return key;
}

/**
 * Creates the store's first key, unless it has one (also when servers start at once); `null`
 * when a key existed.
 * @example const first = await createFirstApiKey(store, { scopes: ['admin'], name: 'admin' });
 */
export async function createFirstApiKey(
  store: Store,
  options: KeyOptions,
): Promise<{ token: string; record: ApiKeyRecord } | null> {
  const key = newKey(options);
  return (await store.createKey(key.record, { ifNoKeys: true })) ? key : null;
}

function newKey(options: KeyOptions): { token: string; record: ApiKeyRecord } {
  const id = randomBytes(10).toString('hex').slice(0, 16);
  const secret = randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = {
    id,
    name: options.name ?? '',
    secretHash: hashSecret(secret),
    scopes: [...new Set(options.scopes)],
    tenant: options.tenant ?? null,
    createdAt: new Date().toISOString(),
    revokedAt: null,
  };
  return { token: `hsk_${id}_${secret}`, record };
}

/**
 * Resolves the `Authorization: Bearer <key or viewer token>` header to a principal, or throws
 * `unauthorized` (or `forbidden` for an employee's token).
 */
export async function authenticate(
  store: Store,
  header: string | undefined,
  tokens?: ViewerTokens,
): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) {
    throw new HindsightError(
      'unauthorized',
      'Send an API key or a viewer token as "Authorization: Bearer <key>".',
    );
  }
  const bearer = match[1] ?? '';
  if (tokens && looksLikeViewerToken(bearer)) return viewerPrincipal(store, tokens, bearer);
  const parts = TOKEN.exec(bearer);
  const record = parts ? await store.findKey(parts[1] ?? '') : null;
  const presented = hashSecret(parts?.[2] ?? '');
  // Compare even when the key is unknown, so timing does not tell which ids exist.
  const equal = timingSafeEqual(record?.secretHash ?? DUMMY_HASH, presented);
  if (!record || !equal || record.revokedAt !== null) {
    throw new HindsightError('unauthorized', 'The API key is unknown or revoked.');
  }
  return {
    id: `key:${record.id}`,
    keyId: record.id,
    keyName: record.name === '' ? null : record.name,
    scopes: new Set(record.scopes),
    tenant: record.tenant,
    viewer: null,
  };
}

async function viewerPrincipal(
  store: Store,
  tokens: ViewerTokens,
  token: string,
): Promise<Principal> {
  const claims = await tokens.verify(token);
  const revoked = await store.viewerTokenRevoked({
    tenant: claims.tenant,
    tokenId: claims.tokenId,
    viewerId: claims.viewer.id,
    issuedAtMs: claims.issuedAtMs,
  });
  if (revoked) throw new HindsightError('unauthorized', 'The viewer token has been revoked.');
  return {
    id: `viewer:${claims.tokenId}`,
    keyId: null,
    keyName: null,
    scopes: new Set(),
    tenant: claims.tenant,
    viewer: claims,
  };
}

/**
 * Throws `forbidden` unless the principal may act on `tenant` and holds `scope` (or `admin`) —
 * or, for a viewer token, `permission` (by default the one that stands for the scope).
 */
export function authorize(
  principal: Principal,
  scope: Scope,
  tenant?: string,
  permission: ViewerPermission | undefined = PERMISSION_OF_SCOPE[scope],
): void {
  if (principal.viewer) {
    if (permission === undefined) {
      throw new HindsightError('forbidden', 'A viewer token cannot do this; use an API key.');
    }
    if (!principal.viewer.permissions.includes(permission)) {
      throw new HindsightError(
        'forbidden',
        `This viewer token lacks the "${permission}" permission.`,
      );
    }
  } else if (!principal.scopes.has(scope) && !principal.scopes.has('admin')) {
    throw new HindsightError('forbidden', `This key lacks the "${scope}" scope.`);
  }
  if (tenant !== undefined && principal.tenant !== null && principal.tenant !== tenant) {
    throw new HindsightError(
      'forbidden',
      `This ${principal.viewer ? 'viewer token' : 'key'} may not access tenant "${tenant}".`,
    );
  }
}
