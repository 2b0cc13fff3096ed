/**
 * What each peer has in the held pool (docs/protocol.md §9 "Empty
 * inceptions", decisions 0085 and 0087): the inceptions held for it, and the
 * rotations and revocations it sent that are held, whoever's inceptions they
 * extend, with the total of those events. A peer with nothing held is not
 * remembered.
 */

/** One peer's counts. */
interface Share {
  dids: number
  events: number
}

/** The per-peer counts of the held pool and its total of held key events. */
export class HeldShares {
  private readonly perPeer = new Map<string, Share>()
  private total = 0

  /** Inceptions held for `peer`. */
  dids(peer: string): number {
    return this.perPeer.get(peer)?.dids ?? 0
  }

  /** Rotations and revocations `peer` sent that are held. */
  events(peer: string): number {
    return this.perPeer.get(peer)?.events ?? 0
  }

  /** Rotations and revocations held, over all peers. */
  allEvents(): number {
    return this.total
  }

  /** Peers with an inception or an event held. */
  peers(): number {
    return this.perPeer.size
  }

  /** Count one more inception held for `peer`. */
  addDid(peer: string): void {
    this.shareOf(peer).dids++
  }

  /**
   * Count one more event `peer` sent if it fits under `perPeer` for that
   * peer and `total` over all; false (nothing counted) when it does not.
   */
  takeEvent(peer: string, limits: { readonly perPeer: number; readonly total: number }): boolean {
    if (this.total >= limits.total || this.events(peer) >= limits.perPeer) return false
    this.shareOf(peer).events++
    this.total++
    return true
  }

  /** Take `dids` inceptions and `events` events off `peer`'s counts (and `events` off the total). */
  release(peer: string, dids: number, events: number): void {
    const share = this.perPeer.get(peer)
    if (share === undefined) return
    share.dids -= dids
    share.events -= events
    this.total -= events
    if (share.dids <= 0 && share.events <= 0) this.perPeer.delete(peer)
  }

  private shareOf(peer: string): Share {
    let share = this.perPeer.get(peer)
    if (share === undefined) this.perPeer.set(peer, (share = { dids: 0, events: 0 }))
    return share
  }
}
