import { describe, expect, it } from 'vitest';
import type { UnsealedEvent } from './schema.js';
import { searchableTexts, searchText, searchTokens } from './text.js';

describe('searchTokens', () => {
  it.each([
    ['Hello World', ['hello', 'world']],
    ['Zoë', ['zoe']],
    ['Zoë sent CUS-42', ['zoe', 'sent', 'cus', '42']],
    ['CUS-123456', ['cus', '123456']],
    ['ann@acme.test', ['ann', 'acme', 'test']],
    ['ÉLODIE Müller Ångström façade naïve', ['elodie', 'muller', 'angstrom', 'facade', 'naive']],
    ['user.admin_rights.updated', ['user', 'admin', 'rights', 'updated']],
    ['  spaced\tout\nwords  ', ['spaced', 'out', 'words']],
    ['v2.10', ['v2', '10']],
    ['東京タワー', ['東京タワー']],
    ['東京 大阪', ['東京', '大阪']],
    ['Привет, Мир!', ['привет', 'мир']],
    ['Ελληνικά', ['ελληνικα']],
    ['ﬁle', ['file']],
    ['ＡＢＣ１２３', ['abc123']],
  ])('%j → %j', (text, tokens) => {
    expect(searchTokens(text)).toStrictEqual(tokens);
  });

  it.each(['', ' ', '-', '...', '@#$%^&*()', '— – · “ ” ‘ ’', '😀🎉'])(
    'gives no tokens for %j',
    (text) => {
      expect(searchTokens(text)).toStrictEqual([]);
    },
  );

  it('gives the same tokens for composed and decomposed accents', () => {
    expect(searchTokens('Zo\u00eb')).toStrictEqual(searchTokens('Zoe\u0308'));
  });

  it('reads ASCII text (its fast path) exactly as the Unicode path reads it', () => {
    const ascii = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).join('');
    for (const text of [ascii, 'Ann.Smith@ACME.test CUS-123456 v2.10 a_b', `x${ascii}9`]) {
      // A non-ASCII word at the end sends the same text down the Unicode path.
      expect(searchTokens(`${text} é`)).toStrictEqual([...searchTokens(text), 'e']);
    }
  });

  it('gives the same tokens for a text and the query typed differently', () => {
    expect(searchTokens('ANN@ACME.TEST')).toStrictEqual(searchTokens('ann@acme.test'));
    expect(searchTokens('cus 123456')).toStrictEqual(searchTokens('CUS-123456'));
  });
});

describe('searchableTexts', () => {
  const event: UnsealedEvent = {
    id: 'evt-id-not-searched',
    tenant: 'tenant-not-searched',
    category: 'security',
    action: 'user.updated',
    time: '2026-01-02T03:04:05.000Z',
    receivedAt: '2026-01-02T03:04:05.000Z',
    actor: { type: 'user', id: 'u1', name: 'Ann Smith', email: 'ann@acme.test', role: 'owner' },
    outcome: 'success',
    status: 'delivered',
    description: 'Ann changed the plan',
    targets: [
      { type: 'user', id: 'u2', name: 'Bob' },
      { type: 'setting', id: 'billing.plan', url: '/settings/plan' },
    ],
    changes: [{ field: 'plan', before: 'change-before', after: 'change-after' }],
    context: {
      ip: '203.0.113.9',
      userAgent: 'Mozilla/5.0 (X11; Linux)',
      requestId: 'req-77',
      location: { country: 'FR', city: 'Paris' },
      client: { browser: 'Firefox' },
    },
    metadata: {
      plan: 'pro',
      seats: 3,
      trial: false,
      nothing: null,
      nested: { deep: { ticket: 'CUS-123456', list: ['alpha', 2.5, true] } },
    },
  };

  it('includes action, actor, description, status, targets and metadata values', () => {
    const texts = searchableTexts(event);
    expect([...texts].sort()).toStrictEqual(
      [
        'user.updated',
        'u1',
        'Ann Smith',
        'ann@acme.test',
        'Ann changed the plan',
        'delivered',
        'u2',
        'Bob',
        'billing.plan',
        'pro',
        '3',
        'false',
        'CUS-123456',
        'alpha',
        '2.5',
        'true',
      ].sort(),
    );
  });

  it('leaves out the IP, the user agent and other context', () => {
    const texts = searchableTexts(event);
    const tokens = texts.flatMap(searchTokens);
    expect(texts).not.toContain('203.0.113.9');
    expect(tokens).not.toContain('203');
    expect(tokens).not.toContain('mozilla');
    expect(tokens).not.toContain('linux');
    expect(tokens).not.toContain('req');
    expect(tokens).not.toContain('paris');
    expect(tokens).not.toContain('firefox');
  });

  it('leaves out change values, metadata keys and bookkeeping fields', () => {
    const tokens = searchableTexts(event).flatMap(searchTokens);
    for (const word of ['before', 'after', 'nested', 'ticket', 'seats', 'tenant', 'evt', 'owner']) {
      expect(tokens).not.toContain(word);
    }
  });

  it('gives only the action for a bare event', () => {
    const bare: UnsealedEvent = {
      id: 'e1',
      tenant: 'acme',
      category: 'changes',
      action: 'system.started',
      time: '2026-01-02T03:04:05.000Z',
      receivedAt: '2026-01-02T03:04:05.000Z',
      actor: { type: 'system' },
      outcome: 'success',
    };
    expect(searchableTexts(bare)).toStrictEqual(['system.started']);
  });

  it('finds an identifier and an e-mail address through their tokens', () => {
    const tokens = searchableTexts(event).flatMap(searchTokens);
    expect(tokens).toEqual(expect.arrayContaining(['cus', '123456', 'ann', 'acme', 'test']));
  });
  it('gives the search text as every token of the searchable texts, in order, one space apart', () => {
    const expected = searchableTexts(event).flatMap(searchTokens);
    expect(expected.length).toBeGreaterThan(5);
    expect(searchText(event)).toBe(expected.join(' '));
    expect(searchText({ ...event, description: 'Zoë  —  ÉLODIE', metadata: {} })).toMatch(
      / zoe elodie( |$)/,
    );
  });
});
