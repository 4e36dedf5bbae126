/**
 * After a rotation of the signing key, the server cosigns the newest checkpoint of each log
 * with its new key — only where the stored tree still gives the signed root and the checkpoint
 * names the tenant's log; anything else is reported, never signed. Real SQLite store.
 */
import { note } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignNewest } from '../src/checkpoints.js';
import { prepareEvents } from '../src/ingest.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { treeRoot } from '../src/tree.js';
import { tempDir, testEnricher } from './helpers.js';

const old = note.signerFromSeed('hindsight', Buffer.alloc(32, 1));
const current = note.signerFromSeed('hindsight', Buffer.alloc(32, 2));

describe('cosignNewest', () => {
  const tmp = tempDir();
  let store: Store;

  /**
   * Appends `n` events to `tenant` and keeps a checkpoint signed by `signer` of its size, or of
   * `size`, with its root, or `root`.
   */
  async function logOf(
    tenant: string,
    n: number,
    options: { signer?: note.NoteSigner; origin?: string; size?: number; root?: Uint8Array } = {},
  ) {
    const events = Array.from({ length: n }, () => ({
      tenant,
      action: 'doc.viewed',
      actor: { id: 'u1' },
    }));
    const [outcome] = await store.append([prepareEvents({ events }, testEnricher(), new Date())]);
    expect(outcome?.ok).toBe(true);
    const size = options.size ?? (await store.logSize(tenant));
    const rootHash = options.root ?? (await treeRoot(store, tenant, size));
    const origin = options.origin ?? `hindsight/${tenant}`;
    const signed = note.signNote(
      note.checkpointText({ origin, size, rootHash }),
      options.signer ?? old,
    );
    await store.saveCheckpoints([{ tenant, size, note: signed }]);
    return signed;
  }

  beforeAll(async () => {
    store = await openStore({ data: tmp.dir });
  });
  afterAll(async () => {
    await store.close();
    tmp.remove();
  });

  it('cosigns what the old key signed, once; leaves alone what does not hold', async () => {
    await logOf('rotated', 3);
    const signedByOld = await logOf('rotated', 2);
    await logOf('current', 4, { signer: current });
    await logOf('renamed', 2, { origin: 'elsewhere/renamed' });
    // A root the stored tree does not give (the tree changed behind the server), and a size
    // beyond the log.
    await logOf('forged', 3, { root: new Uint8Array(32).fill(7) });
    await logOf('beyond', 2, { size: 5, root: new Uint8Array(32).fill(7) });

    const result = await cosignNewest(store, current, 'hindsight');
    expect(result).toEqual({
      cosigned: ['rotated'],
      keys: [note.keyName(old)],
      mismatched: ['beyond', 'forged', 'renamed'],
    });
    const rotated = await store.latestCheckpoint('rotated');
    expect(rotated?.note).toBe(note.cosignNote(signedByOld, current));
    for (const signer of [old, current]) {
      const key = note.parseVerifierKey(note.verifierKeyText(signer));
      expect(note.openNote(rotated?.note ?? '', key).text).toBe(note.splitNote(signedByOld).text);
    }
    // The older checkpoint keeps only the key that signed it.
    const [first] = await store.checkpoints('rotated', 3);
    expect(note.noteSigners(first?.note ?? '')).toEqual([note.keyName(old)]);
    for (const tenant of ['beyond', 'forged', 'renamed']) {
      const latest = await store.latestCheckpoint(tenant);
      expect(note.noteSigners(latest?.note ?? '')).toEqual([note.keyName(old)]);
    }

    // Run again (the next start): nothing left to do but the same report.
    expect(await cosignNewest(store, current, 'hindsight')).toEqual({
      cosigned: [],
      keys: [],
      mismatched: ['beyond', 'forged', 'renamed'],
    });
  });
});
