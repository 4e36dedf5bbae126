/**
 * Secrets out of request URLs: query parameters whose name looks like a credential keep their
 * name and lose their value; the user name and password of an absolute URL are dropped.
 */
import { refuse } from '../arguments.js';

/**
 * The words that mark a query parameter as secret (any case; `-` and `_` are ignored, and a
 * name matches when it contains the word: `access_token`, `apiKey`, `X-Api-Key`,
 * `client_secret`).
 */
export const DEFAULT_REDACT: readonly string[] = [
  'token',
  'key',
  'password',
  'secret',
  'authorization',
];

/** What a redacted value reads. */
export const REDACTED = 'REDACTED';

/** The longest URL an event holds (SPEC §2 `context.http.url`). */
const MAX_URL = 2048;

/** A parameter name as it is compared: lower case, without `-` and `_`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/**
 * A request URL with the values of secret parameters replaced, the fragment dropped, the
 * user name and password of an absolute URL removed (`https://user:pw@host/` →
 * `https://host/`), and at most 2,048 characters. Other parameters are kept byte for byte.
 * `words` are compared as {@link normalizeName} writes them, whatever case and `-` or `_`
 * they are given with (`['Token', 'API-Key']` is `['token', 'apikey']`).
 * @example redactUrl('/export?format=csv&api_key=abc', ['Key']) // '/export?format=csv&api_key=REDACTED'
 */
export function redactUrl(url: string, words: readonly string[]): string {
  if (typeof url !== 'string') refuse('redactUrl()', 'url', 'a string', url);
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string')) {
    refuse('redactUrl()', 'words', 'an array of words (strings)', words);
  }
  const secret = words.map(normalizeName).filter((word) => word !== '');
  const hash = url.indexOf('#');
  const clean = withoutUserinfo(hash < 0 ? url : url.slice(0, hash));
  const question = clean.indexOf('?');
  if (question < 0) return clean.slice(0, MAX_URL);
  const params = clean
    .slice(question + 1)
    .split('&')
    .map((param) => {
      const equals = param.indexOf('=');
      const name = equals < 0 ? param : param.slice(0, equals);
      const key = normalizeName(decode(name));
      return secret.some((word) => key.includes(word)) ? `${name}=${REDACTED}` : param;
    });
  return `${clean.slice(0, question)}?${params.join('&')}`.slice(0, MAX_URL);
}

/** `scheme://` and the authority of an absolute URL: `[userinfo@]host[:port]`. */
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * The path and query of a request-target: absolute-form (`http://user:pw@host/r?x=1`, what a
 * client talking to a proxy sends) loses its scheme and authority, credentials included;
 * origin-form (`/r?x=1`) is kept as it is.
 * @example originForm('http://user:pw@host:8080/r?x=1') // '/r?x=1'
 */
export function originForm(target: string): string {
  const authority = ABSOLUTE.exec(target);
  if (authority === null) return target;
  const rest = target.slice(authority[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function withoutUserinfo(url: string): string {
  const authority = ABSOLUTE.exec(url);
  const at = authority === null ? -1 : authority[0].lastIndexOf('@');
  if (at < 0) return url;
  return url.slice(0, url.indexOf('//') + 2) + url.slice(at + 1);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
