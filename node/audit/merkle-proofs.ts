/**
 * RFC 9162 roots and proofs over an append-only log in O(log n) hashes per
 * request once warm. Every perfect subtree the tree's recursion meets is
 * aligned (it starts at a multiple of its size) and, the log being
 * append-only, never changes, so the roots of those of at least `MIN_MEMO`
 * leaves are computed once and kept (about n / 128 hashes of memory). The
 * algorithms are the core's (node/core/merkle.ts: PATH of §2.1.3.1, PROOF of
 * §2.1.4.1) with subtree roots taken from the memo.
 */
import { EMPTY_ROOT, MalformedError, hashChildren, splitPoint } from '../core/index.js'

/** Smallest perfect subtree whose root is kept. */
const MIN_MEMO = 256

/** Subtree roots of a log's committed leaves, memoised. */
export class SubtreeRoots {
  private readonly memo = new Map<number, Uint8Array>()

  /** `leaf(i)` must return the hash of committed leaf i, for every i asked. */
  constructor(private leaf: (index: number) => Uint8Array) {}

  /** Use a new accessor (the same leaves, more of them); the memo stays valid. */
  update(leaf: (index: number) => Uint8Array): void {
    this.leaf = leaf
  }

  /** MTH of leaves [start, end). */
  root(start: number, end: number): Uint8Array {
    const n = end - start
    if (n === 0) return new Uint8Array(EMPTY_ROOT)
    if (n === 1) return this.leaf(start)
    const perfect = (n & (n - 1)) === 0 && n >= MIN_MEMO
    // aligned perfect subtrees are named by (start, size) without collision: start + size is unique per level
    const key = start * 2 + n
    if (perfect) {
      const known = this.memo.get(key)
      if (known !== undefined) return known
    }
    const k = splitPoint(n)
    const r = hashChildren(this.root(start, start + k), this.root(start + k, end))
    if (perfect) this.memo.set(key, r)
    return r
  }

  /** PATH(index, D[size]): sibling roots from the leaf up (RFC 9162 §2.1.3.1). */
  inclusion(index: number, size: number): Uint8Array[] {
    if (!(index >= 0 && index < size)) throw new MalformedError(`leaf ${index} is not in a tree of ${size} leaves`)
    const path: Uint8Array[] = []
    let [start, n, m] = [0, size, index]
    while (n > 1) {
      const k = splitPoint(n)
      if (m < k) {
        path.push(this.root(start + k, start + n))
        n = k
      } else {
        path.push(this.root(start, start + k))
        ;[start, m, n] = [start + k, m - k, n - k]
      }
    }
    return path.reverse()
  }

  /** PROOF(m, D[n]) (RFC 9162 §2.1.4.1); empty when m is 0 or n. */
  consistency(m: number, n: number): Uint8Array[] {
    if (!(m >= 0 && m <= n)) throw new MalformedError(`old size ${m} is not within new size ${n}`)
    if (m === 0 || m === n) return []
    const proof: Uint8Array[] = []
    let [start, size, old, complete] = [0, n, m, true]
    while (old !== size) {
      const k = splitPoint(size)
      if (old <= k) {
        proof.push(this.root(start + k, start + size))
        size = k
      } else {
        proof.push(this.root(start, start + k))
        ;[start, old, size, complete] = [start + k, old - k, size - k, false]
      }
    }
    if (!complete) proof.push(this.root(start, start + size))
    return proof.reverse()
  }
}
