/**
 * Revocations this node could not check because it holds no registration of
 * their DID, so knows no controller whose key may have signed them
 * (docs/protocol.md §6, decision 0069). Such a refusal rests on the node's
 * state and charges nobody; but a signature no known key made is also what
 * junk looks like, and junk must not be checked without end for free
 * (decision 0044). An honest peer holds at most one revocation of a DID (a
 * second is `DUPLICATE` there, and only what a node takes is relayed), so
 * each peer may deliver one such revocation of each DID uncharged; another
 * one of the same DID from the same peer is a forgery.
 */

/** Peer and DID pairs remembered at once; past it the oldest is forgotten (node/cache-bounds.ts). */
export const UNPROVEN_REVOCATIONS_MEMORY = 100_000

/** The one unchecked revocation of each DID each peer delivered, at most `UNPROVEN_REVOCATIONS_MEMORY` of them. */
export class UnprovenRevocations {
  /** `peer|did` → the id of the revocation that peer delivered, oldest first. */
  private readonly byPair = new Map<string, string>()

  constructor(private readonly max: number = UNPROVEN_REVOCATIONS_MEMORY) {}

  /** How many pairs are remembered. */
  get size(): number {
    return this.byPair.size
  }

  /**
   * True when `peer` may have delivered the revocation `id` of `did` in good
   * faith: the first it delivered of that DID, or that one again. False for
   * another one of the same DID (then a forgery, charged to `peer`).
   */
  admit(peer: string, did: string, id: string): boolean {
    const key = `${peer}|${did}`
    const held = this.byPair.get(key)
    if (held !== undefined) return held === id
    if (this.byPair.size >= this.max) {
      const oldest = this.byPair.keys().next()
      if (!oldest.done) this.byPair.delete(oldest.value)
    }
    this.byPair.set(key, id)
    return true
  }
}
