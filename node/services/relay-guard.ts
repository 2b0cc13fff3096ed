/**
 * Quotas on relayed messages (issue 9, docs/protocol.md §7): before a
 * gossiped `msg` reaches ingest (store, audit log, relay), its sender must be
 * a registered DID and both its origin peer and its sender must be within
 * their budgets of `RelayLimits`. Whatever fails is Ignored: not stored, not
 * audited, not forwarded, only counted. A message from a DID whose
 * registration has not arrived yet waits, briefly and in a bounded window,
 * for that registration instead of being stored.
 */
import type { RelayLimits } from '../limits.js'

/** Why a message was held back. */
export type RelayDrop = 'unregistered' | 'peer-budget' | 'did-budget'

/** A message waiting for its sender's registration. */
export interface PendingMessage {
  readonly from: string
  readonly data: Uint8Array
  readonly via: string
  readonly at: number
}

interface Window {
  start: number
  messages: number
  bytes: number
}

/** Fixed-window counters per key, at most `limits.trackedKeys` keys. */
class Budgets {
  private readonly windows = new Map<string, Window>()

  constructor(
    private readonly windowMs: number,
    private readonly trackedKeys: number,
  ) {}

  /** True when one more message of `bytes` keeps `key` within its bounds (counts nothing). */
  fits(key: string, now: number, maxMessages: number, maxBytes: number, bytes: number): boolean {
    const w = this.current(key, now)
    if ((w?.messages ?? 0) + 1 > maxMessages || (w?.bytes ?? 0) + bytes > maxBytes) return false
    if (w !== undefined || this.windows.size < this.trackedKeys) return true
    this.prune(now)
    return this.windows.size < this.trackedKeys
  }

  /** Count one message of `bytes` for `key` (after `fits`). */
  charge(key: string, now: number, bytes: number): void {
    let w = this.current(key, now)
    if (w === undefined) this.windows.set(key, (w = { start: now, messages: 0, bytes: 0 }))
    w.messages += 1
    w.bytes += bytes
  }

  /** The window of `key` still running at `now`, if any. */
  private current(key: string, now: number): Window | undefined {
    const w = this.windows.get(key)
    return w !== undefined && now - w.start < this.windowMs ? w : undefined
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k)
  }
}

/** Admission of gossiped messages, and what it dropped. */
export class RelayGuard {
  private readonly peers: Budgets
  private readonly dids: Budgets
  private readonly pending: PendingMessage[] = []
  private pendingBytes = 0
  private readonly dropped: Record<RelayDrop, number> = { unregistered: 0, 'peer-budget': 0, 'did-budget': 0 }

  constructor(
    private readonly limits: RelayLimits,
    private readonly clock: () => number,
  ) {
    this.peers = new Budgets(limits.windowMs, limits.trackedKeys)
    this.dids = new Budgets(limits.windowMs, limits.trackedKeys)
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

  /** Charge `from`'s budget for a message that passed the acceptance rules. */
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

  private drop(reason: RelayDrop): RelayDrop {
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
