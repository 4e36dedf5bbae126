import { describe, expect, it } from 'vitest';
import {
  jsonBytes,
  parseRfc3339,
  utf8Length,
  type ValidationIssue,
  validateEvent,
} from './validate.js';

const now = new Date('2026-01-01T00:00:00Z');
const minimal = { tenant: 'acme', action: 'user.created', actor: { id: 'u1' } };

/**
 * Validates `minimal` with `extra`, and checks that giving the event's JSON (as the SDK does,
 * which lets the size limits skip their counting) finds exactly the same issues.
 */
function validate(extra: Record<string, unknown>, path?: string): ValidationIssue[] {
  const input = { ...minimal, ...extra };
  const issues = validateEvent(input, path === undefined ? { now } : { now, path });
  const json = JSON.stringify(input);
  expect(validateEvent(input, path === undefined ? { now, json } : { now, path, json })).toEqual(
    issues,
  );
  return issues;
}

/** Only the paths of the issues, for rules whose message is incidental. */
function paths(extra: Record<string, unknown>): string[] {
  return validate(extra).map((issue) => issue.path);
}

/** An event from JSON text, so that `__proto__` is an own property as it is off the wire. */
function fromJson(json: string): unknown {
  return JSON.parse(json);
}

describe('validateEvent: valid input', () => {
  it('accepts a minimal event', () => {
    expect(validateEvent(minimal, { now })).toEqual([]);
  });

  it('accepts an event that uses every field', () => {
    const full = {
      tenant: 'Acme.EU:org@x-1_2',
      action: 'user.admin_rights.updated',
      category: 'security-2_x',
      time: '2025-12-31T23:59:59.999+01:00',
      id: 'evt-42',
      actor: { id: 'u1', type: 'api_key', name: 'Ann', email: 'ann@acme.test', role: 'admin' },
      targets: [
        { type: 'user', id: 'u2', name: 'Bob', url: 'https://app.acme.test/users/u2' },
        { type: 'setting', id: 's1', url: '/settings/s1?tab=2#x' },
      ],
      channel: 'ui',
      outcome: 'failure',
      status: 'delivered',
      description: 'Ann changed\tBob’s role.\nSecond line, Zoë 🎉',
      changes: [
        { field: 'role', before: 'member', after: 'admin' },
        { field: 'password', sensitive: true },
        { field: 'tags', before: null, after: ['a', { b: [1, 2] }] },
      ],
      context: {
        ip: '2001:db8::1',
        userAgent: 'Mozilla/5.0',
        requestId: 'req-1',
        sessionId: 'sess-1',
        http: { method: 'POST', url: '/v1/users', status: 201, durationMs: 12.5 },
      },
      metadata: { plan: 'pro', seats: 3, nested: { list: [1, 'two', true, null] } },
    };
    expect(validateEvent(full, { now })).toEqual([]);
  });

  it.each(['system', 'anonymous'])('does not require actor.id for an actor of type %s', (type) => {
    expect(validate({ actor: { type } })).toEqual([]);
  });
});

describe('validateEvent: required fields', () => {
  it.each(['tenant', 'action', 'actor'])('reports a missing %s at its path', (field) => {
    const input: Record<string, unknown> = { ...minimal };
    delete input[field];
    expect(validateEvent(input, { now }).map((i) => i.path)).toEqual([`/${field}`]);
  });

  it('refuses input that is not an object', () => {
    for (const input of [null, 'event', 42, [minimal]]) {
      expect(validateEvent(input, { now }).length).toBeGreaterThan(0);
    }
  });
});

describe('validateEvent: tenant, action, category', () => {
  it.each(['acme', 'A', 'Acme.EU:org@x-1_2', 'x'.repeat(128)])('accepts tenant %j', (tenant) => {
    expect(validate({ tenant })).toEqual([]);
  });

  it.each(['', 'a b', 'acme/eu', 'acme#1', 'zoë', 'x'.repeat(129)])(
    'refuses tenant %j at /tenant',
    (tenant) => {
      expect(paths({ tenant })).toEqual(['/tenant']);
    },
  );

  it.each(['user.created', 'login.failed', 'user.admin_rights.updated', 'a-1.b_2', 'a.b.c.d'])(
    'accepts action %j',
    (action) => {
      expect(validate({ action })).toEqual([]);
    },
  );

  it.each([
    'user',
    'User.created',
    'user.Created',
    'user..created',
    '.user.created',
    'user.created.',
    'user created.x',
    'user:created',
    '',
    `a.${'b'.repeat(127)}`,
  ])('refuses action %j at /action', (action) => {
    expect(paths({ action })).toEqual(['/action']);
  });

  it.each(['changes', 'security', 'a_b-1', 'x'.repeat(64)])('accepts category %j', (category) => {
    expect(validate({ category })).toEqual([]);
  });

  it.each(['', 'Security', 'a.b', 'a b', 'x'.repeat(65)])(
    'refuses category %j at /category',
    (category) => {
      expect(paths({ category })).toEqual(['/category']);
    },
  );
});

describe('validateEvent: actor', () => {
  it.each(['user', 'api_key', 'integration'])('requires actor.id for type %s', (type) => {
    expect(validate({ actor: { type, name: 'Ann' } })).toEqual([
      { path: '/actor/id', message: `is required for an actor of type "${type}"` },
    ]);
  });

  it('requires actor.id when type is absent (default user)', () => {
    expect(paths({ actor: { name: 'Ann' } })).toEqual(['/actor/id']);
  });

  it.each(['robot', 'User', ''])('refuses actor type %j at /actor/type', (type) => {
    expect(paths({ actor: { id: 'u1', type } })).toEqual(['/actor/type']);
  });
});

describe('validateEvent: targets and changes', () => {
  const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'u', id: `u${i}` }));
  const changes = (n: number) => Array.from({ length: n }, (_, i) => ({ field: `f${i}` }));

  it('accepts 20 targets and refuses 21', () => {
    expect(validate({ targets: targets(20) })).toEqual([]);
    expect(paths({ targets: targets(21) })).toEqual(['/targets']);
  });

  it('accepts 200 changes and refuses 201', () => {
    expect(validate({ changes: changes(200) })).toEqual([]);
    expect(paths({ changes: changes(201) })).toEqual(['/changes']);
  });

  it('requires target type and id', () => {
    expect(paths({ targets: [{ type: 'u' }] })).toEqual(['/targets/0/id']);
    expect(paths({ targets: [{ id: 'u1' }] })).toEqual(['/targets/0/type']);
  });

  it('limits each change value to 8 KiB of UTF-8 JSON', () => {
    // 'x' × 8190 serialises to 8192 bytes with its quotes: exactly the limit.
    expect(validate({ changes: [{ field: 'f', before: 'x'.repeat(8190) }] })).toEqual([]);
    expect(validate({ changes: [{ field: 'f', after: 'é'.repeat(4095) }] })).toEqual([]);
    expect(validate({ changes: [{ field: 'f', before: 'x'.repeat(8191) }] })).toEqual([
      { path: '/changes/0/before', message: 'is larger than 8192 bytes as JSON' },
    ]);
    expect(paths({ changes: [{ field: 'a' }, { field: 'f', after: 'é'.repeat(4096) }] })).toEqual([
      '/changes/1/after',
    ]);
    expect(paths({ changes: [{ field: 'f', after: { list: Array(3000).fill(true) } }] })).toEqual([
      '/changes/0/after',
    ]);
  });
});

describe('validateEvent: target deep links', () => {
  it.each([
    'https://app.acme.test/users/u2',
    'http://localhost:3000/x',
    'HTTPS://APP.ACME.TEST',
    '/users/u2',
    '/',
    '/settings?tab=2#top',
  ])('accepts %j', (url) => {
    expect(validate({ targets: [{ type: 'u', id: 'u2', url }] })).toEqual([]);
  });

  it.each([
    '//evil.test/x',
    '//',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,hi',
    'ftp://files.acme.test/x',
    'mailto:ann@acme.test',
    'users/u2',
    'https://',
    'https:///x',
    'http:/x',
    ' https://app.acme.test',
  ])('refuses %j at /targets/1/url', (url) => {
    const issues = validate({
      targets: [
        { type: 'u', id: 'u1' },
        { type: 'u', id: 'u2', url },
      ],
    });
    expect(issues).toEqual([
      { path: '/targets/1/url', message: 'must be an http(s) URL or a path starting with "/"' },
    ]);
  });
});

describe('validateEvent: context', () => {
  it.each(['1.2.3.4', '2001:db8::1', '::1', '::ffff:10.0.0.1'])('accepts ip %j', (ip) => {
    expect(validate({ context: { ip } })).toEqual([]);
  });

  it.each(['256.1.1.1', '01.2.3.4', '1.2.3', 'localhost', '1::2::3', '2001:db8::1/64'])(
    'refuses ip %j at /context/ip',
    (ip) => {
      expect(validate({ context: { ip } })).toEqual([
        { path: '/context/ip', message: 'must be a valid IPv4 or IPv6 address' },
      ]);
    },
  );

  it('refuses an ip that is too long for any address at /context/ip', () => {
    expect(paths({ context: { ip: '1'.repeat(46) } })).toEqual(['/context/ip']);
  });

  it('checks the http context', () => {
    expect(paths({ context: { http: { method: 'post', url: '/x' } } })).toEqual([
      '/context/http/method',
    ]);
    expect(paths({ context: { http: { method: 'GET', url: '/x', status: 600 } } })).toEqual([
      '/context/http/status',
    ]);
  });
});

describe('validateEvent: time', () => {
  it.each([
    '2025-12-31T23:00:00Z',
    '2025-12-31T23:00:00.5Z',
    '2025-12-31T23:00:00.123456789Z',
    '2025-12-31t23:00:00z',
    '2026-01-01T01:00:00+01:00',
    '2025-12-31T18:30:00-05:30',
    '2024-02-29T00:00:00Z',
    '1970-01-01T00:00:00Z',
  ])('accepts %j', (time) => {
    expect(validate({ time })).toEqual([]);
  });

  it.each([
    '2025-12-31T23:00:00',
    '2025-12-31',
    '2025-12-31T23:00Z',
    '2025-12-31 23:00:00Z',
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-00-10T00:00:00Z',
    '2025-01-00T00:00:00Z',
    '2025-01-01T25:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01T00:60:00Z',
    '2025-01-01T00:00:61Z',
    '2025-01-01T00:00:00+24:00',
    '2025-01-01T00:00:00+01:60',
    '2025-01-01T00:00:00+0100',
    '2025-01-01T00:00:00.Z',
    '2025-1-01T00:00:00Z',
    'yesterday',
    '',
  ])('refuses %j at /time', (time) => {
    expect(validate({ time })).toEqual([
      {
        path: '/time',
        message: 'must be an RFC 3339 timestamp with offset, e.g. 2026-01-02T03:04:05Z',
      },
    ]);
  });

  it('accepts a time up to exactly 5 minutes after now', () => {
    expect(validate({ time: '2026-01-01T00:05:00Z' })).toEqual([]);
    expect(validate({ time: '2026-01-01T00:05:00.000Z' })).toEqual([]);
    expect(validate({ time: '2026-01-01T01:05:00+01:00' })).toEqual([]);
  });

  it('refuses a time more than 5 minutes after now', () => {
    const future = [{ path: '/time', message: 'is more than 5 minutes in the future' }];
    expect(validate({ time: '2026-01-01T00:05:00.001Z' })).toEqual(future);
    expect(validate({ time: '2026-01-01T01:05:01+01:00' })).toEqual(future);
    // 00:00 at -01:00 is 01:00 UTC, an hour ahead, although the local clock reads midnight.
    expect(validate({ time: '2026-01-01T00:00:00-01:00' })).toEqual(future);
  });

  it('measures the future against the given now', () => {
    const time = '2030-01-01T00:00:00Z';
    expect(validateEvent({ ...minimal, time }, { now })).toHaveLength(1);
    expect(validateEvent({ ...minimal, time }, { now: new Date('2030-01-01T00:00:00Z') })).toEqual(
      [],
    );
  });
});

describe('validateEvent: metadata', () => {
  it('limits metadata to 16 KiB serialised', () => {
    // {"s":"…"} is 8 bytes around the value.
    expect(validate({ metadata: { s: 'x'.repeat(16384 - 8) } })).toEqual([]);
    expect(validate({ metadata: { s: 'x'.repeat(16384 - 7) } })).toEqual([
      { path: '/metadata', message: 'is larger than 16384 bytes' },
    ]);
  });

  it('allows nesting to depth 5 and refuses depth 6, at the deepest path', () => {
    expect(validate({ metadata: { a: { b: { c: { d: { e: 1 } } } } } })).toEqual([]);
    expect(validate({ metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } } })).toEqual([
      { path: '/metadata/a/b/c/d/e', message: 'nesting deeper than 5 levels' },
    ]);
    expect(validate({ metadata: { a: [[[[1]]]] } })).toEqual([]);
    expect(paths({ metadata: { a: [[[[[1]]]]] } })).toEqual(['/metadata/a/0/0/0/0']);
  });

  it('applies the same depth limit to change values', () => {
    expect(validate({ changes: [{ field: 'f', before: { a: { b: { c: { d: {} } } } } }] })).toEqual(
      [],
    );
    expect(
      paths({ changes: [{ field: 'f', after: { a: { b: { c: { d: { e: {} } } } } } }] }),
    ).toEqual(['/changes/0/after/a/b/c/d/e']);
  });

  it('refuses nesting thousands deep without serialising it, and numbers JSON cannot hold', () => {
    const deep = fromJson(
      `{"tenant":"acme","action":"a.b","actor":{"id":"u"},"metadata":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
    );
    expect(validateEvent(deep, { now })).toEqual([
      { path: '/metadata/a/a/a/a/a', message: 'nesting deeper than 5 levels' },
    ]);
    const infinite = fromJson(
      '{"tenant":"acme","action":"a.b","actor":{"id":"u"},"metadata":{"n":-1e400},' +
        '"changes":[{"field":"f","after":[1e999]}]}',
    );
    expect(validateEvent(infinite, { now })).toEqual([
      { path: '/changes/0/after/0', message: 'must be a finite number' },
      { path: '/metadata/n', message: 'must be a finite number' },
    ]);
  });

  it('refuses integers past 2^53, which JSON readers do not keep exactly, and takes the largest safe', () => {
    const big = fromJson(
      '{"tenant":"acme","action":"a.b","actor":{"id":"u"},' +
        '"metadata":{"order":12345678901234567891,"safe":9007199254740991,"low":-9007199254740991,"f":0.1,"e":1.5e3},' +
        '"changes":[{"field":"f","before":{"n":[-9007199254740993]},"after":1e300}]}',
    );
    const message =
      'is an integer beyond ±(2^53 − 1), which is not kept exactly; send it as a string';
    expect(validateEvent(big, { now })).toEqual([
      { path: '/changes/0/before/n/0', message },
      { path: '/changes/0/after', message },
      { path: '/metadata/order', message },
    ]);
  });

  it('refuses metadata that is not an object', () => {
    expect(paths({ metadata: ['a'] })).toEqual(['/metadata']);
    expect(paths({ metadata: 'a' })).toEqual(['/metadata']);
  });
});

describe('validateEvent: forbidden keys', () => {
  it('refuses an own __proto__ key in metadata at any depth', () => {
    const top = fromJson(
      '{"tenant":"acme","action":"a.b","actor":{"id":"u"},"metadata":{"__proto__":{"x":1}}}',
    );
    expect(validateEvent(top, { now })).toEqual([
      { path: '/metadata/__proto__', message: 'the key "__proto__" is not allowed' },
    ]);
    const deep = fromJson(
      '{"tenant":"acme","action":"a.b","actor":{"id":"u"},"metadata":{"a":[{"b":{"__proto__":1}}]}}',
    );
    expect(validateEvent(deep, { now }).map((i) => i.path)).toEqual(['/metadata/a/0/b/__proto__']);
  });

  it.each(['constructor', 'prototype'])('refuses %s in metadata at any depth', (key) => {
    expect(validate({ metadata: { [key]: 1 } })).toEqual([
      { path: `/metadata/${key}`, message: `the key "${key}" is not allowed` },
    ]);
    expect(paths({ metadata: { a: { b: [{ [key]: 'x' }] } } })).toEqual([`/metadata/a/b/0/${key}`]);
  });

  it('refuses forbidden keys in change values', () => {
    const proto = fromJson(
      '{"tenant":"acme","action":"a.b","actor":{"id":"u"},' +
        '"changes":[{"field":"f"},{"field":"g","before":[{"__proto__":{}}]}]}',
    );
    expect(validateEvent(proto, { now }).map((i) => i.path)).toEqual([
      '/changes/1/before/0/__proto__',
    ]);
    expect(paths({ changes: [{ field: 'f', after: { a: { constructor: 1 } } }] })).toEqual([
      '/changes/0/after/a/constructor',
    ]);
    expect(paths({ changes: [{ field: 'f', before: { prototype: null } }] })).toEqual([
      '/changes/0/before/prototype',
    ]);
  });

  it('escapes "/" and "~" in the path of a nested key', () => {
    expect(paths({ metadata: { 'a/b': { '~c': { constructor: 1 } } } })).toEqual([
      '/metadata/a~1b/~0c/constructor',
    ]);
  });

  it('allows the forbidden words as values and as parts of keys', () => {
    expect(
      validate({
        metadata: { note: '__proto__', constructorName: 'x', prototypes: ['constructor'] },
      }),
    ).toEqual([]);
  });

  it('refuses __proto__ at top level as an unknown field', () => {
    const input = fromJson('{"tenant":"acme","action":"a.b","actor":{"id":"u"},"__proto__":{}}');
    expect(validateEvent(input, { now }).map((i) => i.path)).toEqual(['/__proto__']);
  });
});

describe('validateEvent: control characters and Unicode', () => {
  const control = { message: 'must not contain control characters' };

  it.each([
    ['/id', { id: 'evt\u0000' }],
    ['/status', { status: 'ok\n' }],
    ['/actor/id', { actor: { id: 'u\t1' } }],
    ['/actor/name', { actor: { id: 'u1', name: 'Ann\nSmith' } }],
    ['/actor/email', { actor: { id: 'u1', email: 'ann@acme.test\r' } }],
    ['/actor/role', { actor: { id: 'u1', role: 'ad\u007fmin' } }],
    ['/targets/0/name', { targets: [{ type: 'u', id: 'u2', name: 'Bob\u0007' }] }],
    ['/targets/0/id', { targets: [{ type: 'u', id: 'u\u001b2' }] }],
    ['/targets/0/type', { targets: [{ type: 'u\u0085', id: 'u2' }] }],
    ['/changes/0/field', { changes: [{ field: 'ro\u009fle' }] }],
    ['/context/userAgent', { context: { userAgent: 'Mozilla\t5' } }],
    ['/context/requestId', { context: { requestId: 'r\n1' } }],
    ['/context/sessionId', { context: { sessionId: 's\u00001' } }],
    ['/context/http/url', { context: { http: { method: 'GET', url: '/x\ny' } } }],
  ])('refuses a control character in the single-line field %s', (path, extra) => {
    expect(validate(extra)).toEqual([{ path, ...control }]);
  });

  it('allows tab and line breaks in the description, but no other control character', () => {
    expect(validate({ description: 'line 1\nline 2\tindented' })).toEqual([]);
    expect(validate({ description: 'bell\u0007' })).toEqual([
      {
        path: '/description',
        message: 'must not contain control characters other than tab and line breaks',
      },
    ]);
    expect(paths({ description: 'esc\u001b[31m' })).toEqual(['/description']);
    expect(paths({ description: 'c1\u0085' })).toEqual(['/description']);
  });

  it('accepts non-ASCII text and well-formed surrogate pairs', () => {
    expect(
      validate({ actor: { id: 'u1', name: 'Zoë 東京 Привет 😀' }, description: '😀\u00a0ok' }),
    ).toEqual([]);
  });

  it('counts the length limits in characters, as SPEC §2 does, not in UTF-16 units', () => {
    // An emoji is one character and two UTF-16 units.
    expect(validate({ description: '😀'.repeat(2000) })).toEqual([]);
    expect(validate({ description: `${'a'.repeat(1999)}😀` })).toEqual([]);
    expect(paths({ description: '😀'.repeat(2001) })).toEqual(['/description']);
    expect(validate({ id: '𝒳'.repeat(128), actor: { id: '😀'.repeat(128) } })).toEqual([]);
    expect(paths({ id: '𝒳'.repeat(129), status: '😀'.repeat(64) })).toEqual(['/id']);
    expect(paths({ status: '😀'.repeat(65), description: '😀'.repeat(2001) })).toEqual([
      '/status',
      '/description',
    ]);
  });

  const lone = { message: 'must be valid Unicode (lone surrogate)' };

  it.each([
    ['/actor/name', { actor: { id: 'u1', name: 'Ann\ud800' } }],
    ['/actor/id', { actor: { id: '\udc00' } }],
    ['/description', { description: 'x\ud83d' }],
    ['/targets/0/name', { targets: [{ type: 'u', id: 'u2', name: '\ude00Bob' }] }],
    ['/changes/0/field', { changes: [{ field: '\ud800' }] }],
    ['/metadata/k', { metadata: { k: '\ud800' } }],
    ['/metadata/list/1', { metadata: { list: ['ok', 'a\udfffb'] } }],
    ['/changes/0/after/name', { changes: [{ field: 'f', after: { name: '\ud800' } }] }],
  ])('refuses a lone surrogate at %s', (path, extra) => {
    expect(validate(extra)).toEqual([{ path, ...lone }]);
  });

  it('refuses a lone surrogate in a metadata key', () => {
    expect(validate({ metadata: { 'k\ud800': 1 } })).toEqual([
      { path: '/metadata/k\ud800', message: 'key must be valid Unicode' },
    ]);
  });
});

describe('validateEvent: unknown keys', () => {
  it.each([
    ['/extra', { extra: 1 }],
    ['/actor/foo', { actor: { id: 'u1', foo: 1 } }],
    ['/targets/0/foo', { targets: [{ type: 'u', id: 'u2', foo: 1 }] }],
    ['/changes/0/foo', { changes: [{ field: 'f', foo: 1 }] }],
    ['/context/foo', { context: { foo: 1 } }],
    ['/context/http/foo', { context: { http: { method: 'GET', url: '/', foo: 1 } } }],
    ['/context/location', { context: { location: { country: 'FR' } } }],
    ['/seq', { seq: 1 }],
    ['/hash', { hash: 'ab' }],
  ])('refuses %s', (path, extra) => {
    const key = path.split('/').pop();
    expect(validate(extra)).toEqual([{ path, message: `unknown field "${key}"` }]);
  });

  it('unescapes the key name in the message', () => {
    expect(validate({ 'a/b~c': 1 })).toEqual([
      { path: '/a~1b~0c', message: 'unknown field "a/b~c"' },
    ]);
  });

  it('does not restrict the keys of metadata', () => {
    expect(validate({ metadata: { anything: { goes: 1 } } })).toEqual([]);
  });
});

describe('validateEvent: whole event size', () => {
  // Each change value stays under 8 KiB; together they pass 64 KiB.
  const big = Array.from({ length: 9 }, (_, i) => ({ field: `f${i}`, after: 'x'.repeat(8000) }));
  const fits = Array.from({ length: 7 }, (_, i) => ({ field: `f${i}`, after: 'x'.repeat(8000) }));

  it('accepts an event under 64 KiB', () => {
    expect(validate({ changes: fits })).toEqual([]);
  });

  it('refuses an event over 64 KiB', () => {
    expect(validate({ changes: big }).map((i) => i.message)).toEqual([
      'event is larger than 65536 bytes',
    ]);
  });

  it('reports it at the event’s own path under a prefix', () => {
    expect(validate({ changes: big }, '/events/3')).toEqual([
      { path: '/events/3', message: 'event is larger than 65536 bytes' },
    ]);
  });
});

describe('validateEvent: path prefix', () => {
  it('prefixes semantic issues', () => {
    expect(validate({ actor: {} }, '/events/3')).toEqual([
      { path: '/events/3/actor/id', message: 'is required for an actor of type "user"' },
    ]);
    expect(validate({ time: '2026-02-30T00:00:00Z' }, '/events/3').map((i) => i.path)).toEqual([
      '/events/3/time',
    ]);
    const proto = fromJson(
      '{"tenant":"acme","action":"a.b","actor":{"id":"u"},"metadata":{"__proto__":1}}',
    );
    expect(validateEvent(proto, { now, path: '/events/0' }).map((i) => i.path)).toEqual([
      '/events/0/metadata/__proto__',
    ]);
  });

  it('prefixes schema issues', () => {
    expect(validate({ extra: 1 }, '/events/3')).toEqual([
      { path: '/events/3/extra', message: 'unknown field "extra"' },
    ]);
    expect(validate({ tenant: '' }, '/events/12').map((i) => i.path)).toEqual([
      '/events/12/tenant',
    ]);
  });
});

describe('validateEvent: many issues', () => {
  it('reports at most 20 issues', () => {
    const metadata = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, '\ud800']));
    expect(validate({ metadata })).toHaveLength(20);
    const extra = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x${i}`, 1]));
    expect(validate(extra)).toHaveLength(20);
  });

  it('reports several independent problems together', () => {
    expect(
      paths({
        actor: { name: 'Ann\n' },
        targets: [{ type: 'u', id: 'u2', url: 'javascript:x' }],
        context: { ip: 'nope' },
        time: '2026-01-01T00:00:00',
      }),
    ).toEqual(['/actor/id', '/actor/name', '/targets/0/url', '/context/ip', '/time']);
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2026-01-02T03:04:05.678+01:00', Date.UTC(2026, 0, 2, 2, 4, 5, 678)],
    ['2026-06-15T12:00:00+02:00', Date.UTC(2026, 5, 15, 10, 0, 0)],
    ['2026-06-15T12:00:00-05:30', Date.UTC(2026, 5, 15, 17, 30, 0)],
    ['2026-01-01T00:30:00+01:00', Date.UTC(2025, 11, 31, 23, 30, 0)],
    ['2026-06-15T12:00:00Z', Date.UTC(2026, 5, 15, 12, 0, 0)],
    ['2026-06-15T12:00:00+00:00', Date.UTC(2026, 5, 15, 12, 0, 0)],
    ['2026-06-15T12:00:00-00:00', Date.UTC(2026, 5, 15, 12, 0, 0)],
    ['2026-06-15t12:00:00z', Date.UTC(2026, 5, 15, 12, 0, 0)],
    ['2026-06-15t12:00:00+02:00', Date.UTC(2026, 5, 15, 10, 0, 0)],
    ['2026-06-15T12:00:00.1Z', Date.UTC(2026, 5, 15, 12, 0, 0, 100)],
    ['2026-06-15T12:00:00.12Z', Date.UTC(2026, 5, 15, 12, 0, 0, 120)],
    ['2026-06-15T12:00:00.123Z', Date.UTC(2026, 5, 15, 12, 0, 0, 123)],
    ['2026-06-15T12:00:00.123456Z', Date.UTC(2026, 5, 15, 12, 0, 0, 123)],
    ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
    ['1970-01-01T00:00:00Z', 0],
  ])('%s → %d', (text, ms) => {
    expect(parseRfc3339(text)).toBe(ms);
  });

  it('agrees with Date.parse on 10,000 random timestamps, offsets and fractions', () => {
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const two = (n: number) => String(n).padStart(2, '0');
    for (let i = 0; i < 10_000; i++) {
      const ms = next(2 ** 31) * 2_000 - 2 ** 40;
      const date = new Date(ms).toISOString().slice(0, 19);
      const fraction = next(3) === 0 ? '' : `.${String(next(10 ** 9)).padStart(9, '0')}`;
      const digits = fraction.slice(0, 1 + next(9) + 1);
      const offset =
        next(3) === 0 ? 'Z' : `${next(2) === 0 ? '+' : '-'}${two(next(24))}:${two(next(60))}`;
      const text = `${date}${digits}${offset}`;
      expect(parseRfc3339(text), text).toBe(Date.parse(text));
    }
  });

  it('reads years before 100 as themselves, not as 19xx', () => {
    expect(parseRfc3339('0099-03-01T00:00:00Z')).toBe(Date.parse('0099-03-01T00:00:00Z'));
    expect(parseRfc3339('0004-02-29T12:00:00+01:00')).toBe(Date.parse('0004-02-29T12:00:00+01:00'));
  });

  it.each([
    '2026-06-15T12:00:00',
    '2026-06-15T12:00Z',
    '2026-06-15',
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2026-06-31T00:00:00Z',
    '2026-06-15T25:00:00Z',
    '2026-06-15T12:00:00+25:00',
    '2026-06-15T12:00:00.1234567890Z',
    '2026-06-15T12:00:00,5Z',
    '+02026-06-15T12:00:00Z',
    '2026-06-15T12:00:00Z ',
  ])('rejects %j', (text) => {
    expect(parseRfc3339(text)).toBeNull();
  });
});

describe('jsonBytes', () => {
  it('counts UTF-8 bytes of the JSON text', () => {
    expect(jsonBytes({ a: 1 })).toBe(7);
    expect(jsonBytes('é')).toBe(4);
    expect(jsonBytes('😀')).toBe(6);
    expect(jsonBytes('\n')).toBe(4);
  });
});

describe('utf8Length', () => {
  it.each([
    '',
    'ascii',
    'é',
    '€uro',
    '😀 and 🇬🇧',
    'lone \ud800 high',
    'lone \udc00 low',
    'ends high \ud83d',
    '\u07ff\u0800\uffff',
  ])('counts %j as TextEncoder encodes it', (text) => {
    expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
  });
});

describe('validateEvent: the json option', () => {
  it('measures the given serialisation for the size limit', () => {
    const event = { ...minimal, description: 'x' };
    expect(validateEvent(event, { now, json: JSON.stringify(event) })).toEqual([]);
    expect(validateEvent(event, { now, json: 'x'.repeat(70_000) })).toEqual([
      { path: '', message: 'event is larger than 65536 bytes' },
    ]);
  });
});

describe('regressions found in review', () => {
  const now = new Date('2026-06-15T12:00:00Z');
  const base = { tenant: 'acme', action: 'a.b', actor: { id: 'u' } };

  it('points at the whole event with an empty path when it is too large', () => {
    const changes = Array.from({ length: 9 }, (_, i) => ({
      field: `f${i}`,
      after: 'x'.repeat(8000),
    }));
    expect(validateEvent({ ...base, changes }, { now })).toEqual([
      { path: '', message: 'event is larger than 65536 bytes' },
    ]);
  });

  it('refuses a /\\host link, which browsers follow to another site', () => {
    const issues = validateEvent(
      { ...base, targets: [{ type: 'u', id: '1', url: '/\\evil.example' }] },
      { now },
    );
    expect(issues.map((i) => i.path)).toEqual(['/targets/0/url']);
  });

  it('accepts Windows line endings in a description', () => {
    expect(validateEvent({ ...base, description: 'a\r\nb' }, { now })).toEqual([]);
  });

  it('knows leap days in every year, including years below 100', () => {
    expect(parseRfc3339('0000-02-29T00:00:00Z')).toBe(-62162121600000);
    expect(parseRfc3339('2100-02-29T00:00:00Z')).toBeNull();
    expect(parseRfc3339('2016-12-31T23:59:60Z')).toBeNull();
  });
});
