/**
 * The verifier's fast path: an export's event line checked straight from its UTF-8 bytes.
 *
 * {@link checkEventLine} parses a line with `JSON.parse`, rebuilds the event's hashed view as
 * objects and serialises it again (RFC 8785); at 1.2 KB a line, that is most of what verifying
 * an export costs. Here the line's bytes are read once into a flat list of values (where each
 * starts and ends), and the canonical text of the hashed view is written from those bytes:
 * strings and integers are copied as they are, members are sorted, personal values are replaced
 * by their commitments, and the result is hashed.
 *
 * It reads a strict subset of JSON, the one Hindsight's exports are written in: no whitespace,
 * no escapes in strings, integers only, ASCII member names, no repeated names, lines of at most
 * 1 MiB. For anything else — and for an erased event, or a line whose recomputed leaf differs
 * from its stored hash — it answers `null`, and the caller checks the line with
 * {@link checkEventLine} as before. So it never decides a line differently: when it accepts
 * one, `checkEventLine` accepts it too, with the same seq, id and leaf hash
 * (`verify-bytes.test.ts` holds it to that). The bytes must be valid UTF-8 (the caller checks a
 * whole chunk at once), as then copying a string's bytes is what `JSON.parse` and
 * `JSON.stringify` together would give.
 */
import { hash } from 'node:crypto';

/** An event accepted by {@link checkEventBytes}; its leaf hash is written where asked. */
export interface CheckedBytes {
  readonly seq: number;
  readonly id: string;
}

const OBJECT = 1;
const ARRAY = 2;
const STRING = 3;
const INTEGER = 4;
const LITERAL = 5;

/** Deeper values are left to the slow path (whose serialiser is recursive too). */
const MAX_DEPTH = 64;

/** The longest line read here (bytes). */
const MAX_LINE_BYTES = 1024 * 1024;

/** Digits of the largest integer read here: 15 keeps every one below 2^53. */
const MAX_DIGITS = 15;

/** The bytes of the hashed view: the leaf prefix, the canonical text, room for commitments. */
let out = Buffer.allocUnsafe(64 * 1024);
/** The values of the line being read, in document order: kind, first byte, end, next sibling. */
let kinds = new Uint8Array(4096);
let starts = new Int32Array(4096);
let ends = new Int32Array(4096);
let nexts = new Int32Array(4096);
/** Member names of the objects being written, sorted, as a stack (one frame per object). */
let order = new Int32Array(4096);
/** The part each of the event's member names plays in the hashed view (`ACTOR`, `LEFT_OUT`…). */
let roles = new Uint8Array(4096);
let src: Buffer = out;
let count = 0;
let stack = 0;
let at = 0;
/** The `salts` object's node, or -1 when the line has none, and how many salts it holds. */
let salts = -1;
let saltCount = 0;

/**
 * Checks an event line (`bytes[start, end)`, without its line break). Writes its recomputed
 * leaf hash (32 bytes) to `leaves` at `leafAt` and answers its seq and id when it is an event
 * whose content gives its stored hash; `null` for anything else (see the module comment).
 */
export function checkEventBytes(
  bytes: Buffer,
  start: number,
  end: number,
  leaves: Buffer,
  leafAt: number,
): CheckedBytes | null {
  const length = end - start;
  // An event is at most 64 KiB as sent; a far longer line is the slow path's, so that the lists
  // below (20 bytes per byte of the line) stay small.
  if (length > MAX_LINE_BYTES) return null;
  // A value takes at least one byte, so a line has at most `length` of them.
  if (kinds.length < length + 2) grow(length + 2);
  src = bytes;
  count = 0;
  if (bytes[start] !== 0x7b || read(start, end, 0) !== end) return null;
  let event = -1;
  let type = -1;
  salts = -1;
  saltCount = 0;
  for (let k = 1; k < count; k = nexts[k + 1] as number) {
    if (nameIs(k, 'event')) {
      if (event !== -1) return null;
      event = k + 1;
    } else if (nameIs(k, 'type')) {
      if (type !== -1) return null;
      type = k + 1;
    } else if (nameIs(k, 'salts')) {
      if (salts !== -1) return null;
      salts = k + 1;
    }
  }
  if (type === -1 || !textIs(type, 'event') || event === -1 || kinds[event] !== OBJECT) {
    return null;
  }
  if (salts !== -1 && !saltsReadable()) return null;
  let seq = -1;
  let id = -1;
  let stored = -1;
  let actor = false;
  // Each member's part in the hashed view, read once here for writeObject.
  for (let k = event + 1; k < (nexts[event] as number); k = nexts[k + 1] as number) {
    let role = NONE;
    if (nameIs(k, 'seq')) seq = k + 1;
    else if (nameIs(k, 'id')) id = k + 1;
    else if (nameIs(k, 'hash')) {
      stored = k + 1;
      role = LEFT_OUT;
    } else if (nameIs(k, 'actor')) {
      actor = true;
      role = ACTOR;
    } else if (nameIs(k, 'context')) role = CONTEXT;
    else if (nameIs(k, 'targets')) role = TARGET;
    else if (nameIs(k, 'changes')) role = CHANGE;
    else if (nameIs(k, 'erased')) return null;
    roles[k] = role;
  }
  // `hashedView` reads the actor's members, so an event without one is the slow path's to judge.
  if (!actor || seq === -1 || kinds[seq] !== INTEGER || src[starts[seq] as number] === 0x2d) {
    return null;
  }
  const seqValue = integerOf(seq);
  if (seqValue < 1 || id === -1 || kinds[id] !== STRING) return null;
  // The stored hash: 64 lowercase hex digits, compared with the recomputed leaf below.
  if (stored === -1 || kinds[stored] !== STRING) return null;
  if ((ends[stored] as number) - (starts[stored] as number) !== 66) return null;

  // Room for the view: at most the line's bytes, plus a commitment (66 bytes) for each salt in
  // place of a value of at least one byte, plus the salt's bytes written before its value while
  // the commitment is computed.
  const need = 1 + 2 * length + 66 * saltCount;
  if (out.length < need) out = Buffer.allocUnsafe(Math.max(need, 2 * out.length));
  stack = 0;
  out[0] = 0;
  at = 1;
  if (!writeEvent(event)) return null;
  // Hex output: a Buffer result costs a native allocation, twice the time of the hash itself.
  const leaf = hash('sha256', out.subarray(0, at), 'hex');
  const hexStart = (starts[stored] as number) + 1;
  for (let i = 0; i < 64; i++) if (src[hexStart + i] !== leaf.charCodeAt(i)) return null;
  leaves.write(leaf, leafAt, 32, 'hex');
  return {
    seq: seqValue,
    id: src.toString('utf8', (starts[id] as number) + 1, (ends[id] as number) - 1),
  };
}

function grow(size: number): void {
  kinds = new Uint8Array(size);
  starts = new Int32Array(size);
  ends = new Int32Array(size);
  nexts = new Int32Array(size);
  order = new Int32Array(size);
  roles = new Uint8Array(size);
}

/**
 * Reads the value at `i` (and everything in it) into the node list; answers the position after
 * it, or -1 when it is outside the subset read here. A member is two nodes: its name (a string)
 * and its value.
 */
function read(i: number, end: number, depth: number): number {
  const node = count++;
  starts[node] = i;
  const c = src[i];
  let j: number;
  if (c === 0x22) {
    kinds[node] = STRING;
    j = stringEnd(i + 1, end, false);
  } else if (c === 0x7b) {
    kinds[node] = OBJECT;
    j = objectEnd(i + 1, end, depth + 1);
  } else if (c === 0x5b) {
    kinds[node] = ARRAY;
    j = arrayEnd(i + 1, end, depth + 1);
  } else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
    kinds[node] = INTEGER;
    j = integerEnd(i, end);
  } else {
    kinds[node] = LITERAL;
    j = literalEnd(i, end);
  }
  if (j === -1) return -1;
  ends[node] = j;
  nexts[node] = count;
  return j;
}

function objectEnd(i: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  if (src[i] === 0x7d) return i + 1;
  for (;;) {
    if (src[i] !== 0x22) return -1;
    const name = count++;
    starts[name] = i;
    kinds[name] = STRING;
    i = stringEnd(i + 1, end, true);
    if (i === -1 || src[i] !== 0x3a) return -1;
    ends[name] = i;
    nexts[name] = count;
    i = read(i + 1, end, depth);
    if (i === -1) return -1;
    const c = src[i];
    if (c === 0x7d) return i + 1;
    if (c !== 0x2c) return -1;
    i++;
  }
}

function arrayEnd(i: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  if (src[i] === 0x5d) return i + 1;
  for (;;) {
    i = read(i, end, depth);
    if (i === -1) return -1;
    const c = src[i];
    if (c === 0x5d) return i + 1;
    if (c !== 0x2c) return -1;
    i++;
  }
}

/**
 * The position after a string's closing quote. No escapes and no control characters; a member
 * name is ASCII (so that its bytes sort as its UTF-16 code units do) and not `__proto__`.
 */
function stringEnd(i: number, end: number, name: boolean): number {
  const bytes = src;
  const stops = name ? NAME_STOPS : VALUE_STOPS;
  const first = i;
  while (i < end && stops[bytes[i] as number] === 0) i++;
  if (i >= end || bytes[i] !== 0x22) return -1;
  if (name && i - first === 9 && src[first] === 0x5f && textAt(first, '__proto__')) return -1;
  return i + 1;
}

/** An integer as RFC 8785 writes it: no fraction or exponent, no leading zero, no `-0`. */
function integerEnd(i: number, end: number): number {
  const negative = src[i] === 0x2d;
  if (negative) i++;
  const first = i;
  if (src[first] === 0x30) {
    if (negative) return -1;
    i++;
  } else {
    while (i < end && (src[i] as number) >= 0x30 && (src[i] as number) <= 0x39) i++;
  }
  const digits = i - first;
  if (digits === 0 || digits > MAX_DIGITS) return -1;
  const c = src[i];
  if (c === 0x2e || c === 0x65 || c === 0x45 || (c !== undefined && c >= 0x30 && c <= 0x39)) {
    return -1;
  }
  return i;
}

function literalEnd(i: number, end: number): number {
  for (const word of LITERALS) {
    if (i + word.length <= end && textAt(i, word)) return i + word.length;
  }
  return -1;
}

const LITERALS = ['true', 'false', 'null'] as const;

/** Whether the bytes at `i` are those of `text` (ASCII). */
function textAt(i: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (src[i + k] !== text.charCodeAt(k)) return false;
  return true;
}

/** Whether member name `node` is `text`. */
function nameIs(node: number, text: string): boolean {
  return (
    (ends[node] as number) - (starts[node] as number) === text.length + 2 &&
    textAt((starts[node] as number) + 1, text)
  );
}

/** Whether string `node` is `text`. */
function textIs(node: number, text: string): boolean {
  return kinds[node] === STRING && nameIs(node, text);
}

function integerOf(node: number): number {
  let value = 0;
  for (let i = starts[node] as number; i < (ends[node] as number); i++) {
    value = value * 10 + ((src[i] as number) - 0x30);
  }
  return value;
}

function hexValue(c: number): number {
  return HEX_VALUES[c] as number;
}

/** Each byte's value as a lowercase hex digit, or -1. */
const HEX_VALUES = new Int8Array(256).fill(-1);
for (let c = 0x30; c <= 0x39; c++) HEX_VALUES[c] = c - 0x30;
for (let c = 0x61; c <= 0x66; c++) HEX_VALUES[c] = c - 0x57;

/**
 * The bytes that end a string's scan: its closing quote, or what the subset does not read in
 * it (a backslash, a control character; in a member name, anything past ASCII).
 */
const VALUE_STOPS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) VALUE_STOPS[c] = 1;
VALUE_STOPS[0x22] = 1;
VALUE_STOPS[0x5c] = 1;
const NAME_STOPS = VALUE_STOPS.slice();
for (let c = 0x7f; c < 256; c++) NAME_STOPS[c] = 1;

/**
 * Whether `salts` is an object of strings (each is read when used, by {@link writePersonal});
 * counts them in {@link saltCount}.
 */
function saltsReadable(): boolean {
  if (kinds[salts] !== OBJECT) return false;
  for (let k = salts + 1; k < (nexts[salts] as number); k = nexts[k + 1] as number) {
    if (kinds[k + 1] !== STRING) return false;
    saltCount++;
  }
  return true;
}

/** The salt of the personal value at `path`; -1 for none, -2 for a path named twice. */
function saltOf(path: string): number {
  if (salts === -1) return -1;
  let found = -1;
  for (let k = salts + 1; k < (nexts[salts] as number); k = nexts[k + 1] as number) {
    if (nameIs(k, path)) {
      if (found !== -1) return -2;
      found = k + 1;
    }
  }
  return found;
}

/** Appends bytes `[from, to)` of the line. */
function copy(from: number, to: number): void {
  if (to - from > 32) {
    at += src.copy(out, at, from, to);
    return;
  }
  const bytes = src;
  const view = out;
  let i = from;
  let j = at;
  while (i < to) view[j++] = bytes[i++] as number;
  at = j;
}

/**
 * Sorts the member names of object `node` onto the stack, in UTF-16 order (bytes order, the
 * names being ASCII); answers how many, or -1 for a name given twice.
 */
function sortMembers(node: number): number {
  const base = stack;
  for (let k = node + 1; k < (nexts[node] as number); k = nexts[k + 1] as number) {
    let j = stack++;
    while (j > base) {
      const c = compareNames(order[j - 1] as number, k);
      if (c === 0) return -1;
      if (c < 0) break;
      order[j] = order[j - 1] as number;
      j--;
    }
    order[j] = k;
  }
  return stack - base;
}

function compareNames(a: number, b: number): number {
  const sa = (starts[a] as number) + 1;
  const sb = (starts[b] as number) + 1;
  const la = (ends[a] as number) - 1 - sa;
  const lb = (ends[b] as number) - 1 - sb;
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const d = (src[sa + i] as number) - (src[sb + i] as number);
    if (d !== 0) return d;
  }
  return la - lb;
}

/** Writes any value canonically; false for a repeated member name. */
function write(node: number): boolean {
  const kind = kinds[node];
  if (kind === OBJECT) return writeObject(node, NONE, '');
  if (kind === ARRAY) {
    out[at++] = 0x5b;
    for (let v = node + 1; v < (nexts[node] as number); v = nexts[v] as number) {
      if (v !== node + 1) out[at++] = 0x2c;
      if (!write(v)) return false;
    }
    out[at++] = 0x5d;
    return true;
  }
  copy(starts[node] as number, ends[node] as number);
  return true;
}

/** The objects of an event whose members hold personal values (`leaf.ts`, `personalValues`). */
const NONE = 0;
const ACTOR = 1;
const TARGET = 2;
const CONTEXT = 3;
const CHANGE = 4;
const EVENT = 5;
/** An event member the hashed view leaves out (`hash`). */
const LEFT_OUT = 6;

/**
 * Writes object `node` canonically, as `hashedView` has it for its place in the event (`role`;
 * `path` is its JSON Pointer for the roles whose members are personal).
 */
function writeObject(node: number, role: number, path: string): boolean {
  const base = stack;
  const members = sortMembers(node);
  if (members === -1) return false;
  out[at++] = 0x7b;
  let first = true;
  for (let m = 0; m < members; m++) {
    const name = order[base + m] as number;
    const value = name + 1;
    let ok = true;
    const part = role === EVENT ? (roles[name] as number) : NONE;
    if (part === LEFT_OUT) continue;
    if (role === CONTEXT && (nameIs(name, 'location') || nameIs(name, 'client'))) continue;
    if (!first) out[at++] = 0x2c;
    first = false;
    copy(starts[name] as number, ends[name] as number);
    out[at++] = 0x3a;
    const personal = role === EVENT ? '' : personalPath(role, name, path);
    if (personal !== '') ok = writePersonal(value, personal);
    else if (role === EVENT) ok = writeEventMember(part, value);
    else ok = write(value);
    if (!ok) return false;
  }
  out[at++] = 0x7d;
  stack = base;
  return true;
}

/** The JSON Pointer of member `name` of an object in `role` when it is personal, else ''. */
function personalPath(role: number, name: number, path: string): string {
  switch (role) {
    case ACTOR:
      if (nameIs(name, 'name')) return '/actor/name';
      if (nameIs(name, 'email')) return '/actor/email';
      return '';
    case TARGET:
      return nameIs(name, 'name') ? `${path}/name` : '';
    case CONTEXT:
      if (nameIs(name, 'ip')) return '/context/ip';
      if (nameIs(name, 'userAgent')) return '/context/userAgent';
      return '';
    case CHANGE:
      if (nameIs(name, 'before')) return `${path}/before`;
      if (nameIs(name, 'after')) return `${path}/after`;
      return '';
    default:
      return '';
  }
}

/** Writes the event's members that hold personal values further down; the others as they are. */
function writeEventMember(part: number, value: number): boolean {
  switch (part) {
    case ACTOR:
      return kinds[value] === OBJECT && writeObject(value, ACTOR, '');
    case CONTEXT:
      return kinds[value] === OBJECT && writeObject(value, CONTEXT, '');
    case TARGET:
      return writeObjects(value, TARGET, '/targets/');
    case CHANGE:
      return writeObjects(value, CHANGE, '/changes/');
    default:
      return write(value);
  }
}

/** Writes an array whose items are all objects in `role` (`targets`, `changes`). */
function writeObjects(node: number, role: number, prefix: string): boolean {
  if (kinds[node] !== ARRAY) return false;
  out[at++] = 0x5b;
  let index = 0;
  for (let v = node + 1; v < (nexts[node] as number); v = nexts[v] as number) {
    if (kinds[v] !== OBJECT) return false;
    if (index > 0) out[at++] = 0x2c;
    if (!writeObject(v, role, `${prefix}${index}`)) return false;
    index++;
  }
  out[at++] = 0x5d;
  return true;
}

/**
 * Writes a personal value: its commitment, `"hex(SHA-256(salt || canonical value))"`, when it
 * has a salt; the value itself otherwise (then it must already be one).
 */
function writePersonal(value: number, path: string): boolean {
  const salt = saltOf(path);
  if (salt === -2) return false;
  if (salt === -1) return write(value);
  // The salt's bytes, as `commitment` reads its hex: lowercase digits, an even number of them.
  const first = (starts[salt] as number) + 1;
  const last = (ends[salt] as number) - 1;
  if ((last - first) % 2 !== 0) return false;
  const mark = at;
  for (let i = first; i < last; i += 2) {
    const high = hexValue(src[i] as number);
    const low = hexValue(src[i + 1] as number);
    if (high === -1 || low === -1) return false;
    out[at++] = (high << 4) | low;
  }
  if (!write(value)) return false;
  const digest = hash('sha256', out.subarray(mark, at), 'hex');
  out[mark] = 0x22;
  out.write(digest, mark + 1, 64, 'latin1');
  out[mark + 65] = 0x22;
  at = mark + 66;
  return true;
}

/** Writes the event's hashed view: everything but `hash`, personal values committed. */
function writeEvent(event: number): boolean {
  return writeObject(event, EVENT, '');
}
