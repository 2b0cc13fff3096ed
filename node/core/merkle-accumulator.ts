/**
 * An append-only RFC 9162 Merkle tree kept as its frontier (the roots of the
 * perfect subtrees that make up its size): what the audit log appends to and
 * what an export verifier folds the entries through.
 */
import { fromB64, toB64 } from './encoding.js'
import { MalformedError } from './errors.js'
import { HASH_LENGTH, checkSize, emptyRoot, hashChildren } from './merkle-hash.js'

/** The persisted form of a `MerkleAccumulator`: its size and its frontier, b64. */
export interface AccumulatorState {
  /** Number of leaves appended. */
  readonly size: number
  /** Roots of the perfect subtrees of the size's binary decomposition, largest (leftmost) first, b64. */
  readonly frontier: readonly string[]
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
