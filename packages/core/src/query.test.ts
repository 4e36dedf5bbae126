import { describe, expect, it } from 'vitest';
import { parseIpRange } from './ip.js';
import { type ParsedQuery, parseQuery, prefixEnd, QueryError } from './query.js';

/** Parses a query that must be rejected and returns the error. */
function errorOf(q: string): QueryError {
  try {
    parseQuery(q);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  throw new Error(`expected parseQuery(${JSON.stringify(q)}) to throw a QueryError`);
}

function only(q: string): ParsedQuery['clauses'][number] {
  const { clauses } = parseQuery(q);
  expect(clauses).toHaveLength(1);
  const [clause] = clauses;
  if (clause === undefined) throw new Error('no clause');
  return clause;
}

describe('parseQuery', () => {
  it('parses metadata.<path>: qualifiers, quoted or bare, negated or not', () => {
    expect(parseQuery('metadata.gateway:"Twilio UK" -metadata.receiver.address:a@b.test')).toEqual({
      clauses: [
        { kind: 'metadata', path: ['gateway'], value: 'Twilio UK', negate: false, position: 0 },
        {
          kind: 'metadata',
          path: ['receiver', 'address'],
          value: 'a@b.test',
          negate: true,
          position: 29,
        },
      ],
    });
    expect(only('metadata.row:2')).toMatchObject({ path: ['row'], value: '2' });
    expect(errorOf('metadata.phone: x').position).toBe(15);
    expect(errorOf('metadata:x').message).toMatch(
      /Unknown qualifier "metadata:".*metadata\.<key>:/,
    );
    expect(only('metadata.a.b.c.d.e.f:1')).toMatchObject({ kind: 'text' });
  });

  it('parses the SPEC §5 example into exactly the expected clauses', () => {
    const q =
      'actor:alice@acme.test action:user.* -outcome:success "admin rights" after:2026-01-01';
    expect(parseQuery(q)).toEqual({
      clauses: [
        { kind: 'actor', value: 'alice@acme.test', negate: false, position: 0 },
        { kind: 'action', value: 'user.', prefix: true, negate: false, position: 22 },
        { kind: 'outcome', value: 'success', negate: true, position: 36 },
        {
          kind: 'text',
          text: 'admin rights',
          phrase: true,
          prefix: false,
          negate: false,
          position: 53,
        },
        {
          kind: 'after',
          value: '2026-01-01',
          timeMs: Date.UTC(2026, 0, 1),
          negate: false,
          position: 68,
        },
      ],
    });
    expect(Date.UTC(2026, 0, 1)).toBe(1_767_225_600_000);
  });

  it('gives no clauses for an empty or whitespace-only query', () => {
    expect(parseQuery('')).toEqual({ clauses: [] });
    expect(parseQuery('  \t\n\u00a0 ')).toEqual({ clauses: [] });
  });

  it('ANDs terms separated by any whitespace, keeping their order and offsets', () => {
    const { clauses } = parseQuery('  one\ttwo\n three\u3000four ');
    expect(clauses.map((c) => (c.kind === 'text' ? [c.text, c.position] : c.kind))).toEqual([
      ['one', 2],
      ['two', 6],
      ['three', 11],
      ['four', 17],
    ]);
  });

  describe('free words and phrases', () => {
    it('parses a free word as written', () => {
      expect(only('Zoë')).toEqual({
        kind: 'text',
        text: 'Zoë',
        phrase: false,
        prefix: false,
        negate: false,
        position: 0,
      });
    });

    it('parses a trailing * as a prefix search', () => {
      expect(only('deliv*')).toEqual({
        kind: 'text',
        text: 'deliv',
        phrase: false,
        prefix: true,
        negate: false,
        position: 0,
      });
    });

    it('parses a quoted phrase without its quotes and takes * in it literally', () => {
      expect(only('"admin  rights"')).toMatchObject({ text: 'admin  rights', phrase: true });
      expect(only('"deliv*"')).toMatchObject({ text: 'deliv*', phrase: true, prefix: false });
    });

    it('keeps a quoted qualifier-like term as text', () => {
      expect(only('"colour:red"')).toMatchObject({ kind: 'text', text: 'colour:red' });
      expect(only('"outcome:success"')).toMatchObject({ kind: 'text', phrase: true });
    });

    it.each([
      'https://x.test/a?b=c',
      '10:30',
      'CUS-123:x',
      'Actor:alice',
      'foo.bar:baz',
      'a1:b',
      ':foo',
      'e-mail',
    ])('keeps %s a free word, not a qualifier', (word) => {
      expect(only(word)).toEqual({
        kind: 'text',
        text: word,
        phrase: false,
        prefix: false,
        negate: false,
        position: 0,
      });
    });
  });

  describe('qualifiers', () => {
    it.each([
      ['actor:alice@acme.test', { kind: 'actor', value: 'alice@acme.test' }],
      ['target:usr_123', { kind: 'target', value: 'usr_123' }],
      ['status:hard_bounce', { kind: 'status', value: 'hard_bounce' }],
      ['category:logins', { kind: 'category', value: 'logins' }],
      ['action:user.created', { kind: 'action', value: 'user.created', prefix: false }],
      ['action:user.*', { kind: 'action', value: 'user.', prefix: true }],
      ['action:*.deleted', { kind: 'action', value: '.deleted', prefix: false, suffix: true }],
      ['action:"*_failed"', { kind: 'action', value: '_failed', prefix: false, suffix: true }],
      ['outcome:success', { kind: 'outcome', value: 'success' }],
      ['outcome:failure', { kind: 'outcome', value: 'failure' }],
      ['channel:ui', { kind: 'channel', value: 'ui' }],
      ['channel:api', { kind: 'channel', value: 'api' }],
      ['channel:import', { kind: 'channel', value: 'import' }],
      ['channel:system', { kind: 'channel', value: 'system' }],
      ['channel:integration', { kind: 'channel', value: 'integration' }],
    ])('parses %s', (q, expected) => {
      expect(only(q)).toEqual({ ...expected, negate: false, position: 0 });
    });

    it('accepts a quoted value with spaces and keeps it as written', () => {
      expect(only('actor:"Ann Lee"')).toEqual({
        kind: 'actor',
        value: 'Ann Lee',
        negate: false,
        position: 0,
      });
      expect(only('target:"Key ring 4"')).toMatchObject({ kind: 'target', value: 'Key ring 4' });
      expect(only('action:"user.*"')).toMatchObject({ value: 'user.', prefix: true });
    });

    it('keeps colons and dashes inside a value', () => {
      expect(only('actor:urn:acme:1')).toMatchObject({ kind: 'actor', value: 'urn:acme:1' });
      expect(only('status:-x')).toMatchObject({ kind: 'status', value: '-x' });
    });

    it('parses ip: addresses and CIDRs into key ranges', () => {
      const cidr = only('ip:192.168.1.0/24');
      expect(cidr).toEqual({
        kind: 'ip',
        value: '192.168.1.0/24',
        range: parseIpRange('192.168.1.0/24'),
        negate: false,
        position: 0,
      });
      if (cidr.kind !== 'ip') throw new Error('expected an ip clause');
      expect([...cidr.range.start.slice(10)]).toEqual([0xff, 0xff, 192, 168, 1, 0]);
      expect([...cidr.range.end.slice(10)]).toEqual([0xff, 0xff, 192, 168, 1, 255]);
      expect(only('ip:2001:db8::1')).toMatchObject({
        kind: 'ip',
        value: '2001:db8::1',
        range: parseIpRange('2001:db8::1'),
      });
      expect(only('ip:2001:db8::/32')).toMatchObject({ range: parseIpRange('2001:db8::/32') });
    });

    it.each([
      ['after:2026-01-01', Date.UTC(2026, 0, 1)],
      ['before:2024-02-29', Date.UTC(2024, 1, 29)],
      ['after:2000-02-29', Date.UTC(2000, 1, 29)],
      ['after:2026-01-01T10:00:00Z', Date.UTC(2026, 0, 1, 10)],
      ['after:2026-01-01T10:00:00+02:00', Date.UTC(2026, 0, 1, 8)],
      ['before:2026-01-01T10:00:00-05:30', Date.UTC(2026, 0, 1, 15, 30)],
      ['before:2026-01-01t10:00:00.250z', Date.UTC(2026, 0, 1, 10, 0, 0, 250)],
    ])('parses %s to epoch ms', (q, timeMs) => {
      const [kind, value] = q.split(/:(.*)/) as [string, string];
      expect(only(q)).toEqual({ kind, value, timeMs, negate: false, position: 0 });
    });
  });

  describe('negation', () => {
    it('negates words, phrases and qualifiers, with the position at the "-"', () => {
      const { clauses } = parseQuery('-spam -"admin rights" -outcome:success -actor:"Ann Lee"');
      expect(clauses).toEqual([
        { kind: 'text', text: 'spam', phrase: false, prefix: false, negate: true, position: 0 },
        {
          kind: 'text',
          text: 'admin rights',
          phrase: true,
          prefix: false,
          negate: true,
          position: 6,
        },
        { kind: 'outcome', value: 'success', negate: true, position: 22 },
        { kind: 'actor', value: 'Ann Lee', negate: true, position: 39 },
      ]);
    });

    it('negates a prefix word and an action prefix', () => {
      expect(only('-deliv*')).toMatchObject({ text: 'deliv', prefix: true, negate: true });
      expect(only('-action:login.*')).toMatchObject({ value: 'login.', negate: true });
    });

    it('treats a dash inside a word as part of it', () => {
      expect(only('CUS-123')).toMatchObject({ text: 'CUS-123', negate: false });
    });
  });

  describe('errors', () => {
    it.each([
      // [query, position of the problem, part of the message]
      ['"admin rights', 0, 'Unterminated quote'],
      ['spam -"admin', 6, 'Unterminated quote'],
      ['actor:"Ann Lee', 6, 'Unterminated quote'],
      ['"a"b', 3, 'after a closing quote'],
      ['actor:"Ann"x', 11, 'after a closing quote'],
      ['O"Brien', 1, 'inside a word'],
      ['actor:ann"lee', 9, 'inside a word'],
      ['actor:', 6, 'Missing value for "actor:"'],
      ['x -status: y', 10, 'Missing value for "status:"'],
      ['target:""', 7, 'Missing value for "target:"'],
      ['actor:"  "', 6, 'Missing value'],
      [
        'spam colour:red',
        5,
        'Unknown qualifier "colour:" at position 5; use one of actor:, action:',
      ],
      ['-colour:red', 1, 'Unknown qualifier "colour:"'],
      ['note:', 0, 'Unknown qualifier "note:"'],
      ['outcome:succes', 8, 'Invalid outcome "succes"'],
      ['outcome:Success', 8, 'Invalid outcome'],
      ['channel:web', 8, 'Invalid channel "web"'],
      ['ip:10.0.0.300', 3, 'Invalid IP address or CIDR'],
      ['ip:10.0.0.0/33', 3, 'Invalid IP address or CIDR'],
      ['ip:"not an ip"', 3, 'Invalid IP address or CIDR'],
      ['after:2026-02-30', 6, 'Invalid date "2026-02-30"'],
      ['before:2100-02-29', 7, 'Invalid date'],
      ['after:2026-13-01', 6, 'Invalid date'],
      ['after:2026-1-1', 6, 'Invalid date'],
      ['after:2026-01-01T10:00:00', 6, 'Invalid date'],
      ['after:2026-01-01T24:00:00Z', 6, 'Invalid date'],
      ['after:2026-01-01T10:00:00+24:00', 6, 'Invalid date'],
      ['after:yesterday', 6, 'Invalid date'],
      ['action:us*er.created', 9, 'Unexpected "*" at position 9'],
      ['action:user.**', 12, 'Unexpected "*"'],
      ['action:"us*er"', 10, 'Unexpected "*"'],
      ['action:*', 7, 'would match every action'],
      ['action:**', 7, 'would match every action'],
      ['action:*user.*', 7, '"*" at both ends'],
      ['action:*us*er', 10, 'Unexpected "*" at position 10'],
      ['action:*.Deleted', 8, 'Invalid action suffix ".Deleted" at position 8'],
      ['de*liv', 2, 'Unexpected "*"'],
      ['a -', 2, 'Lone "-" at position 2'],
      ['- spam', 0, 'Lone "-"'],
      ['--force', 1, 'single "-"'],
      ['category:Logins', 9, 'Invalid category "Logins"'],
      ['category:a.b', 9, 'Invalid category'],
      [`category:${'a'.repeat(65)}`, 9, 'Invalid category'],
      ['...', 0, 'no letter or digit'],
      ['ok -...', 4, 'no letter or digit'],
      ['"!!"', 0, 'no letter or digit'],
      ['""', 0, 'no letter or digit'],
      ['*', 0, 'no letter or digit'],
    ])('rejects %j at position %i', (q, position, message) => {
      const error = errorOf(q);
      expect(error.position).toBe(position);
      expect(error.message).toContain(message);
      expect(error.message).toContain(`position ${position}`);
    });

    it('accepts exactly 1,000 characters and rejects 1,001 at position 1000', () => {
      const max = `${'a'.repeat(994)} b c`;
      expect(max).toHaveLength(998);
      expect(parseQuery(`${max}  `).clauses).toHaveLength(3);
      const error = errorOf(`${max}  x`);
      expect(error.position).toBe(1000);
      expect(error.message).toContain('limit of 1000');
    });

    it('accepts 32 clauses and rejects the 33rd at its position', () => {
      const terms = Array.from({ length: 33 }, (_, i) => `w${i}`);
      expect(parseQuery(terms.slice(0, 32).join(' ')).clauses).toHaveLength(32);
      const q = terms.join(' ');
      const error = errorOf(q);
      expect(error.position).toBe(q.indexOf('w32'));
      expect(error.message).toContain('limit of 32');
    });

    it('is an Error with a stable code and name', () => {
      const error = errorOf('colour:red');
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe('invalid_query');
      expect(error.name).toBe('QueryError');
    });
  });

  it('either parses or throws a QueryError for arbitrary input (seeded, 2,000 cases)', () => {
    // mulberry32: a tiny deterministic PRNG, so a failure reproduces.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const atoms = [
      ...'ab Z09:"-*./@ \t\n_é日🙂\u00a0',
      'actor:',
      'action:',
      'outcome:',
      'channel:',
      'category:',
      'ip:',
      'after:',
      'before:',
      'colour:',
      'success',
      '2026-01-01',
      '10.0.0.0/8',
      '::1',
      'https://',
    ];
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(random() * 24);
      let q = '';
      for (let j = 0; j < length; j++) q += atoms[Math.floor(random() * atoms.length)] ?? '';
      try {
        const { clauses } = parseQuery(q);
        parsed++;
        expect(clauses.length).toBeLessThanOrEqual(32);
        let last = -1;
        for (const clause of clauses) {
          expect(clause.position).toBeGreaterThan(last);
          expect(clause.position).toBeLessThan(q.length);
          expect(clause.negate).toBe(q[clause.position] === '-');
          last = clause.position;
        }
      } catch (error) {
        if (!(error instanceof QueryError)) throw error;
        expect(error.code).toBe('invalid_query');
        expect(Number.isInteger(error.position)).toBe(true);
        expect(error.position).toBeGreaterThanOrEqual(0);
        expect(error.position).toBeLessThanOrEqual(q.length);
        expect(error.message).toContain(`position ${error.position}`);
      }
    }
    // Both paths must be exercised for the property to mean anything.
    expect(parsed).toBeGreaterThan(100);
    expect(parsed).toBeLessThan(2000);
  });
});

describe('prefixEnd', () => {
  it('bounds exactly the strings that start with the prefix', () => {
    const end = prefixEnd('user.');
    expect(end).toBe('user/');
    for (const s of ['user.', 'user.created', 'user.\uffff'])
      expect(s < end && s >= 'user.').toBe(true);
    for (const s of ['user/', 'users', 'user', 'usex']) expect(s >= 'user.' && s < end).toBe(false);
  });
});
