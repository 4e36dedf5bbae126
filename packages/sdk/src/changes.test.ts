import { validateEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { changes } from './changes.js';

describe('changes', () => {
  it('walks nested objects by dotted path and compares arrays whole', () => {
    const before = {
      name: 'Harbour View Dental',
      plan: { tier: 'Basic', seats: 5, billing: { currency: 'GBP', day: 1 } },
      tags: ['dental', 'leeds'],
      unchanged: { a: [1, { b: 2 }] },
    };
    const after = {
      name: 'Harbour View Dental',
      plan: { tier: 'Premium', seats: 5, billing: { currency: 'EUR', day: 1 } },
      tags: ['dental', 'york'],
      unchanged: { a: [1, { b: 2 }] },
    };
    expect(changes(before, after)).toEqual([
      { field: 'plan.tier', before: 'Basic', after: 'Premium' },
      { field: 'plan.billing.currency', before: 'GBP', after: 'EUR' },
      { field: 'tags', before: ['dental', 'leeds'], after: ['dental', 'york'] },
    ]);
  });

  it('gives only after for added fields and only before for removed ones', () => {
    expect(changes({ a: 1, gone: { x: 1, y: 2 } }, { a: 1, added: { z: 3 }, empty: {} })).toEqual([
      { field: 'gone.x', before: 1 },
      { field: 'gone.y', before: 2 },
      { field: 'added.z', after: 3 },
      { field: 'empty', after: {} },
    ]);
  });

  it('treats null as a value and a changed type as one change', () => {
    expect(
      changes({ a: null, b: 1, c: { d: 1 } }, { a: { x: 1 }, b: { y: 2 }, c: 'flat' }),
    ).toEqual([
      { field: 'a', before: null, after: { x: 1 } },
      { field: 'b', before: 1, after: { y: 2 } },
      { field: 'c', before: { d: 1 }, after: 'flat' },
    ]);
  });

  it('records a created object as after values and a deleted one as before values', () => {
    expect(changes(null, { name: 'Bo', role: { admin: true } })).toEqual([
      { field: 'name', after: 'Bo' },
      { field: 'role.admin', after: true },
    ]);
    expect(changes({ name: 'Bo' }, undefined)).toEqual([{ field: 'name', before: 'Bo' }]);
    expect(changes(null, null)).toEqual([]);
  });

  // regression: the whole value of a parent that stopped being an object (or an array) was
  // recorded, with the sensitive value inside it.
  it('never records a sensitive value inside a value compared whole', () => {
    const sensitive = { sensitive: ['smtp.password', 'users.password'] };
    const smtp = { host: 'h', password: 'hunter2' };
    for (const [before, after] of [
      [{ smtp }, { smtp: null }],
      [{ smtp }, { smtp: 'off' }],
      [{ smtp: 'off' }, { smtp }],
      [{ smtp }, { smtp: ['h'] }],
    ] as const) {
      const result = changes(before, after, sensitive);
      expect(result).toEqual([{ field: 'smtp', sensitive: true }]);
      expect(JSON.stringify(result)).not.toContain('hunter2');
    }
    const users = changes(
      { users: [{ password: 'a' }] },
      { users: [{ password: 'b' }] },
      sensitive,
    );
    expect(users).toEqual([{ field: 'users', sensitive: true }]);
    // A whole value with no sensitive path under it keeps its values; one unchanged, nothing.
    expect(changes({ tags: ['a'] }, { tags: ['b'] }, sensitive)).toEqual([
      { field: 'tags', before: ['a'], after: ['b'] },
    ]);
    expect(changes({ smtp: null }, { smtp: null }, sensitive)).toEqual([]);
  });

  it('marks sensitive fields, and everything under a sensitive path, as changed without values', () => {
    const before = {
      password: 'old',
      smtp: { host: 'a', password: 'p1' },
      keys: { api: 'k1', other: 'o' },
    };
    const after = {
      password: 'new',
      smtp: { host: 'b', password: 'p2' },
      keys: { api: 'k2', other: 'o2' },
    };
    const result = changes(before, after, { sensitive: ['password', 'smtp.password', 'keys'] });
    expect(result).toEqual([
      { field: 'password', sensitive: true },
      { field: 'smtp.host', before: 'a', after: 'b' },
      { field: 'smtp.password', sensitive: true },
      { field: 'keys', sensitive: true },
    ]);
    expect(JSON.stringify(result)).not.toMatch(/old|new|p1|p2|k1|k2|o2/);
    expect(
      changes({ password: 'same' }, { password: 'same' }, { sensitive: ['password'] }),
    ).toEqual([]);
  });

  it('compares values as JSON: dates as strings, key order ignored, undefined left out', () => {
    const when = new Date('2026-01-02T03:04:05Z');
    expect(
      changes(
        { at: when, meta: { list: [{ a: 1, b: 2 }] }, skip: undefined },
        { at: '2026-01-02T03:04:05.000Z', meta: { list: [{ b: 2, a: 1 }] } },
      ),
    ).toEqual([]);
  });

  it('produces changes that core validates', () => {
    const list = changes({ a: { b: 1 }, s: 'x' }, { a: { b: 2 }, s: 'y' }, { sensitive: ['s'] });
    const issues = validateEvent(
      { tenant: 'acme', action: 'thing.updated', actor: { id: 'u' }, changes: list },
      { now: new Date() },
    );
    expect(issues).toEqual([]);
  });

  // regression: QA pass of the event helpers, bug 2 (a key named like a field of every object
  // read Object.prototype's: `constructor` as Object, `__proto__` as Object.prototype).
  it('reads only own fields: keys named constructor, toString, __proto__, hasOwnProperty', () => {
    const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
    for (const name of names) {
      const added = JSON.parse(`{ "${name}": "x", "nested": { "${name}": 1 } }`);
      expect(changes({}, added), name).toStrictEqual([
        { field: name, after: 'x' },
        { field: `nested.${name}`, after: 1 },
      ]);
      expect(changes(added, {}), name).toStrictEqual([
        { field: name, before: 'x' },
        { field: `nested.${name}`, before: 1 },
      ]);
      const inner = JSON.parse(`{ "${name}": 1 }`);
      expect(changes({ nested: {} }, { nested: inner }), name).toStrictEqual([
        { field: `nested.${name}`, after: 1 },
      ]);
      expect(changes({ nested: inner }, { nested: {} }), name).toStrictEqual([
        { field: `nested.${name}`, before: 1 },
      ]);
      // An object under such a key is gone down into, from nothing on the other side.
      const deep = JSON.parse(`{ "${name}": { "a": 1, "${name}": { "b": 2 } } }`);
      expect(changes({}, deep), name).toStrictEqual([
        { field: `${name}.a`, after: 1 },
        { field: `${name}.${name}.b`, after: 2 },
      ]);
      expect(changes(deep, deep), name).toEqual([]);
      expect(changes(null, { [name]: null }), name).toStrictEqual([{ field: name, after: null }]);
      expect(
        changes({ [name]: 'old' }, { [name]: 'new' }, { sensitive: [name] }),
        name,
      ).toStrictEqual([{ field: name, sensitive: true }]);
    }
  });

  it('refuses what is not an object', () => {
    expect(() => changes([1] as unknown as object, {})).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });
});
