/**
 * The renewal budget (docs/protocol.md §7, "Registry quota"): the holder of a
 * registered DID can sign a valid registration of it, dated a millisecond
 * after the last, as often as it likes, and each one replaces the stored
 * registration. Without a bound one key made every node store, audit and
 * relay without end. So a node takes at most `renewalsPerDid` registrations
 * of a DID it already stores from the mesh (gossip, sync) per
 * `renewalWindowMs`; past it they are refused (`RATE_LIMITED`): not stored,
 * audited, relayed or charged, and sync fetches them again in a later round.
 * Only a registration that passed every acceptance rule counts, so
 * forgeries in a DID's name cannot use its budget up.
 */
import type { RegistryLimits } from '../limits.js'
import { WindowBudgets } from './window-budgets.js'

/** Least time between two warnings that renewals were refused (ms). */
const WARN_INTERVAL_MS = 60_000

/** Counts the renewals of each DID taken from the mesh. */
export class RenewalBudget {
  private readonly windows: WindowBudgets
  private refusedSince = 0
  private warnedAt = -Infinity

  /**
   * @param limits the budget and its window (`limits.registry`)
   * @param clock ms
   * @param warn told at most once a minute, while refusals go on, how many there were
   */
  constructor(
    private readonly limits: Pick<RegistryLimits, 'renewalsPerDid' | 'renewalWindowMs' | 'trackedDids'>,
    private readonly clock: () => number,
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    this.windows = new WindowBudgets(limits.renewalWindowMs, limits.trackedDids)
  }

  /** True when one more renewal of `did` fits its budget, and then counts it. */
  take(did: string): boolean {
    const now = this.clock()
    if (!this.windows.fits(did, now, this.limits.renewalsPerDid, Number.MAX_SAFE_INTEGER, 0)) {
      this.refused(now)
      return false
    }
    this.windows.charge(did, now, 0)
    return true
  }

  private refused(now: number): void {
    this.refusedSince += 1
    if (now - this.warnedAt < WARN_INTERVAL_MS) return
    this.warn(
      `${this.refusedSince} registration(s) of agents already known from the mesh not stored: past ` +
        `limits.registry.renewalsPerDid (${this.limits.renewalsPerDid} per DID every ${this.limits.renewalWindowMs} ms)`,
    )
    this.warnedAt = now
    this.refusedSince = 0
  }
}
