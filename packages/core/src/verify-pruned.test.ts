// Issue #9: exports of logs that retention pruned carry `pruned` lines in place of the events.
import { describe, expect, it } from 'vitest';
import { leafHash, makeSalts, normalizeEvent } from './leaf.js';
import * as merkle from './merkle.js';
import * as note from './note.js';
import { EXPORT_FORMAT, ExportVerifier } from './verify.js';

const signer = note.signerFromSeed('test.example', Buffer.alloc(32, 2));
const verifierKey = note.verifierKeyText(signer);
const random = (n: number) => Buffer.alloc(n, 7);
const N = 20;

/** Header, events and checkpoints (every 5) of a log of 20 events, and its leaf hashes. */
function log(): {
  header: string;
  events: Map<number, string>;
  checkpoints: string[];
  leaves: Uint8Array[];
} {
  const header = JSON.stringify({
    type: 'header',
    format: EXPORT_FORMAT,
    tenant: 't',
    origin: 'test.example/t',
    size: N,
    exportedAt: '2026-01-01T00:00:00.000Z',
  });
  const events = new Map<number, string>();
  const leaves: Uint8Array[] = [];
  for (let seq = 1; seq <= N; seq++) {
    const base = normalizeEvent(
      { tenant: 't', action: 'a.b', actor: { id: `u${seq}` }, time: '2026-01-01T00:00:00Z' },
      { id: `e${seq}`, receivedAt: new Date('2026-01-01T00:00:00Z') },
    );
    const salts = makeSalts(base, random);
    const hash = leafHash({ ...base, seq }, salts);
    leaves.push(Buffer.from(hash, 'hex'));
    events.set(seq, JSON.stringify({ type: 'event', event: { ...base, seq, hash }, salts }));
  }
  const checkpoints: string[] = [];
  for (let size = 5; size <= N; size += 5) {
    const text = note.checkpointText({
      origin: 'test.example/t',
      size,
      rootHash: merkle.rootHash(leaves.slice(0, size)),
    });
    checkpoints.push(JSON.stringify({ type: 'checkpoint', note: note.signNote(text, signer) }));
  }
  return { header, events, checkpoints, leaves };
}

/** The `pruned` line of seqs `from`…`to`, from the leaf hashes. */
function prunedLine(leaves: Uint8Array[], from: number, to: number): string {
  const hashes = merkle
    .rangeNodes(from - 1, to)
    .map(({ level, index }) =>
      Buffer.from(
        merkle.rootHash(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)),
      ).toString('hex'),
    );
  return JSON.stringify({ type: 'pruned', seqs: [from, to], hashes });
}

function run(lines: string[]) {
  const v = new ExportVerifier({ verifierKey });
  for (const l of lines) v.line(l);
  return v.finish();
}

describe('ExportVerifier of a pruned log', () => {
  it('verifies every checkpoint from the retained events and the pruned ranges', () => {
    const { header, events, checkpoints, leaves } = log();
    // Seqs 1–7 and 12 pruned, cut at the checkpoint of size 5.
    const kept = [...events].filter(([seq]) => seq > 7 && seq !== 12).map(([, l]) => l);
    const lines = [
      header,
      ...kept,
      prunedLine(leaves, 1, 5),
      prunedLine(leaves, 6, 7),
      prunedLine(leaves, 12, 12),
      ...checkpoints,
    ];
    expect(run(lines)).toMatchObject({
      ok: true,
      events: 12,
      pruned: 8,
      checkpoints: 4,
      verifiedSize: 20,
      problems: [],
    });
  });

  it('still catches an altered or removed retained event', () => {
    const { header, events, checkpoints, leaves } = log();
    const pruned = prunedLine(leaves, 1, 5);
    const kept = [...events].filter(([seq]) => seq > 5);
    const altered = kept.map(([seq, l]) => (seq === 9 ? l.replace('"u9"', '"u99"') : l));
    expect(run([header, pruned, ...altered, ...checkpoints]).problems).toContainEqual(
      expect.objectContaining({ kind: 'altered', seq: 9 }),
    );
    const removed = kept.filter(([seq]) => seq !== 13).map(([, l]) => l);
    expect(run([header, pruned, ...removed, ...checkpoints]).problems).toContainEqual(
      expect.objectContaining({ kind: 'missing', seq: 13 }),
    );
  });

  it('catches pruned hashes that are not those of the log', () => {
    const { header, events, checkpoints, leaves } = log();
    const forged = [...leaves];
    forged[2] = new Uint8Array(32);
    const kept = [...events].filter(([seq]) => seq > 5).map(([, l]) => l);
    const report = run([header, prunedLine(forged, 1, 5), ...kept, ...checkpoints]);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'checkpoint_mismatch' }),
    );
  });

  it('reports malformed, overlapping and contradicting pruned lines', () => {
    const { header, events, checkpoints, leaves } = log();
    const all = [...events.values()];
    const bad = JSON.stringify({ type: 'pruned', seqs: [1, 5], hashes: ['00'] });
    expect(run([header, bad, ...all, ...checkpoints]).problems).toContainEqual(
      expect.objectContaining({ kind: 'malformed' }),
    );
    // An event both present and pruned.
    expect(run([header, prunedLine(leaves, 3, 3), ...all, ...checkpoints]).problems).toContainEqual(
      expect.objectContaining({ kind: 'inserted', seq: 3 }),
    );
    // A pruned range a checkpoint cuts through cannot give that checkpoint's root.
    const kept = [...events].filter(([seq]) => seq > 8).map(([, l]) => l);
    expect(
      run([header, prunedLine(leaves, 1, 8), ...kept, ...checkpoints]).problems,
    ).toContainEqual(expect.objectContaining({ kind: 'malformed', seq: 5 }));
  });
});
