/** A worker thread of `verifyExport` (verify-file.ts): checks the chunks it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { checkChunk } from './verify-file.js';

if (parentPort && (workerData as { hindsightVerifyWorker?: boolean })?.hindsightVerifyWorker) {
  const port = parentPort;
  port.on('message', (chunk: Uint8Array) => {
    const r = checkChunk(chunk);
    const moved = [r.checked.buffer, r.seqs.buffer, r.leaves.buffer] as ArrayBuffer[];
    port.postMessage(r, moved);
  });
}
