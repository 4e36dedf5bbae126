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
import { hashedViewWith, type Personal, personalValues, type Salts } from './hashed-view.js';
import { parseIp } from './ip.js';
import {
  DEFAULT_CATEGORY,
  type EventInput,
  type StoredEvent,
  type UnsealedEvent,
} from './schema.js';
import { parseRfc3339 } from './validate.js';

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
 * The object a leaf hash is computed over ({@link hashedViewWith}), each personal value's
 * commitment computed here. Copies only what it changes; the event is not modified.
 */
export function hashedView(
  event: UnsealedEvent & { seq: number },
  salts: Salts,
): Record<string, unknown> {
  return hashedViewWith(event, salts, (_path, salt, value) => commitment(salt, value));
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
 * conflicting reuse of the same `id` (different digest). The values of `sensitive` changes are
 * left out, as from the stored event: kept, an unsalted digest over them would let anyone who
 * reads the database test guesses (a PIN, a short password) against it.
 */
export function inputDigest(input: EventInput): string {
  const changes = input.changes;
  const digested =
    changes?.some((c) => c.sensitive) === true
      ? {
          ...input,
          changes: changes.map((c) => (c.sensitive ? { field: c.field, sensitive: true } : c)),
        }
      : input;
  return sha256Hex(NO_PREFIX, canonicalJson(digested));
}
