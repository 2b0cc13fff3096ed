/**
 * The log's leaf hashes in memory, packed 32 bytes each, for proofs. The log
 * is append-only and a committed leaf never changes, so the cache only grows:
 * a request for a larger tree reads just the leaves it lacks, in pages.
 */
import type { Store } from '../store/index.js'

const HASH = 32
const PAGE = 10_000

/** Packed leaf hashes of the committed log, loaded on demand. */
export class LeafCache {
  private bytes = new Uint8Array(0)
  private size = 0

  constructor(private readonly store: Store) {}

  /** An accessor over leaves [0, n), loading those not yet cached. `n` must not exceed the log's size. */
  upTo(n: number): (index: number) => Uint8Array {
    if (n > this.size) this.load(n)
    const bytes = this.bytes
    return (i) => bytes.subarray(i * HASH, (i + 1) * HASH)
  }

  private load(n: number): void {
    if (n * HASH > this.bytes.length) {
      const grown = new Uint8Array(Math.max(n, this.size * 2) * HASH)
      grown.set(this.bytes.subarray(0, this.size * HASH))
      this.bytes = grown
    }
    while (this.size < n) {
      const page = this.store.auditEntries.leafHashes(this.size, Math.min(PAGE, n - this.size))
      if (page.length === 0) throw new RangeError(`the audit log has only ${this.size} entries, not ${n}`)
      this.bytes.set(page, this.size * HASH)
      this.size += page.length / HASH
    }
  }
}
