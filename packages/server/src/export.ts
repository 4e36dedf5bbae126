/**
 * The verifiable NDJSON export of a tenant's log (SPEC §6): a header, every event with its
 * salts, and every checkpoint, streamed page by page in constant memory. The offline verifier
 * (`hindsight verify`, `ExportVerifier` in core) reads exactly this.
 */
import { EXPORT_FORMAT, type ExportLine } from '@hindsight/core';
import type { CheckpointSource } from './checkpoints.js';
import { cutRanges, prunedLines } from './pruned-lines.js';
import type { Store } from './store/types.js';

const PAGE = 1000;

/**
 * The export's lines, each ending in a newline. Its size is that of the newest checkpoint,
 * signed first when the log has grown past it, so the export ends at a signed size; events
 * that arrive meanwhile come in the next export.
 */
export async function* exportLines(
  store: Store,
  checkpoints: CheckpointSource,
  tenant: string,
): AsyncGenerator<string> {
  const size = (await checkpoints.latest(tenant))?.size ?? 0;
  const line = (value: ExportLine) => `${JSON.stringify(value)}\n`;
  yield line({
    type: 'header',
    format: EXPORT_FORMAT,
    tenant,
    origin: `${checkpoints.origin}/${tenant}`,
    size,
    exportedAt: new Date().toISOString(),
  });
  let after: string | undefined;
  do {
    const page = await store.queryEventTexts(tenant, {
      clauses: [],
      limit: PAGE,
      order: 'asc',
      withSalts: true,
      ...(after === undefined ? {} : { after }),
    });
    let out = '';
    for (const event of page.events) {
      // Events stored after the export began are not in its signed size. The line is the
      // JSON of `{ type: 'event', event, salts }`, made from the stored text.
      if (event.seq <= size) {
        out += `{"type":"event","event":${event.json},"salts":${event.salts ?? '{}'}}\n`;
      }
    }
    if (out !== '') yield out;
    after = page.next ?? undefined;
  } while (after !== undefined);
  const notes = await store.checkpoints(tenant, size);
  // Events retention removed: their subtree hashes, cut at every checkpoint (issue #9).
  const pruned = cutRanges(
    await store.prunedRanges(tenant, size),
    notes.map((cp) => cp.size),
  );
  for await (const l of prunedLines(store, tenant, pruned)) yield line(l);
  // Events deleted with permission: their leaf hashes, and when and by whom (issue #9).
  for (const r of await store.redactedLeaves(tenant, size)) {
    yield line({
      type: 'redacted',
      seq: r.seq,
      id: r.id,
      hash: r.hash,
      redactedAt: r.redactedAt,
      redactedBy: r.redactedBy,
    });
  }
  for (const cp of notes) {
    yield line({ type: 'checkpoint', note: cp.note });
  }
}
