import { describe, expect, it } from 'vitest';
import { eraseEvent } from './erase.js';
import {
  type EventProof,
  signedByOthersOnly,
  verifyCheckpoint,
  verifyConsistencyProof,
  verifyEventProof,
} from './event-proof.js';
import type { Salts } from './hashed-view.js';
import { leafHash, makeSalts, normalizeEvent } from './leaf.js';
import * as merkle from './merkle.js';
import * as note from './note.js';
import type { StoredEvent } from './schema.js';

const signer = note.signerFromSeed('test.example', Buffer.alloc(32, 7));
const trust = { verifierKey: note.verifierKeyText(signer), origin: 'test.example/t' };
let counter = 0;
const random = (n: number) => Buffer.alloc(n, ++counter % 251);

/** A log of `n` events with personal values of every kind, signed at size `signed`. */
function logOf(n: number, signed = n) {
  const events: StoredEvent[] = [];
  const salts: Salts[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const base = normalizeEvent(
      {
        tenant: 't',
        action: 'user.updated',
        actor: { id: `u${seq % 3}`, name: 'Ann Ng', email: 'ann@acme.test' },
        targets: [{ type: 'user', id: 'u9', name: 'Bo Li' }],
        context: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0' },
        changes: [{ field: 'role', before: 'viewer', after: { name: 'admin', level: 2 } }],
        metadata: { plan: 'pro', seats: seq, note: 'ünïcode ✓ "quoted"' },
        time: '2026-01-01T00:00:00Z',
      },
      { id: `e${seq}`, receivedAt: new Date('2026-01-01T00:00:00Z') },
    );
    const s = makeSalts(base, random);
    events.push({ ...base, seq, hash: leafHash({ ...base, seq }, s) });
    salts.push(s);
  }
  const leaves = events.map((e) => Buffer.from(e.hash, 'hex'));
  const checkpoint = note.signNote(
    note.checkpointText({
      origin: 'test.example/t',
      size: signed,
      rootHash: merkle.rootHash(leaves.slice(0, signed)),
    }),
    signer,
  );
  const proofOf = (seq: number): EventProof => ({
    event: events[seq - 1] as StoredEvent,
    salts: salts[seq - 1] as Salts,
    checkpoint,
    proof:
      seq <= signed
        ? merkle
            .inclusionProof(leaves.slice(0, signed), seq - 1)
            .map((h) => Buffer.from(h).toString('hex'))
        : [],
  });
  return { events, salts, checkpoint, proofOf };
}

describe('verifyEventProof', () => {
  it('proves every event of logs of many sizes with Web Crypto alone', async () => {
    for (const n of [1, 2, 3, 5, 8, 13]) {
      const log = logOf(n);
      for (let seq = 1; seq <= n; seq++) {
        expect(await verifyEventProof(log.proofOf(seq), trust)).toEqual({
          ok: true,
          content: true,
          signed: true,
          included: true,
          size: n,
          signer: note.keyName(signer),
          signers: [note.keyName(signer)],
          problems: [],
        });
      }
    }
  });

  it('proves an event whose personal values were erased', async () => {
    const log = logOf(4);
    const proof = log.proofOf(2);
    const erased = eraseEvent(proof.event, proof.salts, { email: 'ann@acme.test' });
    expect(erased?.event.erased).toBeDefined();
    const report = await verifyEventProof(
      { ...proof, event: erased?.event as StoredEvent, salts: erased?.salts as Salts },
      trust,
    );
    expect(report.ok).toBe(true);
  });

  it('catches an altered event, also when its stored hash was recomputed to match', async () => {
    const log = logOf(6);
    const proof = log.proofOf(3);
    const altered = { ...proof.event, action: 'user.deleted' };
    expect(await verifyEventProof({ ...proof, event: altered }, trust)).toMatchObject({
      ok: false,
      content: false,
      signed: true,
      included: false,
      problems: [
        `Event seq 3 was altered: its content does not give its hash ${proof.event.hash}.`,
        'Event seq 3 is not in the log of 6 events the checkpoint signs: the log was changed after it was signed.',
      ],
    });
    // An attacker who also rewrote the hash makes the content agree, but not the tree.
    const rehashed = { ...altered, hash: leafHash(altered, proof.salts) };
    expect(await verifyEventProof({ ...proof, event: rehashed }, trust)).toMatchObject({
      ok: false,
      content: true,
      included: false,
    });
    // A personal value changed is caught through its commitment.
    const renamed = { ...proof.event, actor: { ...proof.event.actor, name: 'Eve' } };
    expect((await verifyEventProof({ ...proof, event: renamed }, trust)).content).toBe(false);
    const resalted = { ...proof.salts, '/actor/email': 'ab'.repeat(16) };
    expect((await verifyEventProof({ ...proof, salts: resalted }, trust)).content).toBe(false);
    expect(
      (await verifyEventProof({ ...proof, salts: { '/actor/name': 'xyz' } }, trust)).content,
    ).toBe(false);
  });

  it('catches a proof that does not lead to the root', async () => {
    const log = logOf(7);
    const proof = log.proofOf(5);
    const variants = [
      proof.proof.slice(1),
      [...proof.proof, proof.proof[0] as string],
      [...proof.proof].reverse(),
      proof.proof.map((h, i) => (i === 0 ? `${h.slice(0, -1)}0` : h)),
      ['zz'],
    ];
    for (const forged of variants) {
      if (forged.join() === proof.proof.join()) continue;
      const report = await verifyEventProof({ ...proof, proof: forged }, trust);
      expect(report).toMatchObject({ ok: false, content: true, signed: true, included: false });
    }
    // The proof of another event proves nothing about this one.
    const other = log.proofOf(4);
    expect((await verifyEventProof({ ...proof, proof: other.proof }, trust)).included).toBe(false);
  });

  it('refuses a checkpoint of another key, another log, or with a broken signature', async () => {
    const log = logOf(3);
    const proof = log.proofOf(1);
    const other = note.signerFromSeed('test.example', Buffer.alloc(32, 8));
    const cases: Array<[Partial<EventProof>, Partial<typeof trust>, string]> = [
      [
        {},
        { verifierKey: note.verifierKeyText(other) },
        `is signed by ${note.keyName(signer)}, not by the key ${note.keyName(other)}. Right after the signing key was rotated`,
      ],
      [{}, { origin: 'test.example/u' }, 'is of the log "test.example/t", not "test.example/u"'],
      [{ checkpoint: proof.checkpoint?.replace('\n3\n', '\n2\n') ?? '' }, {}, 'is not valid'],
      [{ checkpoint: 'garbage' }, {}, 'The checkpoint is malformed.'],
      [{ checkpoint: null }, {}, 'no signed checkpoint yet'],
      [{}, { verifierKey: 'not a key' }, 'The verifier key is malformed.'],
      [
        {},
        { verifierKey: trust.verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+') },
        'does not match its hash',
      ],
    ];
    for (const [change, trustChange, problem] of cases) {
      const report = await verifyEventProof({ ...proof, ...change }, { ...trust, ...trustChange });
      expect(report.ok).toBe(false);
      expect(report.signed).toBe(false);
      expect(report.included).toBeNull();
      expect(report.content).toBe(true);
      expect(report.problems.join(' ')).toContain(problem);
    }
  });

  it('accepts a checkpoint also signed by another key, and names both', async () => {
    const log = logOf(4);
    const proof = log.proofOf(2);
    const witness = note.signerFromSeed('witness.example', Buffer.alloc(32, 9));
    const text = (proof.checkpoint ?? '').split('\n\n')[0] as string;
    const cosigned = `${proof.checkpoint}${note.signNote(`${text}\n`, witness).split('\n\n')[1]}`;
    const report = await verifyEventProof({ ...proof, checkpoint: cosigned }, trust);
    expect(report).toMatchObject({ ok: true, signed: true, included: true });
    expect(report.signers).toEqual([note.keyName(signer), note.keyName(witness)]);
    // Checked with the witness's key instead, it verifies as well.
    const byWitness = await verifyEventProof(
      { ...proof, checkpoint: cosigned },
      { ...trust, verifierKey: note.verifierKeyText(witness) },
    );
    expect(byWitness).toMatchObject({ ok: true, signer: note.keyName(witness) });
  });

  it('takes several keys: any one that signed will do, and each that signed must be valid', async () => {
    const log = logOf(4);
    const proof = log.proofOf(3);
    const old = note.signerFromSeed('test.example', Buffer.alloc(32, 8));
    const unknown = note.signerFromSeed('test.example', Buffer.alloc(32, 10));
    const keys = (...signers: note.NoteSigner[]) => ({
      ...trust,
      verifierKey: signers.map((s) => note.verifierKeyText(s)),
    });
    // The key before a rotation and the one after: the checkpoint carries the new one.
    expect(await verifyEventProof(proof, keys(old, signer))).toMatchObject({
      ok: true,
      signer: note.keyName(signer),
    });
    // None of them signed: refused, naming them all, and only others signed it.
    const byNone = await verifyEventProof(proof, keys(old, unknown));
    expect(byNone).toMatchObject({ ok: false, signed: false, signer: note.keyName(old) });
    expect(byNone.problems[0]).toContain(
      `not by any of the keys ${note.keyName(old)}, ${note.keyName(unknown)}.`,
    );
    expect(signedByOthersOnly(byNone)).toBe(true);
    // Cosigned by both, one signature broken: refused, whichever key comes first.
    const text = (proof.checkpoint ?? '').split('\n\n')[0] as string;
    const oldLine = (note.signNote(`${text}\n`, old).split('\n\n')[1] as string).trim();
    const [name, base64] = oldLine.slice('— '.length).split(' ') as [string, string];
    const bytes = Buffer.from(base64, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    const forged = `${proof.checkpoint}— ${name} ${bytes.toString('base64')}\n`;
    for (const order of [keys(signer, old), keys(old, signer)]) {
      const report = await verifyEventProof({ ...proof, checkpoint: forged }, order);
      expect(report).toMatchObject({ ok: false, signed: false, signer: note.keyName(old) });
      expect(report.problems).toEqual([
        `The checkpoint's signature by ${note.keyName(old)} is not valid.`,
      ]);
      expect(signedByOthersOnly(report)).toBe(false);
    }
    // Still valid for a reader who trusts only the key whose signature holds.
    expect((await verifyEventProof({ ...proof, checkpoint: forged }, trust)).ok).toBe(true);
    expect((await verifyEventProof(proof, keys())).problems).toContain(
      'No verifier key was given.',
    );
  });

  it('says when the newest checkpoint does not cover the event yet', async () => {
    const log = logOf(5, 3);
    const report = await verifyEventProof(log.proofOf(5), trust);
    expect(report).toMatchObject({
      ok: false,
      content: true,
      signed: true,
      included: null,
      size: 3,
    });
    expect(report.problems).toEqual([
      'Event seq 5 is not in a signed checkpoint yet (the newest covers 3 events); try again in a moment.',
    ]);
  });
});

describe('verifyCheckpoint', () => {
  it('gives the size and root of a checkpoint signed by the key, and why not otherwise', async () => {
    const log = logOf(6);
    const report = await verifyCheckpoint(log.checkpoint, trust);
    const root = merkle.rootHash(log.events.map((e) => Buffer.from(e.hash, 'hex')));
    expect(report).toEqual({
      ok: true,
      size: 6,
      root: Buffer.from(root).toString('hex'),
      signer: note.keyName(signer),
      signers: [note.keyName(signer)],
    });
    const other = note.verifierKeyText(note.signerFromSeed('test.example', Buffer.alloc(32, 8)));
    expect(await verifyCheckpoint(log.checkpoint, { ...trust, verifierKey: other })).toMatchObject({
      ok: false,
      size: 6,
      signers: [note.keyName(signer)],
    });
    // Only another key's signature: a rotation, not a broken signature or a malformed note.
    const byOther = await verifyCheckpoint(log.checkpoint, { ...trust, verifierKey: other });
    expect(signedByOthersOnly(byOther)).toBe(true);
    expect(signedByOthersOnly(report)).toBe(false);
    const broken = log.checkpoint.replace('\n6\n', '\n5\n');
    expect(signedByOthersOnly(await verifyCheckpoint(broken, trust))).toBe(false);
    expect(signedByOthersOnly(await verifyCheckpoint('nonsense', trust))).toBe(false);
    expect(await verifyCheckpoint('nonsense', trust)).toMatchObject({
      ok: false,
      problem: 'The checkpoint is malformed.',
    });
  });
});

describe('verifyConsistencyProof', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const leaves = Array.from({ length: 17 }, (_, i) => merkle.leafHash(Uint8Array.of(i)));
  const tree = (n: number) => ({ size: n, root: hex(merkle.rootHash(leaves.slice(0, n))) });

  it('proves every older size a prefix of every newer one', async () => {
    for (let n = 1; n <= leaves.length; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = merkle.consistencyProof(leaves.slice(0, n), m).map(hex);
        expect(await verifyConsistencyProof(tree(m), tree(n), proof)).toBe(true);
      }
    }
  });

  it('agrees with the node verifier on forged proofs, and refuses a rewritten history', async () => {
    const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
    for (const [m, n] of [
      [1, 2],
      [3, 8],
      [4, 9],
      [6, 17],
      [8, 16],
      [13, 17],
    ] as const) {
      const proof = merkle.consistencyProof(leaves.slice(0, n), m).map(hex);
      const forged = [
        proof.slice(1),
        proof.slice(0, -1),
        [...proof, proof[0] as string],
        [...proof].reverse(),
        proof.map((h, i) => (i === proof.length - 1 ? `${h.slice(0, -2)}00` : h)),
        [],
      ];
      for (const p of forged) {
        const expected = merkle.verifyConsistency(
          m,
          n,
          p.map(bytes),
          bytes(tree(m).root),
          bytes(tree(n).root),
        );
        expect(await verifyConsistencyProof(tree(m), tree(n), p)).toBe(expected);
      }
      // Sizes the proof is not for (the roots alone may still fold, as the node verifier
      // agrees), the sizes swapped, and an older root the newer log does not extend.
      expect(await verifyConsistencyProof(tree(m), { ...tree(n), size: n + 1 }, proof)).toBe(
        merkle.verifyConsistency(
          m,
          n + 1,
          proof.map(bytes),
          bytes(tree(m).root),
          bytes(tree(n).root),
        ),
      );
      expect(await verifyConsistencyProof(tree(n), tree(m), proof)).toBe(false);
      const rewritten = {
        size: m,
        root: hex(merkle.rootHash([...leaves.slice(1, m), leaves[0] as Uint8Array])),
      };
      expect(await verifyConsistencyProof(rewritten, tree(n), proof)).toBe(m === 1);
    }
  });
});
