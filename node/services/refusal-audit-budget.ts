/**
 * A node-wide budget of refusals of what peers send (gossip, sync, discovery
 * answers, deliveries), audited entry by entry (docs/protocol.md §7, "Relay
 * quotas and retention"; decisions 0053 and 0069). Peer
 * ids cost nothing and gossipsub lets a fresh peer through for about a
 * hundred frames before its score counts, so anything audited once per junk
 * frame grows the append-only log without bound. Past the window's budget a
 * refusal is only counted; the counts by code of a window that overflowed
 * are audited in one entry when the next window's first refusal comes (or
 * at `flush`), so the log still accounts for every refusal. Refusals of
 * direct deliveries (§10) share the budget (decision 0062): a delivering
 * peer id is as free; so do items a sync peer serves (decision 0069: a round
 * runs on every new connection). The summary keeps `via: "gossip"`, the name
 * verifiers know it by.
 */
import type { AuditInput } from '../audit/audit-log.js'
import type { GossipLimits } from '../limits.js'

/** What a window that overflowed left unaudited. */
export interface UnauditedRefusals {
  /** Start of the window (ms, the node's clock). */
  readonly since: number
  /** Length of the window (ms). */
  readonly windowMs: number
  /** Refusals counted but not audited, by code. */
  readonly unaudited: Readonly<Record<string, number>>
}

/** The audit entry that sums up a window's unaudited refusals (kind `envelope.rejected`, code `RATE_LIMITED`). */
export function unauditedRecord(s: UnauditedRefusals): AuditInput {
  return {
    kind: 'envelope.rejected',
    subject: null,
    envelopeId: null,
    code: 'RATE_LIMITED',
    data: { via: 'gossip', since: s.since, windowMs: s.windowMs, unaudited: { ...s.unaudited } },
  }
}

/** Counts gossip and delivery refusals per window and says which are audited entry by entry. */
export class RefusalAuditBudget {
  private since = Number.NEGATIVE_INFINITY
  private used = 0
  private dropped: Record<string, number> = {}
  private readonly totals: Record<string, number> = {}

  constructor(
    private readonly limits: GossipLimits,
    private readonly clock: () => number,
  ) {}

  /**
   * Audit a gossip or delivery refusal with `code` through `append`: its own `entry`
   * while the window's budget lasts, else only counted. A summary of the
   * last window's overflow, if any, is appended first. True when `entry` was.
   */
  audit(code: string, entry: AuditInput, append: (input: AuditInput) => unknown): boolean {
    const now = this.clock()
    if (now - this.since >= this.limits.refusalWindowMs) {
      const ended = this.flush()
      if (ended !== undefined) append(unauditedRecord(ended))
      this.since = now
      this.used = 0
    }
    if (this.used < this.limits.auditedRefusalsPerWindow) {
      this.used++
      append(entry)
      return true
    }
    this.dropped[code] = (this.dropped[code] ?? 0) + 1
    this.totals[code] = (this.totals[code] ?? 0) + 1
    return false
  }

  /** The current window's unaudited refusals, if any, handed over once (to audit them, e.g. at stop); the count starts afresh. */
  flush(): UnauditedRefusals | undefined {
    const dropped = this.dropped
    this.dropped = {}
    if (Object.keys(dropped).length === 0) return undefined
    return { since: this.since, windowMs: this.limits.refusalWindowMs, unaudited: dropped }
  }

  /** Refusals counted but not audited entry by entry since the node started, by code (metrics). */
  unaudited(): Readonly<Record<string, number>> {
    return { ...this.totals }
  }
}
