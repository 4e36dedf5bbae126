/**
 * The `changes` of an event from an object before and after: nested objects by dotted path,
 * arrays and other values compared whole, sensitive fields recorded only as changed.
 */
import type { Change } from '@hindsight/core';
import { fields, isFields, refuse } from './arguments.js';
import { HindsightError } from './errors.js';

/** Options of {@link changes}. */
export interface ChangesOptions {
  /**
   * Dotted paths (`password`, `smtp.password`) whose values are never recorded, only that they
   * changed. A path covers everything under it: `credentials` hides `credentials.apiKey` too;
   * and a value compared whole that holds one (`smtp` replaced by `null`, an array of users
   * with `users.password`) is recorded as changed, without values.
   */
  readonly sensitive?: readonly string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/**
 * What changed between two versions of an object, as SPEC §2 `changes`. A created object
 * (`before` null or undefined) gives only `after` values, a deleted one only `before` values.
 * Values are compared as JSON (a `Date` as its ISO string; key order does not matter).
 * @example
 * changes({ name: 'Bo', address: { city: 'Leeds' }, password: 'x' },
 *         { name: 'Bo', address: { city: 'York' }, password: 'y' }, { sensitive: ['password'] })
 * // [{ field: 'address.city', before: 'Leeds', after: 'York' }, { field: 'password', sensitive: true }]
 */
export function changes(
  before: object | null | undefined,
  after: object | null | undefined,
  options: ChangesOptions = {},
): Change[] {
  const sensitive = new Set(sensitivePaths(options));
  const out: Change[] = [];
  walk(toJson('before', before), toJson('after', after), '', sensitive, out);
  return out;
}

const WHERE = 'changes()';

function sensitivePaths(options: ChangesOptions): readonly string[] {
  const given = fields<ChangesOptions>(WHERE, 'options', options, 'an object { sensitive? }');
  const paths = given.sensitive;
  if (paths === undefined) return [];
  if (!Array.isArray(paths)) refuse(WHERE, 'sensitive', 'an array of dotted paths', paths);
  paths.forEach((path: unknown, i) => {
    if (typeof path !== 'string' || path === '') {
      refuse(WHERE, `sensitive[${i}]`, 'a dotted path (a non-empty string)', path);
    }
  });
  return paths;
}

function walk(
  before: Json | undefined,
  after: Json | undefined,
  path: string,
  sensitive: ReadonlySet<string>,
  out: Change[],
): void {
  if (path !== '' && sensitive.has(path)) {
    if (!jsonEqual(before, after)) out.push({ field: path, sensitive: true });
    return;
  }
  const b = isObject(before) ? before : before === undefined ? undefined : null;
  const a = isObject(after) ? after : after === undefined ? undefined : null;
  // Both sides objects, or an object on one side and nothing on the other: go down.
  if (b !== null && a !== null && (b !== undefined || a !== undefined)) {
    const keys = new Set([...Object.keys(b ?? {}), ...Object.keys(a ?? {})]);
    if (keys.size > 0 || path === '') {
      for (const key of keys) {
        walk(own(b, key), own(a, key), path === '' ? key : `${path}.${key}`, sensitive, out);
      }
      return;
    }
  }
  if (jsonEqual(before, after)) return;
  // A value compared whole (an object replaced by null or a string, an array) that holds a
  // sensitive path would carry its value: it is told as changed, without values, too.
  if ([...sensitive].some((hidden) => hidden.startsWith(`${path}.`))) {
    out.push({ field: path, sensitive: true });
    return;
  }
  out.push({
    field: path,
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
  });
}

/**
 * A field of `object` only if it is its own: `constructor` or `__proto__` of an object that has
 * no such field is not there (and not `Object`, nor `Object.prototype`).
 */
function own(object: JsonObject | undefined, key: string): Json | undefined {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

/** One side, as JSON: an object, or undefined for a created or deleted object. */
function toJson(side: 'before' | 'after', value: unknown): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  const expected = 'an object (or null for a created or deleted one)';
  if (!isFields(value)) refuse(WHERE, side, expected, value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    // A circular object, a BigInt: not JSON, so not the content of an event.
    const reason = String((cause as Error).message).split('\n')[0];
    throw new HindsightError('invalid_options', `${WHERE}: ${side} is not JSON: ${reason}.`, {
      cause,
    });
  }
  // An object whose toJSON gives something else (a Date gives a string) is not compared by field.
  const json = text === undefined ? undefined : (JSON.parse(text) as Json);
  if (!isObject(json)) refuse(WHERE, side, expected, json);
  return json;
}

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}
