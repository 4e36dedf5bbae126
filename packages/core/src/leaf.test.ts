import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { personalValues, type Salts } from './hashed-view.js';
import {
  commitment,
  hashedView,
  inputDigest,
  leafHash,
  leafHashOf,
  leafHashParts,
  makeSalts,
  normalizeEvent,
  SALT_BYTES,
  sealEvent,
} from './leaf.js';
import type { EventInput, StoredEvent, UnsealedEvent } from './schema.js';

const receivedAt = new Date('2026-01-02T03:10:00.000Z');
const server = { id: 'srv-ulid', receivedAt };

const input: EventInput = {
  tenant: 'acme',
  action: 'user.updated',
  time: '2026-01-02T04:04:05.6+01:00',
  actor: { id: 'u1', name: 'Ann', email: 'ann@acme.test', role: 'admin' },
  targets: [
    { type: 'user', id: 'u2', name: 'Bob' },
    { type: 'setting', id: 's1', url: '/settings/s1' },
    { type: 'user', id: 'u3', name: 'Cy' },
  ],
  description: 'Ann updated Bob',
  changes: [
    { field: 'role', before: 'member', after: 'admin' },
    { field: 'password', before: 'hunter2', after: 'hunter3', sensitive: true },
    { field: 'tags', after: ['x', { y: 1 }] },
    { field: 'nickname', before: null },
  ],
  context: { ip: '2001:0DB8:0:0:0:0:0:1', userAgent: 'Mozilla/5.0', requestId: 'r1' },
  metadata: { plan: 'pro', seats: 3 },
};

const PERSONAL_PATHS = [
  '/actor/name',
  '/actor/email',
  '/targets/0/name',
  '/targets/2/name',
  '/context/ip',
  '/context/userAgent',
  '/changes/0/before',
  '/changes/0/after',
  '/changes/2/after',
  '/changes/3/before',
];

/** Deterministic salts: the n-th personal path gets bytes n, n+1, … n+15. */
function fixedSalts(event: UnsealedEvent): Salts {
  let n = 0;
  return makeSalts(event, (bytes) => Uint8Array.from({ length: bytes }, () => n++ & 0xff));
}

function sha256Hex(...parts: Uint8Array[]): string {
  return createHash('sha256').update(Buffer.concat(parts)).digest('hex');
}

/** The commitment computed here, without the code under test. */
function expectedCommitment(saltHex: string, canonicalValue: string): string {
  return sha256Hex(Buffer.from(saltHex, 'hex'), Buffer.from(canonicalValue, 'utf8'));
}

function salt(salts: Salts, path: string): string {
  const value = salts[path];
  if (value === undefined) throw new Error(`test setup: no salt for ${path}`);
  return value;
}

function fixture() {
  const event = normalizeEvent(input, server);
  const numbered = { ...event, seq: 7 };
  const salts = fixedSalts(event);
  return { event, numbered, salts };
}

describe('normalizeEvent', () => {
  it('produces the stored form of a full input', () => {
    expect(normalizeEvent(input, server)).toStrictEqual({
      id: 'srv-ulid',
      tenant: 'acme',
      category: 'changes',
      action: 'user.updated',
      time: '2026-01-02T03:04:05.600Z',
      receivedAt: '2026-01-02T03:10:00.000Z',
      actor: { id: 'u1', type: 'user', name: 'Ann', email: 'ann@acme.test', role: 'admin' },
      outcome: 'success',
      targets: [
        { type: 'user', id: 'u2', name: 'Bob' },
        { type: 'setting', id: 's1', url: '/settings/s1' },
        { type: 'user', id: 'u3', name: 'Cy' },
      ],
      description: 'Ann updated Bob',
      changes: [
        { field: 'role', before: 'member', after: 'admin' },
        { field: 'password', sensitive: true },
        { field: 'tags', after: ['x', { y: 1 }] },
        { field: 'nickname', before: null },
      ],
      context: { ip: '2001:db8::1', userAgent: 'Mozilla/5.0', requestId: 'r1' },
      metadata: { plan: 'pro', seats: 3 },
    });
  });

  it('applies the defaults to a minimal input', () => {
    const minimal: EventInput = { tenant: 'acme', action: 'user.created', actor: { id: 'u1' } };
    expect(normalizeEvent(minimal, server)).toStrictEqual({
      id: 'srv-ulid',
      tenant: 'acme',
      category: 'changes',
      action: 'user.created',
      time: '2026-01-02T03:10:00.000Z',
      receivedAt: '2026-01-02T03:10:00.000Z',
      actor: { id: 'u1', type: 'user' },
      outcome: 'success',
    });
  });

  it('keeps the values the producer gave', () => {
    const given: EventInput = {
      tenant: 'acme',
      action: 'login.failed',
      id: 'client-id',
      category: 'security',
      outcome: 'failure',
      channel: 'api',
      status: 'blocked',
      actor: { type: 'anonymous' },
    };
    const event = normalizeEvent(given, server);
    expect(event.id).toBe('client-id');
    expect(event.category).toBe('security');
    expect(event.outcome).toBe('failure');
    expect(event.channel).toBe('api');
    expect(event.status).toBe('blocked');
    expect(event.actor).toStrictEqual({ type: 'anonymous' });
  });

  it.each([
    ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000Z'],
    ['2026-01-02t03:04:05.1z', '2026-01-02T03:04:05.100Z'],
    ['2026-01-02T00:30:00-05:30', '2026-01-02T06:00:00.000Z'],
    ['2026-01-01T00:30:00+01:00', '2025-12-31T23:30:00.000Z'],
    ['2026-01-02T03:04:05.123456789+00:00', '2026-01-02T03:04:05.123Z'],
  ])('normalises time %s to %s', (time, normalised) => {
    const event = normalizeEvent({ tenant: 't', action: 'a.b', actor: { id: 'u' }, time }, server);
    expect(event.time).toBe(normalised);
  });

  it.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['10.0.0.1', '10.0.0.1'],
  ])('canonicalises ip %s to %s', (ip, text) => {
    const event = normalizeEvent(
      { tenant: 't', action: 'a.b', actor: { id: 'u' }, context: { ip } },
      server,
    );
    expect(event.context).toStrictEqual({ ip: text });
  });

  it('does not modify its input', () => {
    const copy = structuredClone(input);
    normalizeEvent(input, server);
    expect(input).toStrictEqual(copy);
  });
});

describe('personalValues', () => {
  it('lists actor name and e-mail, target names, ip, user agent and change values', () => {
    expect(personalValues(normalizeEvent(input, server))).toStrictEqual([
      { path: '/actor/name', value: 'Ann' },
      { path: '/actor/email', value: 'ann@acme.test' },
      { path: '/targets/0/name', value: 'Bob' },
      { path: '/targets/2/name', value: 'Cy' },
      { path: '/context/ip', value: '2001:db8::1' },
      { path: '/context/userAgent', value: 'Mozilla/5.0' },
      { path: '/changes/0/before', value: 'member' },
      { path: '/changes/0/after', value: 'admin' },
      { path: '/changes/2/after', value: ['x', { y: 1 }] },
      { path: '/changes/3/before', value: null },
    ]);
  });

  it('is empty for an event without personal values', () => {
    const event = normalizeEvent(
      {
        tenant: 'acme',
        action: 'user.created',
        actor: { id: 'u1', role: 'admin' },
        targets: [{ type: 'user', id: 'u2' }],
        changes: [{ field: 'password', before: 'a', after: 'b', sensitive: true }],
        context: { requestId: 'r1' },
        metadata: { email: 'not@personal.test' },
      },
      server,
    );
    expect(personalValues(event)).toStrictEqual([]);
  });
});

describe('commitment', () => {
  const saltHex = '000102030405060708090a0b0c0d0e0f';

  it('is hex SHA-256 of the salt bytes followed by the canonical JSON of the value', () => {
    // Computed with Python's hashlib, independently of this code base.
    expect(commitment(saltHex, 'ann@acme.test')).toBe(
      '3d49e1b56f12b65972003fe1bf347ba8054462b6f4023d19311d8e6e2658c964',
    );
    expect(commitment(saltHex, { b: 1, a: [true, null] })).toBe(
      '6b8e08896e9ba5ac418635cdc6540c7d66e61188ae6bf9891367704038e496be',
    );
  });

  it.each([
    ['Zoë 😀', '"Zoë 😀"'],
    [42, '42'],
    [null, 'null'],
    [{ z: { y: 2, x: 1 }, a: 'é' }, '{"a":"é","z":{"x":1,"y":2}}'],
  ])('matches a recomputation for %j', (value, canonical) => {
    const s = randomBytes(SALT_BYTES).toString('hex');
    expect(commitment(s, value)).toBe(expectedCommitment(s, canonical));
  });

  it('depends on the salt', () => {
    expect(commitment('00'.repeat(16), 'ann')).not.toBe(commitment('01'.repeat(16), 'ann'));
  });
});

describe('hashedView', () => {
  it('replaces exactly the personal values and drops hash, location and client', () => {
    const { numbered, salts } = fixture();
    const stored: StoredEvent = {
      ...numbered,
      hash: 'f'.repeat(64),
      context: {
        ...numbered.context,
        location: { country: 'FR', city: 'Paris' },
        client: { browser: 'Firefox' },
      },
    };
    const c = (path: string, canonical: string) => expectedCommitment(salt(salts, path), canonical);
    expect(hashedView(stored, salts)).toStrictEqual({
      id: 'srv-ulid',
      seq: 7,
      tenant: 'acme',
      category: 'changes',
      action: 'user.updated',
      time: '2026-01-02T03:04:05.600Z',
      receivedAt: '2026-01-02T03:10:00.000Z',
      actor: {
        id: 'u1',
        type: 'user',
        name: c('/actor/name', '"Ann"'),
        email: c('/actor/email', '"ann@acme.test"'),
        role: 'admin',
      },
      outcome: 'success',
      targets: [
        { type: 'user', id: 'u2', name: c('/targets/0/name', '"Bob"') },
        { type: 'setting', id: 's1', url: '/settings/s1' },
        { type: 'user', id: 'u3', name: c('/targets/2/name', '"Cy"') },
      ],
      description: 'Ann updated Bob',
      changes: [
        {
          field: 'role',
          before: c('/changes/0/before', '"member"'),
          after: c('/changes/0/after', '"admin"'),
        },
        { field: 'password', sensitive: true },
        { field: 'tags', after: c('/changes/2/after', '["x",{"y":1}]') },
        { field: 'nickname', before: c('/changes/3/before', 'null') },
      ],
      context: {
        ip: c('/context/ip', '"2001:db8::1"'),
        userAgent: c('/context/userAgent', '"Mozilla/5.0"'),
        requestId: 'r1',
      },
      metadata: { plan: 'pro', seats: 3 },
    });
  });

  it('leaves a personal value without a salt as it is (an erased value)', () => {
    const { numbered, salts } = fixture();
    const erased = structuredClone(numbered);
    erased.actor.email = 'a'.repeat(64);
    const withoutSalt = { ...salts };
    delete withoutSalt['/actor/email'];
    const view = hashedView(erased, withoutSalt) as { actor: { email: string; name: string } };
    expect(view.actor.email).toBe('a'.repeat(64));
    expect(view.actor.name).toBe(expectedCommitment(salt(salts, '/actor/name'), '"Ann"'));
  });

  it('does not modify the event', () => {
    const { numbered, salts } = fixture();
    const stored = { ...numbered, context: { ...numbered.context, location: { country: 'FR' } } };
    const copy = structuredClone(stored);
    hashedView(stored, salts);
    expect(stored).toStrictEqual(copy);
  });
});

describe('leafHash', () => {
  it('matches a vector computed independently (Python hashlib + sorted compact JSON)', () => {
    const event = {
      id: 'e1',
      seq: 1,
      tenant: 'acme',
      category: 'changes',
      action: 'user.created',
      time: '2026-01-01T00:00:00.000Z',
      receivedAt: '2026-01-01T00:00:00.000Z',
      actor: { type: 'user' as const, id: 'u1', email: 'ann@acme.test' },
      outcome: 'success' as const,
    };
    const salts = { '/actor/email': '000102030405060708090a0b0c0d0e0f' };
    expect(leafHash(event, salts)).toBe(
      '570dff34e4fddf11b23bcc042e98c5886250eccceb0e9defe917f99749829da4',
    );
  });

  it('is hex SHA-256 of 0x00 followed by the canonical JSON of the hashed view', () => {
    const { numbered, salts } = fixture();
    const view = canonicalJson(hashedView(numbered, salts));
    expect(leafHash(numbered, salts)).toBe(
      sha256Hex(new Uint8Array([0]), Buffer.from(view, 'utf8')),
    );
    expect(leafHash(numbered, salts)).not.toBe(sha256Hex(Buffer.from(view, 'utf8')));
  });

  it('ignores context.location, context.client and hash', () => {
    const { numbered, salts } = fixture();
    const hash = leafHash(numbered, salts);
    const enriched = structuredClone(numbered);
    enriched.context = {
      ...enriched.context,
      location: { country: 'FR', region: 'IDF', city: 'Paris' },
      client: { browser: 'Firefox', os: 'Linux', device: 'desktop' },
    };
    expect(leafHash(enriched, salts)).toBe(hash);
    const changed = structuredClone(enriched);
    changed.context = { ...changed.context, location: { country: 'DE' }, client: { os: 'macOS' } };
    expect(leafHash(changed, salts)).toBe(hash);
    expect(leafHash({ ...changed, hash: 'x' } as StoredEvent, salts)).toBe(hash);
  });

  const edits: Array<[string, (e: UnsealedEvent & { seq: number }, s: Salts) => void]> = [
    [
      'seq',
      (e) => {
        e.seq = 8;
      },
    ],
    [
      'id',
      (e) => {
        e.id = 'other';
      },
    ],
    [
      'tenant',
      (e) => {
        e.tenant = 'globex';
      },
    ],
    [
      'action',
      (e) => {
        e.action = 'user.deleted';
      },
    ],
    [
      'category',
      (e) => {
        e.category = 'security';
      },
    ],
    [
      'time',
      (e) => {
        e.time = '2026-01-02T03:04:05.601Z';
      },
    ],
    [
      'receivedAt',
      (e) => {
        e.receivedAt = '2026-01-02T03:10:00.001Z';
      },
    ],
    [
      'outcome',
      (e) => {
        e.outcome = 'failure';
      },
    ],
    [
      'description',
      (e) => {
        e.description = 'Ann updated Bob.';
      },
    ],
    [
      'actor.id',
      (e) => {
        e.actor.id = 'u9';
      },
    ],
    [
      'actor.role',
      (e) => {
        e.actor.role = 'owner';
      },
    ],
    [
      'a target id',
      (e) => {
        const t = e.targets?.[1];
        if (t) t.id = 's2';
      },
    ],
    [
      'a metadata value',
      (e) => {
        e.metadata = { ...e.metadata, seats: 4 };
      },
    ],
    [
      'a change field',
      (e) => {
        const c = e.changes?.[1];
        if (c) c.field = 'pin';
      },
    ],
    [
      'context.requestId',
      (e) => {
        if (e.context) e.context.requestId = 'r2';
      },
    ],
    [
      'a personal value',
      (e) => {
        e.actor.email = 'ann@globex.test';
      },
    ],
    [
      'a change value',
      (e) => {
        const c = e.changes?.[0];
        if (c) c.after = 'owner';
      },
    ],
    [
      'the ip',
      (e) => {
        if (e.context) e.context.ip = '2001:db8::2';
      },
    ],
    [
      'a salt',
      (_e, s) => {
        s['/actor/name'] = 'ff'.repeat(16);
      },
    ],
    [
      'a salt of a change value',
      (_e, s) => {
        s['/changes/3/before'] = '00'.repeat(16);
      },
    ],
  ];

  it.each(edits)('changes when %s changes', (_name, edit) => {
    const { numbered, salts } = fixture();
    const before = leafHash(numbered, salts);
    const event = structuredClone(numbered);
    const editedSalts = { ...salts };
    edit(event, editedSalts);
    expect(leafHash(event, editedSalts)).not.toBe(before);
  });

  it.each(PERSONAL_PATHS)(
    'is unchanged when %s is replaced by its commitment and its salt deleted (erasure)',
    (path) => {
      const { numbered, salts } = fixture();
      const before = leafHash(numbered, salts);
      const value = personalValues(numbered).find((p) => p.path === path)?.value;
      const erased = structuredClone(numbered);
      setPointer(erased, path, commitment(salt(salts, path), value));
      const remaining = { ...salts };
      delete remaining[path];
      expect(leafHash(erased, remaining)).toBe(before);
      // Erasing without deleting the salt would re-commit to the commitment.
      expect(leafHash(erased, salts)).not.toBe(before);
    },
  );

  it('is unchanged when every personal value is erased', () => {
    const { numbered, salts } = fixture();
    const before = leafHash(numbered, salts);
    const erased = structuredClone(numbered);
    for (const { path, value } of personalValues(numbered)) {
      setPointer(erased, path, commitment(salt(salts, path), value));
    }
    expect(leafHash(erased, {})).toBe(before);
  });
});

/** Sets the value at a JSON Pointer made of plain keys and indexes. */
function setPointer(root: object, pointer: string, value: unknown): void {
  const keys = pointer.split('/').slice(1);
  const last = keys.pop();
  let node: unknown = root;
  for (const key of keys) node = (node as Record<string, unknown>)[key];
  if (last === undefined || node === null || typeof node !== 'object') {
    throw new Error(`test setup: cannot set ${pointer}`);
  }
  (node as Record<string, unknown>)[last] = value;
}

describe('makeSalts', () => {
  it('gives one 16-byte hex salt per personal path', () => {
    const event = normalizeEvent(input, server);
    const salts = makeSalts(event, (n) => randomBytes(n));
    expect(Object.keys(salts)).toStrictEqual(PERSONAL_PATHS);
    for (const value of Object.values(salts)) expect(value).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(Object.values(salts)).size).toBe(PERSONAL_PATHS.length);
  });

  it('cuts the random bytes into consecutive salts in path order', () => {
    const event = normalizeEvent(input, server);
    const random = vi.fn((n: number) => Uint8Array.from({ length: n }, (_, i) => i));
    const salts = makeSalts(event, random);
    expect(random).toHaveBeenCalledWith(PERSONAL_PATHS.length * SALT_BYTES);
    expect(salts['/actor/name']).toBe('000102030405060708090a0b0c0d0e0f');
    expect(salts['/actor/email']).toBe('101112131415161718191a1b1c1d1e1f');
    expect(salts['/changes/3/before']).toBe('909192939495969798999a9b9c9d9e9f');
  });

  it('gives no salts to an event without personal values', () => {
    const event = normalizeEvent({ tenant: 'acme', action: 'a.b', actor: { id: 'u1' } }, server);
    expect(makeSalts(event, (n) => randomBytes(n))).toStrictEqual({});
  });
});

describe('sealEvent', () => {
  it('adds seq and the leaf hash, and leaves the event as it was', () => {
    const { event, salts } = fixture();
    const copy = structuredClone(event);
    const sealed = sealEvent(event, 7, salts);
    expect(sealed).toStrictEqual({ ...event, seq: 7, hash: leafHash({ ...event, seq: 7 }, salts) });
    expect(sealed.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(event).toStrictEqual(copy);
  });

  it('gives a hash that a verifier recomputes from the stored event', () => {
    const { event, salts } = fixture();
    const sealed = sealEvent(event, 3, salts);
    expect(leafHash(sealed, salts)).toBe(sealed.hash);
    expect(sealEvent(event, 4, salts).hash).not.toBe(sealed.hash);
  });
});

describe('inputDigest', () => {
  it('is the same for the same input with keys in another order', () => {
    const reordered: EventInput = {
      metadata: { seats: 3, plan: 'pro' },
      context: { requestId: 'r1', userAgent: 'Mozilla/5.0', ip: '2001:0DB8:0:0:0:0:0:1' },
      changes: [
        { after: 'admin', before: 'member', field: 'role' },
        { sensitive: true, after: 'hunter3', before: 'hunter2', field: 'password' },
        { after: ['x', { y: 1 }], field: 'tags' },
        { before: null, field: 'nickname' },
      ],
      description: 'Ann updated Bob',
      targets: [
        { name: 'Bob', id: 'u2', type: 'user' },
        { url: '/settings/s1', id: 's1', type: 'setting' },
        { name: 'Cy', id: 'u3', type: 'user' },
      ],
      actor: { role: 'admin', email: 'ann@acme.test', name: 'Ann', id: 'u1' },
      time: '2026-01-02T04:04:05.6+01:00',
      action: 'user.updated',
      tenant: 'acme',
    };
    expect(inputDigest(reordered)).toBe(inputDigest(input));
    expect(inputDigest(input)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when the content differs', () => {
    const digest = inputDigest(input);
    expect(inputDigest({ ...input, description: 'Ann updated Bob.' })).not.toBe(digest);
    expect(inputDigest({ ...input, metadata: { plan: 'pro', seats: 4 } })).not.toBe(digest);
    expect(inputDigest({ ...input, actor: { id: 'u1' } })).not.toBe(digest);
    // The same instant written differently is still a different input.
    expect(inputDigest({ ...input, time: '2026-01-02T03:04:05.600Z' })).not.toBe(digest);
  });

  // An unsalted digest over a sensitive value let a reader of the database find it by trying
  // every guess (a 4-digit PIN in 10,000 hashes); the stored event never holds it.
  it('leaves out the values of sensitive changes, which no stored event holds', () => {
    const pin = (after: string, before?: string): EventInput => ({
      ...input,
      changes: [
        { field: 'role', before: 'member', after: 'admin' },
        { field: 'pin', after, ...(before === undefined ? {} : { before }), sensitive: true },
      ],
    });
    const digest = inputDigest(pin('9157'));
    expect(inputDigest(pin('0000'))).toBe(digest);
    expect(inputDigest(pin('9157', '1234'))).toBe(digest);
    expect(
      inputDigest({
        ...input,
        changes: [
          { field: 'role', before: 'member', after: 'admin' },
          { field: 'pin', sensitive: true },
        ],
      }),
    ).toBe(digest);
    // Which field changed, and the other changes, still count.
    expect(
      inputDigest({ ...pin('9157'), changes: [{ field: 'pin', after: '9157', sensitive: true }] }),
    ).not.toBe(digest);
  });
});

describe('leafHashParts', () => {
  it('splits the canonical view exactly where seq goes, for any seq', () => {
    const event = normalizeEvent(
      {
        tenant: 'acme',
        action: 'user.created',
        actor: { id: 'u1', name: 'Ann', email: 'ann@acme.test' },
        metadata: { seq: 99, z: 1 },
        changes: [{ field: 'f', before: 1, after: 2 }],
      },
      { id: 'e1', receivedAt: new Date('2026-01-01T00:00:00Z') },
    );
    const salts = makeSalts(event, (n) => new Uint8Array(n).fill(7));
    const parts = leafHashParts(event, salts);
    for (const seq of [1, 42, 9_007_199_254_740_991]) {
      expect(`${parts.head}${seq}${parts.tail}`).toBe(
        canonicalJson(hashedView({ ...event, seq }, salts)),
      );
      expect(leafHashOf(parts, seq)).toBe(leafHash({ ...event, seq }, salts));
    }
  });
});
