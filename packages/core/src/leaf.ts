/**
 * From a validated producer event to a sealed, hashed stored event (SPEC §2, §6).
 *
 * The leaf hash is `SHA-256(0x00 || canonicalJson(view))`, where `view` is the stored event
 * without `hash`, `context.location` and `context.client`, and with every personal value
 * replaced by its commitment `hex(SHA-256(salt || canonicalJson(value)))`. The salts are kept
 * beside the event, so erasing a value together with its salt keeps every proof valid.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { parseIp } from './ip.js';
import {
  DEFAULT_CATEGORY,
  type EventInput,
  type StoredEvent,
  type UnsealedEvent,
} from './schema.js';
import { parseRfc3339 } from './validate.js';

/** Salts of one event's personal values, keyed by JSON Pointer (`/actor/email`), hex. */
export type Salts = Record<string, string>;

/** Bytes of each salt. */
export const SALT_BYTES = 16;

/**
 * Turns validated input into the stored form: defaults applied, `time` normalised to UTC
 * milliseconds, the IP in canonical text form, sensitive change values dropped.
 * @example normalizeEvent(input, { id: '01J…', receivedAt: new Date() }).category // 'changes'
 */
export function normalizeEvent(
  input: EventInput,
  server: { id: string; receivedAt: Date },
): UnsealedEvent {
  const receivedAt = server.receivedAt.toISOString();
  const timeMs = input.time === undefined ? null : parseRfc3339(input.time);
  const event: UnsealedEvent = {
    id: input.id ?? server.id,
    tenant: input.tenant,
    category: input.category ?? DEFAULT_CATEGORY,
    action: input.action,
    time: timeMs === null ? receivedAt : new Date(timeMs).toISOString(),
    receivedAt,
    actor: { type: input.actor.type ?? 'user', ...input.actor },
    outcome: input.outcome ?? 'success',
  };
  if (input.targets !== undefined) event.targets = input.targets.map((t) => ({ ...t }));
  if (input.channel !== undefined) event.channel = input.channel;
  if (input.status !== undefined) event.status = input.status;
  if (input.description !== undefined) event.description = input.description;
  if (input.changes !== undefined) {
    event.changes = input.changes.map((c) =>
      c.sensitive ? { field: c.field, sensitive: true } : { ...c },
    );
  }
  if (input.context !== undefined) {
    event.context = { ...input.context };
    const { ip } = input.context;
    if (ip !== undefined) event.context.ip = parseIp(ip)?.text ?? ip;
  }
  if (input.metadata !== undefined) event.metadata = input.metadata;
  return event;
}

type Personal = { path: string; value: unknown };

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

/** Scratch space for the bytes hashed: reused, so a hash allocates only its result. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** Hex SHA-256 of a prefix (salt or domain byte) followed by a text's UTF-8. */
function sha256Hex(prefix: Uint8Array, text: string): string {
  // At most 3 UTF-8 bytes per UTF-16 code unit.
  const need = prefix.length + text.length * 3;
  if (need > scratch.length) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  scratch.set(prefix, 0);
  const written = scratch.write(text, prefix.length);
  return hash('sha256', scratch.subarray(0, prefix.length + written), 'hex');
}

/**
 * The commitment to one personal value: `hex(SHA-256(salt || canonicalJson(value)))`.
 * @example commitment('a3…(32 hex)', 'ann@acme.test')
 */
export function commitment(saltHex: string, value: unknown): string {
  const text = canonicalJson(value);
  // The salt's bytes (at most one per two hex digits), then the text's (at most 3 each).
  const need = saltHex.length / 2 + text.length * 3;
  if (need > scratch.length) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  const salt = scratch.write(saltHex, 0, 'hex');
  const written = scratch.write(text, salt);
  return hash('sha256', scratch.subarray(0, salt + written), 'hex');
}

/**
 * The object a leaf hash is computed over: the event without `hash`, `erased`,
 * `context.location`, `context.client`, with each personal value of {@link personalValues}
 * replaced by its commitment. An erased value (issue #9) is its commitment in `erased`, whatever
 * the event shows in its place (`null` there: a name the event never had, left out). A personal
 * value with no salt must already be a commitment. Copies only what it changes; the event is
 * not modified.
 */
export function hashedView(
  event: UnsealedEvent & { seq: number },
  salts: Salts,
): Record<string, unknown> {
  const erased = event.erased;
  const commit = (path: string, value: unknown): unknown => {
    if (erased !== undefined && Object.hasOwn(erased, path)) return erased[path] ?? undefined;
    if (value === undefined) return undefined;
    const salt = salts[path];
    return salt === undefined ? value : commitment(salt, value);
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

/**
 * The canonical JSON of an event's hashed view, split where its `seq` goes: the canonical text
 * is `head + seq + tail`. Everything but the number can be computed before the store assigns
 * it, so the store's write path only concatenates and hashes.
 * @example const { head, tail } = leafHashParts(event, salts); leafHashOf({ head, tail }, 7)
 */
export function leafHashParts(event: UnsealedEvent, salts: Salts): LeafHashParts {
  const view = hashedView({ ...event, seq: 0 }, salts);
  let head = '{';
  let tail = '';
  let afterSeq = false;
  for (const key of Object.keys(view).sort()) {
    const value = view[key];
    if (value === undefined) continue;
    if (key === 'seq') {
      head += `${head.length === 1 ? '' : ','}"seq":`;
      afterSeq = true;
      continue;
    }
    const member = `${JSON.stringify(key)}:${canonicalJson(value)}`;
    if (afterSeq) tail += `,${member}`;
    else head += `${head.length === 1 ? '' : ','}${member}`;
  }
  return { head, tail: `${tail}}` };
}

/** The canonical text of an event's hashed view around its `seq`; see {@link leafHashParts}. */
export interface LeafHashParts {
  readonly head: string;
  readonly tail: string;
}

/** The leaf hash (hex) of an event from its {@link leafHashParts} and `seq`. */
export function leafHashOf(parts: LeafHashParts, seq: number): string {
  return sha256Hex(LEAF_PREFIX, `${parts.head}${seq}${parts.tail}`);
}

/**
 * RFC 9162 leaf hash of an event: `SHA-256(0x00 || canonicalJson(hashedView))`, hex.
 */
export function leafHash(event: UnsealedEvent & { seq: number }, salts: Salts): string {
  return sha256Hex(LEAF_PREFIX, canonicalJson(hashedView(event, salts)));
}

const LEAF_PREFIX = new Uint8Array([0]);
const NO_PREFIX = new Uint8Array(0);

/**
 * Fresh salts for an event's personal values, drawn from `random` (hex, {@link SALT_BYTES} each).
 */
export function makeSalts(event: UnsealedEvent, random: (bytes: number) => Uint8Array): Salts {
  const salts: Salts = {};
  const values = personalValues(event);
  if (values.length === 0) return salts;
  // One hex text for all of them, cut in pieces: one conversion per event, not one per value.
  const hex = Buffer.from(random(values.length * SALT_BYTES)).toString('hex');
  const width = 2 * SALT_BYTES;
  for (let i = 0; i < values.length; i++) {
    salts[(values[i] as Personal).path] = hex.slice(i * width, (i + 1) * width);
  }
  return salts;
}

/** Seals an event with its `seq` and leaf hash. */
export function sealEvent(event: UnsealedEvent, seq: number, salts: Salts): StoredEvent {
  const numbered = { ...event, seq };
  return { ...numbered, hash: leafHash(numbered, salts) };
}

/**
 * Digest of a producer's input as sent, used to tell an idempotent retry (same digest) from a
 * conflicting reuse of the same `id` (different digest).
 */
export function inputDigest(input: EventInput): string {
  return sha256Hex(NO_PREFIX, canonicalJson(input));
}
