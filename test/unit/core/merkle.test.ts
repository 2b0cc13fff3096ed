import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  consistencyProof,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  MerkleAccumulator,
  merkleRoot,
  subtreeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../../node/core/merkle.js'

// ---------------------------------------------------------------------------
// An independent, naive implementation straight from RFC 9162 §2.1: recursion
// over data arrays, hashing with node:crypto directly (not the module's helpers).
// ---------------------------------------------------------------------------
const H = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const naiveK = (n: number): number => {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}
/** MTH(D[n]) of §2.1.1 over raw leaf data. */
const MTH = (d: Uint8Array[]): Uint8Array => {
  const n = d.length
  if (n === 0) return H()
  if (n === 1) return H(Uint8Array.of(0), d[0]!)
  const k = naiveK(n)
  return H(Uint8Array.of(1), MTH(d.slice(0, k)), MTH(d.slice(k)))
}
/** PATH(m, D[n]) of §2.1.3.1. */
const PATH = (m: number, d: Uint8Array[]): Uint8Array[] => {
  const n = d.length
  if (n === 1) return []
  const k = naiveK(n)
  if (m < k) return [...PATH(m, d.slice(0, k)), MTH(d.slice(k))]
  return [...PATH(m - k, d.slice(k)), MTH(d.slice(0, k))]
}
/** SUBPROOF(m, D[n], b) of §2.1.4.1. */
const SUBPROOF = (m: number, d: Uint8Array[], b: boolean): Uint8Array[] => {
  const n = d.length
  if (m === n) return b ? [] : [MTH(d)]
  const k = naiveK(n)
  if (m <= k) return [...SUBPROOF(m, d.slice(0, k), b), MTH(d.slice(k))]
  return [...SUBPROOF(m - k, d.slice(k), false), MTH(d.slice(0, k))]
}
const PROOF = (m: number, d: Uint8Array[]): Uint8Array[] => (m === 0 ? [] : SUBPROOF(m, d, true))

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
const flip = (b: Uint8Array, bit = 0): Uint8Array => {
  const c = new Uint8Array(b)
  c[bit >> 3]! ^= 1 << (bit & 7)
  return c
}

const MAX = 64
const data: Uint8Array[] = Array.from({ length: MAX }, (_, i) => Uint8Array.of(i, i * 7, 0xaa))
const leafHashes = data.map((d) => hashLeaf(d))
const naiveRoots = Array.from({ length: MAX + 1 }, (_, n) => MTH(data.slice(0, n)))

// Published vectors: transparency-dev/merkle proof/verify_test.go (the data set
// of the Certificate Transparency C++/Go test suites) and rfc6962/rfc6962_test.go.
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
/** [0-based leaf index, tree size, proof] */
const CT_INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
]
const CT_CONSISTENCY: [number, number, string[]][] = [
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
]

describe('RFC 6962/9162 published vectors', () => {
  const ctLeafHashes = CT_LEAVES.map((l) => hashLeaf(unhex(l)))

  it('hashes the empty tree, an empty leaf, a leaf and a node as published', () => {
    expect(hex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(hex(merkleRoot([]))).toBe(hex(EMPTY_ROOT))
    expect(hex(hashLeaf(new Uint8Array(0)))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
    expect(hex(hashLeaf(Buffer.from('L123456')))).toBe(
      '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56',
    )
    // The published vector hashes two 4-byte strings; hashChildren takes 32-byte hashes, so check via the naive hasher.
    expect(hex(H(Uint8Array.of(1), Buffer.from('N123'), Buffer.from('N456')))).toBe(
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    )
  })

  it('computes the published roots of the 8-leaf tree at every size', () => {
    for (let n = 1; n <= 8; n++) {
      expect(hex(merkleRoot(ctLeafHashes.slice(0, n)))).toBe(CT_ROOTS[n - 1])
      const acc = new MerkleAccumulator()
      ctLeafHashes.slice(0, n).forEach((h) => acc.append(h))
      expect(hex(acc.root())).toBe(CT_ROOTS[n - 1])
    }
  })

  it.each(CT_INCLUSION)('builds and verifies the published inclusion proof of leaf %i in %i', (i, n, proof) => {
    expect(inclusionProof(i, n, ctLeafHashes).map(hex)).toEqual(proof)
    expect(verifyInclusion(ctLeafHashes[i]!, i, n, proof.map(unhex), unhex(CT_ROOTS[n - 1]!))).toBe(true)
  })

  it.each(CT_CONSISTENCY)('builds and verifies the published consistency proof %i → %i', (m, n, proof) => {
    expect(consistencyProof(m, n, ctLeafHashes).map(hex)).toEqual(proof)
    expect(verifyConsistency(m, n, proof.map(unhex), unhex(CT_ROOTS[m - 1]!), unhex(CT_ROOTS[n - 1]!))).toBe(true)
  })
})

describe('merkleRoot and subtreeRoot', () => {
  it('equals the naive MTH for every size 0..64, from an array and from an accessor', () => {
    for (let n = 0; n <= MAX; n++) {
      expect(hex(merkleRoot(leafHashes.slice(0, n)))).toBe(hex(naiveRoots[n]!))
      expect(hex(merkleRoot((i) => leafHashes[i]!, n))).toBe(hex(naiveRoots[n]!))
    }
  })

  it('computes the root of any range', () => {
    expect(hex(subtreeRoot(leafHashes, 5, 17))).toBe(hex(MTH(data.slice(5, 17))))
  })

  it('refuses an accessor without a size and bad ranges', () => {
    expect(() => merkleRoot((i) => leafHashes[i]!)).toThrow(/tree size/)
    expect(() => subtreeRoot(leafHashes, 3, 2)).toThrow(/before its start/)
    expect(() => merkleRoot(leafHashes, MAX + 1)).toThrow(/no leaf hash/)
    expect(() => hashChildren(new Uint8Array(31), new Uint8Array(32))).toThrow(/32-byte/)
  })
})

describe('inclusion proofs', () => {
  it('match the naive PATH and verify, for every index of every size 1..64', () => {
    for (let n = 1; n <= MAX; n++) {
      const root = naiveRoots[n]!
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, n, leafHashes)
        expect(proof.map(hex)).toEqual(PATH(i, data.slice(0, n)).map(hex))
        expect(verifyInclusion(leafHashes[i]!, i, n, proof, root)).toBe(true)
      }
    }
  })

  it('fail when any proof hash, the leaf, the root, the index or the size is wrong', () => {
    for (let n = 1; n <= MAX; n++) {
      const root = naiveRoots[n]!
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, n, leafHashes)
        const leaf = leafHashes[i]!
        for (let j = 0; j < proof.length; j++) {
          const bad = proof.map((p, k) => (k === j ? flip(p, (i * 31 + j) % 256) : p))
          expect(verifyInclusion(leaf, i, n, bad, root)).toBe(false)
        }
        expect(verifyInclusion(flip(leaf), i, n, proof, root)).toBe(false)
        expect(verifyInclusion(leaf, i, n, proof, flip(root, 77))).toBe(false)
        for (const j of [i - 1, i + 1, i ^ 2]) if (j !== i) expect(verifyInclusion(leaf, j, n, proof, root)).toBe(false)
        for (const m of [n * 2, n >> 1]) if (m !== n) expect(verifyInclusion(leaf, i, m, proof, root)).toBe(false)
        // A size of n ± 1 can walk the same path (RFC 9162 binds the size through the signed
        // (size, root) pair, not the proof), but never reaches the root of that other tree.
        for (const m of [n - 1, n + 1]) {
          if (m >= 1 && m <= MAX) expect(verifyInclusion(leaf, i, m, proof, naiveRoots[m]!)).toBe(false)
        }
        expect(verifyInclusion(leaf, i, n, [...proof, root], root)).toBe(false)
        expect(verifyInclusion(leaf, i, n, [root, ...proof], root)).toBe(false)
        if (proof.length > 0) expect(verifyInclusion(leaf, i, n, proof.slice(0, -1), root)).toBe(false)
      }
    }
  })

  it('refuses an index outside the tree', () => {
    expect(() => inclusionProof(4, 4, leafHashes)).toThrow(/not in a tree/)
    expect(() => inclusionProof(-1, 4, leafHashes)).toThrow(/non-negative/)
    expect(verifyInclusion(leafHashes[0]!, 0, 0, [], EMPTY_ROOT)).toBe(false)
    expect(verifyInclusion(leafHashes[0]!, 0, 1, [new Uint8Array(3)], leafHashes[0]!)).toBe(false)
  })
})

describe('consistency proofs', () => {
  it('match the naive PROOF and verify, for every 0 ≤ m ≤ n ≤ 64', () => {
    for (let n = 0; n <= MAX; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(m, n, leafHashes)
        expect(proof.map(hex)).toEqual(PROOF(m, data.slice(0, n)).map(hex))
        expect(verifyConsistency(m, n, proof, naiveRoots[m]!, naiveRoots[n]!)).toBe(true)
      }
    }
  })

  it('fail when any hash, a root or a size is wrong, or the proof is cut or padded', () => {
    for (let n = 2; n <= MAX; n++) {
      for (let m = 1; m < n; m++) {
        const proof = consistencyProof(m, n, leafHashes)
        const [r1, r2] = [naiveRoots[m]!, naiveRoots[n]!]
        for (let j = 0; j < proof.length; j++) {
          const bad = proof.map((p, k) => (k === j ? flip(p, (m * 13 + j) % 256) : p))
          expect(verifyConsistency(m, n, bad, r1, r2)).toBe(false)
        }
        expect(verifyConsistency(m, n, proof, flip(r1), r2)).toBe(false)
        expect(verifyConsistency(m, n, proof, r1, flip(r2))).toBe(false)
        expect(verifyConsistency(m, n, proof, r2, r1)).toBe(false)
        for (const [a, b] of [
          [m - 1, n],
          [m + 1, n],
          [m ^ 2, n],
          [m, n * 2],
          [m, n >> 1],
        ] as const) {
          if (a !== m || b !== n) expect(verifyConsistency(a, b, proof, r1, r2)).toBe(false)
        }
        // As for inclusion, n ± 1 is bound by the signed root of that size, not by the proof.
        for (const b of [n - 1, n + 1]) {
          if (b > m && b <= MAX) expect(verifyConsistency(m, b, proof, r1, naiveRoots[b]!)).toBe(false)
        }
        expect(verifyConsistency(m, n, [], r1, r2)).toBe(false)
        expect(verifyConsistency(m, n, proof.slice(0, -1), r1, r2)).toBe(false)
        expect(verifyConsistency(m, n, [...proof, r2], r1, r2)).toBe(false)
        expect(verifyConsistency(m, n, [proof[0]!, ...proof], r1, r2)).toBe(false)
      }
    }
  })

  it('handles the trivial sizes as RFC 9162 says', () => {
    const [r3, r5] = [naiveRoots[3]!, naiveRoots[5]!]
    expect(verifyConsistency(3, 3, [], r3, r3)).toBe(true)
    expect(verifyConsistency(3, 3, [], r3, r5)).toBe(false)
    expect(verifyConsistency(3, 3, [r3], r3, r3)).toBe(false)
    expect(verifyConsistency(0, 5, [], EMPTY_ROOT, r5)).toBe(true)
    expect(verifyConsistency(0, 5, [], r3, r5)).toBe(false)
    expect(verifyConsistency(5, 3, [], r5, r3)).toBe(false)
    expect(() => consistencyProof(5, 3, leafHashes)).toThrow(/larger than/)
  })
})

describe('MerkleAccumulator', () => {
  const many = Array.from({ length: 301 }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)))

  it('has the root of merkleRoot at every size 0..300, also after serialise/restore', () => {
    const acc = new MerkleAccumulator()
    for (let n = 0; n <= 300; n++) {
      const want = hex(merkleRoot(many.slice(0, n)))
      expect(acc.size).toBe(n)
      expect(hex(acc.root())).toBe(want)
      const state = JSON.parse(JSON.stringify(acc.toJSON())) as { size: number; frontier: string[] }
      const restored = MerkleAccumulator.restore(state)
      expect(hex(restored.root())).toBe(want)
      expect(restored.frontier().length).toBe(state.frontier.length)
      // Continuing from the restored copy gives the same tree as continuing the original.
      restored.append(many[n]!)
      expect(hex(restored.root())).toBe(hex(merkleRoot(many.slice(0, n + 1))))
      acc.append(many[n]!)
    }
  })

  it('keeps one frontier hash per set bit of the size', () => {
    const acc = new MerkleAccumulator()
    for (let i = 0; i < 300; i++) acc.append(many[i]!)
    expect(acc.toJSON().frontier.length).toBe(4) // 300 = 0b100101100
    expect(hex(acc.clone().root())).toBe(hex(acc.root()))
  })

  it('refuses inconsistent state and wrong-sized leaves', () => {
    expect(() => MerkleAccumulator.restore({ size: 3, frontier: [] })).toThrow(/needs 2/)
    expect(() => MerkleAccumulator.restore({ size: -1, frontier: [] })).toThrow(/non-negative/)
    expect(() => MerkleAccumulator.restore({ size: 1, frontier: ['AAAA'] })).toThrow(/32 bytes/)
    expect(() => new MerkleAccumulator().append(new Uint8Array(31))).toThrow(/32 bytes/)
  })
})
