/**
 * One HTTP exchange with Hindsight, over Node's built-in `fetch` (keep-alive connections), and
 * what its answer means for the SDK: done, try again later, or refused for good.
 */
import { backoffDelay, retryAfterMs } from './backoff.js';
import { type ErrorDetail, HindsightError } from './errors.js';
import type { Settings } from './options.js';

/** What an exchange came to. */
export type Answer =
  | { readonly kind: 'ok'; readonly status: number; readonly body: unknown }
  /** A network error, a timeout, 408, 429 or 5xx: the same request may be sent again. */
  | {
      readonly kind: 'retry';
      readonly reason: string;
      readonly retryAfterMs: number | undefined;
      readonly cause?: unknown;
    }
  /** Any other answer: sending the same request again would be refused again. */
  | { readonly kind: 'refused'; readonly error: HindsightError };

/**
 * Sends one request; never throws.
 * @example await exchange(settings, 'POST', settings.eventsUrl, '{"events":[…]}', 202)
 */
export async function exchange(
  settings: Settings,
  method: 'GET' | 'POST',
  url: string,
  body: string | Uint8Array | undefined,
  okStatus: number,
  /** The body's `Content-Encoding`, when it is compressed. */
  encoding?: 'gzip',
): Promise<Answer> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${settings.key}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
      },
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    text = await response.text();
  } catch (cause) {
    return { kind: 'retry', reason: networkReason(cause), retryAfterMs: undefined, cause };
  }
  const status = response.status;
  if (status === okStatus) {
    try {
      return { kind: 'ok', status, body: JSON.parse(text) };
    } catch (cause) {
      return { kind: 'refused', error: notHindsight(status, cause) };
    }
  }
  if (status === 408 || status === 429 || status >= 500) {
    return {
      kind: 'retry',
      reason: `HTTP ${status}`,
      retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
    };
  }
  return { kind: 'refused', error: errorOf(status, text) };
}

/**
 * Sends a request until it is answered or refused, at most `attempts` times, waiting between
 * tries as {@link backoffDelay} and `Retry-After` say. For reads: deliveries have their own loop.
 */
export async function exchangeWithRetries(
  settings: Settings,
  url: string,
  attempts: number,
): Promise<Answer> {
  let answer: Answer = { kind: 'retry', reason: 'not sent', retryAfterMs: undefined };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    answer = await exchange(settings, 'GET', url, undefined, 200);
    if (answer.kind !== 'retry' || attempt === attempts) break;
    const wait =
      answer.retryAfterMs ?? backoffDelay(attempt, settings.initialDelayMs, settings.maxDelayMs);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return answer;
}

/**
 * GETs a JSON answer with the read retries ({@link exchangeWithRetries}, `queryAttempts`);
 * throws `unavailable` when every try failed (naming `what`), or the server's refusal.
 * @example await getJson(settings, `${settings.baseUrl}/v1/keys/public`, 'Reading the public key')
 */
export async function getJson<T>(settings: Settings, url: string, what: string): Promise<T> {
  const answer = await exchangeWithRetries(settings, url, settings.queryAttempts);
  if (answer.kind === 'retry') {
    throw new HindsightError(
      'unavailable',
      `${what} failed ${settings.queryAttempts} times; the last try: ${answer.reason}.`,
      answer.cause === undefined ? {} : { cause: answer.cause },
    );
  }
  if (answer.kind === 'refused') throw answer.error;
  return answer.body as T;
}

/** The error of a refusal: the server's `{ error: { code, message, details } }` when it is one. */
function errorOf(status: number, text: string): HindsightError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    return notHindsight(status, cause);
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } })
    ?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    return notHindsight(status);
  }
  return new HindsightError(error.code, `Hindsight refused the request: ${error.message}`, {
    status,
    ...(Array.isArray(error.details) ? { details: error.details as ErrorDetail[] } : {}),
  });
}

function notHindsight(status: number, cause?: unknown): HindsightError {
  return new HindsightError(
    'http_error',
    `The answer (HTTP ${status}) is not from Hindsight's API; check the client's url.`,
    { status, ...(cause === undefined ? {} : { cause }) },
  );
}

function networkReason(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  if (cause.name === 'TimeoutError') return 'timed out';
  const inner = cause.cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return typeof code === 'string' ? code : inner.message;
  }
  return cause.message;
}
