/**
 * Validation of producer input (SPEC §2): the compiled TypeBox schema first, then the rules a
 * JSON Schema cannot express. Every issue carries a JSON Pointer path and a human message.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { isIpAddress } from './ip.js';
import { EventInput, LIMITS } from './schema.js';
import { hasControlCharacters, NON_ASCII } from './text.js';

/** One reason an input was refused, e.g. `{ path: '/events/3/actor/id', message: '…' }`. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** Options for {@link validateEvent}. */
export interface ValidateOptions {
  /** The receive time; `time` more than 5 minutes after it is refused. */
  readonly now: Date;
  /** JSON Pointer prefix for issue paths, e.g. `/events/3`. */
  readonly path?: string;
  /**
   * `JSON.stringify(input)`, when the caller has it already (the SDK does, to send it): the
   * size check then measures it instead of serialising the event again.
   */
  readonly json?: string;
}

const compiled = TypeCompiler.Compile(EventInput);
const MAX_ISSUES = 20;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Characters a JSON Pointer token escapes (RFC 6901). */
const POINTER_SPECIAL = /[~/]/;
/** The control-character rules of one-line and multi-line fields, made once: checked per field. */
const ONE_LINE = { lineBreaks: false } as const;
const MULTI_LINE = { lineBreaks: true } as const;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DAY_MS = 86_400_000;
// Character codes of RFC 3339's punctuation.
const ZERO = 0x30; // 0
const DASH = 0x2d; // -
const PLUS = 0x2b; // +
const COLON = 0x3a; // :
const DOT = 0x2e; // .
const UPPER_T = 0x54; // T
const LOWER_T = 0x74; // t
const UPPER_Z = 0x5a; // Z
const LOWER_Z = 0x7a; // z

/**
 * Parses an RFC 3339 timestamp that carries an offset; `null` when malformed or impossible.
 * @example parseRfc3339('2026-01-02T03:04:05.678+01:00') // 1767319445678
 */
export function parseRfc3339(text: string): number | null {
  // Read by position rather than by a regular expression: every event's time passes here.
  const length = text.length;
  if (length < 20) return null;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const t = text.charCodeAt(10);
  if (
    (year | month | day | hour | minute | second) < 0 ||
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    (t !== UPPER_T && t !== LOWER_T) ||
    text.charCodeAt(13) !== COLON ||
    text.charCodeAt(16) !== COLON
  ) {
    return null;
  }
  // Leap seconds (:60) are refused: JavaScript time cannot represent them.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > daysInMonth) return null;
  // A fraction of 1–9 digits; its first three are the milliseconds, the rest truncated (as
  // `Date.parse` does).
  let i = 19;
  let millis = 0;
  if (text.charCodeAt(i) === DOT) {
    let n = 0;
    for (i++; n < 9 && isDigit(text.charCodeAt(i)); i++, n++) {
      if (n < 3) millis += (text.charCodeAt(i) - ZERO) * 10 ** (2 - n);
    }
    if (n === 0) return null;
  }
  let offsetMinutes = 0;
  const sign = text.charCodeAt(i);
  if (sign === UPPER_Z || sign === LOWER_Z) {
    if (i + 1 !== length) return null;
  } else if (sign === PLUS || sign === DASH) {
    const offsetHours = digitsAt(text, i + 1, 2);
    const offsetMins = digitsAt(text, i + 4, 2);
    if (
      i + 6 !== length ||
      text.charCodeAt(i + 3) !== COLON ||
      offsetHours < 0 ||
      offsetMins < 0 ||
      offsetHours > 23 ||
      offsetMins > 59
    ) {
      return null;
    }
    offsetMinutes = (sign === DASH ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return null;
  }
  // `Date.UTC` reads years 0–99 as 1900–1999; 400 Gregorian years are exactly 146,097 days.
  const ms =
    year < 100
      ? Date.UTC(year + 400, month - 1, day, hour, minute, second, millis) - 146_097 * DAY_MS
      : Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return ms - offsetMinutes * 60_000;
}

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The decimal number of `count` digits at `start`, or -1 when any is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + code - ZERO;
  }
  return value;
}

/** UTF-8 length of the JSON serialisation of a value. */
export function jsonBytes(value: unknown): number {
  return utf8Length(JSON.stringify(value) ?? '');
}

/**
 * UTF-8 length of a string, counted without encoding it: text that is ASCII up to some point
 * (JSON nearly always is) is measured by one regular-expression scan, the rest character by
 * character. A lone surrogate counts 3 bytes, as the U+FFFD that encoding writes for it.
 * @example utf8Length('é😀') // 6
 */
export function utf8Length(text: string): number {
  const first = NON_ASCII.exec(text);
  if (first === null) return text.length;
  let bytes = text.length;
  for (let i = first.index; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
      continue;
    }
    bytes += 2;
    // A surrogate pair is two code units of one four-byte character.
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return bytes;
}

/** `parent` extended by one JSON Pointer token. */
function pointer(parent: string, key: string | number): string {
  if (typeof key === 'number' || !POINTER_SPECIAL.test(key)) return `${parent}/${key}`;
  return `${parent}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * Walks free-form JSON (the value at `parent` + `key`): forbidden keys, ill-formed strings,
 * nesting depth. Paths are built only for containers and for issues, not for every leaf.
 */
function checkFreeJson(
  value: unknown,
  parent: string,
  key: string | number,
  depth: number,
  maxDepth: number,
  issues: ValidationIssue[],
): void {
  if (issues.length >= MAX_ISSUES) return;
  if (typeof value === 'number') {
    // JSON has no Infinity or NaN (a number past its range parses as Infinity).
    if (!Number.isFinite(value)) {
      issues.push({ path: pointer(parent, key), message: 'must be a finite number' });
    } else if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      // I-JSON (RFC 7493, which the leaf hash's RFC 8785 builds on): past 2^53 an integer is
      // not kept exactly — 12345678901234567891 reads as …7000 — so the log would keep another
      // value than was sent.
      issues.push({
        path: pointer(parent, key),
        message: 'is an integer beyond ±(2^53 − 1), which is not kept exactly; send it as a string',
      });
    }
    return;
  }
  if (typeof value === 'string') {
    if (!value.isWellFormed()) {
      issues.push({
        path: pointer(parent, key),
        message: 'must be valid Unicode (lone surrogate)',
      });
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const path = pointer(parent, key);
  if (depth > maxDepth) {
    issues.push({ path, message: `nesting deeper than ${maxDepth} levels` });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      checkFreeJson(value[i], path, i, depth + 1, maxDepth, issues);
    }
    return;
  }
  for (const name of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(name)) {
      issues.push({ path: pointer(path, name), message: `the key "${name}" is not allowed` });
      continue;
    }
    if (!name.isWellFormed()) {
      issues.push({ path: pointer(path, name), message: 'key must be valid Unicode' });
    }
    checkFreeJson(
      (value as Record<string, unknown>)[name],
      path,
      name,
      depth + 1,
      maxDepth,
      issues,
    );
  }
}

/** A one-line (or, with `multiline`, a multi-line) text field at `base` + `rest`. */
function checkLine(
  value: unknown,
  base: string,
  rest: string,
  issues: ValidationIssue[],
  multiline = false,
) {
  if (typeof value !== 'string') return;
  if (!value.isWellFormed()) {
    issues.push({ path: `${base}${rest}`, message: 'must be valid Unicode (lone surrogate)' });
  } else if (hasControlCharacters(value, multiline ? MULTI_LINE : ONE_LINE)) {
    issues.push({
      path: `${base}${rest}`,
      message: multiline
        ? 'must not contain control characters other than tab and line breaks'
        : 'must not contain control characters',
    });
  }
}

function isDeepLink(url: string): boolean {
  // `//host` and `/\host` are read by browsers as links to another site.
  if (url.startsWith('/')) return !url.startsWith('//') && !url.startsWith('/\\');
  return /^https?:\/\/[^\s/]+/i.test(url);
}

const SIDES = ['before', 'after'] as const;

/**
 * Rules beyond JSON Schema; runs only on input the schema accepted. Issue paths are built only
 * when there is an issue: this runs for every event the SDK records and the server receives.
 */
function checkSemantics(
  event: EventInput,
  prefix: string,
  options: ValidateOptions,
  issues: ValidationIssue[],
) {
  // With the event's JSON at hand, 3 bytes per UTF-16 unit bounds the UTF-8 size of the event
  // and of every part of it (a part's JSON is a piece of the event's), so that limits far above
  // the bound need no serialising or counting.
  const bound = options.json === undefined ? Number.POSITIVE_INFINITY : 3 * options.json.length;
  /** Whether a free-form value (metadata, a change's value) is nested too deep or not JSON. */
  let misshapen = false;
  checkLine(event.id, prefix, '/id', issues);
  checkLine(event.status, prefix, '/status', issues);
  checkLine(event.description, prefix, '/description', issues, true);

  const actor = event.actor;
  const actorType = actor.type ?? 'user';
  if (actor.id === undefined && actorType !== 'system' && actorType !== 'anonymous') {
    issues.push({
      path: `${prefix}/actor/id`,
      message: `is required for an actor of type "${actorType}"`,
    });
  }
  checkLine(actor.id, prefix, '/actor/id', issues);
  checkLine(actor.name, prefix, '/actor/name', issues);
  checkLine(actor.email, prefix, '/actor/email', issues);
  checkLine(actor.role, prefix, '/actor/role', issues);

  const targets = event.targets;
  if (targets !== undefined) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i] as NonNullable<EventInput['targets']>[number];
      const base = `${prefix}/targets/${i}`;
      checkLine(t.type, base, '/type', issues);
      checkLine(t.id, base, '/id', issues);
      checkLine(t.name, base, '/name', issues);
      checkLine(t.url, base, '/url', issues);
      if (t.url !== undefined && !isDeepLink(t.url)) {
        issues.push({
          path: `${base}/url`,
          message: 'must be an http(s) URL or a path starting with "/"',
        });
      }
    }
  }

  const changes = event.changes;
  if (changes !== undefined) {
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i] as NonNullable<EventInput['changes']>[number];
      const base = `${prefix}/changes/${i}`;
      checkLine(c.field, base, '/field', issues);
      for (const side of SIDES) {
        const value = c[side];
        if (value === undefined) continue;
        // Shape first: a value nested past the limit is not serialised to be measured.
        const before = issues.length;
        checkFreeJson(value, base, side, 1, LIMITS.metadataDepth, issues);
        if (issues.length > before) {
          misshapen = true;
          continue;
        }
        if (bound > LIMITS.changeValueBytes && jsonBytes(value) > LIMITS.changeValueBytes) {
          issues.push({
            path: `${base}/${side}`,
            message: `is larger than ${LIMITS.changeValueBytes} bytes as JSON`,
          });
        }
      }
    }
  }

  const ctx = event.context;
  if (ctx) {
    if (ctx.ip !== undefined && !isIpAddress(ctx.ip)) {
      issues.push({
        path: `${prefix}/context/ip`,
        message: 'must be a valid IPv4 or IPv6 address',
      });
    }
    checkLine(ctx.userAgent, prefix, '/context/userAgent', issues);
    checkLine(ctx.requestId, prefix, '/context/requestId', issues);
    checkLine(ctx.sessionId, prefix, '/context/sessionId', issues);
    if (ctx.http) checkLine(ctx.http.url, prefix, '/context/http/url', issues);
  }

  if (event.time !== undefined) {
    const ms = parseRfc3339(event.time);
    if (ms === null) {
      issues.push({
        path: `${prefix}/time`,
        message: 'must be an RFC 3339 timestamp with offset, e.g. 2026-01-02T03:04:05Z',
      });
    } else if (ms > options.now.getTime() + LIMITS.futureSkewMs) {
      issues.push({ path: `${prefix}/time`, message: 'is more than 5 minutes in the future' });
    } else if (ms < 0) {
      issues.push({ path: `${prefix}/time`, message: 'is before 1970-01-01T00:00:00Z' });
    }
  }

  if (event.metadata !== undefined) {
    const before = issues.length;
    checkFreeJson(event.metadata, prefix, 'metadata', 1, LIMITS.metadataDepth, issues);
    if (issues.length > before) misshapen = true;
    else if (bound > LIMITS.metadataBytes && jsonBytes(event.metadata) > LIMITS.metadataBytes) {
      issues.push({
        path: `${prefix}/metadata`,
        message: `is larger than ${LIMITS.metadataBytes} bytes`,
      });
    }
  }

  // A misshapen free-form value may not even serialise (nested thousands deep); the event is
  // refused for it already.
  if (
    !misshapen &&
    bound > LIMITS.eventBytes &&
    utf8Length(options.json ?? JSON.stringify(event)) > LIMITS.eventBytes
  ) {
    issues.push({
      path: prefix,
      message: `event is larger than ${LIMITS.eventBytes} bytes`,
    });
  }
}

/**
 * Validates one producer event; an empty array means valid.
 * @example validateEvent({ tenant: 'acme', action: 'user.created', actor: { id: 'u1' } }, { now: new Date() }) // []
 */
export function validateEvent(input: unknown, options: ValidateOptions): ValidationIssue[] {
  const prefix = options.path ?? '';
  const issues: ValidationIssue[] = [];
  if (!compiled.Check(input)) {
    for (const error of compiled.Errors(input)) {
      if (withinLength(error)) continue;
      // Union branches report one error per branch; the first per path is the useful one.
      if (issues.some((i) => i.path === `${prefix}${error.path}`)) continue;
      issues.push({ path: `${prefix}${error.path}`, message: schemaMessage(error.message, error) });
      if (issues.length >= MAX_ISSUES) break;
    }
    if (issues.length > 0) return issues;
  }
  // Valid but for strings within their limits in characters (`withinLength`).
  checkSemantics(input as EventInput, prefix, options, issues);
  return issues;
}

/**
 * Whether a string the schema found too long is within its limit counted in characters (code
 * points), as SPEC §2 and JSON Schema count: the compiled check counts UTF-16 units, in which
 * an emoji is two. Only a string over the limit in units is counted again.
 */
function withinLength(error: { type: ValueErrorType; schema: unknown; value: unknown }): boolean {
  if (error.type !== ValueErrorType.StringMaxLength || typeof error.value !== 'string') {
    return false;
  }
  const max = (error.schema as { maxLength?: unknown }).maxLength;
  if (typeof max !== 'number') return false;
  let characters = 0;
  for (const _ of error.value) if (++characters > max) return false;
  return true;
}

function schemaMessage(message: string, error: { path: string; value: unknown }): string {
  if (message === 'Unexpected property') {
    const key = error.path.split('/').pop() ?? '';
    return `unknown field "${key.replace(/~1/g, '/').replace(/~0/g, '~')}"`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}
