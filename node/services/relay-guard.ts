/**
 * Quotas on relayed messages (issue 9, docs/protocol.md §7): before a
 * gossiped `msg` reaches ingest (store, audit log, relay), its sender must be
 * a registered DID and both its origin peer and its sender must be within
 * their budgets of `RelayLimits`. Whatever fails is Ignored: not stored, not
 * audited, not forwarded, only counted. A message from a DID whose
 * registration has not arrived yet waits, briefly and in a bounded window,
 * for that registration instead of being stored. Direct deliveries (§10)
 * take the same two sender rules, and share the sender's budget.
 */
import type { RelayLimits } from '../limits.js'
import { WindowBudgets } from '../p2p/window-budgets.js'

/** Why a message was held back. */
export type RelayDrop = 'unregistered' | 'peer-budget' | 'did-budget'

/** A message waiting for its sender's registration. */
export interface PendingMessage {
  readonly from: string
  readonly data: Uint8Array
  readonly via: string
  readonly at: number
}

/** Admission of gossiped messages (and of the senders of direct deliveries), and what it dropped. */
export class RelayGuard {
  private readonly peers: WindowBudgets
  /** Sender DIDs: shared by gossip and direct delivery (docs/protocol.md §7, §10). */
  private readonly dids: WindowBudgets
  private readonly pending: PendingMessage[] = []
  private pendingBytes = 0
  private readonly dropped: Record<RelayDrop, number> = { unregistered: 0, 'peer-budget': 0, 'did-budget': 0 }

  constructor(
    private readonly limits: RelayLimits,
    private readonly clock: () => number,
  ) {
    this.peers = new WindowBudgets(limits.windowMs, limits.trackedKeys)
    this.dids = new WindowBudgets(limits.windowMs, limits.trackedKeys)
  }

  /**
   * Admit a message of `data.length` bytes from `from`, first published by
   * `origin`: undefined when it may go on to ingest, else why not. A message
   * from an unregistered sender is held (bounded) for `release`. The origin
   * peer's budget is charged here; the sender's only by `accepted`, once
   * its signature verified, so forgeries in a DID's name cannot use it up.
   */
  admit(origin: string, from: string, data: Uint8Array, registered: boolean, via: string): RelayDrop | undefined {
    const now = this.clock()
    const l = this.limits
    if (!registered) {
      this.hold({ from, data, via, at: now })
      return this.drop('unregistered')
    }
    if (!this.peers.fits(origin, now, l.perPeerMessages, l.perPeerBytes, data.length)) return this.drop('peer-budget')
    if (!this.dids.fits(from, now, l.perDidMessages, Number.MAX_SAFE_INTEGER, 0)) return this.drop('did-budget')
    this.peers.charge(origin, now, data.length)
    return undefined
  }

  /**
   * Admit the sender of a direct delivery (docs/protocol.md §10), or of a
   * held message its registration released: undefined when it may go on to
   * ingest, else why not (counted with gossip's drops).
   * Nothing is held: the sending node retries. The DID's budget is the one
   * gossip charges, so a sender has `perDidMessages` a window over both.
   */
  admitDirect(from: string, registered: boolean): Exclude<RelayDrop, 'peer-budget'> | undefined {
    if (!registered) return this.drop('unregistered')
    const fits = this.dids.fits(from, this.clock(), this.limits.perDidMessages, Number.MAX_SAFE_INTEGER, 0)
    return fits ? undefined : this.drop('did-budget')
  }

  /** Charge `from`'s budget for a message that passed the acceptance rules (gossiped or delivered). */
  accepted(from: string): void {
    this.dids.charge(from, this.clock(), 0)
  }

  /** Take the held messages of `did` (its registration arrived); expired ones are forgotten. */
  release(did: string): PendingMessage[] {
    this.expire(this.clock())
    const mine = this.pending.filter((p) => p.from === did)
    if (mine.length === 0) return []
    const rest = this.pending.filter((p) => p.from !== did)
    this.pending.splice(0, this.pending.length, ...rest)
    this.pendingBytes = rest.reduce((n, p) => n + p.data.length, 0)
    return mine
  }

  /** Messages dropped so far, by reason. */
  drops(): Readonly<Record<RelayDrop, number>> {
    return { ...this.dropped }
  }

  /** Messages held now and their bytes. */
  held(): { messages: number; bytes: number } {
    return { messages: this.pending.length, bytes: this.pendingBytes }
  }

  private drop<R extends RelayDrop>(reason: R): R {
    this.dropped[reason] += 1
    return reason
  }

  /** Keep `p` if it fits: the oldest held messages make room, a message larger than the window is not kept. */
  private hold(p: PendingMessage): void {
    const l = this.limits
    this.expire(p.at)
    if (l.pendingMessages === 0 || p.data.length > l.pendingBytes) return
    while (this.pending.length >= l.pendingMessages || this.pendingBytes + p.data.length > l.pendingBytes) {
      const old = this.pending.shift()
      if (old === undefined) break
      this.pendingBytes -= old.data.length
    }
    this.pending.push(p)
    this.pendingBytes += p.data.length
  }

  private expire(now: number): void {
    while (this.pending.length > 0 && now - this.pending[0]!.at > this.limits.pendingTtlMs) {
      this.pendingBytes -= this.pending.shift()!.data.length
    }
  }
}
