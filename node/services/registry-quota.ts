/**
 * The bound on agents of other nodes that the mesh can make this node store
 * (docs/protocol.md §7, "Registry quota"): anybody can make DIDs and sign
 * valid registrations for them, for free, and every node stores the
 * registry. Past `limits.registry.maxAgents` agents in all, a registration
 * of a DID the node does not know yet, brought by gossip or sync, is not
 * stored; the node's own agents always are.
 */

/** Least time between two warnings that the quota refused agents (ms). */
const WARN_INTERVAL_MS = 60_000

/** Counts agents against the bound without a COUNT per registration. */
export class RegistryQuota {
  private known: number | undefined
  private countedAt = -Infinity
  private refusedSince = 0
  private warnedAt = -Infinity

  /**
   * @param maxAgents the bound (agents of every origin, the node's own included)
   * @param countAgents the store's count of agents (read inside the caller's transaction)
   * @param clock ms
   * @param warn told at most once a minute, while refusals go on, how many there were
   * @param recountMs how long a count is trusted (a rolled-back transaction may have counted one too many)
   */
  constructor(
    private readonly maxAgents: number,
    private readonly countAgents: () => number,
    private readonly clock: () => number,
    private readonly warn: (message: string) => void = () => undefined,
    private readonly recountMs = 10_000,
  ) {}

  /** True when one more agent from the mesh fits, and then counts it. */
  take(): boolean {
    if (this.full()) return false
    this.known = (this.known ?? 0) + 1
    return true
  }

  /**
   * True when no more agents from the mesh fit (then counted as a refusal):
   * also asked of the key log of a DID no stored agent is or names as
   * controller, so a full node stores no new DID's log either.
   */
  full(): boolean {
    if (!this.isFull()) return false
    this.refused(this.clock())
    return true
  }

  /** True while no more agents from the mesh fit (counts nothing). */
  isFull(): boolean {
    const now = this.clock()
    if (this.known === undefined || now - this.countedAt > this.recountMs) {
      this.known = this.countAgents()
      this.countedAt = now
    }
    return this.known >= this.maxAgents
  }

  private refused(now: number): void {
    this.refusedSince += 1
    if (now - this.warnedAt < WARN_INTERVAL_MS) return
    this.warn(
      `the registry holds ${this.known} agents, its bound (limits.registry.maxAgents): ${this.refusedSince} ` +
        'registration(s) of new agents from the mesh not stored; raise the bound to store them',
    )
    this.warnedAt = now
    this.refusedSince = 0
  }

  /** Count an agent of this node's own (never refused). */
  own(): void {
    if (this.known !== undefined) this.known += 1
  }
}
