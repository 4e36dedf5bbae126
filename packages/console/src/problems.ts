/**
 * What went wrong, in words a reader can act on: each API error code (docs/errors.md) with
 * what to do next.
 */
import { ApiError } from './api.js';
import { EMBEDDING } from './auth.js';

/**
 * A way out of a problem that the notice offers as a button, where the screen can take it:
 * load the same thing again, go back to the first page of a list, or sign out.
 */
export type Remedy = 'retry' | 'first-page' | 'sign-out';

/** A problem to show: what happened and what to do. */
export interface Problem {
  readonly title: string;
  readonly detail: string;
  /** The server's error code, when it sent one. */
  readonly code?: string;
  /** What may help, in the order the buttons show; none when only the reader can fix it. */
  readonly remedies?: readonly Remedy[];
}

/** Failures that may pass: loading again may work, and the first page is another way out. */
const TRANSIENT: readonly Remedy[] = ['retry', 'first-page'];

/**
 * Explains an error of a request.
 * @example explain(new ApiError(403, 'forbidden', 'The key lacks the scope events:export.'))
 */
export function explain(error: unknown, action = 'load this'): Problem {
  if (!(error instanceof ApiError)) {
    return {
      title: `Could not ${action}.`,
      detail: `${error instanceof Error ? error.message : String(error)} Reload the page to try again.`,
      remedies: TRANSIENT,
    };
  }
  const { code, message } = error;
  switch (code) {
    case 'network_error':
      return {
        title: 'The server could not be reached.',
        detail: message,
        code,
        remedies: TRANSIENT,
      };
    case 'unauthorized':
      // Embedded, the reader holds a short-lived token the host page gave it, not a key.
      return EMBEDDING
        ? {
            title: 'Your access to this audit log has ended.',
            detail: `${message} Reload the page in the application to continue.`,
            code,
          }
        : {
            title: 'Your key is no longer accepted.',
            detail: 'It may have been revoked. Sign out and sign in again with a valid key.',
            code,
            // Loading again, or another page, only fails the same way.
            remedies: ['sign-out'],
          };
    case 'forbidden':
      return EMBEDDING
        ? {
            title: `You may not ${action}.`,
            detail: `${message} Ask an administrator of the application for access.`,
            code,
          }
        : {
            title: `Your key may not ${action}.`,
            detail: `${message} Ask an administrator for a key with that scope.`,
            code,
          };
    case 'not_found':
      return { title: 'Not found.', detail: message, code };
    case 'invalid_query':
      return { title: 'The search could not be read.', detail: message, code };
    case 'invalid_cursor':
      return {
        title: 'This page link no longer works.',
        detail: 'The list changed shape since the link was made. Go back to the first page.',
        code,
        remedies: ['first-page'],
      };
    case 'invalid_request':
      return {
        title: 'A filter is not valid.',
        detail: `${message}${error.details.length > 1 ? ` (${error.details.length} problems)` : ''} Correct it and apply the filters again.`,
        code,
      };
    case 'rate_limited':
      return {
        title: 'Too many requests.',
        detail: 'Wait a moment, then try again.',
        code,
        remedies: ['retry'],
      };
    case 'store_unavailable':
      return {
        title: 'The event store is not available right now.',
        detail: 'Try again in a moment; if it persists, tell the operator of this server.',
        code,
        remedies: ['retry'],
      };
    default:
      return {
        title: `Could not ${action}.`,
        detail: `${message} Try again; if it keeps happening, tell the operator of this server.`,
        code,
        remedies: TRANSIENT,
      };
  }
}
