/**
 * The checks of what a helper is given (`login()`, `message()`, `changes()`, …): the type of
 * each argument it takes, refused as `invalid_options` with the argument's name, what it must
 * be and what it was. What an event's content must be (a tenant's characters, an IP address, an
 * RFC 3339 time) stays with `record()`, which checks SPEC §2 once for every event.
 */
import { HindsightError } from './errors.js';

/** An argument of type `T` not yet checked: each of its fields may hold anything. */
export type Unchecked<T> = { readonly [K in keyof T]-?: unknown };

/**
 * Throws `invalid_options`: `where`'s `name` must be `expected`, and was `value`.
 * @example refuse('login()', 'succeeded', 'true or false', 'yes') // login(): succeeded must be true or false, not "yes".
 */
export function refuse(where: string, name: string, expected: string, value: unknown): never {
  throw new HindsightError(
    'invalid_options',
    `${where}: ${name} must be ${expected}, not ${shown(value)}.`,
  );
}

/** Whether `value` is a plain object: not `null`, not an array. */
export function isFields(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `value` as an object whose fields are still to be checked, or `invalid_options` naming it.
 * @example const given = fields<LoginInput>('login()', 'its argument', input, 'an object { tenant, … }');
 */
export function fields<T extends object>(
  where: string,
  name: string,
  value: unknown,
  expected = 'an object',
): Unchecked<T> {
  if (!isFields(value)) refuse(where, name, expected, value);
  return value as Unchecked<T>;
}

/** Checks that `value` is a non-empty string. */
export function text(where: string, name: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') refuse(where, name, 'a non-empty string', value);
}

/** Checks that `value` is left out (`undefined`) or a string. */
export function optionalText(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') {
    refuse(where, name, 'a string (or left out)', value);
  }
}

/** Checks that `value` is one of `allowed` (or, with `optional`, left out). */
export function oneOf(
  where: string,
  name: string,
  value: unknown,
  allowed: readonly string[],
  optional = false,
): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    const list = allowed.map((a) => `"${a}"`).join(', ');
    refuse(where, name, `one of ${list}${optional ? ' (or left out)' : ''}`, value);
  }
}

/** Checks that `value` is left out or an object (an actor, a target). */
export function optionalFields(where: string, name: string, value: unknown): void {
  if (value !== undefined && !isFields(value))
    refuse(where, name, 'an object (or left out)', value);
}

/** A value as an error message shows it: its type, and a short string or number itself. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return 'a bigint';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}
