import { describe, expect, it } from 'vitest';
import * as merkle from './merkle.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

// The RFC 6962 reference vectors, as published in transparency-dev/merkle
// (testonly/constants.go and proof/verify_test.go): eight leaf inputs, the root of every
// prefix, and known inclusion and consistency proofs.
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(bytes);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const LEAF_HASHES = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
];
/** [leaf number (1-based), tree size, proof] */
const INCLUSION: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
/** [old size, new size, proof] */
const CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const leaves = LEAF_INPUTS.map(merkle.leafHash);
const root = (size: number) => bytes(ROOTS[size] ?? '');

describe('merkle: RFC 6962 / 9162 vectors', () => {
  it('hashes leaves with the 0x00 prefix', () => {
    expect(leaves.map(hex)).toEqual(LEAF_HASHES);
  });

  it('hashes a node in place as nodeHash does', () => {
    const pair = Buffer.alloc(96);
    for (let i = 0; i < pair.length; i++) pair[i] = (i * 37) % 251;
    const out = Buffer.alloc(64, 0xee);
    merkle.nodeHashInto(pair, 16, out, 32);
    const expected = merkle.nodeHash(pair.subarray(16, 48), pair.subarray(48, 80));
    expect(out.subarray(32)).toEqual(Buffer.from(expected));
    expect(out.subarray(0, 32)).toEqual(Buffer.alloc(32, 0xee));
  });

  it('gives the root of every prefix, and of the empty tree', () => {
    for (let size = 0; size <= 8; size++) {
      expect(hex(merkle.rootHash(leaves.slice(0, size)))).toBe(ROOTS[size]);
    }
  });

  it.each(INCLUSION)(
    'builds and verifies the inclusion proof of leaf %i in a tree of %i',
    (leaf, size, proof) => {
      const tree = leaves.slice(0, size);
      expect(merkle.inclusionProof(tree, leaf - 1).map(hex)).toEqual(proof);
      expect(
        merkle.verifyInclusion(
          leaf - 1,
          size,
          tree[leaf - 1] as Uint8Array,
          proof.map(bytes),
          root(size),
        ),
      ).toBe(true);
    },
  );

  it.each(CONSISTENCY)(
    'builds and verifies the consistency proof from %i to %i',
    (from, to, proof) => {
      expect(merkle.consistencyProof(leaves.slice(0, to), from).map(hex)).toEqual(proof);
      expect(merkle.verifyConsistency(from, to, proof.map(bytes), root(from), root(to))).toBe(true);
    },
  );

  it('handles the trivial consistency cases as RFC 9162 does', () => {
    const some = root(3);
    expect(merkle.verifyConsistency(0, 0, [], some, some)).toBe(true);
    expect(merkle.verifyConsistency(0, 5, [], some, root(5))).toBe(true);
    expect(merkle.verifyConsistency(3, 3, [], some, some)).toBe(true);
    expect(merkle.verifyConsistency(3, 3, [], some, root(4))).toBe(false);
    expect(merkle.verifyConsistency(3, 3, [some], some, some)).toBe(false);
    expect(merkle.verifyConsistency(0, 1, [some], some, some)).toBe(false);
    expect(merkle.verifyConsistency(4, 3, [], root(4), root(3))).toBe(false);
    expect(merkle.verifyConsistency(1, 2, [], root(1), root(2))).toBe(false);
  });

  it('refuses hashes of the wrong length', () => {
    const empty = new Uint8Array();
    expect(merkle.verifyInclusion(0, 1, empty, [], empty)).toBe(false);
    expect(merkle.verifyInclusion(0, 1, leaves[0] as Uint8Array, [], empty)).toBe(false);
    expect(merkle.verifyInclusion(0, 1, empty, [], root(1))).toBe(false);
  });

  it('refuses an index or size outside the tree', () => {
    expect(() => merkle.inclusionProof(leaves, 8)).toThrow(RangeError);
    expect(() => merkle.inclusionProof(leaves, -1)).toThrow(RangeError);
    expect(() => merkle.consistencyProof(leaves, 9)).toThrow(RangeError);
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [-1, 3],
      [0.5, 3],
    ] as const) {
      expect(merkle.verifyInclusion(index, size, leaves[0] as Uint8Array, [], root(1))).toBe(false);
    }
  });
});

/** A deterministic PRNG (mulberry32), so a failing case can be reproduced. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every forgery of a proof that a fuzzer would try: each must be rejected. */
function forgeries(
  proof: readonly Uint8Array[],
  rand: () => number,
  extra: Uint8Array,
): Array<[string, Uint8Array[]]> {
  const out: Array<[string, Uint8Array[]]> = [];
  const copy = (): Uint8Array[] => proof.map((p) => Uint8Array.from(p));
  if (proof.length > 0) out.push(['truncated', proof.slice(0, -1)]);
  if (proof.length > 1) out.push(['first dropped', proof.slice(1)]);
  out.push(['extended', [...proof, extra]]);
  out.push(['prefixed', [extra, ...proof]]);
  for (let i = 0; i < proof.length; i++) {
    const flipped = copy();
    const target = flipped[i] as Uint8Array;
    const at = Math.floor(rand() * 32);
    target[at] = (target[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
    out.push([`bit flipped in [${i}]`, flipped]);
    if (i + 1 < proof.length && hex(proof[i] as Uint8Array) !== hex(proof[i + 1] as Uint8Array)) {
      const swapped = copy();
      const a = swapped[i] as Uint8Array;
      swapped[i] = swapped[i + 1] as Uint8Array;
      swapped[i + 1] = a;
      out.push([`swapped [${i}] and [${i + 1}]`, swapped]);
    }
  }
  return out;
}

describe('merkle: properties over random trees', () => {
  const rand = prng(9162);
  const tree = Array.from({ length: 70 }, () => merkle.leafHash(Buffer.from(rand().toString())));
  const roots = Array.from({ length: tree.length + 1 }, (_, n) =>
    merkle.rootHash(tree.slice(0, n)),
  );
  const extra = merkle.leafHash(Buffer.from('extra'));

  it('proves every leaf of every tree size, and rejects every forgery', () => {
    for (let size = 1; size <= tree.length; size++) {
      const prefix = tree.slice(0, size);
      for (let index = 0; index < size; index++) {
        const leaf = prefix[index] as Uint8Array;
        const proof = merkle.inclusionProof(prefix, index);
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
        const rootOfSize = roots[size] as Uint8Array;
        expect(merkle.verifyInclusion(index, size, leaf, proof, rootOfSize)).toBe(true);
        for (const [what, forged] of forgeries(proof, rand, extra)) {
          expect(merkle.verifyInclusion(index, size, leaf, forged, rootOfSize), what).toBe(false);
        }
        // Wrong position, wrong size, wrong leaf, wrong root.
        if (size > 1) {
          expect(merkle.verifyInclusion((index + 1) % size, size, leaf, proof, rootOfSize)).toBe(
            false,
          );
        }
        for (const other of [size + 1, size * 2, Math.floor(size / 2)]) {
          if (other > index && other !== size && other <= tree.length) {
            expect(
              merkle.verifyInclusion(index, other, leaf, proof, roots[other] as Uint8Array),
            ).toBe(false);
          }
        }
        // The same root claimed for a tree of another height. (A size of the same height may
        // pass: the proof's hashes stand for subtrees the verifier cannot look into.)
        for (const other of [size * 2, Math.floor(size / 2)]) {
          if (other > index && other !== size) {
            expect(merkle.verifyInclusion(index, other, leaf, proof, rootOfSize)).toBe(false);
          }
        }
        expect(merkle.verifyInclusion(index, size, extra, proof, rootOfSize)).toBe(false);
        expect(merkle.verifyInclusion(index, size, leaf, proof, extra)).toBe(false);
      }
    }
  });

  it('proves every prefix of every tree size consistent, and rejects every forgery', () => {
    for (let size = 1; size <= tree.length; size++) {
      const full = tree.slice(0, size);
      for (let old = 1; old <= size; old++) {
        const proof = merkle.consistencyProof(full, old);
        const oldRoot = roots[old] as Uint8Array;
        const newRoot = roots[size] as Uint8Array;
        expect(merkle.verifyConsistency(old, size, proof, oldRoot, newRoot)).toBe(true);
        if (old === size) continue;
        for (const [what, forged] of forgeries(proof, rand, extra)) {
          expect(merkle.verifyConsistency(old, size, forged, oldRoot, newRoot), what).toBe(false);
        }
        expect(merkle.verifyConsistency(old, size, proof, newRoot, oldRoot)).toBe(false);
        // The same roots claimed for a new tree of another height.
        for (const [o, n] of [
          [old, size * 2],
          [old, Math.floor(size / 2)],
        ]) {
          if (o === undefined || n === undefined || o < 1 || o > n || (o === old && n === size))
            continue;
          expect(
            merkle.verifyConsistency(o, n, proof, oldRoot, newRoot),
            `same roots ${o}→${n}`,
          ).toBe(false);
        }
        expect(merkle.verifyConsistency(old, size, proof, extra, newRoot)).toBe(false);
        expect(merkle.verifyConsistency(old, size, proof, oldRoot, extra)).toBe(false);
        for (const [o, n] of [
          [old - 1, size],
          [old + 1, size],
          [old, size + 1],
          [old, size - 1],
        ]) {
          if (
            o === undefined ||
            n === undefined ||
            o < 1 ||
            n > tree.length ||
            o > n ||
            (o === old && n === size)
          )
            continue;
          // A size is bound to its root: the proof must not fit the roots of other sizes.
          const [ro, rn] = [roots[o] as Uint8Array, roots[n] as Uint8Array];
          expect(merkle.verifyConsistency(o, n, proof, ro, rn), `sizes ${o}→${n}`).toBe(false);
        }
      }
    }
  });

  it('agrees with the recursive definition of the root', () => {
    const mth = (d: readonly Uint8Array[]): Uint8Array => {
      if (d.length === 0) return merkle.emptyRoot();
      if (d.length === 1) return d[0] as Uint8Array;
      const k = merkle.splitPoint(d.length);
      return merkle.nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
    };
    for (let n = 0; n <= tree.length; n++)
      expect(hex(roots[n] as Uint8Array)).toBe(hex(mth(tree.slice(0, n))));
  });
});

describe('merkle: a tree kept as stored subtrees', () => {
  const rand = prng(6962);
  const tree = Array.from({ length: 100 }, () => merkle.leafHash(Buffer.from(rand().toString())));
  const rangeHash = (a: number, b: number) => merkle.rootHash(tree.slice(a, b));

  it('appends leaves in any grouping and keeps every complete subtree, leaves included', () => {
    for (const chunk of [1, 3, 7, 100]) {
      const frontier = new Map<number, Uint8Array>();
      const nodes = new Map<string, Uint8Array>();
      for (let size = 0; size < tree.length; size += chunk) {
        const added = merkle.appendLeaves(frontier, size, tree.slice(size, size + chunk));
        for (const n of added) nodes.set(`${n.level}/${n.index}`, n.hash);
        const now = Math.min(size + chunk, tree.length);
        // The frontier is the tree's right edge: its fold is the root.
        const edge = merkle.frontierIds(now).map((id) => frontier.get(id.level) as Uint8Array);
        expect(hex(merkle.foldRange(edge))).toBe(hex(rangeHash(0, now)));
      }
      // Every complete subtree of the 100-leaf tree, and nothing else.
      let expected = 0;
      for (let level = 0; 2 ** level <= tree.length; level++) {
        for (let index = 0; (index + 1) * 2 ** level <= tree.length; index++) {
          expected++;
          const hash = nodes.get(`${level}/${index}`) as Uint8Array;
          expect(hex(hash)).toBe(hex(rangeHash(index * 2 ** level, (index + 1) * 2 ** level)));
        }
      }
      expect(nodes.size).toBe(expected);
    }
  });

  it('answers every proof from stored subtrees exactly as from the leaves', () => {
    const frontier = new Map<number, Uint8Array>();
    const nodes = new Map<string, Uint8Array>();
    for (const n of merkle.appendLeaves(frontier, 0, tree))
      nodes.set(`${n.level}/${n.index}`, n.hash);
    const fromNodes = ([a, b]: merkle.LeafRange) =>
      hex(
        merkle.foldRange(
          merkle.rangeNodes(a, b).map((id) => nodes.get(`${id.level}/${id.index}`) as Uint8Array),
        ),
      );
    for (let size = 1; size <= tree.length; size += 7) {
      for (let index = 0; index < size; index += 3) {
        expect(merkle.inclusionRanges(index, size).map(fromNodes)).toEqual(
          merkle.inclusionProof(tree.slice(0, size), index).map(hex),
        );
      }
      for (let old = 0; old <= size; old += 5) {
        expect(merkle.consistencyRanges(old, size).map(fromNodes)).toEqual(
          merkle.consistencyProof(tree.slice(0, size), old).map(hex),
        );
      }
      expect(fromNodes([0, size])).toBe(hex(merkle.rootHash(tree.slice(0, size))));
    }
  });

  it('refuses to append without the frontier it needs', () => {
    expect(() => merkle.appendLeaves(new Map(), 1, [tree[0] as Uint8Array])).toThrow(/frontier/);
  });
});
