/**
 * The SDK's one error type. Its `code` is stable: either one of the SDK's own codes below, or
 * the code of the server's answer (docs/errors.md), passed through unchanged.
 */

/** The SDK's own error codes, each with what to do about it (docs/sdk.md lists the same). */
export const SDK_ERROR_CODES = {
  invalid_options:
    'createClient(), a middleware or a helper got an option or argument it cannot use; the ' +
    'message names it (also an outbox directory that cannot be made, read or written: the ' +
    "message says why, `cause` is the file system's error).",
  invalid_event:
    'The event breaks SPEC §2: thrown by record(), or the server refused it with a 400. ' +
    '`details` lists `{ path, message }` with JSON Pointer paths into the event. Fix the event.',
  queue_full:
    '`maxQueue` events are waiting already (Hindsight is down or slower than you record). With ' +
    'whenQueueFull "throw", record() threw and kept nothing; with "drop-oldest", the oldest ' +
    'waiting event was dropped and is reported.',
  client_closed: 'record() after close(). Record before closing, or create another client.',
  undelivered:
    'close({ timeoutMs }) stopped waiting before these events were delivered, and there is no ' +
    'outbox: they are lost. (With an outbox nothing is reported: they stay in it for the next ' +
    'client on the directory.)',
  outbox_locked:
    'Another live process (or another client of this one) uses the outbox directory. Give ' +
    'each process a directory of its own, or close the other client first.',
  outbox_write_failed:
    'Writing to the outbox failed (disk full, permissions): record() rejected and the events ' +
    'are kept in memory only (and still sent). `cause` says what failed.',
  outbox_unreadable:
    'A line of an outbox file is not an event (changed by hand, or damaged on disk); it was ' +
    'skipped. `details` names the file and line.',
  unavailable:
    'query() or verify() got no answer, or only 408/429/5xx, in `retry.queryAttempts` tries; the message ' +
    'says what the last try got. Try again later.',
  http_error:
    'Something other than Hindsight answered (a proxy, a wrong URL): the answer is not a ' +
    "Hindsight error. Check the client's `url`.",
} as const;

/** An error code of the SDK itself. */
export type SdkErrorCode = keyof typeof SDK_ERROR_CODES;

/** One entry of an error's `details`: a problem's `path` and `message`, or the server's detail. */
export type ErrorDetail = Readonly<Record<string, string | number>>;

/**
 * What the SDK throws (at the call site: invalid events, a full queue, a closed client) and
 * what it hands to `onError` (events the server refused). Switch on `code`.
 * @example
 * try { client.record(event) } catch (e) { if (e instanceof HindsightError && e.code === 'invalid_event') … }
 */
export class HindsightError extends Error {
  /** One of {@link SDK_ERROR_CODES}, or the server's error code (`forbidden`, `conflict`, …). */
  readonly code: string;
  /** The HTTP status of the server's answer, when there was one. */
  readonly status: number | undefined;
  readonly details: readonly ErrorDetail[] | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; details?: readonly ErrorDetail[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HindsightError';
    this.code = code;
    this.status = options.status;
    this.details = options.details;
  }
}
