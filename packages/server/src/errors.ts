/**
 * The one catalogue of error codes the API returns. Each code has one HTTP status and a
 * description; `docs/errors.md` documents every code and a test keeps the two in step.
 */

/** Every stable error code, with its HTTP status and what a client should do about it. */
export const ERROR_CODES = {
  invalid_json: {
    status: 400,
    description:
      'The body is not valid UTF-8 JSON, or not valid data of its `Content-Encoding`. Send `Content-Type: application/json`.',
  },
  invalid_event: {
    status: 400,
    description:
      'One or more events break SPEC §2. `details` lists `{ index, path, message }` for each ' +
      'problem; nothing of the request was stored.',
  },
  invalid_request: {
    status: 400,
    description:
      'A path or query parameter (or a body other than events) is missing, unknown or malformed, or holds a control character; see `details`.',
  },
  invalid_query: {
    status: 400,
    description:
      'The `q` search query is malformed; `details[0].position` is the offset of the problem.',
  },
  invalid_cursor: {
    status: 400,
    description:
      'The `cursor` was not issued by this server for this query. Restart from the first page.',
  },
  unauthorized: {
    status: 401,
    description:
      'No API key or viewer token, an unknown or revoked one, or an expired, altered or ' +
      'foreign viewer token. Send `Authorization: Bearer <key or token>`.',
  },
  invalid_signature: {
    status: 401,
    description:
      'A provider webhook (`POST /v1/hooks/{provider}`) is unsigned, signed with another secret, ' +
      'or too old. Check the provider secret and, for Twilio, `--public-url`; nothing was recorded.',
  },
  forbidden: {
    status: 403,
    description:
      'The key or viewer token is valid but lacks the scope or permission this route needs, is ' +
      'limited to another tenant or to other categories, or (viewer tokens) names an employee, ' +
      'who may not read audit logs.',
  },
  deletion_not_allowed: {
    status: 403,
    description:
      'The tenant does not permit deleting events. An administrator may allow it with the ' +
      'tenant setting `deletion: { allowed: true }` (`PUT /v1/tenants/{tenant}/settings`); ' +
      'nothing was deleted.',
  },
  not_found: {
    status: 404,
    description:
      'No such route, no such event in this tenant, or (at `/`) the web console is not built: ' +
      'run `npm run build`.',
  },
  hook_not_configured: {
    status: 404,
    description:
      'This server has no secret for the webhook provider. Configure it with ' +
      '`--sendgrid-public-key`, `--mailgun-signing-key` or `--twilio-auth-token` (docs/webhooks.md).',
  },
  conflict: {
    status: 409,
    description:
      'An event reuses an `id` already stored for the tenant with different content; nothing ' +
      'of the batch was stored. Retries with identical content are not conflicts.',
  },
  legal_hold: {
    status: 409,
    description:
      'The tenant is under legal hold: nothing of its log may be pruned, erased or deleted ' +
      'until an admin lifts the hold (`DELETE /v1/tenants/{tenant}/legal-hold`); nothing was ' +
      'changed.',
  },
  precondition_failed: {
    status: 412,
    description:
      'The settings changed since they were read: the `If-Match` header names an `ETag` they no ' +
      'longer have. Read them again (`GET`), make the change on what they hold now, and send it ' +
      'with the new `ETag`; nothing was changed.',
  },
  request_timeout: {
    status: 408,
    description:
      'The request did not arrive in full in time (Node.js `requestTimeout`, 5 minutes); the ' +
      'connection is closed. Send it again.',
  },
  payload_too_large: {
    status: 413,
    description:
      'The body is larger than 4 MiB, or would be once decompressed (`Content-Encoding`). Split the batch.',
  },
  headers_too_large: {
    status: 431,
    description:
      "The request's headers are larger than the server accepts (Node.js `maxHeaderSize`, 16 " +
      'KiB): an oversized `Authorization` header or cookies. The connection is closed.',
  },
  unsupported_media_type: {
    status: 415,
    description:
      "The body is not `application/json`, or its `Content-Encoding` is none of `gzip`, `deflate`, `br` (the answer's `Accept-Encoding` names them).",
  },
  rate_limited: {
    status: 429,
    description:
      'This key or viewer token sent more requests in the last minute than the server allows ' +
      '(`--rate-limit-read`, `--rate-limit-write`), or this address sent too many with invalid ' +
      'credentials. Wait the `Retry-After` seconds, then retry.',
  },
  internal_error: {
    status: 500,
    description: 'An unexpected server error. It is logged with the request id; please report it.',
  },
  overloaded: {
    status: 503,
    description:
      'More events are waiting to be made durable than the server takes (`--max-pending-events`): ' +
      'it sheds new writes rather than run out of memory. Nothing of the request was stored. ' +
      'Wait the `Retry-After` seconds, then retry with the same event ids (the SDK does).',
  },
  store_unavailable: {
    status: 503,
    description:
      'The database cannot be reached or is busy; nothing of the request was stored. Retry ' +
      'with the same event ids.',
  },
} as const satisfies Record<string, { status: number; description: string }>;

/** A stable error code, e.g. `invalid_event`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** One entry of an error's `details`. */
export type ErrorDetail = Record<string, string | number>;

/**
 * The one error type the HTTP layer maps to `{ error: { code, message, details? } }`.
 * @example throw new HindsightError('not_found', 'No event "e1" in tenant "acme".')
 */
export class HindsightError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { details?: ErrorDetail[]; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HindsightError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options?.details;
  }

  /** The JSON body the API answers with. */
  toBody(): { error: { code: ErrorCode; message: string; details?: ErrorDetail[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}
