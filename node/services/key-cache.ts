/**
 * A small LRU of signing key pairs built from custodied seeds. Building a
 * KeyPair creates node:crypto KeyObjects (tens of microseconds); signing with
 * a cached one costs only the signature. Keyed by the seed itself, so an
 * entry can never be stale: a rotated key has a different seed.
 */
import { keyPairFromSeed, toB64, type KeyPair } from '../core/index.js'

/** Default number of key pairs kept. */
export const DEFAULT_KEY_CACHE_SIZE = 1024

/** LRU cache of KeyPairs by seed. */
export class KeyPairCache {
  private readonly entries = new Map<string, KeyPair>()

  constructor(private readonly capacity = DEFAULT_KEY_CACHE_SIZE) {}

  /** The key pair of `seed`, built once and reused while it stays in the cache. */
  get(seed: Uint8Array): KeyPair {
    const id = toB64(seed)
    const hit = this.entries.get(id)
    if (hit !== undefined) {
      this.entries.delete(id)
      this.entries.set(id, hit)
      return hit
    }
    const pair = keyPairFromSeed(seed)
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(id, pair)
    return pair
  }

  /** Number of cached key pairs. */
  get size(): number {
    return this.entries.size
  }

  /** Drop every cached key pair. */
  clear(): void {
    this.entries.clear()
  }
}
