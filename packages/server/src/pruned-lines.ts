/**
 * The `pruned` lines of a verifiable export (issue #9): events retention removed are carried
 * as the hashes of the complete subtrees that make up their leaves, cut at every checkpoint
 * size, so that the offline verifier recomputes every checkpoint's root from the events it has
 * and these hashes (see `ExportVerifier` in core).
 */
import { merkle, type PrunedLine } from '@hindsight/core';
import type { Store } from './store/types.js';

/**
 * `[from, to]` ranges (inclusive, ascending, disjoint) cut so that no range crosses a size in
 * `cuts`: a range is split after each seq `c` with `from ≤ c < to`.
 * @example cutRanges([[1, 10]], [4]) // [[1, 4], [5, 10]]
 */
export function cutRanges(
  ranges: ReadonlyArray<readonly [number, number]>,
  cuts: readonly number[],
): Array<[number, number]> {
  const sorted = [...new Set(cuts)].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  let c = 0;
  for (const [from, to] of ranges) {
    let start = from;
    while (c < sorted.length && (sorted[c] as number) < start) c++;
    for (let i = c; i < sorted.length && (sorted[i] as number) < to; i++) {
      out.push([start, sorted[i] as number]);
      start = (sorted[i] as number) + 1;
    }
    out.push([start, to]);
  }
  return out;
}

/**
 * The `pruned` line of each range, with the subtree hashes read from the store's tree.
 * @example for await (const l of prunedLines(store, 'acme', [[1, 5]])) write(l)
 */
export async function* prunedLines(
  store: Store,
  tenant: string,
  ranges: ReadonlyArray<readonly [number, number]>,
): AsyncGenerator<PrunedLine> {
  for (const [from, to] of ranges) {
    const hashes = await store.treeNodes(tenant, merkle.rangeNodes(from - 1, to));
    yield {
      type: 'pruned',
      seqs: [from, to],
      hashes: hashes.map((h) => Buffer.from(h).toString('hex')),
    };
  }
}

/**
 * The ranges of `[1, size]` that `seqs` (ascending) do not hold.
 * @example gapsOf([2, 3, 7], 8) // [[1, 1], [4, 6], [8, 8]]
 */
export function gapsOf(seqs: readonly number[], size: number): Array<[number, number]> {
  const gaps: Array<[number, number]> = [];
  let next = 1;
  for (const seq of seqs) {
    if (seq > size) break;
    if (seq > next) gaps.push([next, seq - 1]);
    next = Math.max(next, seq + 1);
  }
  if (next <= size) gaps.push([next, size]);
  return gaps;
}
