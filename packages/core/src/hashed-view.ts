/**
 * The hashed view of an event (SPEC §6): what its leaf hash is computed over. Pure — no hashing
 * and no Node built-ins — so that a browser can rebuild a leaf with its own SHA-256 (see
 * `event-proof.ts`); `leaf.ts` gives it node:crypto's.
 */
import type { StoredEvent, UnsealedEvent } from './schema.js';

/** Salts of one event's personal values, keyed by JSON Pointer (`/actor/email`), hex. */
export type Salts = Record<string, string>;

export type Personal = { path: string; value: unknown };

/**
 * The personal values of an event and their JSON Pointers: actor name and e-mail, target names,
 * IP, user agent and `changes` values.
 */
export function personalValues(event: UnsealedEvent): Personal[] {
  const out: Personal[] = [];
  const add = (path: string, value: unknown) => {
    if (value !== undefined) out.push({ path, value });
  };
  add('/actor/name', event.actor.name);
  add('/actor/email', event.actor.email);
  event.targets?.forEach((t, i) => {
    add(`/targets/${i}/name`, t.name);
  });
  add('/context/ip', event.context?.ip);
  add('/context/userAgent', event.context?.userAgent);
  event.changes?.forEach((c, i) => {
    add(`/changes/${i}/before`, c.before);
    add(`/changes/${i}/after`, c.after);
  });
  return out;
}

/**
 * The object a leaf hash is computed over: the event without `hash`, `erased`,
 * `context.location`, `context.client`, with each personal value of {@link personalValues}
 * replaced by its commitment, `commitTo(path, salt, value)` (`leaf.ts`'s `commitment`, or one
 * computed ahead where hashing is asynchronous, as in a browser). An erased value (issue #9) is its commitment in `erased`, whatever
 * the event shows in its place (`null` there: a name the event never had, left out). A personal
 * value with no salt must already be a commitment. Copies only what it changes; the event is
 * not modified.
 */
export function hashedViewWith(
  event: UnsealedEvent & { seq: number },
  salts: Salts,
  commitTo: (path: string, saltHex: string, value: unknown) => string,
): Record<string, unknown> {
  const erased = event.erased;
  const commit = (path: string, value: unknown): unknown => {
    if (erased !== undefined && Object.hasOwn(erased, path)) return erased[path] ?? undefined;
    if (value === undefined) return undefined;
    const salt = salts[path];
    return salt === undefined ? value : commitTo(path, salt, value);
  };
  const { hash: _hash, erased: _erased, ...view } = event as StoredEvent;
  const out: Record<string, unknown> = view;
  const actor: Record<string, unknown> = { ...event.actor };
  put(actor, 'name', commit('/actor/name', event.actor.name));
  put(actor, 'email', commit('/actor/email', event.actor.email));
  out['actor'] = actor;
  if (event.targets) {
    out['targets'] = event.targets.map((t, i) => {
      const name = commit(`/targets/${i}/name`, t.name);
      if (name === t.name) return t;
      const target: Record<string, unknown> = { ...t };
      put(target, 'name', name);
      return target;
    });
  }
  const ip = commit('/context/ip', event.context?.ip);
  const userAgent = commit('/context/userAgent', event.context?.userAgent);
  if (event.context || ip !== undefined || userAgent !== undefined) {
    const {
      location: _location,
      client: _client,
      ...context
    } = event.context ?? ({} as NonNullable<UnsealedEvent['context']>);
    const c: Record<string, unknown> = context;
    put(c, 'ip', ip);
    put(c, 'userAgent', userAgent);
    out['context'] = c;
  }
  if (event.changes) {
    out['changes'] = event.changes.map((change, i) => {
      const c: Record<string, unknown> = { ...change };
      put(c, 'before', commit(`/changes/${i}/before`, change.before));
      put(c, 'after', commit(`/changes/${i}/after`, change.after));
      return c;
    });
  }
  return out;
}

/** Sets a member, or removes it for `undefined`. */
function put(object: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) delete object[key];
  else object[key] = value;
}
