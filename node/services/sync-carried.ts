/**
 * The descents that sync rounds waiting for the node-wide turn carry to
 * their next pass (docs/protocol.md §9, node/services/sync-client.ts), bounded.
 */
import type { Carry } from './sync-round.js'

/** Descents kept by rounds waiting for the turn: a peer can make one hold a few thousand prefixes and ids. */
export const MAX_CARRIED_DESCENTS = 64

/** The carries of waiting rounds: past `MAX_CARRIED_DESCENTS`, the oldest waiting round's descent restarts. */
export class CarriedDescents {
  private readonly waiting = new Set<Carry>()

  /** A round with `carry` waits for the turn again. */
  keep(carry: Carry): void {
    this.waiting.delete(carry)
    if (carry.descent === undefined) return
    this.waiting.add(carry)
    for (const oldest of this.waiting) {
      if (this.waiting.size <= MAX_CARRIED_DESCENTS) break
      oldest.descent = undefined // its next pass compares the roots again
      this.waiting.delete(oldest)
    }
  }

  /** The round of `carry` ended. */
  drop(carry: Carry): void {
    this.waiting.delete(carry)
  }
}
