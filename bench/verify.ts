/**
 * (d) Offline verification speed: an NDJSON export of one tenant's log of `total` events (the
 * workload's events, prepared, numbered and hashed as the server does, with a signed checkpoint
 * every 10,000 events) is written untimed; then `verifyExport` — what `hindsight verify` runs —
 * reads it from the file, recomputes every leaf (in worker threads), rebuilds the tree and checks
 * every checkpoint. Its raw baseline, measured in the same run on the same file with as many
 * threads, is the floor under any verifier of this format: reading the file and `JSON.parse` of
 * each line, and nothing else.
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import {
  EXPORT_FORMAT,
  leafHash,
  merkle,
  note,
  type Salts,
  type StoredEvent,
} from '@hindsight/core';
import { lineChunks, verifyExport } from '@hindsight/core/verify-file';
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

/**
 * Verifies the export as `hindsight verify` does, in `threads` worker threads; returns the
 * seconds it took and the report.
 */
export async function timeVerify(file: string, verifierKey: string, threads: number) {
  const t0 = performance.now();
  const report = await verifyExport(createReadStream(file), { verifierKey, threads });
  return { seconds: (performance.now() - t0) / 1000, report };
}

/** A parsing thread of the floor: `JSON.parse` of every line of each chunk it is sent. */
const PARSER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (chunk) => {
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  let lines = 0;
  for (let at = 0, nl = text.indexOf('\\n'); nl >= 0; at = nl + 1, nl = text.indexOf('\\n', at)) {
    JSON.parse(text.slice(at, nl));
    lines++;
  }
  parentPort.postMessage(lines);
});`;

/**
 * The raw baseline of (d): the file read and cut into chunks of whole lines (1 MiB, as
 * `verifyExport` does), every line parsed with `JSON.parse` in `threads` worker threads, and
 * nothing else — no leaf, commitment or tree. Returns the seconds it took and the lines parsed.
 */
export async function timeParseFloor(file: string, threads: number) {
  const workers = Array.from({ length: threads }, () => new Worker(PARSER, { eval: true }));
  const waiting = workers.map(() => [] as Array<(lines: number) => void>);
  workers.forEach((worker, i) => {
    worker.on('message', (lines: number) => waiting[i]?.shift()?.(lines));
  });
  const inFlight: Array<Promise<number>> = [];
  let lines = 0;
  let sent = 0;
  const t0 = performance.now();
  // The verifier's own chunking, of its default size.
  for await (const chunk of lineChunks(createReadStream(file), 1024 * 1024)) {
    const i = sent++ % threads;
    inFlight.push(new Promise((resolve) => waiting[i]?.push(resolve)));
    workers[i]?.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
    while (inFlight.length >= 4 * threads) lines += await (inFlight.shift() as Promise<number>);
  }
  for (const pending of inFlight) lines += await pending;
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  return { seconds, lines };
}
