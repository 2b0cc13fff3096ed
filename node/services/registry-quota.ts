/**
 * The bound on the DIDs of others that the mesh can make this node store
 * (docs/protocol.md §7, "Registry quota"): anybody can make DIDs and sign
 * valid registrations for them, for free, and every node stores the
 * registry. Past `limits.registry.maxAgents` DIDs in all (agents, and the
 * DIDs that are no agent but whose key logs it keeps: peer nodes,
 * controllers), a registration of a DID the node does not know yet, or the
 * key log of a DID that is no agent, brought by the mesh, is not stored;
 * the node's own agents always are.
 */

import { RefusalWarning } from './refusal-warning.js'

/** How long a count of key logs that are no agent's is trusted (ms): the count scans the key states. */
export const LOG_RECOUNT_MS = 600_000

/** Counts agents and other key logs against the bound without a COUNT per registration. */
export class RegistryQuota {
  private known: number | undefined
  private countedAt = -Infinity
  private logs: number | undefined
  private logsCountedAt = -Infinity
  private readonly warning: RefusalWarning

  /**
   * @param maxAgents the bound (agents of every origin, the node's own included)
   * @param countAgents the store's count of agents (read inside the caller's transaction)
   * @param clock ms
   * @param warn told at most once a minute, while refusals go on, how many there were
   * @param recountMs how long a count is trusted (a rolled-back transaction may have counted one too many)
   * @param countLogs the store's count of key logs of DIDs that are no agent, the node's own aside (none: 0)
   */
  constructor(
    private readonly maxAgents: number,
    private readonly countAgents: () => number,
    private readonly clock: () => number,
    warn: (message: string) => void = () => undefined,
    private readonly recountMs = 10_000,
    private readonly countLogs: () => number = () => 0,
  ) {
    this.warning = new RefusalWarning(warn)
  }

  /** True when one more agent from the mesh fits, and then counts it. */
  take(): boolean {
    if (this.full()) return false
    this.known = (this.known ?? 0) + 1
    return true
  }

  /**
   * Count the key log of a DID that is no agent (a peer node's, a
   * controller's), stored: any renewal may name a new controller, so these
   * logs count against the bound like agents. The caller asked `isFull`.
   */
  countLog(): void {
    if (this.logs !== undefined) this.logs += 1
  }

  /**
   * The DID whose key log was counted registers as an agent: true when the
   * agents alone are still within the bound, and then it counts as one. A
   * first host's log may have been taken past the bound; registered as an
   * agent past it, each could name a fresh first host in turn, a chain
   * without end (fourth attack review of decision 0045).
   */
  logBecameAgent(): boolean {
    this.isFull() // fresh counts
    const agents = this.known ?? 0
    if (agents >= this.maxAgents) {
      this.refused(this.clock())
      return false
    }
    this.known = agents + 1
    if (this.logs !== undefined) this.logs = Math.max(0, this.logs - 1)
    return true
  }

  /** True when no more DIDs from the mesh fit (then counted as a refusal). */
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
    if (this.logs === undefined || now - this.logsCountedAt > LOG_RECOUNT_MS) {
      this.logs = this.countLogs()
      this.logsCountedAt = now
    }
    return this.known + this.logs >= this.maxAgents
  }

  private refused(now: number): void {
    this.warning.refused(
      now,
      (count) =>
        `the registry holds ${this.known} agents and ${this.logs} other key logs, its bound ` +
        `(limits.registry.maxAgents): ${count} new agent(s) or key log(s) from the mesh not stored; ` +
        'raise the bound to store them',
    )
  }

  /** Count an agent of this node's own (never refused); `hadLog`: its key log was counted, and now it is an agent. */
  own(hadLog = false): void {
    if (this.known !== undefined) this.known += 1
    if (hadLog && this.logs !== undefined) this.logs = Math.max(0, this.logs - 1)
  }
}
