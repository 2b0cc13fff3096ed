/**
 * A bounded per-peer memory (docs/protocol.md §9): what the sync client keeps
 * about a peer (its node key, its backoff, its page cursor) for as many peers
 * as its bound, no more. Peer ids cost a rogue nothing to mint, so no map keyed
 * by them may grow with how many it shows up as.
 */

/** Peers each per-peer memory of the sync client keeps at most. */
export const PEER_MEMORY = 4096

/** A map of at most `max` peers; a write makes its peer the newest, and a full map forgets the oldest. */
export class PeerMemory<V> {
  private readonly entries = new Map<string, V>()

  /**
   * @param max most peers kept
   * @param stale entries dropped, all of them, before the oldest live one is forgotten (e.g. an expired ban)
   */
  constructor(
    private readonly max: number = PEER_MEMORY,
    private readonly stale: (value: V) => boolean = () => false,
  ) {}

  /** The value kept for `peer`, if any. */
  get(peer: string): V | undefined {
    return this.entries.get(peer)
  }

  /** True if something is kept for `peer`. */
  has(peer: string): boolean {
    return this.entries.has(peer)
  }

  /** Keep `value` for `peer`, as the newest; makes room first if full. */
  set(peer: string, value: V): void {
    this.entries.delete(peer)
    if (this.entries.size >= this.max) this.makeRoom()
    this.entries.set(peer, value)
  }

  /** Forget `peer`. */
  delete(peer: string): void {
    this.entries.delete(peer)
  }

  /** Peers kept now. */
  get size(): number {
    return this.entries.size
  }

  private makeRoom(): void {
    for (const [peer, value] of this.entries) if (this.stale(value)) this.entries.delete(peer)
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next()
      if (oldest.done) return
      this.entries.delete(oldest.value)
    }
  }
}
