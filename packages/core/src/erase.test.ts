import { describe, expect, it } from 'vitest';
import { DELETED_USER, emailKey, eraseEvent, subjectPaths } from './erase.js';
import { leafHash, makeSalts, normalizeEvent } from './leaf.js';
import * as merkle from './merkle.js';
import * as note from './note.js';
import type { EventInput, StoredEvent } from './schema.js';
import { searchableTexts } from './text.js';
import { EXPORT_FORMAT, ExportVerifier } from './verify.js';

let counter = 0;
const random = (n: number) => Buffer.alloc(n, ++counter % 251);

function sealed(input: EventInput, seq = 1) {
  const event = normalizeEvent(input, {
    id: `e${seq}`,
    receivedAt: new Date('2026-01-01T00:00:00Z'),
  });
  event.context = { ...event.context, location: { country: 'GB', city: 'London' } };
  const salts = makeSalts(event, random);
  return { event: { ...event, seq, hash: leafHash({ ...event, seq }, salts) }, salts };
}

const licence: EventInput = {
  tenant: 't',
  action: 'user.license.updated',
  actor: { id: 'u-2', name: 'Bob', email: 'bob@acme.test' },
  targets: [
    { type: 'team', id: 't-7', name: 'Cleaners' },
    { type: 'user', id: 'u-1', name: 'Ann Lee' },
  ],
  changes: [
    { field: 'license', before: 'Field', after: 'Field Plus' },
    { field: 'password', sensitive: true },
  ],
  context: { ip: '81.2.69.142', userAgent: 'curl/8', requestId: 'r-1' },
  description: 'License of Ann Lee changed',
  metadata: { file: 'x.csv' },
};

describe('emailKey', () => {
  it('lowers ASCII letters alone, as SQL lower() over a "C" column does', () => {
    expect(emailKey('Ann.Lee@ACME.test')).toBe('ann.lee@acme.test');
    expect(emailKey('ann@acme.test')).toBe('ann@acme.test');
    expect(emailKey('ÅSA@Acme.Test')).toBe('Åsa@acme.test');
  });
});

describe('subjectPaths', () => {
  it('names the actor’s values, a matching target’s name and the changes about it', () => {
    const { event } = sealed(licence);
    expect(subjectPaths(event, { actorId: 'u-1' })).toEqual([
      '/targets/1/name',
      '/changes/0/before',
      '/changes/0/after',
      '/changes/1/before',
      '/changes/1/after',
    ]);
    expect(subjectPaths(event, { email: 'bob@acme.test' })).toEqual([
      '/actor/name',
      '/actor/email',
      '/context/ip',
      '/context/userAgent',
    ]);
    expect(subjectPaths(event, { actorId: 'u-9' })).toEqual([]);
  });
});

describe('eraseEvent', () => {
  it('replaces the values by their commitments and keeps the leaf hash', () => {
    const { event, salts } = sealed(licence, 7);
    const before = structuredClone(event);
    const out = eraseEvent(event, salts, { actorId: 'u-1' });
    expect(event).toEqual(before);
    expect(out?.paths).toEqual(['/targets/1/name', '/changes/0/before', '/changes/0/after']);
    const erased = out?.event as StoredEvent;
    expect(erased.targets?.[1]).toEqual({ type: 'user', id: 'u-1', name: DELETED_USER });
    expect(erased.targets?.[0]?.name).toBe('Cleaners');
    expect(erased.changes).toEqual([{ field: 'license' }, { field: 'password', sensitive: true }]);
    expect(Object.keys(out?.salts ?? {})).not.toContain('/targets/1/name');
    expect(out?.salts['/actor/name']).toBe(salts['/actor/name']);
    expect(leafHash(erased, out?.salts ?? {})).toBe(event.hash);
    expect(eraseEvent(erased, out?.salts ?? {}, { actorId: 'u-1' })).toBeNull();
  });

  it('erases an actor with the location and client derived from its IP and user agent', () => {
    const { event, salts } = sealed(licence, 3);
    const out = eraseEvent(event, salts, { actorId: 'u-2' });
    const erased = out?.event as StoredEvent;
    expect(erased.actor).toEqual({ type: 'user', id: 'u-2', name: DELETED_USER });
    expect(erased.context).toEqual({ requestId: 'r-1' });
    expect(erased.description).toBe(licence.description);
    expect(searchableTexts(erased).join(' ')).not.toMatch(/bob/i);
    expect(leafHash(erased, out?.salts ?? {})).toBe(event.hash);
    // Both people erased, in either order: the hash stays.
    const both = eraseEvent(erased, out?.salts ?? {}, { actorId: 'u-1' });
    expect(leafHash(both?.event as StoredEvent, both?.salts ?? {})).toBe(event.hash);
  });

  it('shows an actor without a name as Deleted User, without hashing that name', () => {
    const { event, salts } = sealed({
      tenant: 't',
      action: 'login.failed',
      actor: { type: 'anonymous', email: 'who@acme.test' },
      context: { ip: '81.2.69.142' },
    });
    const out = eraseEvent(event, salts, { email: 'who@acme.test' });
    const erased = out?.event as StoredEvent;
    expect(erased.actor).toEqual({ type: 'anonymous', name: DELETED_USER });
    expect(erased.context).toBeUndefined();
    expect(erased.erased?.['/actor/name']).toBeNull();
    expect(erased.erased?.['/actor/email']).toMatch(/^[0-9a-f]{64}$/);
    expect(leafHash(erased, out?.salts ?? {})).toBe(event.hash);
    expect(out?.salts).toEqual({});
  });

  it('changes the hash when an erased commitment is altered', () => {
    const { event, salts } = sealed(licence);
    const out = eraseEvent(event, salts, { actorId: 'u-1' });
    const erased = out?.event as StoredEvent;
    const altered = { ...erased, erased: { ...erased.erased, '/targets/1/name': '0'.repeat(64) } };
    expect(leafHash(altered, out?.salts ?? {})).not.toBe(event.hash);
  });
});

describe('ExportVerifier with redacted leaves', () => {
  const signer = note.signerFromSeed('test.example', Buffer.alloc(32, 3));
  /** An export of 6 events, the 3rd redacted, with a checkpoint at 6. */
  function exported(): string[] {
    const lines = [
      JSON.stringify({
        type: 'header',
        format: EXPORT_FORMAT,
        tenant: 't',
        origin: 'test.example/t',
        size: 6,
        exportedAt: '2026-01-02T00:00:00.000Z',
      }),
    ];
    const leaves: Uint8Array[] = [];
    for (let seq = 1; seq <= 6; seq++) {
      const { event, salts } = sealed({ ...licence, description: `n${seq}` }, seq);
      leaves.push(Buffer.from(event.hash, 'hex'));
      lines.push(
        seq === 3
          ? JSON.stringify({
              type: 'redacted',
              seq,
              id: event.id,
              hash: event.hash,
              redactedAt: '2026-01-02T00:00:00.000Z',
              redactedBy: 'user:u-dpo',
            })
          : JSON.stringify({ type: 'event', event, salts }),
      );
    }
    const text = note.checkpointText({
      origin: 'test.example/t',
      size: 6,
      rootHash: merkle.rootHash(leaves),
    });
    lines.push(JSON.stringify({ type: 'checkpoint', note: note.signNote(text, signer) }));
    return lines;
  }
  const run = (lines: string[]) => {
    const v = new ExportVerifier({ verifierKey: note.verifierKeyText(signer) });
    for (const l of lines) v.line(l);
    return v.finish();
  };

  it('accepts a redacted leaf and reports when and by whom', () => {
    const report = run(exported());
    expect(report).toMatchObject({ ok: true, events: 5, verifiedSize: 6, problems: [] });
    expect(report.redacted).toEqual([
      { seq: 3, id: 'e3', at: '2026-01-02T00:00:00.000Z', by: 'user:u-dpo' },
    ]);
  });

  it('fails when a redacted hash is changed, its line removed, or doubled', () => {
    const lines = exported();
    const index = lines.findIndex((l) => l.includes('"redacted"'));
    const line = JSON.parse(lines[index] as string) as { hash: string };
    const changed = lines.with(
      index,
      JSON.stringify({
        ...line,
        hash: (line.hash.startsWith('0') ? '1' : '0') + line.hash.slice(1),
      }),
    );
    expect(run(changed).problems.map((p) => p.kind)).toContain('checkpoint_mismatch');
    const removed = run(lines.toSpliced(index, 1));
    expect(removed.problems).toContainEqual(expect.objectContaining({ kind: 'missing', seq: 3 }));
    const doubled = run([...lines, lines[index] as string]);
    expect(doubled.problems).toContainEqual(expect.objectContaining({ kind: 'inserted', seq: 3 }));
    const malformed = run(lines.with(index, JSON.stringify({ ...line, hash: 'xyz' })));
    expect(malformed.problems.map((p) => p.kind)).toContain('malformed');
  });

  it('still reports an altered event beside a redacted one', () => {
    const lines = exported();
    const index = lines.findIndex((l) => l.includes('"description":"n5"'));
    const report = run(lines.with(index, (lines[index] as string).replace('"n5"', '"n0"')));
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'altered', seq: 5 }));
  });
});
