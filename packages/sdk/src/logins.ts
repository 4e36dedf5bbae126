/**
 * Sign-in attempts for the `logins` log, exactly as the logins view reads them
 * (docs/event-conventions.md, "logins"; docs/views.md, "Logins per account").
 */
import type { Actor, Channel, EventInput } from '@hindsight/core';
import { fields, optionalText, refuse, text } from './arguments.js';

/** A sign-in attempt; see {@link login}. */
export interface LoginInput {
  readonly tenant: string;
  /**
   * The account the attempt was for. Without `id` it is an attempt for an e-mail that has no
   * account, recorded as an anonymous actor with that e-mail.
   */
  readonly user: {
    readonly id?: string;
    readonly name?: string;
    readonly email?: string;
    readonly role?: string;
  };
  readonly succeeded: boolean;
  /** The client's address (the view shows it, and the server locates it). */
  readonly ip?: string;
  readonly userAgent?: string;
  /** The new session, on success. */
  readonly sessionId?: string;
  /** Why a failure failed: `invalid_password`, `unknown_user`, `account_locked`, `mfa_failed`, … */
  readonly reason?: string;
  /** Default `ui`. */
  readonly channel?: Channel;
  /** RFC 3339; default now. */
  readonly time?: string;
  /** Your own idempotency id; default a new one. */
  readonly id?: string;
}

/**
 * A `login.succeeded` or `login.failed` event (category `logins`).
 * @example
 * client.record(login({ tenant: 'acme', user: { id: 'u-1001', name: 'Alice Hughes', email: 'alice@acme.test' },
 *   succeeded: false, reason: 'invalid_password', ip: req.ip, userAgent: req.get('user-agent') }));
 */
export function login(input: LoginInput): EventInput {
  check(input);
  const { user } = input;
  const actor: Actor =
    user.id === undefined
      ? { type: 'anonymous', ...pick(user, ['name', 'email']) }
      : { id: user.id, ...pick(user, ['name', 'email', 'role']) };
  const reason = input.succeeded ? undefined : input.reason;
  const context = {
    ...(input.ip === undefined ? {} : { ip: input.ip }),
    ...(input.userAgent === undefined ? {} : { userAgent: input.userAgent }),
    ...(input.sessionId === undefined ? {} : { sessionId: input.sessionId }),
  };
  return {
    tenant: input.tenant,
    ...(input.id === undefined ? {} : { id: input.id }),
    ...(input.time === undefined ? {} : { time: input.time }),
    action: input.succeeded ? 'login.succeeded' : 'login.failed',
    category: 'logins',
    actor,
    channel: input.channel ?? 'ui',
    ...(input.succeeded ? {} : { outcome: 'failure' as const }),
    // No name or address: the actor holds them, where an erasure reaches them (docs/erasure.md).
    description: input.succeeded
      ? 'Signed in'
      : `Failed sign-in${reason === undefined ? '' : `: ${reason.replace(/_/g, ' ')}`}`,
    ...(Object.keys(context).length === 0 ? {} : { context }),
    ...(reason === undefined ? {} : { metadata: { reason } }),
  };
}

const WHERE = 'login()';

function check(input: LoginInput): void {
  const given = fields<LoginInput>(
    WHERE,
    'its argument',
    input,
    'an object { tenant, user, succeeded, … }',
  );
  text(WHERE, 'tenant', given.tenant);
  const user = fields<LoginInput['user']>(
    WHERE,
    'user',
    given.user,
    'an object { id?, name?, email?, role? }',
  );
  for (const key of ['id', 'name', 'email', 'role'] as const) {
    optionalText(WHERE, `user.${key}`, user[key]);
  }
  if (typeof given.succeeded !== 'boolean') {
    refuse(WHERE, 'succeeded', 'true or false', given.succeeded);
  }
  for (const key of ['ip', 'userAgent', 'sessionId', 'reason', 'channel', 'time', 'id'] as const) {
    optionalText(WHERE, key, given[key]);
  }
}

function pick<T extends object, K extends keyof T>(
  value: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
