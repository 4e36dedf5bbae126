/**
 * (d) Offline verification speed: an NDJSON export of one tenant's log of `total` events (the
 * workload's events, prepared, numbered and hashed as the server does, with a signed checkpoint
 * every 10,000 events) is written untimed; then `verifyExport` — what `hindsight verify` runs —
 * reads it from the file, recomputes every leaf (in worker threads), rebuilds the tree and checks every checkpoint.
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  EXPORT_FORMAT,
  leafHash,
  merkle,
  note,
  type Salts,
  type StoredEvent,
} from '@hindsight/core';
import { verifyExport } from '@hindsight/core/verify-file';
import { numberedEvents, type WorkloadOptions } from './workload.js';

const ORIGIN = 'bench.example/verify';

/** Writes the export; returns its path and the verifier key. */
export async function writeExport(
  file: string,
  workload: WorkloadOptions,
  now: Date,
): Promise<string> {
  const signer = note.signerFromSeed('bench.example', Buffer.alloc(32, 3));
  const out = createWriteStream(file);
  const write = async (line: unknown) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  await write({
    type: 'header',
    format: EXPORT_FORMAT,
    tenant: 'verify',
    origin: ORIGIN,
    size: workload.total,
    exportedAt: now.toISOString(),
  });
  const frontier = new Map<number, Uint8Array>();
  const checkpoints: string[] = [];
  let size = 0;
  let seq = 0;
  for (const group of numberedEvents(workload, 1000, now)) {
    for (const { event: w } of group) {
      // One tenant: renumber the workload's events into one log.
      seq++;
      const event = { ...(JSON.parse(w.json) as StoredEvent), tenant: 'verify', seq };
      const salts = w.salts ? (JSON.parse(w.salts) as Salts) : {};
      const hash = leafHash(event, salts);
      merkle.appendLeaves(frontier, size, [Buffer.from(hash, 'hex')]);
      size++;
      await write({ type: 'event', event: { ...event, hash }, salts });
      if (size % 10_000 === 0 || size === workload.total) {
        const rootHash = merkle.foldRange(
          merkle.frontierIds(size).map((id) => frontier.get(id.level) as Uint8Array),
        );
        checkpoints.push(
          note.signNote(note.checkpointText({ origin: ORIGIN, size, rootHash }), signer),
        );
      }
    }
  }
  for (const n of checkpoints) await write({ type: 'checkpoint', note: n });
  out.end();
  await once(out, 'finish');
  return note.verifierKeyText(signer);
}

/** Verifies the export as `hindsight verify` does; returns the seconds it took and the report. */
export async function timeVerify(file: string, verifierKey: string) {
  const t0 = performance.now();
  const report = await verifyExport(createReadStream(file), { verifierKey });
  return { seconds: (performance.now() - t0) / 1000, report };
}
