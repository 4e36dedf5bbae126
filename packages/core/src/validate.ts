/**
 * Validation of producer input (SPEC §2): the compiled TypeBox schema first, then the rules a
 * JSON Schema cannot express. Every issue carries a JSON Pointer path and a human message.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isIpAddress } from './ip.js';
import { EventInput, LIMITS } from './schema.js';

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
// C0 controls, DEL and C1 controls. Multi-line fields allow tab, newline and carriage return.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: every character below U+0080.
const NON_ASCII = /[^\u0000-\u007f]/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp that carries an offset; `null` when malformed or impossible.
 * @example parseRfc3339('2026-01-02T03:04:05.678+01:00') // 1767319445678
 */
export function parseRfc3339(text: string): number | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  // Leap seconds (:60) are refused: JavaScript time cannot represent them.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (day < 1 || day > daysInMonth) return null;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null;
  const ms = Date.parse(/[tz]/.test(text) ? text.replace(/t/, 'T').replace(/z$/, 'Z') : text);
  return Number.isNaN(ms) ? null : ms;
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

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Walks free-form JSON: forbidden keys, ill-formed strings, nesting depth. */
function checkFreeJson(
  value: unknown,
  path: string,
  depth: number,
  maxDepth: number,
  issues: ValidationIssue[],
): void {
  if (issues.length >= MAX_ISSUES) return;
  if (typeof value === 'string') {
    if (!value.isWellFormed())
      issues.push({ path, message: 'must be valid Unicode (lone surrogate)' });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > maxDepth) {
    issues.push({ path, message: `nesting deeper than ${maxDepth} levels` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkFreeJson(item, `${path}/${i}`, depth + 1, maxDepth, issues);
    });
    return;
  }
  for (const key of Object.keys(value)) {
    const child = `${path}/${escapePointer(key)}`;
    if (FORBIDDEN_KEYS.has(key)) {
      issues.push({ path: child, message: `the key "${key}" is not allowed` });
      continue;
    }
    if (!key.isWellFormed()) issues.push({ path: child, message: 'key must be valid Unicode' });
    checkFreeJson((value as Record<string, unknown>)[key], child, depth + 1, maxDepth, issues);
  }
}

function checkLine(value: unknown, path: string, issues: ValidationIssue[], multiline = false) {
  if (typeof value !== 'string') return;
  if (!value.isWellFormed())
    issues.push({ path, message: 'must be valid Unicode (lone surrogate)' });
  else if ((multiline ? CONTROL_MULTILINE : CONTROL).test(value)) {
    issues.push({
      path,
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

/** Rules beyond JSON Schema; runs only on input the schema accepted. */
function checkSemantics(
  event: EventInput,
  prefix: string,
  options: ValidateOptions,
  issues: ValidationIssue[],
) {
  const now = options.now;
  const p = (rest: string) => `${prefix}${rest}`;
  checkLine(event.id, p('/id'), issues);
  checkLine(event.status, p('/status'), issues);
  checkLine(event.description, p('/description'), issues, true);

  const actor = event.actor;
  const actorType = actor.type ?? 'user';
  if (actor.id === undefined && actorType !== 'system' && actorType !== 'anonymous') {
    issues.push({
      path: p('/actor/id'),
      message: `is required for an actor of type "${actorType}"`,
    });
  }
  for (const key of ['id', 'name', 'email', 'role'] as const) {
    checkLine(actor[key], p(`/actor/${key}`), issues);
  }

  event.targets?.forEach((t, i) => {
    for (const key of ['type', 'id', 'name', 'url'] as const) {
      checkLine(t[key], p(`/targets/${i}/${key}`), issues);
    }
    if (t.url !== undefined && !isDeepLink(t.url)) {
      issues.push({
        path: p(`/targets/${i}/url`),
        message: 'must be an http(s) URL or a path starting with "/"',
      });
    }
  });

  event.changes?.forEach((c, i) => {
    checkLine(c.field, p(`/changes/${i}/field`), issues);
    for (const side of ['before', 'after'] as const) {
      if (c[side] === undefined) continue;
      const path = p(`/changes/${i}/${side}`);
      if (jsonBytes(c[side]) > LIMITS.changeValueBytes) {
        issues.push({ path, message: `is larger than ${LIMITS.changeValueBytes} bytes as JSON` });
      }
      checkFreeJson(c[side], path, 1, LIMITS.metadataDepth, issues);
    }
  });

  const ctx = event.context;
  if (ctx) {
    if (ctx.ip !== undefined && !isIpAddress(ctx.ip)) {
      issues.push({ path: p('/context/ip'), message: 'must be a valid IPv4 or IPv6 address' });
    }
    for (const key of ['userAgent', 'requestId', 'sessionId'] as const) {
      checkLine(ctx[key], p(`/context/${key}`), issues);
    }
    if (ctx.http) checkLine(ctx.http.url, p('/context/http/url'), issues);
  }

  if (event.time !== undefined) {
    const ms = parseRfc3339(event.time);
    if (ms === null) {
      issues.push({
        path: p('/time'),
        message: 'must be an RFC 3339 timestamp with offset, e.g. 2026-01-02T03:04:05Z',
      });
    } else if (ms > now.getTime() + LIMITS.futureSkewMs) {
      issues.push({ path: p('/time'), message: 'is more than 5 minutes in the future' });
    } else if (ms < 0) {
      issues.push({ path: p('/time'), message: 'is before 1970-01-01T00:00:00Z' });
    }
  }

  if (event.metadata !== undefined) {
    if (jsonBytes(event.metadata) > LIMITS.metadataBytes) {
      issues.push({
        path: p('/metadata'),
        message: `is larger than ${LIMITS.metadataBytes} bytes`,
      });
    }
    checkFreeJson(event.metadata, p('/metadata'), 1, LIMITS.metadataDepth, issues);
  }

  if (utf8Length(options.json ?? JSON.stringify(event)) > LIMITS.eventBytes) {
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
      // Union branches report one error per branch; the first per path is the useful one.
      if (issues.some((i) => i.path === `${prefix}${error.path}`)) continue;
      issues.push({ path: `${prefix}${error.path}`, message: schemaMessage(error.message, error) });
      if (issues.length >= MAX_ISSUES) break;
    }
    return issues;
  }
  checkSemantics(input, prefix, options, issues);
  return issues;
}

function schemaMessage(message: string, error: { path: string; value: unknown }): string {
  if (message === 'Unexpected property') {
    const key = error.path.split('/').pop() ?? '';
    return `unknown field "${key.replace(/~1/g, '/').replace(/~0/g, '~')}"`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}
