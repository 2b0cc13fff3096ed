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
    const pair = this.entries.get(id) ?? keyPairFromSeed(seed)
    this.keep(id, pair)
    return pair
  }

  /**
   * The key pair of `seed` when its public key is `publicKey` (b64), else
   * undefined. Kept only when it matches: a caller who presents keys that
   * are nobody's (a one-time `privateKey` that is not the DID's) never
   * displaces the pairs that sign.
   */
  matching(seed: Uint8Array, publicKey: string): KeyPair | undefined {
    const id = toB64(seed)
    const pair = this.entries.get(id) ?? keyPairFromSeed(seed)
    if (toB64(pair.publicKey) !== publicKey) return undefined
    this.keep(id, pair)
    return pair
  }

  /** Keep `pair` as the most recently used, dropping the least recently used when full. */
  private keep(id: string, pair: KeyPair): void {
    this.entries.delete(id)
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(id, pair)
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
