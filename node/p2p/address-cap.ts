/**
 * How many addresses this node keeps for each other peer (review 117, F2; decision 0080). kad-dht merges every
 * multiaddr an `ADD_PROVIDER` (or a closer-peers answer) names into the peer store, which only dedupes; libp2p
 * asks the connection gater's `filterMultiaddrForPeer` for every address of a record on each write, the kept ones
 * first, so admitting at most `ADDRESSES_PER_PEER` distinct addresses per peer bounds each peer-store record.
 */

/** Most distinct addresses kept for one peer (an honest node has a handful: tcp and ws, ip4 and ip6). */
export const ADDRESSES_PER_PEER = 32
/** Peers whose address slots are tracked, least recently written evicted first. */
export const ADDRESS_CAP_PEERS = 4096
/** An address slot not seen for this long may be taken by a new address (the peer store's `MAX_ADDRESS_AGE`). */
export const ADDRESS_SLOT_MS = 60 * 60 * 1000
/** Longest address kept, in characters (a relayed address with two PeerIds is about 200). */
export const ADDRESS_MAX_CHARS = 512

/** Per-peer address slots: a peer's first `perPeer` distinct addresses are kept, later ones refused. */
export class PeerAddressCap {
  /** Per peer (least recently written first): each admitted address and when it was last seen. */
  private readonly peers = new Map<string, Map<string, number>>()

  /**
   * @param self this node's PeerId: its own addresses are not capped
   * @param perPeer most addresses per peer
   * @param maxPeers most peers tracked
   * @param now the clock
   */
  constructor(
    private readonly self: string,
    private readonly perPeer = ADDRESSES_PER_PEER,
    private readonly maxPeers = ADDRESS_CAP_PEERS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the peer store may keep `addr` for `peer` (takes a slot when it does). */
  allow(peer: string, addr: string): boolean {
    if (peer === this.self) return true
    if (addr.length > ADDRESS_MAX_CHARS) return false
    const suffix = `/p2p/${peer}`
    const key = addr.endsWith(suffix) ? addr.slice(0, -suffix.length) : addr
    const seen = this.slotsOf(peer)
    const t = this.now()
    if (!seen.delete(key) && seen.size >= this.perPeer) {
      const oldest = seen.entries().next().value
      if (oldest === undefined || t - oldest[1] < ADDRESS_SLOT_MS) return false
      seen.delete(oldest[0])
    }
    seen.set(key, t)
    return true
  }

  /** The slots of `peer`, made the most recently written; the least recently written peer's are dropped when full. */
  private slotsOf(peer: string): Map<string, number> {
    const seen = this.peers.get(peer) ?? new Map<string, number>()
    this.peers.delete(peer)
    this.peers.set(peer, seen)
    if (this.peers.size > this.maxPeers) {
      const first = this.peers.keys().next().value
      if (first !== undefined) this.peers.delete(first)
    }
    return seen
  }
}
