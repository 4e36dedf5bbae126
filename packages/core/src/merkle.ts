/**
 * The RFC 9162 (§2.1) Merkle tree over a tenant's leaf hashes: node hashing with the 0x00 / 0x01
 * domain prefixes, the root of any size, inclusion and consistency proofs, and their verifiers.
 * Proof generation here works over the full list of leaf hashes (the offline verifier and tests
 * have it); a store answers the same proofs from stored subtree hashes.
 *
 * All hashes are 32-byte `Uint8Array`s; a verifier returns `false` for anything it cannot prove,
 * including hashes of the wrong length, and never throws.
 */
import { hash } from 'node:crypto';
import { consistencySides, inclusionSides, validSize } from './merkle-path.js';

/** Bytes in every hash of the tree (SHA-256). */
export const HASH_BYTES = 32;

const LEAF_PREFIX = Uint8Array.of(0);
const NODE_PREFIX = Uint8Array.of(1);

function sha256(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(hash('sha256', Buffer.concat(parts), 'buffer'));
}

/**
 * The leaf hash of an entry: `SHA-256(0x00 || data)`.
 * @example merkle.leafHash(new Uint8Array()) // 6e340b9c…
 */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** The hash of an interior node: `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** `0x01 || left || right`, the input {@link nodeHashInto} reuses. */
const NODE_INPUT = Buffer.alloc(65, 1);

/**
 * {@link nodeHash} of the siblings side by side at `pair[at, at + 64)`, written to `out` at
 * `outAt`, without allocations: for a tree built a million nodes at a time.
 */
export function nodeHashInto(pair: Uint8Array, at: number, out: Buffer, outAt: number): void {
  NODE_INPUT.set(pair.subarray(at, at + 64), 1);
  // Hex output: a Buffer result costs a native allocation, twice the time of the hash itself.
  out.write(hash('sha256', NODE_INPUT, 'hex'), outAt, 32, 'hex');
}

/** The root of the empty tree: the SHA-256 of nothing. */
export function emptyRoot(): Uint8Array {
  return sha256();
}

/** The largest power of two smaller than `n` (n ≥ 2): where RFC 9162 splits a tree. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The Merkle tree hash (MTH) of a list of leaf hashes, in one pass with a stack of complete
 * subtrees, O(n) hashes and O(log n) memory.
 * @example merkle.rootHash(leaves.map(merkle.leafHash))
 */
export function rootHash(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  const stack: Uint8Array[] = [];
  leafHashes.forEach((leaf, i) => {
    stack.push(leaf);
    // Leaf i completes one subtree per trailing one bit of i: merge them.
    for (let done = i + 1; done % 2 === 0; done /= 2) {
      const right = stack.pop() as Uint8Array;
      const left = stack.pop() as Uint8Array;
      stack.push(nodeHash(left, right));
    }
  });
  let root = stack.pop() as Uint8Array;
  while (stack.length > 0) root = nodeHash(stack.pop() as Uint8Array, root);
  return root;
}

/** A complete subtree: `2^level` leaves starting at leaf `index × 2^level`. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A range of leaves `[start, end)`, whose Merkle tree hash a proof carries. */
export type LeafRange = readonly [start: number, end: number];

/**
 * The complete subtrees that make up leaves `[start, end)`, left to right, as RFC 9162 splits
 * them (largest power of two first). Every range of a proof starts at a multiple of its own
 * split point, so this is exact; the range's hash is {@link foldRange} of their hashes.
 * @example rangeNodes(0, 6) // [{ level: 2, index: 0 }, { level: 1, index: 2 }]
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    while (at % (size * 2) === 0 && at + size * 2 <= end) size *= 2;
    out.push({ level: Math.log2(size), index: at / size });
    at += size;
  }
  return out;
}

/** The hash of a range from the hashes of its {@link rangeNodes}: right to left. */
export function foldRange(nodes: readonly Uint8Array[]): Uint8Array {
  if (nodes.length === 0) return emptyRoot();
  let hash = nodes[nodes.length - 1] as Uint8Array;
  for (let i = nodes.length - 2; i >= 0; i--) hash = nodeHash(nodes[i] as Uint8Array, hash);
  return hash;
}

/**
 * The leaf ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size`,
 * in proof order (from the leaf up). Throws `RangeError` for an index outside the tree.
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!validSize(index) || !validSize(size) || index >= size) {
    throw new RangeError(`Leaf ${index} is not in a tree of size ${size}.`);
  }
  const path = (m: number, start: number, end: number): LeafRange[] => {
    if (end - start <= 1) return [];
    const k = splitPoint(end - start);
    return m < k
      ? [...path(m, start, start + k), [start + k, end]]
      : [...path(m - k, start + k, end), [start, start + k]];
  };
  return path(index, 0, size);
}

/**
 * The leaf ranges whose hashes form the consistency proof from a tree of `oldSize` to one of
 * `newSize`. Throws `RangeError` unless `0 ≤ oldSize ≤ newSize`.
 */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  if (!validSize(oldSize) || !validSize(newSize) || oldSize > newSize) {
    throw new RangeError(`Size ${oldSize} is not a prefix of a tree of size ${newSize}.`);
  }
  if (oldSize === 0) return [];
  const subproof = (m: number, start: number, end: number, complete: boolean): LeafRange[] => {
    if (m === end - start) return complete ? [] : [[start, end]];
    const k = splitPoint(end - start);
    return m <= k
      ? [...subproof(m, start, start + k, complete), [start + k, end]]
      : [...subproof(m - k, start + k, end, false), [start, start + k]];
  };
  return subproof(oldSize, 0, newSize, true);
}

/**
 * The inclusion proof (audit path) of the leaf at `index` in the tree of all `leafHashes`:
 * sibling hashes from the leaf up. Throws `RangeError` for an index outside the tree.
 * @example merkle.inclusionProof(leafHashes, 5)
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  return inclusionRanges(index, leafHashes.length).map(([a, b]) =>
    rootHash(leafHashes.slice(a, b)),
  );
}

/**
 * The consistency proof that the tree of the first `oldSize` leaves is a prefix of the tree of
 * all `leafHashes`. Empty when `oldSize` is 0 or the full size. Throws `RangeError` for a size
 * outside the tree.
 * @example merkle.consistencyProof(leafHashes, 3)
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  return consistencyRanges(oldSize, leafHashes.length).map(([a, b]) =>
    rootHash(leafHashes.slice(a, b)),
  );
}

/**
 * The complete subtrees on the right edge of a tree of `size` leaves (one per set bit of the
 * size, highest level first): all a writer needs to append, and to compute the root.
 * @example frontierIds(6) // [{ level: 2, index: 0 }, { level: 1, index: 2 }]
 */
export function frontierIds(size: number): NodeId[] {
  return rangeNodes(0, size);
}

/**
 * Appends leaves to a tree kept as its frontier (level → hash of the right-edge subtree at that
 * level), and returns every complete subtree the new leaves complete, leaves included, for a
 * store to keep. `frontier` is updated in place.
 * @example const nodes = appendLeaves(frontier, size, [leafHash]);
 */
export function appendLeaves(
  frontier: Map<number, Uint8Array>,
  size: number,
  leaves: readonly Uint8Array[],
): Array<NodeId & { hash: Uint8Array }> {
  const out: Array<NodeId & { hash: Uint8Array }> = [];
  leaves.forEach((leaf, i) => {
    let index = size + i;
    let level = 0;
    let hash = leaf;
    out.push({ level, index, hash });
    while (index % 2 === 1) {
      const left = frontier.get(level);
      if (!left)
        throw new Error(`The frontier lacks level ${level} for a tree of size ${size + i}.`);
      frontier.delete(level);
      hash = nodeHash(left, hash);
      index = (index - 1) / 2;
      level++;
      out.push({ level, index, hash });
    }
    frontier.set(level, hash);
  });
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function wellFormed(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((h) => h instanceof Uint8Array && h.length === HASH_BYTES);
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or `null` when the proof cannot
 * belong to a leaf at `index` in a tree of `size` (too short, too long, index out of range).
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array | null {
  if (!wellFormed([leaf, ...proof])) return null;
  const sides = inclusionSides(index, size, proof.length);
  if (sides === null) return null;
  let r = leaf;
  proof.forEach((p, i) => {
    r = sides[i] ? nodeHash(p, r) : nodeHash(r, p);
  });
  return r;
}

/**
 * Whether `proof` proves the leaf hash `leaf` at `index` (0-based; `seq` 1 is index 0) in the
 * tree of `size` leaves with root `root`.
 * @example merkle.verifyInclusion(5, 8, leafHash, proof, root) // true
 */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!wellFormed([root])) return false;
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  return computed !== null && equal(computed, root);
}

/**
 * Whether `proof` proves that the tree of `oldSize` leaves with root `oldRoot` is a prefix of
 * the tree of `newSize` leaves with root `newRoot` (RFC 9162 §2.1.4.2).
 * @example merkle.verifyConsistency(3, 8, proof, oldRoot, newRoot) // true
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!validSize(oldSize) || !validSize(newSize) || oldSize > newSize) return false;
  if (!wellFormed(proof)) return false;
  // The empty tree is a prefix of every tree; a tree is consistent only with itself.
  if (oldSize === 0) return proof.length === 0;
  if (!wellFormed([oldRoot, newRoot])) return false;
  if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
  const shape = consistencySides(oldSize, newSize, proof.length);
  if (shape === null) return false;
  // When the old tree is a complete subtree, it is the proof's implicit first node.
  const path = shape.oldRootFirst ? [oldRoot, ...proof] : [...proof];
  let fr = path[0] as Uint8Array;
  let sr = fr;
  shape.sides.forEach((left, i) => {
    const c = path[i + 1] as Uint8Array;
    if (left) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
    } else {
      sr = nodeHash(sr, c);
    }
  });
  return equal(fr, oldRoot) && equal(sr, newRoot);
}
