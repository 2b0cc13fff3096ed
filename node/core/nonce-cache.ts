/**
 * The replay cache of the HTTP request verifier (docs/proxy.md, "Verifying
 * at the gateway"): `verifyRequestSignature` asks `seenNonce` once a
 * request passed every other check. Pure: the time comes with each sighting.
 */
import { MeshsigError } from './errors.js'

/** One nonce a verifier saw: remember it until `keepUntil` (ms). */
export interface NonceSighting {
  readonly keyid: string
  readonly nonce: string
  /** After this time (ms) the signature is refused as expired anyway: no need to remember the nonce longer. */
  readonly keepUntil: number
  /** Now (ms). */
  readonly now: number
}

/**
 * Default bound of a `NonceCache`: nonces remembered at once. With the 60 s
 * lifetime of the proxy's signatures (plus the verifier's skew) that is
 * about 1,100 verified requests a second per cache; past it the cache
 * refuses rather than forgets.
 */
export const DEFAULT_NONCE_CACHE_ENTRIES = 100_000

/**
 * A bounded in-memory replay cache for `seenNonce`: remembers each (keyid,
 * nonce) until its signature could no longer verify (`keepUntil`), and
 * forgets it only then. When it holds `maxEntries` nonces that may all still
 * verify, it fails closed: `seen` throws `RATE_LIMITED` (the request is
 * refused, `verifyRequestSignature` answers with it) rather than evict a
 * nonce whose request could then be replayed. Pass `cache.seen` as `seenNonce`.
 */
export class NonceCache {
  private readonly entries = new Map<string, number>()
  /** Every remembered nonce by when it may be forgotten, soonest first: a sweep forgets only the expired. */
  private readonly expiries = new ExpiryHeap()

  constructor(private readonly maxEntries = DEFAULT_NONCE_CACHE_ENTRIES) {}

  /**
   * True when seen before (and not yet expired); records the sighting
   * otherwise. Throws `RATE_LIMITED` when full of nonces that may still verify.
   */
  readonly seen = (s: NonceSighting): boolean => {
    const key = `${s.keyid} ${s.nonce}`
    const until = this.entries.get(key)
    if (until !== undefined && until >= s.now) return true
    this.entries.delete(key)
    this.forgetExpired(s.now)
    if (this.entries.size >= this.maxEntries) {
      throw new MeshsigError(
        'RATE_LIMITED',
        `the replay cache holds ${this.maxEntries} nonces that may still verify; refused rather than forget one`,
        { limit: this.maxEntries },
      )
    }
    this.entries.set(key, s.keepUntil)
    this.expiries.push(s.keepUntil, key)
    return false
  }

  /**
   * Forget every nonce expired at `now`, soonest first: each costs O(log n)
   * once. (A first version walked every entry whenever the soonest expiry
   * had passed: at the bound, every request walked 100,000 entries to free
   * about one, found by a review.)
   */
  private forgetExpired(now: number): void {
    for (let top = this.expiries.peek(); top !== undefined && top.until < now; top = this.expiries.peek()) {
      this.expiries.pop()
      // a nonce seen again after it expired has a later expiry of its own: leave that one
      if (this.entries.get(top.key) === top.until) this.entries.delete(top.key)
    }
  }

  /** Number of remembered nonces. */
  get size(): number {
    return this.entries.size
  }
}

/** A binary min-heap of (until, key). */
class ExpiryHeap {
  private readonly items: { until: number; key: string }[] = []

  peek(): { until: number; key: string } | undefined {
    return this.items[0]
  }

  push(until: number, key: string): void {
    const items = this.items
    items.push({ until, key })
    for (let i = items.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (items[parent]!.until <= items[i]!.until) break
      ;[items[parent], items[i]] = [items[i]!, items[parent]!]
      i = parent
    }
  }

  pop(): void {
    const items = this.items
    const last = items.pop()
    if (last === undefined || items.length === 0) return
    items[0] = last
    for (let i = 0; ;) {
      const [l, r] = [2 * i + 1, 2 * i + 2]
      let min = i
      if (l < items.length && items[l]!.until < items[min]!.until) min = l
      if (r < items.length && items[r]!.until < items[min]!.until) min = r
      if (min === i) break
      ;[items[min], items[i]] = [items[i]!, items[min]!]
      i = min
    }
  }
}
