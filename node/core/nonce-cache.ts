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
  /** No remembered nonce expires before this time (ms): until then a sweep would forget nothing. */
  private firstExpiry = Infinity

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
    if (this.entries.size >= this.maxEntries) this.forgetExpired(s.now)
    if (this.entries.size >= this.maxEntries) {
      throw new MeshsigError(
        'RATE_LIMITED',
        `the replay cache holds ${this.maxEntries} nonces that may still verify; refused rather than forget one`,
        { limit: this.maxEntries },
      )
    }
    this.entries.set(key, s.keepUntil)
    this.firstExpiry = Math.min(this.firstExpiry, s.keepUntil)
    return false
  }

  /** Forget every nonce expired at `now`; a no-op until the first of them expires. */
  private forgetExpired(now: number): void {
    if (now <= this.firstExpiry) return
    let first = Infinity
    for (const [key, until] of this.entries) {
      if (until < now) this.entries.delete(key)
      else first = Math.min(first, until)
    }
    this.firstExpiry = first
  }

  /** Number of remembered nonces. */
  get size(): number {
    return this.entries.size
  }
}
