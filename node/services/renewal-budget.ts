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
import { RefusalWarning } from './refusal-warning.js'

/** A DID's renewal window as its agent row keeps it (`renewal_start`, `renewals`). */
export interface RenewalWindow {
  /** When the window began (ms, node clock; 0: none yet). */
  readonly start: number
  /** Renewals taken from the mesh in it. */
  readonly count: number
}

/**
 * Counts the renewals of each DID taken from the mesh. The count lives on
 * the agent's row (every renewed DID is a stored agent), not in a bounded
 * memory that DIDs renewed on purpose could fill and keep others out of.
 */
export class RenewalBudget {
  private readonly warning: RefusalWarning

  /**
   * @param limits the budget and its window (`limits.registry`)
   * @param clock ms
   * @param warn told at most once a minute, while refusals go on, how many there were
   */
  constructor(
    private readonly limits: Pick<RegistryLimits, 'renewalsPerDid' | 'renewalWindowMs'>,
    private readonly clock: () => number,
    warn: (message: string) => void = () => undefined,
  ) {
    this.warning = new RefusalWarning(warn)
  }

  /** The window of a DID whose row holds `held` with one more renewal counted, or undefined when past its budget. */
  take(held: RenewalWindow): RenewalWindow | undefined {
    const now = this.clock()
    // a window that began in the future (the clock was set back) is over too
    const running = now >= held.start && now - held.start < this.limits.renewalWindowMs
    if (!running) return this.limits.renewalsPerDid > 0 ? { start: now, count: 1 } : this.refused(now)
    if (held.count < this.limits.renewalsPerDid) return { start: held.start, count: held.count + 1 }
    return this.refused(now)
  }

  private refused(now: number): undefined {
    const { renewalsPerDid, renewalWindowMs } = this.limits
    this.warning.refused(
      now,
      (count) =>
        `${count} registration(s) of agents already known from the mesh not stored: past ` +
        `limits.registry.renewalsPerDid (${renewalsPerDid} per DID every ${renewalWindowMs} ms)`,
    )
    return undefined
  }
}
