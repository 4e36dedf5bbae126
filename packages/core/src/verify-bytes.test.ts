import { createHash } from 'node:crypto';
import { checkChunk } from '@hindsight/core/verify-file';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { eraseEvent } from './erase.js';
import { leafHash, makeSalts, normalizeEvent } from './leaf.js';
import type { EventInput } from './schema.js';
import { checkEventLine } from './verify.js';
import { checkEventBytes } from './verify-bytes.js';

let counter = 0;
const random = (n: number) => Buffer.alloc(n, ++counter % 251);

/** An export's line for an event, as the server writes it. */
function lineOf(
  input: EventInput,
  seq: number,
  extra: Record<string, unknown> = {},
  saltBytes = random,
): string {
  const event = normalizeEvent(input, { id: `e${seq}`, receivedAt: new Date('2026-01-01') });
  Object.assign(event, extra);
  const salts = makeSalts(event, saltBytes);
  const hash = leafHash({ ...event, seq }, salts);
  return JSON.stringify({ type: 'event', event: { ...event, seq, hash }, salts });
}

/** What the fast path answers for a line: seq, id and leaf hash, or null. */
function fast(line: string) {
  const bytes = Buffer.from(`x${line}y`);
  const leaves = Buffer.alloc(64);
  const checked = checkEventBytes(bytes, 1, bytes.length - 1, leaves, 32);
  return checked && { ...checked, hash: leaves.subarray(32).toString('hex') };
}

const full: EventInput = {
  tenant: 'acme',
  action: 'user.license.updated',
  category: 'users',
  actor: { type: 'user', id: 'u-2', name: 'José Müller 👩‍💻', email: 'jose@acme.test' },
  targets: [
    { type: 'team', id: 't-7', name: 'Cleaners' },
    { type: 'user', id: 'u-1', name: 'Ann Lee' },
    { type: 'file', id: 'f-1' },
  ],
  changes: [
    { field: 'license', before: 'Field', after: 'Field Plus' },
    { field: 'roles', before: ['a', 'b'], after: { admin: true, level: -3, note: null } },
    { field: 'password', sensitive: true },
  ],
  channel: 'ui',
  outcome: 'failure',
  status: 'bounced',
  description: 'Licence of Ann Lee changed — 日本語 too',
  context: {
    ip: '81.2.69.142',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
    requestId: 'r-1',
  },
  metadata: { file: 'x.csv', rows: 1200, nested: { deep: [1, [2, [3]]], empty: {}, list: [] } },
  time: '2026-03-04T05:06:07.089Z',
};

describe('checkEventBytes (the verifier fast path)', () => {
  it('gives the slow path’s seq, id and leaf for events of every shape', () => {
    const lines = [
      lineOf(full, 1),
      lineOf({ tenant: 't', action: 'a', actor: { id: 'system', type: 'system' } }, 2),
      lineOf({ ...full, targets: [], changes: [] }, 123456789012345),
      lineOf(full, 4, {
        context: { ip: '10.0.0.1', location: { country: 'GB' }, client: { browser: 'X 1' } },
      }),
      lineOf({ ...full, context: {} }, 5),
      // Longer than the fast path's first buffers: 600 commitments and a 100 KB text.
      lineOf(
        {
          ...full,
          targets: Array.from({ length: 600 }, (_, i) => ({
            type: 'user',
            id: `u${i}`,
            name: 'A',
          })),
          description: 'x'.repeat(100_000),
        },
        6,
      ),
    ];
    for (const line of lines) {
      const slow = checkEventLine(line);
      expect(slow, line).not.toBeNull();
      expect(fast(line), line).toEqual(slow);
    }
  });

  it('answers null for a line whose content does not give its stored hash', () => {
    const line = lineOf(full, 7);
    expect(fast(line.replace('Cleaners', 'Dusters'))).toBeNull();
    expect(fast(line.replace('"rows":1200', '"rows":1201'))).toBeNull();
    expect(fast(line.replace('"seq":7', '"seq":8'))).toBeNull();
    // Values outside the hash (location, client) may change, as they may for the slow path.
    const located = lineOf(full, 8, { context: { ip: '10.0.0.1', location: { city: 'Bath' } } });
    expect(fast(located.replace('Bath', 'Bude'))).toEqual(checkEventLine(located));
  });

  it('leaves to the slow path every line outside the subset it reads', () => {
    const event = normalizeEvent(full, { id: 'e9', receivedAt: new Date('2026-01-01') });
    const salts = makeSalts(event, random);
    const stored = { ...event, seq: 9, hash: leafHash({ ...event, seq: 9 }, salts) };
    const erased = eraseEvent(stored, salts, { email: 'jose@acme.test' });
    const quoted = lineOf({ ...full, description: 'say "hi"\\n' }, 10);
    const decimal = lineOf({ ...full, metadata: { ratio: 0.5 } }, 11);
    const exponent = lineOf({ ...full, metadata: { big: 1e21 } }, 12);
    const big = lineOf({ ...full, metadata: { big: 1234567890123456 } }, 13);
    const slowOnly = [
      JSON.stringify({ type: 'event', event: erased?.event, salts: erased?.salts }),
      JSON.stringify(JSON.parse(lineOf(full, 14)), null, 1),
      quoted,
      decimal,
      exponent,
      big,
      lineOf({ ...full, metadata: { ['__proto__']: 1 } }, 15),
      lineOf({ ...full, metadata: { née: 1 } }, 16),
      // Longer than any event as sent: the slow path's.
      lineOf({ ...full, description: 'x'.repeat(1_100_000) }, 17),
    ];
    for (const line of slowOnly) {
      expect(checkEventLine(line), line).not.toBeNull();
      expect(fast(line), line).toBeNull();
    }
    // A salt in capitals reads the same to Buffer's hex decoder; the fast path leaves it.
    const lower = lineOf(full, 17, {}, (n) => Buffer.alloc(n, 0xab));
    const upper = lower.replaceAll('ab'.repeat(16), 'AB'.repeat(16));
    expect(fast(lower)).not.toBeNull();
    expect(checkEventLine(upper)).not.toBeNull();
    expect(fast(upper)).toBeNull();
    // An `erased` member that does not hold: the slow path takes its commitment over the name.
    const forged = JSON.parse(lineOf(full, 19));
    forged.event.erased = { '/actor/name': 'ab'.repeat(32) };
    expect(checkEventLine(JSON.stringify(forged))).toBeNull();
    expect(fast(JSON.stringify(forged))).toBeNull();
    // An event without an actor: its view hashes, but the slow path cannot read it.
    const view = { id: 'e18', tenant: 't', action: 'a', seq: 18 };
    const digest = createHash('sha256').update(Buffer.of(0)).update(canonicalJson(view));
    const actorless = JSON.stringify({
      type: 'event',
      event: { ...view, hash: digest.digest('hex') },
      salts: {},
    });
    expect(checkEventLine(actorless)).toBeNull();
    expect(fast(actorless)).toBeNull();
    for (const garbage of [
      '',
      '{',
      '{}',
      'null',
      '{"type":"event"}',
      '{"type":"event","event":{}}',
    ]) {
      expect(fast(garbage)).toBeNull();
    }
  });

  it('never reads a repeated name as JSON.parse would not: it keeps the last', () => {
    const one = JSON.parse(lineOf(full, 20));
    const two = JSON.parse(lineOf({ ...full, actor: { id: 'mallory', name: 'M' } }, 21));
    const json = JSON.stringify;
    const head = `{"type":"event","event":${json(one.event)}`;
    const path = '/targets/0/name';
    const salts = json(one.salts).slice(0, -1);
    // Each line holds event 20 with its salts first, then something JSON.parse reads instead,
    // so that the line does not hold: reading the first of two would accept it.
    const lines = [
      `${head},"salts":${json(one.salts)},"event":${json(two.event)}}`,
      `${head},"salts":${json(one.salts)},"salts":${json(two.salts)}}`,
      `${head},"salts":${salts},"${path}":"${'ab'.repeat(16)}"}}`,
      json(one).replace('"seq":20', '"seq":20,"seq":21'),
      json(one).replace('"name":"Cleaners"', '"name":"Cleaners","name":"Dusters"'),
    ];
    for (const line of lines) {
      expect(checkEventLine(line), line).toBeNull();
      expect(fast(line), line).toBeNull();
    }
  });

  it('agrees with the slow path on every byte-level corruption of a line it accepts', () => {
    const lines = [lineOf(full, 30), lineOf(full, 31, { context: { location: { city: 'Ely' } } })];
    const bytes = '{}[]":,0123456789-.eE \\tfnu\u00e9x';
    let x = 7;
    const next = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    let accepted = 0;
    for (let seed = 0; seed < 3000; seed++) {
      let line = lines[seed % lines.length] as string;
      for (let n = 1 + next(3); n > 0; n--) {
        const at = next(line.length);
        const c = bytes[next(bytes.length)] as string;
        const kind = next(3);
        if (kind === 0) line = line.slice(0, at) + c + line.slice(at + 1);
        else if (kind === 1) line = line.slice(0, at) + c + line.slice(at);
        else line = line.slice(0, at) + line.slice(at + 1);
      }
      const quick = fast(line);
      if (quick !== null) {
        accepted++;
        expect(quick, line).toEqual(checkEventLine(line));
      }
    }
    // Changes inside the location keep the hash: some corruptions are accepted, rightly.
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('checkChunk', () => {
  it('reads a chunk of bytes as the slow path reads its text', () => {
    const good = lineOf(full, 40);
    const bad = lineOf(full, 41).replace('Cleaners', 'Dusters');
    const located = lineOf(full, 42, { context: { location: { city: 'Ely' } } });
    const chunks = [
      `${good}\n${bad}\n\n{"type":"checkpoint"}\n${good}`,
      `${good}\r\n${bad}\r\n`,
    ].map((text) => Buffer.from(text));
    // Not UTF-8: the slow path reads a replacement character where the byte 0xff was.
    const cut = Buffer.from(located);
    chunks.push(
      Buffer.concat([
        Buffer.from(`${good}\n`),
        cut.subarray(0, cut.indexOf('Ely')),
        Buffer.of(0xff),
        cut.subarray(cut.indexOf('Ely') + 3),
        Buffer.from('\n'),
      ]),
    );
    for (const chunk of chunks) {
      const text = chunk.toString('utf8');
      const lines = text.split(/\r\n|\n|\r/);
      if (/[\r\n]$/.test(text)) lines.pop();
      const result = checkChunk(new Uint8Array(chunk));
      expect(result.checked.length).toBe(lines.length);
      const checked = lines.map((l) => checkEventLine(l));
      expect([...result.checked]).toEqual(checked.map((c) => (c ? 1 : 0)));
      expect(result.others).toEqual(lines.filter((_, i) => checked[i] === null));
      const events = checked.filter((c) => c !== null);
      expect(result.ids).toEqual(events.map((e) => e.id));
      expect([...result.seqs.subarray(0, events.length)]).toEqual(events.map((e) => e.seq));
      expect(Buffer.from(result.leaves).toString('hex')).toBe(events.map((e) => e.hash).join(''));
    }
  });
});
