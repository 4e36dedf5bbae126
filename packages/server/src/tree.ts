/**
 * A tenant's Merkle tree as the API serves it: roots and RFC 9162 proofs of any past size,
 * assembled from the complete subtrees the store keeps (O(log n) reads, one round trip).
 */
import { merkle } from '@hindsight/core';
import type { Store } from './store/types.js';

/** The hashes of leaf ranges, read from the store's subtrees in one call. */
async function rangeHashes(
  store: Store,
  tenant: string,
  ranges: readonly merkle.LeafRange[],
): Promise<Uint8Array[]> {
  const perRange = ranges.map(([start, end]) => merkle.rangeNodes(start, end));
  const ids = new Map<string, merkle.NodeId>();
  for (const id of perRange.flat()) ids.set(`${id.level}/${id.index}`, id);
  const list = [...ids.values()];
  const hashes = await store.treeNodes(tenant, list);
  const byId = new Map(list.map((id, i) => [`${id.level}/${id.index}`, hashes[i] as Uint8Array]));
  return perRange.map((nodes) =>
    merkle.foldRange(nodes.map((id) => byId.get(`${id.level}/${id.index}`) as Uint8Array)),
  );
}

/**
 * The root of a tenant's tree of `size` leaves (the empty root for 0).
 * @example const root = await treeRoot(store, 'acme', 838);
 */
export async function treeRoot(store: Store, tenant: string, size: number): Promise<Uint8Array> {
  if (size === 0) return merkle.emptyRoot();
  const [root] = await rangeHashes(store, tenant, [[0, size]]);
  return root as Uint8Array;
}

/**
 * The inclusion proof of the event with `seq` (leaf `seq - 1`) in the tree of `size` leaves,
 * and that event's leaf hash. The caller checks `1 ≤ seq ≤ size ≤` the log's size.
 */
export async function inclusionProof(
  store: Store,
  tenant: string,
  seq: number,
  size: number,
): Promise<{ leafHash: Uint8Array; proof: Uint8Array[] }> {
  const ranges = merkle.inclusionRanges(seq - 1, size);
  const [leafHash, ...proof] = await rangeHashes(store, tenant, [[seq - 1, seq], ...ranges]);
  return { leafHash: leafHash as Uint8Array, proof };
}

/** The consistency proof from the tree of `from` leaves to that of `to` leaves. */
export function consistencyProof(
  store: Store,
  tenant: string,
  from: number,
  to: number,
): Promise<Uint8Array[]> {
  return rangeHashes(store, tenant, merkle.consistencyRanges(from, to));
}
