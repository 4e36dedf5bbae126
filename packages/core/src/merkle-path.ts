/**
 * The shape of RFC 9162 (§2.1.3.2) inclusion proofs, without hashing: which side each sibling
 * joins on. Pure — no Node built-ins — so that `merkle.ts` (node:crypto) and a browser (Web
 * Crypto, `event-proof.ts`) fold the same proofs the same way.
 */

/** Whether `n` can be a tree size or a leaf index. */
export function validSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * RFC 9162's step of both verifiers: right-shift the node index and the last index together
 * until the node is a right child or the root — past the levels where it has no sibling.
 */
function climb(fn: number, sn: number): [number, number] {
  let [f, s] = [fn, sn];
  while (f % 2 === 0 && f !== 0) {
    f = Math.floor(f / 2);
    s = Math.floor(s / 2);
  }
  return [f, s];
}

/**
 * One level up a proof's path, as both RFC 9162 verifiers take it: whether the next node of
 * the path joins on the left, and the node index and last index one level up.
 */
function stepUp(fn: number, sn: number): [left: boolean, fn: number, sn: number] {
  let [f, s] = [fn, sn];
  const left = f % 2 === 1 || f === s;
  if (left) [f, s] = climb(f, s);
  return [left, Math.floor(f / 2), Math.floor(s / 2)];
}

/**
 * For each of the `length` siblings of an inclusion proof of leaf `index` in a tree of `size`
 * leaves, from the leaf up: `true` when the sibling is on the left (`node(sibling, r)`), `false`
 * when on the right. `null` when no proof of that length can belong to that leaf (too short, too
 * long, index out of range).
 * @example inclusionSides(2, 3, 1) // [true]: leaf 2's only sibling is the subtree of 0 and 1
 */
export function inclusionSides(index: number, size: number, length: number): boolean[] | null {
  if (!validSize(index) || !validSize(size) || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  const sides: boolean[] = [];
  for (let i = 0; i < length; i++) {
    if (sn === 0) return null;
    let left: boolean;
    [left, fn, sn] = stepUp(fn, sn);
    sides.push(left);
  }
  return sn === 0 ? sides : null;
}

/**
 * The shape of an RFC 9162 (§2.1.4.2) consistency proof of `length` hashes from the tree of
 * `oldSize` leaves to the tree of `newSize` leaves, for 0 < oldSize < newSize: whether the old
 * root is the path's implicit first node (the old tree is a complete subtree), and for each
 * later node of the path whether it joins both roots on the left (`true`) or only the new root
 * on the right (`false`). `null` when no proof of that length can prove those sizes.
 * @example consistencySides(2, 3, 1) // { oldRootFirst: true, sides: [false] }
 */
export function consistencySides(
  oldSize: number,
  newSize: number,
  length: number,
): { oldRootFirst: boolean; sides: boolean[] } | null {
  if (!validSize(oldSize) || !validSize(newSize) || oldSize === 0 || oldSize >= newSize) {
    return null;
  }
  if (length === 0) return null;
  const oldRootFirst = Number.isInteger(Math.log2(oldSize));
  const pathLength = length + (oldRootFirst ? 1 : 0);
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const sides: boolean[] = [];
  for (let i = 1; i < pathLength; i++) {
    if (sn === 0) return null;
    let left: boolean;
    [left, fn, sn] = stepUp(fn, sn);
    sides.push(left);
  }
  return sn === 0 ? { oldRootFirst, sides } : null;
}
