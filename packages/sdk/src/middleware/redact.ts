/**
 * Secrets out of request URLs: query parameters whose name looks like a credential keep their
 * name and lose their value.
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
 * The path and query of a request URL with the values of secret parameters replaced, the
 * fragment dropped, and at most 2,048 characters. Other parameters are kept byte for byte.
 * @example redactUrl('/export?format=csv&api_key=abc', ['key']) // '/export?format=csv&api_key=REDACTED'
 */
export function redactUrl(url: string, words: readonly string[]): string {
  if (typeof url !== 'string') refuse('redactUrl()', 'url', 'a string', url);
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string')) {
    refuse('redactUrl()', 'words', 'an array of words (strings)', words);
  }
  const hash = url.indexOf('#');
  const clean = hash < 0 ? url : url.slice(0, hash);
  const question = clean.indexOf('?');
  if (question < 0) return clean.slice(0, MAX_URL);
  const params = clean
    .slice(question + 1)
    .split('&')
    .map((param) => {
      const equals = param.indexOf('=');
      const name = equals < 0 ? param : param.slice(0, equals);
      const key = normalizeName(decode(name));
      return words.some((word) => key.includes(word)) ? `${name}=${REDACTED}` : param;
    });
  return `${clean.slice(0, question)}?${params.join('&')}`.slice(0, MAX_URL);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
