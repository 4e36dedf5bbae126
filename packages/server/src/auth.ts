/**
 * API keys: random 256-bit secrets shown once, stored only as SHA-256 hashes, compared in
 * constant time. A key has scopes and may be limited to one tenant.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HindsightError } from './errors.js';
import type { ApiKeyRecord, Store } from './store/types.js';

/** Every scope a key can hold; `admin` implies all others. */
export const SCOPES = [
  'events:write',
  'events:read',
  'events:export',
  'events:delete',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

const TOKEN = /^hsk_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;
const DUMMY_HASH = Buffer.alloc(32);

/** Who is calling: the key's id, scopes and tenant limit. */
export interface Principal {
  readonly keyId: string;
  readonly scopes: ReadonlySet<string>;
  readonly tenant: string | null;
}

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
 * Resolves the `Authorization: Bearer <key>` header to a principal, or throws `unauthorized`.
 */
export async function authenticate(store: Store, header: string | undefined): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) {
    throw new HindsightError('unauthorized', 'Send an API key as "Authorization: Bearer <key>".');
  }
  const parts = TOKEN.exec(match[1] ?? '');
  const record = parts ? await store.findKey(parts[1] ?? '') : null;
  const presented = hashSecret(parts?.[2] ?? '');
  // Compare even when the key is unknown, so timing does not tell which ids exist.
  const equal = timingSafeEqual(record?.secretHash ?? DUMMY_HASH, presented);
  if (!record || !equal || record.revokedAt !== null) {
    throw new HindsightError('unauthorized', 'The API key is unknown or revoked.');
  }
  return { keyId: record.id, scopes: new Set(record.scopes), tenant: record.tenant };
}

/**
 * Throws `forbidden` unless the principal holds `scope` (or `admin`) and may act on `tenant`.
 */
export function authorize(principal: Principal, scope: Scope, tenant?: string): void {
  if (!principal.scopes.has(scope) && !principal.scopes.has('admin')) {
    throw new HindsightError('forbidden', `This key lacks the "${scope}" scope.`);
  }
  if (tenant !== undefined && principal.tenant !== null && principal.tenant !== tenant) {
    throw new HindsightError('forbidden', `This key may not access tenant "${tenant}".`);
  }
}
