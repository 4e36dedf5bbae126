/**
 * Who the console acts as, and the one place that holds a secret. A reader signs in with an
 * API key (scope `events:read`), kept in `sessionStorage` only: it is gone when the tab closes,
 * is never a cookie and never reaches `localStorage`. Embedded (`/embed?token=…`), the console
 * acts with the viewer token the host page gave it, kept in memory only and removed from the
 * address bar at once. The rest of the console only asks for the `Authorization` header.
 */

const STORAGE_KEY = 'hindsight.console.apiKey';

/** What requests are signed with. */
export interface Credentials {
  readonly kind: 'api-key' | 'viewer-token';
  /** The value of the `Authorization` header. */
  readonly authorization: string;
}

/**
 * Credentials from a key as typed or pasted: surrounding spaces and a leading `Bearer ` are
 * dropped. `null` when nothing is left.
 * @example fromApiKey(' Bearer hsk_1_x ')?.authorization // 'Bearer hsk_1_x'
 */
export function fromApiKey(input: string): Credentials | null {
  const key = input.trim().replace(/^Bearer\s+/i, '');
  return key === '' ? null : { kind: 'api-key', authorization: `Bearer ${key}` };
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the reader signs in again on every load
  }
}

/** The credentials this tab signed in with, if any. */
export function savedCredentials(): Credentials | null {
  const key = storage()?.getItem(STORAGE_KEY);
  return key ? fromApiKey(key) : null;
}

/** Keeps credentials that the server accepted, for this tab only. */
export function saveCredentials(credentials: Credentials): void {
  storage()?.setItem(STORAGE_KEY, credentials.authorization.replace(/^Bearer /, ''));
}

/** Forgets the credentials of this tab. */
export function forgetCredentials(): void {
  storage()?.removeItem(STORAGE_KEY);
}

/** How the host page asked the embedded console to look. */
export interface EmbedLook {
  readonly accent?: string;
  readonly logo?: string;
  readonly title?: string;
}

/** What the host page gave the embedded console. */
export interface Embedding {
  readonly credentials: Credentials | null;
  readonly look: EmbedLook;
  /**
   * The verifier keys the host pinned (`verifierKey=`, the element's `verifier-key`): the
   * console checks the log's signatures with them rather than with the key the server serves.
   * `null` when the host gave none.
   */
  readonly verifierKeys: readonly string[] | null;
}

/**
 * The viewer token, look and pinned keys of an embedded console
 * (`/embed?token=…&accent=…&verifierKey=…`), read once when the page loads; they are then taken
 * out of the address bar (and so the token out of the history and of any link the reader
 * copies). `null` when the console is not embedded.
 */
function readEmbedding(): Embedding | null {
  if (window.location.pathname !== '/embed') return null;
  const params = new URLSearchParams(window.location.search);
  const token = params.get('token');
  const look: EmbedLook = {
    ...(/^#[0-9a-fA-F]{6}$/.test(params.get('accent') ?? '')
      ? { accent: params.get('accent') as string }
      : {}),
    ...(/^https:\/\//.test(params.get('logo') ?? '') ? { logo: params.get('logo') as string } : {}),
    ...(params.get('title') ? { title: (params.get('title') as string).slice(0, 80) } : {}),
  };
  // A `+` written unescaped in a query string arrives as a space, which no key holds. A key
  // that is still malformed is kept, so that the check fails and says so rather than falling
  // back to the server's key.
  const pinned = params.getAll('verifierKey').map((value) => value.trim().replace(/ /g, '+'));
  const verifierKeys = pinned.length === 0 ? null : pinned;
  for (const name of ['token', 'accent', 'logo', 'title', 'verifierKey']) params.delete(name);
  const search = params.toString();
  window.history.replaceState(
    null,
    '',
    `/embed${search ? `?${search}` : ''}${window.location.hash}`,
  );
  return {
    credentials: token ? { kind: 'viewer-token', authorization: `Bearer ${token}` } : null,
    look,
    verifierKeys,
  };
}

/** The embedding of this page, read once at start. */
export const EMBEDDING = readEmbedding();
