import { verifyExport } from '@hindsight/core/verify-file';
import { describe, expect, it } from 'vitest';
import { leafHash, makeSalts, normalizeEvent } from './leaf.js';
import * as merkle from './merkle.js';
import * as note from './note.js';
import { EVENTS_FORMAT, EXPORT_FORMAT, ExportVerifier } from './verify.js';

const signer = note.signerFromSeed('test.example', Buffer.alloc(32, 1));
const verifierKey = note.verifierKeyText(signer);
let counter = 0;
const random = (n: number) => Buffer.alloc(n, ++counter % 251);

/** A small, correct export of `n` events with one checkpoint per `every` events. */
function exportOf(n: number, every = n): string[] {
  const lines: string[] = [
    JSON.stringify({
      type: 'header',
      format: EXPORT_FORMAT,
      tenant: 't',
      origin: 'test.example/t',
      size: n,
      exportedAt: '2026-01-01T00:00:00.000Z',
    }),
  ];
  const leaves: Uint8Array[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const base = normalizeEvent(
      { tenant: 't', action: 'a.b', actor: { id: 'u', name: 'Ann' }, time: '2026-01-01T00:00:00Z' },
      { id: `e${seq}`, receivedAt: new Date('2026-01-01T00:00:00Z') },
    );
    const salts = makeSalts(base, random);
    const hash = leafHash({ ...base, seq }, salts);
    leaves.push(Buffer.from(hash, 'hex'));
    lines.push(JSON.stringify({ type: 'event', event: { ...base, seq, hash }, salts }));
  }
  for (let size = every; size <= n; size += every) {
    const text = note.checkpointText({
      origin: 'test.example/t',
      size,
      rootHash: merkle.rootHash(leaves.slice(0, size)),
    });
    lines.push(JSON.stringify({ type: 'checkpoint', note: note.signNote(text, signer) }));
  }
  return lines;
}

function run(lines: string[], trusted?: string[]) {
  const v = new ExportVerifier({
    verifierKey,
    ...(trusted ? { trustedCheckpoints: trusted } : {}),
  });
  for (const l of lines) v.line(l);
  return v.finish();
}

describe('ExportVerifier', () => {
  it('accepts a correct export, in any line order', () => {
    const lines = exportOf(20, 5);
    expect(run(lines)).toMatchObject({
      ok: true,
      tenant: 't',
      events: 20,
      checkpoints: 4,
      verifiedSize: 20,
    });
    const [header, ...rest] = lines;
    expect(run([header as string, ...rest.reverse()]).ok).toBe(true);
  });

  it('reports lines it cannot read, and a missing or second header', () => {
    const lines = exportOf(3);
    expect(run(['{not json', ...lines]).problems).toContainEqual(
      expect.objectContaining({ kind: 'malformed' }),
    );
    expect(run(lines.slice(1)).problems).toContainEqual(
      expect.objectContaining({ kind: 'malformed', message: expect.stringMatching(/no header/) }),
    );
    expect(run([lines[0] as string, ...lines]).problems).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/second header/) }),
    );
    expect(run([...lines, '{"type":"other"}']).ok).toBe(false);
  });

  it('refuses an export of selected events, or of another format, with one clear problem', () => {
    const [header, ...rest] = exportOf(3);
    const filtered = [
      JSON.stringify({ ...JSON.parse(header as string), format: EVENTS_FORMAT, filters: {} }),
      ...rest.filter((l) => JSON.parse(l).type === 'event'),
    ];
    const report = run(filtered);
    expect(report.ok).toBe(false);
    expect(report.tenant).toBe('t');
    expect(report.problems).toEqual([
      {
        kind: 'malformed',
        message: expect.stringMatching(/selected events .* not a verifiable log/),
      },
    ]);
    expect(
      run([JSON.stringify({ type: 'header', format: 'something/2' }), ...rest]).problems,
    ).toEqual([{ kind: 'malformed', message: expect.stringMatching(/Unknown export format/) }]);
  });

  it('refuses a checkpoint of another log, even when validly signed', () => {
    const other = note.signNote(
      note.checkpointText({ origin: 'test.example/u', size: 3, rootHash: merkle.emptyRoot() }),
      signer,
    );
    const report = run([...exportOf(3), JSON.stringify({ type: 'checkpoint', note: other })]);
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: 'bad_signature',
        message: expect.stringMatching(/test\.example\/u/),
      }),
    );
  });

  it('skips checkpoints of other keys when asked, and still needs the size covered by its own', () => {
    const later = note.signerFromSeed('test.example', Buffer.alloc(32, 2));
    const lines = exportOf(6, 2);
    const newest = JSON.parse(lines[lines.length - 1] as string).note as string;
    // The newest checkpoint cosigned by the key after a rotation, as the server does at start.
    const cosigned = [
      ...lines.slice(0, -1),
      JSON.stringify({ type: 'checkpoint', note: note.cosignNote(newest, later) }),
    ];
    const check = (input: string[], otherKeys?: 'skip') => {
      const v = new ExportVerifier({
        verifierKey: note.verifierKeyText(later),
        ...(otherKeys ? { otherKeys } : {}),
      });
      for (const l of input) v.line(l);
      return v.finish();
    };
    expect(check(cosigned, 'skip')).toMatchObject({
      ok: true,
      checkpoints: 1,
      skippedCheckpoints: 2,
      verifiedSize: 6,
    });
    // By default each one the key did not sign is a problem, and nothing is counted as skipped.
    const strict = check(cosigned);
    expect(strict.problems.map((p) => p.kind)).toEqual(['bad_signature', 'bad_signature']);
    expect(strict).not.toHaveProperty('skippedCheckpoints');
    // None by the key: the export's size is covered by no checkpoint that verifies.
    expect(check(lines, 'skip').problems).toEqual([
      expect.objectContaining({ kind: 'truncated', seq: 1 }),
    ]);
    // A signature line of the key that does not verify is never skipped.
    const sigLine = note.cosignNote(newest, later).split('\n').at(-2) as string;
    const [dash, name, base64] = sigLine.split(' ') as [string, string, string];
    const bytes = Buffer.from(base64, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    const forged = `${newest}${dash} ${name} ${bytes.toString('base64')}\n`;
    const withForged = [
      ...lines.slice(0, -1),
      JSON.stringify({ type: 'checkpoint', note: forged }),
    ];
    expect(check(withForged, 'skip').problems.map((p) => p.kind)).toContain('bad_signature');
  });

  it('blames what refused a checkpoint, not a truncation, for a size left uncovered', () => {
    // After a rotation, checked with the old key alone: the newer checkpoints are the problem.
    const later = note.signerFromSeed('test.example', Buffer.alloc(32, 3));
    const lines = exportOf(6, 2);
    const newest = JSON.parse(lines[lines.length - 1] as string).note as string;
    const body = newest.slice(0, newest.indexOf('\n\n') + 1);
    const rotated = [
      ...lines.slice(0, -1),
      JSON.stringify({ type: 'checkpoint', note: note.signNote(body, later) }),
    ];
    const report = run(rotated);
    expect(report.verifiedSize).toBe(4);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'bad_signature' }),
      expect.objectContaining({
        kind: 'truncated',
        seq: 5,
        message: expect.stringContaining('If the signing key was rotated, give its other keys'),
      }),
    ]);
    expect(report.problems[1]?.message).not.toContain('checkpoints were removed.');
    // A changed event: its checkpoints no longer match, and that is all that is said of them.
    const changed = exportOf(6, 2).map((l) => l.replace('"Ann"', '"Bob"'));
    const kinds = run(changed).problems.map((p) => p.kind);
    expect(kinds).toContain('checkpoint_mismatch');
    expect(kinds).not.toContain('truncated');
    // With every checkpoint gone, the uncovered size is still found.
    const bare = lines.filter((l) => !l.includes('"checkpoint"'));
    expect(run(bare).problems).toEqual([
      expect.objectContaining({
        kind: 'truncated',
        seq: 1,
        message: expect.stringMatching(/checkpoints were removed\.$/),
      }),
    ]);
  });

  it('needs a checkpoint kept elsewhere to be reached and matched', () => {
    const lines = exportOf(6, 3);
    const longer = exportOf(8, 8);
    const trusted = JSON.parse(longer[longer.length - 1] as string).note as string;
    expect(run(lines, [trusted]).problems).toContainEqual(
      expect.objectContaining({ kind: 'truncated', seq: 7 }),
    );
    // Another log's checkpoint is skipped; with none of this log, that is a problem itself.
    const foreign = note.signNote(
      note.checkpointText({ origin: 'test.example/u', size: 1, rootHash: merkle.emptyRoot() }),
      signer,
    );
    expect(run(lines, [foreign, trusted]).problems).toContainEqual(
      expect.objectContaining({ kind: 'truncated', seq: 7 }),
    );
    expect(run(lines, [foreign]).problems).toContainEqual(
      expect.objectContaining({ kind: 'bad_signature' }),
    );
    expect(run(exportOf(6, 3), []).ok).toBe(true);
  });

  it('reports a run of removed events once, from its first seq, and a lone one by itself', () => {
    const lines = exportOf(12, 12);
    const seqOf = (l: string) => (JSON.parse(l) as { event?: { seq: number } }).event?.seq ?? 0;
    const cut = lines.filter((l) => ![3, 4, 5, 6, 9].includes(seqOf(l)));
    const report = run(cut);
    expect(report.problems.filter((p) => p.kind === 'missing')).toEqual([
      { kind: 'missing', seq: 3, message: 'No events with seq 3…6 (4): they were removed.' },
      { kind: 'missing', seq: 9, message: 'No event with seq 9: it was removed.' },
    ]);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'checkpoint_mismatch' }),
    );
  });

  it('reports a run of changed events once, and still finds events moved among many changed', () => {
    const lines = exportOf(300, 300);
    const lineOf = (seq: number) => JSON.parse(lines[seq] as string);
    const changed = (seq: number) => {
      const line = lineOf(seq);
      line.event.action = 'bulk.update';
      return JSON.stringify(line);
    };
    // Everything changed by one bulk update.
    const all = run([lines[0] as string, ...lines.slice(1, 301).map((_, i) => changed(i + 1))]);
    expect(all.problems.filter((p) => p.kind === 'altered')).toEqual([
      {
        kind: 'altered',
        seq: 1,
        message: expect.stringMatching(
          /^The events with seq 1…300 \(300, "e1"…"e300"\) do not match/,
        ),
      },
    ]);
    // 200 changed, and two events between them swapped: moved, not changed.
    const mixed = lines.map((l, seq) => {
      if (seq === 150 || seq === 152) {
        const moved = lineOf(seq === 150 ? 152 : 150);
        moved.event.seq = seq;
        return JSON.stringify(moved);
      }
      return (seq >= 1 && seq <= 100) || (seq >= 201 && seq <= 300) ? changed(seq) : l;
    });
    const report = run(mixed);
    expect(report.problems.filter((p) => p.kind === 'altered' || p.kind === 'reordered')).toEqual([
      expect.objectContaining({
        kind: 'altered',
        seq: 1,
        message: expect.stringMatching(/seq 1…100 \(100,/),
      }),
      expect.objectContaining({
        kind: 'reordered',
        seq: 150,
        message: expect.stringMatching(/signed at seq 152/),
      }),
      expect.objectContaining({
        kind: 'reordered',
        seq: 152,
        message: expect.stringMatching(/signed at seq 150/),
      }),
      expect.objectContaining({
        kind: 'altered',
        seq: 201,
        message: expect.stringMatching(/seq 201…300 \(100,/),
      }),
    ]);
  });

  it('refuses a seq far past the log without holding room for it', () => {
    const lines = exportOf(4, 4);
    // Room for it would take 1.6 GB: refused, as a line out of proportion to the export.
    const far = JSON.parse(lines[2] as string);
    far.event.seq = 50_000_000;
    const report = run([...lines, JSON.stringify(far)]);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'malformed',
        seq: 50_000_000,
        message: expect.stringMatching(/far past the log's size \(4\)/),
      }),
    ]);
    // A pruned range that claims as much is refused the same way.
    const pruned = JSON.stringify({ type: 'pruned', seqs: [5, 2 ** 50], hashes: [] });
    expect(run([...lines, pruned]).problems).toEqual([
      expect.objectContaining({
        kind: 'malformed',
        message: expect.stringMatching(/malformed pruned range/),
      }),
    ]);
  });
});

/** The text of an export, as pieces of `size` bytes: lines and characters cut anywhere. */
async function* pieces(text: string, size: number) {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('verifyExport (what `hindsight verify` runs)', () => {
  const lines = exportOf(12, 4);
  const event = (i: number) => JSON.parse(lines[i] as string);
  const altered = event(3);
  altered.event.action = 'x.y';
  const cases: Record<string, string[]> = {
    correct: lines,
    altered: lines.map((l, i) => (i === 3 ? JSON.stringify(altered) : l)),
    swapped: lines.map((l, i) => (i === 5 ? lines[6] : i === 6 ? lines[5] : l) as string),
    removed: lines.filter((_, i) => i !== 7),
    'second copy': [...lines.slice(0, 9), lines[2] as string, ...lines.slice(9)],
    'unreadable line': [...lines.slice(0, 4), '{"type":"event","event":', ...lines.slice(4)],
    'blank lines': ['', ...lines.slice(0, 6), '  ', ...lines.slice(6)],
    'another format': [JSON.stringify({ ...JSON.parse(lines[0] as string), format: 'x/1' })],
    'unicode names': lines.map((l) => l.replaceAll('Ann', 'Änn 🧾')),
  };

  for (const [name, export_] of Object.entries(cases)) {
    it(`reports exactly what ExportVerifier reports, line by line: ${name}`, async () => {
      const expected = run(export_);
      for (const ending of ['\n', '\r\n']) {
        const text = export_.join(ending) + (name === 'removed' ? '' : ending);
        // Small chunks and pieces: lines and UTF-8 characters cross every boundary.
        for (const threads of [0, 2]) {
          const report = await verifyExport(pieces(text, 97), {
            verifierKey,
            threads,
            chunkBytes: 600,
          });
          expect(report).toEqual(expected);
        }
      }
    });
  }

  it('awaits `pause` between the pieces of the tree it hashes after the last line, and gives the same verdict', async () => {
    const big = exportOf(40_000, 10_000);
    let pauses = 0;
    const report = await verifyExport(pieces(`${big.join('\n')}\n`, 1 << 16), {
      verifierKey,
      threads: 0,
      pause: async () => {
        pauses++;
      },
    });
    expect(report).toMatchObject({ ok: true, events: 40_000, checkpoints: 4 });
    expect(report).toEqual(run(big));
    // 39,995 inner nodes, hashed 32,768 at a time.
    expect(pauses).toBe(1);
  });

  it('gives the verdict that the recomputed events and checkpoints give', async () => {
    const ok = await verifyExport(pieces(`${lines.join('\n')}\n`, 4096), { verifierKey });
    expect(ok).toMatchObject({ ok: true, events: 12, checkpoints: 3, verifiedSize: 12 });
    const bad = await verifyExport(pieces(cases['altered']?.join('\n') ?? '', 4096), {
      verifierKey,
    });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toContainEqual(expect.objectContaining({ kind: 'altered', seq: 3 }));
  });
});

describe('a fuzzed export', () => {
  /** A deterministic xorshift32 generator, so that a failing case can be replayed by its seed. */
  function random(seed: number) {
    let x = seed || 1;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 4294967296;
    };
    return { next, int: (n: number) => Math.floor(next() * n) };
  }

  const original = exportOf(24, 8);
  /** A whole event line (not a garbage line that only starts like one). */
  const isEvent = (l: string) => {
    try {
      const line = JSON.parse(l);
      return line?.type === 'event' && typeof line.event?.hash === 'string' && line.event.actor;
    } catch {
      return false;
    }
  };
  const garbage = [
    '{"type":"event"',
    '{}',
    'null',
    '[]',
    '"x"',
    '{"type":"event"}',
    '{"type":"event","event":null}',
    '{"type":"event","event":{"seq":"3"}}',
    '{"type":"pruned","seqs":"x","hashes":[]}',
    '{"type":"pruned","seqs":[3,1],"hashes":[]}',
    '{"type":"redacted","seq":-1}',
    '{"type":"redacted","seq":2,"id":"e2","hash":"zz","redactedAt":"x","redactedBy":"y"}',
    '{"type":"checkpoint","note":42}',
    '{"type":"checkpoint","note":"not a note"}',
  ];
  const seqs = [0, -1, 1.5, '3', 1e300, null, 7, 24, 25];

  /** One change a forger, or a broken disk, could make to the export's lines. */
  function mutate(lines: string[], r: ReturnType<typeof random>): string[] {
    const out = [...lines];
    const events = out.map((l, i) => (isEvent(l) ? i : -1)).filter((i) => i >= 0);
    const at = events[r.int(events.length)] ?? 1;
    const line = JSON.parse(out[at] as string);
    switch (r.int(9)) {
      case 0:
        out[r.int(out.length)] = garbage[r.int(garbage.length)] as string;
        break;
      case 1:
        line.event.seq = seqs[r.int(seqs.length)];
        out[at] = JSON.stringify(line);
        break;
      case 2:
        line.event.actor.id = `${line.event.actor.id}x`;
        out[at] = JSON.stringify(line);
        break;
      case 3:
        line.event.hash = `${line.event.hash.slice(0, -1)}${line.event.hash.endsWith('0') ? '1' : '0'}`;
        out[at] = JSON.stringify(line);
        break;
      case 4:
        line.salts = r.int(2) === 0 ? {} : { '/actor/name': 12 };
        out[at] = JSON.stringify(line);
        break;
      case 5:
        out.splice(at, 1);
        break;
      case 6:
        out.splice(r.int(out.length), 0, out[at] as string);
        break;
      case 7: {
        const header = JSON.parse(out[0] as string);
        header.size = [0, 23, 25, -1, 'x'][r.int(5)];
        out[0] = JSON.stringify(header);
        break;
      }
      default:
        out[at] = (out[at] as string).slice(0, r.int((out[at] as string).length));
    }
    return out;
  }

  it('always gets a report, never ok for a changed log, and the same one from verifyExport', async () => {
    const same = (a: string[], b: string[]) =>
      a.length === b.length && [...a].sort().every((l, i) => l === [...b].sort()[i]);
    for (let seed = 1; seed <= 500; seed++) {
      const r = random(seed);
      let lines = original;
      for (let n = 1 + r.int(3); n > 0; n--) lines = mutate(lines, r);
      const report = run(lines);
      if (!same(lines, original)) expect(report.ok, `seed ${seed}`).toBe(false);
      const text = `${lines.join('\n')}\n`;
      const streamed = await verifyExport(pieces(text, 211), { verifierKey, threads: 0 });
      expect(streamed, `seed ${seed}`).toEqual(report);
    }
  });
});
