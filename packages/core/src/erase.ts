/**
 * GDPR erasure of one person from stored events (issue #9, SPEC §6), without breaking a proof.
 *
 * Every personal value of an event is hashed as its commitment `SHA-256(salt || value)`
 * (`leaf.ts`). Erasing a value keeps that commitment in the event's `erased` map (keyed by the
 * value's JSON Pointer) and drops the value and its salt: the leaf hash, which is computed over
 * the commitment, does not change. What readers see instead is {@link DELETED_USER} for a name,
 * and nothing for an e-mail, IP, user agent or `changes` value.
 */
import type { Salts } from './hashed-view.js';
import { commitment } from './leaf.js';
import type { StoredEvent, UnsealedEvent } from './schema.js';

/**
 * The form in which an e-mail address is compared: its ASCII letters in lower case, as a
 * mailbox is matched in practice (`Alice@Acme.test` is `alice@acme.test`). Other letters are
 * kept, as SQL's `lower()` over a "C"-collated column keeps them, so that a store can compute
 * the same form.
 * @example emailKey('Alice@Acme.TEST') // 'alice@acme.test'
 */
export function emailKey(email: string): string {
  return /[A-Z]/.test(email) ? email.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : email;
}

/** What an erased person's name shows as. */
export const DELETED_USER = 'Deleted User';

/** The person to erase: by the actor id the product knows them by, or by e-mail address. */
export type ErasureSubject =
  | { readonly actorId: string; readonly email?: undefined }
  | { readonly email: string; readonly actorId?: undefined };

/**
 * The commitments of an event's erased personal values, by JSON Pointer (`/actor/email`).
 * `null` marks a name the event did not have, shown as {@link DELETED_USER} but not hashed.
 */
export type Erased = Record<string, string | null>;

/**
 * The personal values of an event that belong to `subject`, by JSON Pointer:
 * - as actor (`actor.id` equals `actorId`, or `actor.email` is `email` in any case of its ASCII
 *   letters, {@link emailKey}): the actor's name
 *   and e-mail, and the event's IP and user agent;
 * - as target (a target whose `id` equals `actorId`, or `email`): that target's name, and the
 *   `before` / `after` of every `changes` entry of the event (the changes are about it).
 * @example subjectPaths(event, { actorId: 'u-1001' }) // ['/actor/name', '/actor/email', …]
 */
export function subjectPaths(event: UnsealedEvent, subject: ErasureSubject): string[] {
  const paths: string[] = [];
  const key = subject.actorId ?? subject.email;
  const isActor =
    subject.actorId !== undefined
      ? event.actor.id === subject.actorId
      : event.actor.email !== undefined && emailKey(event.actor.email) === emailKey(subject.email);
  if (isActor) paths.push('/actor/name', '/actor/email', '/context/ip', '/context/userAgent');
  let about = false;
  event.targets?.forEach((t, i) => {
    if (t.id !== key) return;
    paths.push(`/targets/${i}/name`);
    about = true;
  });
  if (about) {
    event.changes?.forEach((_, i) => {
      paths.push(`/changes/${i}/before`, `/changes/${i}/after`);
    });
  }
  return paths;
}

/** An event after an erasure, and the salts it keeps. */
export interface ErasedEvent<E extends UnsealedEvent> {
  readonly event: E;
  readonly salts: Salts;
  /** The JSON Pointers erased now (none of them had been before). */
  readonly paths: string[];
}

/**
 * Erases the subject's personal values from one event: each is replaced by its commitment in
 * `erased` and its salt dropped; names show as {@link DELETED_USER}; e-mail, IP (with the
 * location derived from it), user agent (with the client derived from it) and `changes` values
 * are removed. The leaf hash stays the same. `null` when nothing of the subject is left in the
 * event (so erasing twice changes nothing). The event and salts given are not modified.
 * @example const out = eraseEvent(stored, salts, { email: 'ann@acme.test' }); out?.event.erased
 */
export function eraseEvent<E extends UnsealedEvent>(
  stored: E,
  salts: Salts,
  subject: ErasureSubject,
): ErasedEvent<E> | null {
  const event = structuredClone(stored) as E & Pick<StoredEvent, 'erased'>;
  const erased: Erased = { ...event.erased };
  const kept: Salts = { ...salts };
  const paths: string[] = [];
  for (const path of subjectPaths(stored, subject)) {
    if (Object.hasOwn(erased, path)) continue;
    const slot = slotOf(event, path);
    if (!slot) continue;
    const value = slot.get();
    const isName = path.endsWith('/name');
    if (value === undefined) {
      if (!isName) continue;
      erased[path] = null;
    } else {
      const salt = kept[path];
      // A value without a salt is already its commitment (see `hashedView`).
      if (salt === undefined && typeof value !== 'string') continue;
      erased[path] = salt === undefined ? (value as string) : commitment(salt, value);
      delete kept[path];
    }
    slot.set(isName ? DELETED_USER : undefined);
    paths.push(path);
  }
  if (paths.length === 0) return null;
  const context = event.context;
  if (context) {
    if (Object.hasOwn(erased, '/context/ip')) delete context.location;
    if (Object.hasOwn(erased, '/context/userAgent')) delete context.client;
    if (Object.keys(context).length === 0) delete event.context;
  }
  event.erased = erased;
  return { event, salts: kept, paths };
}

/** Reads and writes the value at one personal path of an event (`undefined` deletes it). */
interface Slot {
  get(): unknown;
  set(value: unknown): void;
}

function slotOf(event: UnsealedEvent, path: string): Slot | null {
  const field = (object: Record<string, unknown> | undefined, key: string): Slot | null =>
    object === undefined
      ? null
      : {
          get: () => object[key],
          set: (value) => {
            if (value === undefined) delete object[key];
            else object[key] = value;
          },
        };
  const [, head, second, third] = path.split('/');
  type Fields = Record<string, unknown> | undefined;
  if (head === 'actor' && second !== undefined) return field(event.actor as Fields, second);
  if (head === 'context' && second !== undefined) return field(event.context as Fields, second);
  const index = Number(second);
  if (head === 'targets' && third !== undefined) {
    return field(event.targets?.[index] as Fields, third);
  }
  if (head === 'changes' && third !== undefined) {
    return field(event.changes?.[index] as Fields, third);
  }
  return null;
}
