/**
 * RFC 9162 §2.1 Merkle tree roots and proofs over SHA-256 (the hashes are
 * merkle-hash.ts's): the tree of n leaves split at the largest power of two
 * k < n. Pure functions over leaf hashes, given as an array or as an
 * accessor `(i) => hash` so a store can supply them without loading the
 * whole log. `MerkleAccumulator` (merkle-accumulator.ts, re-exported here)
 * keeps only the O(log n) roots of perfect subtrees (the "frontier").
 */
import { MalformedError } from './errors.js'
import { MerkleAccumulator } from './merkle-accumulator.js'
import { EMPTY_ROOT, HASH_LENGTH, checkSize, equalHashes, hashChildren, type LeafHashes } from './merkle-hash.js'

export {
  EMPTY_ROOT,
  HASH_LENGTH,
  emptyRoot,
  equalHashes,
  hashChildren,
  hashLeaf,
  type LeafHashes,
} from './merkle-hash.js'
export { MerkleAccumulator, type AccumulatorState } from './merkle-accumulator.js'

/** Largest power of two strictly less than `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function accessor(leaves: LeafHashes): (index: number) => Uint8Array {
  if (typeof leaves === 'function') return leaves
  return (i) => {
    const h = leaves[i]
    if (h === undefined) throw new MalformedError(`no leaf hash at index ${i}`)
    return h
  }
}

/** MTH of leaves [start, end): folds them through an accumulator, O(end - start) hashes. */
export function subtreeRoot(leaves: LeafHashes, start: number, end: number): Uint8Array {
  checkSize(start, 'start')
  checkSize(end, 'end')
  if (end < start) throw new MalformedError('subtree end lies before its start')
  const at = accessor(leaves)
  const acc = new MerkleAccumulator()
  for (let i = start; i < end; i++) acc.append(at(i))
  return acc.root()
}

/**
 * MTH(D[n]) of RFC 9162 §2.1.1: the root over `leafHashes` (an array, or an
 * accessor plus `size`). The empty tree's root is SHA-256("").
 */
export function merkleRoot(leafHashes: LeafHashes, size?: number): Uint8Array {
  const n = size ?? (typeof leafHashes === 'function' ? Number.NaN : leafHashes.length)
  checkSize(n, 'tree size')
  return subtreeRoot(leafHashes, 0, n)
}

/**
 * Inclusion proof PATH(index, D[size]) of RFC 9162 §2.1.3.1: sibling subtree
 * roots from the leaf up. Costs O(size) hashes; throws `MalformedError` when
 * `index` is not inside the tree.
 */
export function inclusionProof(index: number, size: number, leaves: LeafHashes): Uint8Array[] {
  checkSize(size, 'tree size')
  checkSize(index, 'leaf index')
  if (index >= size) throw new MalformedError(`leaf ${index} is not in a tree of ${size} leaves`)
  const path: Uint8Array[] = []
  let start = 0
  let n = size
  let m = index
  while (n > 1) {
    const k = splitPoint(n)
    if (m < k) {
      path.push(subtreeRoot(leaves, start + k, start + n))
      n = k
    } else {
      path.push(subtreeRoot(leaves, start, start + k))
      start += k
      m -= k
      n -= k
    }
  }
  return path.reverse()
}

/**
 * Check an inclusion proof by the algorithm of RFC 9162 §2.1.3.2. Returns
 * false (never throws) for a wrong proof, index, size, leaf or root.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  if (leafHash.length !== HASH_LENGTH || root.length !== HASH_LENGTH) return false
  let fn = index
  let sn = size - 1
  let r = leafHash
  for (const p of proof) {
    if (sn === 0 || p.length !== HASH_LENGTH) return false
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      r = hashChildren(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && equalHashes(r, root)
}

/**
 * Consistency proof PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (SUBPROOF with
 * b = true). Empty when m is 0 or m = n; throws `MalformedError` when m > n.
 */
export function consistencyProof(m: number, n: number, leaves: LeafHashes): Uint8Array[] {
  checkSize(m, 'old size')
  checkSize(n, 'new size')
  if (m > n) throw new MalformedError(`old size ${m} is larger than new size ${n}`)
  if (m === 0 || m === n) return []
  const proof: Uint8Array[] = []
  let start = 0
  let size = n
  let old = m
  let complete = true
  while (old !== size) {
    const k = splitPoint(size)
    if (old <= k) {
      proof.push(subtreeRoot(leaves, start + k, start + size))
      size = k
    } else {
      proof.push(subtreeRoot(leaves, start, start + k))
      start += k
      old -= k
      size -= k
      complete = false
    }
  }
  if (!complete) proof.push(subtreeRoot(leaves, start, start + size))
  return proof.reverse()
}

/** Shift `fn` and `sn` right together while `cond(fn)` holds (RFC 9162 §2.1.4.2). */
function shiftWhile(fn: number, sn: number, cond: (fn: number) => boolean): [number, number] {
  while (cond(fn)) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return [fn, sn]
}

function walkConsistency(
  m: number,
  n: number,
  path: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  let [fn, sn] = shiftWhile(m - 1, n - 1, (f) => f % 2 === 1)
  const first = path[0]
  if (first === undefined) return false
  let fr = first
  let sr = first
  for (const c of path.slice(1)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr)
      sr = hashChildren(c, sr)
      ;[fn, sn] = shiftWhile(fn, sn, (f) => f % 2 === 0 && f !== 0)
    } else {
      sr = hashChildren(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && equalHashes(fr, oldRoot) && equalHashes(sr, newRoot)
}

/**
 * Check a consistency proof between a tree of `m` leaves and one of `n` by
 * RFC 9162 §2.1.4.2. With m = n the proof must be empty and the roots equal;
 * with m = 0 the proof must be empty and `oldRoot` the empty tree's root.
 * Returns false (never throws) on any mismatch.
 */
export function verifyConsistency(
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false
  if (oldRoot.length !== HASH_LENGTH || newRoot.length !== HASH_LENGTH) return false
  if (proof.some((p) => p.length !== HASH_LENGTH)) return false
  if (m === 0) return proof.length === 0 && equalHashes(oldRoot, EMPTY_ROOT)
  if (m === n) return proof.length === 0 && equalHashes(oldRoot, newRoot)
  if (proof.length === 0) return false
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : proof
  return walkConsistency(m, n, path, oldRoot, newRoot)
}

function isPowerOfTwo(n: number): boolean {
  let x = n
  while (x > 1 && x % 2 === 0) x /= 2
  return x === 1
}
