/**
 * What the signed-in reader may do, from who the server says they are (`GET /v1/session`): a
 * key by its scopes (`admin` holds them all), a viewer token by its permissions. The console
 * offers only these; the server still checks every request.
 */
import type { Session } from './api-types.js';

export interface Abilities {
  /** Export a view or picked events: a key's `events:export`, a viewer's `export`. */
  readonly canExport: boolean;
  /** Check an event's proof and the log's signatures: any key, a viewer with `verify`. */
  readonly canVerify: boolean;
  /** Acknowledge a system's errors: a key's `events:write`; never a viewer token. */
  readonly canAcknowledge: boolean;
  /**
   * Delete picked events: a key's `events:delete`, a viewer's `delete` — where the tenant's
   * settings allow deletion (`deletion.allowed`), which the console checks too.
   */
  readonly canDelete: boolean;
}

/**
 * @example abilitiesOf({ kind: 'key', permissions: ['events:read'], … }).canExport // false
 */
export function abilitiesOf(session: Session): Abilities {
  const holds = (name: string) => session.permissions.includes(name);
  if (session.kind === 'viewer') {
    return {
      canExport: holds('export'),
      canVerify: holds('verify'),
      canAcknowledge: false,
      canDelete: holds('delete'),
    };
  }
  const scoped = (scope: string) => holds(scope) || holds('admin');
  return {
    canExport: scoped('events:export'),
    canVerify: true,
    canAcknowledge: scoped('events:write'),
    canDelete: scoped('events:delete'),
  };
}
