/**
 * RFC 9162 §2.1 Merkle tree hashes and proofs over SHA-256: leaf hash =
 * SHA-256(0x00 || data), interior node = SHA-256(0x01 || left || right), the
 * tree of n leaves split at the largest power of two k < n. Pure functions
 * over leaf hashes, given as an array or as an accessor `(i) => hash` so a
 * store can supply them without loading the whole log. `MerkleAccumulator`
 * keeps only the O(log n) roots of perfect subtrees (the "frontier").
 */
import { fromB64, toB64 } from './encoding.js'
import { MalformedError } from './errors.js'
import { sha256 } from './keys.js'

/** Length of every hash in the tree, in bytes. */
export const HASH_LENGTH = 32

/** Leaf hashes of a tree: an array, or an accessor returning the hash of leaf `i`. */
export type LeafHashes = readonly Uint8Array[] | ((index: number) => Uint8Array)

/** Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0))

/** The empty tree's root, as a fresh copy callers may keep or change. */
export function emptyRoot(): Uint8Array {
  return new Uint8Array(EMPTY_ROOT)
}

/** RFC 9162 leaf hash: SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + data.length)
  buf.set(data, 1)
  return sha256(buf)
}

const nodeScratch = new Uint8Array(1 + 2 * HASH_LENGTH)
nodeScratch[0] = 0x01

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_LENGTH || right.length !== HASH_LENGTH) {
    throw new MalformedError(`Merkle node children must be ${HASH_LENGTH}-byte hashes`)
  }
  nodeScratch.set(left, 1)
  nodeScratch.set(right, 1 + HASH_LENGTH)
  return sha256(nodeScratch)
}

/** True when `a` and `b` hold the same bytes. */
export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

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

function checkSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new MalformedError(`${what} must be a non-negative integer`)
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

/** The persisted form of a `MerkleAccumulator`: its size and its frontier, b64. */
export interface AccumulatorState {
  /** Number of leaves appended. */
  readonly size: number
  /** Roots of the perfect subtrees of the size's binary decomposition, largest (leftmost) first, b64. */
  readonly frontier: readonly string[]
}

function isPowerOfTwo(n: number): boolean {
  let x = n
  while (x > 1 && x % 2 === 0) x /= 2
  return x === 1
}

function popcount(n: number): number {
  let count = 0
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2
  return count
}

/**
 * An append-only Merkle tree kept as its frontier: the roots of the perfect
 * subtrees that make up the current size (one per set bit), so appending
 * costs amortised O(1) hashes, memory is O(log n), and the root costs
 * O(log n) hashes. Equal to `merkleRoot` of the same leaves at every size.
 */
export class MerkleAccumulator {
  #size = 0
  readonly #frontier: Uint8Array[] = []

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size
  }

  /** Append the hash of the next leaf. */
  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_LENGTH) throw new MalformedError(`a leaf hash is ${HASH_LENGTH} bytes`)
    let node: Uint8Array = new Uint8Array(leafHash)
    this.#size += 1
    for (let s = this.#size; s % 2 === 0; s /= 2) {
      const left = this.#frontier.pop()
      if (left === undefined) throw new MalformedError('accumulator frontier is inconsistent')
      node = hashChildren(left, node)
    }
    this.#frontier.push(node)
  }

  /** MTH of all leaves appended so far (the empty root when none). */
  root(): Uint8Array {
    const last = this.#frontier.length - 1
    const top = this.#frontier[last]
    if (top === undefined) return emptyRoot()
    let r = top
    for (let i = last - 1; i >= 0; i--) r = hashChildren(this.#frontier[i] as Uint8Array, r)
    return r
  }

  /** Copies of the frontier's subtree roots, largest first. */
  frontier(): Uint8Array[] {
    return this.#frontier.map((h) => new Uint8Array(h))
  }

  /** The state to persist; `MerkleAccumulator.restore` rebuilds it. */
  toJSON(): AccumulatorState {
    return { size: this.#size, frontier: this.#frontier.map((h) => toB64(h)) }
  }

  /** An independent copy of this accumulator. */
  clone(): MerkleAccumulator {
    return MerkleAccumulator.restore(this.toJSON())
  }

  /**
   * Rebuild an accumulator from `toJSON()` output. Throws `MalformedError`
   * when the frontier does not have one 32-byte hash per set bit of `size`.
   */
  static restore(state: AccumulatorState): MerkleAccumulator {
    if (typeof state !== 'object' || state === null || !Array.isArray(state.frontier)) {
      throw new MalformedError('accumulator state must be {size, frontier}')
    }
    checkSize(state.size, 'accumulator size')
    if (state.frontier.length !== popcount(state.size)) {
      throw new MalformedError(`accumulator of size ${state.size} needs ${popcount(state.size)} frontier hashes`)
    }
    const acc = new MerkleAccumulator()
    acc.#size = state.size
    for (const h of state.frontier) acc.#frontier.push(fromB64(h, 'frontier hash', HASH_LENGTH))
    return acc
  }
}
