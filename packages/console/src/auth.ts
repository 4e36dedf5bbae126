/**
 * Who the console acts as, and the one place that holds a secret. Today a reader signs in with
 * an API key (scope `events:read`), kept in `sessionStorage` only: it is gone when the tab
 * closes, is never a cookie and never reaches `localStorage`. Viewer tokens and embedding (a
 * host page handing the console a short-lived token) come later as other kinds of
 * `Credentials` made here; the rest of the console only asks for the `Authorization` header.
 */

const STORAGE_KEY = 'hindsight.console.apiKey';

/** What requests are signed with. */
export interface Credentials {
  readonly kind: 'api-key';
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
