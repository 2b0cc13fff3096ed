/**
 * The hosting node's side of direct delivery (docs/protocol.md §10): a
 * `msg` arriving over `/meshsig/deliver/1.0.0` for one of this node's own
 * agents runs the one acceptance path (ingest) and, once stored (or already
 * stored), is answered with a receipt signed by the node key. Anything else is
 * answered with a refusal code; nothing is stored for agents hosted elsewhere,
 * nor for an agent whose registration from the mesh merely names this node
 * (decision 0076: what delivery takes, retention keeps, so one envelope id is
 * never accepted twice).
 * The sender rules of gossip apply (§7, decision 0062): a sender without a
 * registration here is refused `UNKNOWN_SIGNER` (a code that heals: its
 * registry is pulled from the delivering peer, and this node announces its
 * presence once the registration arrives, so the sender retries at once),
 * and a sender past its DID's budget of the window, which gossip shares,
 * `RATE_LIMITED`.
 */
import {
  shortReason,
  decodeEnvelope,
  isMeshsigError,
  MeshsigError,
  signReceipt,
  receiptId,
  utf8,
  type KeyPair,
  type Receipt,
} from '../core/index.js'
import type { AuditService } from '../audit/audit-service.js'
import type { RelayLimits } from '../limits.js'
import type { Store } from '../store/index.js'
import type { Ingest } from './ingest.js'
import type { RelayGuard } from './relay-guard.js'
import { WindowBudgets } from '../p2p/window-budgets.js'

/** The answer to one delivery, as JSON on the wire (docs/protocol.md §10). */
export type DeliveryAnswer =
  { readonly receipt: Receipt } | { readonly refused: { readonly code: string; readonly message: string } }

/** What the hosting side needs from the node. */
export interface DeliveryInboundComponents {
  readonly store: Store
  readonly ingest: Ingest
  readonly audit: AuditService
  readonly clock: () => number
  readonly nodeDid: () => string
  readonly nodeKey: () => KeyPair
  /** How old a message may be: the outbox expiry plus the clock window (ms). */
  readonly windowMs: number
  /** How far ahead of the clock a message may be dated: the clock window (ms, §5). */
  readonly maxSkewMs: number
  /**
   * Per-peer budget of one window (the relay quotas' `windowMs`, `perPeerMessages`, `perPeerBytes`,
   * `trackedKeys`), and how long a refused sender's registration is awaited (`pendingTtlMs`).
   */
  readonly budget: Pick<RelayLimits, 'windowMs' | 'perPeerMessages' | 'perPeerBytes' | 'trackedKeys' | 'pendingTtlMs'>
  /** The sender rules and the sender DIDs' budget that gossip uses (relay-guard.ts); none: only registration. */
  readonly relay?: Pick<RelayGuard, 'admitDirect' | 'accepted'>
  /** Pull the registry of a peer whose delivery named a signer this node does not know yet. */
  readonly syncFrom?: (peerId: string) => void
}

/** Answers deliveries for the agents this node hosts. */
export class DeliveryInbound {
  private readonly peers: WindowBudgets
  /** Senders refused as unregistered, and when: their registration's arrival is announced (`senderRegistered`). */
  private readonly awaited = new Map<string, number>()

  constructor(private readonly c: DeliveryInboundComponents) {
    this.peers = new WindowBudgets(c.budget.windowMs, c.budget.trackedKeys)
  }

  /** Handle one delivery request from `fromPeerId`; never throws. */
  handle(request: Uint8Array, fromPeerId: string): Uint8Array {
    let answer: DeliveryAnswer
    try {
      answer = this.accept(request, fromPeerId)
    } catch (err) {
      const e = isMeshsigError(err) ? err : new MeshsigError('INTERNAL', 'delivery failed')
      answer = { refused: { code: e.code, message: shortReason(e.message) } }
    }
    return utf8(JSON.stringify(answer))
  }

  private accept(request: Uint8Array, fromPeerId: string): DeliveryAnswer {
    if (!this.charge(fromPeerId, request.length)) {
      throw new MeshsigError('RATE_LIMITED', 'this peer delivered more than its budget of the window: retry later')
    }
    const envelope = decodeEnvelope(request)
    if (envelope.type !== 'msg' || envelope.to === null) {
      throw new MeshsigError('MALFORMED', 'a delivery carries one msg envelope with a recipient')
    }
    this.checkHostedHere(envelope.to)
    this.checkTime(envelope.ts)
    this.checkSender(envelope.from, fromPeerId)
    // freshness is the delivery window above: a message retried after downtime is older than the gossip window
    const v = this.c.ingest.ingest(envelope, { kind: 'deliver', peer: fromPeerId }, { fresh: false })
    if (v.ok) {
      this.c.relay?.accepted(envelope.from) // only a verified signature spends the sender's budget
      return { receipt: this.receiptFor(v.id, envelope.to, fromPeerId) }
    }
    if (v.error.code === 'DUPLICATE' && v.id !== undefined && this.c.store.messages.exists(v.id)) {
      return { receipt: this.receiptFor(v.id, envelope.to, fromPeerId) }
    }
    if (v.error.code === 'UNKNOWN_SIGNER' || v.error.code === 'KEL_INVALID') this.c.syncFrom?.(fromPeerId)
    return { refused: { code: v.error.code, message: shortReason(v.error.message) } }
  }

  /**
   * Count a delivery against its peer's budget of the window, before it is
   * decoded (a peer cannot make this node parse or verify without bound);
   * false when over it. A new peer is always tracked (window-budgets.ts).
   */
  private charge(peer: string, bytes: number): boolean {
    const { budget } = this.c
    const now = this.c.clock()
    if (!this.peers.fits(peer, now, budget.perPeerMessages, budget.perPeerBytes, bytes)) return false
    this.peers.charge(peer, now, bytes)
    return true
  }

  /**
   * Throw unless the sender may go on to the acceptance rules, as on gossip
   * (docs/protocol.md §7, §10): `UNKNOWN_SIGNER` for a DID without a
   * registration here (its registry is pulled from `peer`), `RATE_LIMITED`
   * past its budget. Neither is stored or audited.
   */
  private checkSender(from: string, peer: string): void {
    const registered = this.c.store.agents.get(from) !== undefined
    const drop = this.c.relay?.admitDirect(from, registered)
    if (!registered) {
      this.rememberAwaited(from)
      this.c.syncFrom?.(peer)
      throw new MeshsigError('UNKNOWN_SIGNER', `${from} has no registration here yet: retry`, { did: from })
    }
    if (drop !== undefined) {
      throw new MeshsigError('RATE_LIMITED', `${from} sent more than its budget of the window: retry later`)
    }
  }

  /** Remember a refused sender (at most `trackedKeys`, the oldest forgotten first). */
  private rememberAwaited(did: string): void {
    this.awaited.delete(did)
    if (this.awaited.size >= Math.max(1, this.c.budget.trackedKeys)) {
      const oldest = this.awaited.keys().next()
      if (oldest.done !== true) this.awaited.delete(oldest.value)
    }
    this.awaited.set(did, this.c.clock())
  }

  /**
   * A registration arrived: true when a delivery from `did` was refused as
   * unregistered within `pendingTtlMs` (its node waits to retry: announce
   * this node's presence, the pull of docs/protocol.md §10).
   */
  senderRegistered(did: string): boolean {
    const at = this.awaited.get(did)
    if (at === undefined) return false
    this.awaited.delete(did)
    return this.c.clock() - at <= this.c.budget.pendingTtlMs
  }

  /**
   * Throw `NOT_FOUND` unless the recipient is one of this node's own agents
   * (`AgentsRepo.isOwn`, the definition retention keeps messages by): a
   * registration from the mesh naming this node's PeerId, which anyone can
   * sign, makes this node store nothing (docs/protocol.md §10, decision 0076).
   */
  private checkHostedHere(to: string): void {
    if (!this.c.store.agents.isOwn(to)) {
      throw new MeshsigError('NOT_FOUND', `${to} is not hosted by this node`, { did: to })
    }
  }

  /**
   * Throw `CLOCK_SKEW` unless `ts` lies at most `windowMs` behind the clock
   * (a message its sender's outbox retried) and at most `maxSkewMs` ahead
   * (an outbox only makes messages older; docs/protocol.md §10).
   */
  private checkTime(ts: number): void {
    const ahead = ts - this.c.clock()
    if (ahead > this.c.maxSkewMs || -ahead > this.c.windowMs) {
      const { windowMs, maxSkewMs } = this.c
      throw new MeshsigError('CLOCK_SKEW', 'message time is outside the delivery window', { windowMs, maxSkewMs })
    }
  }

  /** The receipt of a message stored here: the one issued before, or a new one, kept and audited. */
  receiptFor(id: string, to: string, deliveredBy: string): Receipt {
    const kept = this.c.store.outbox.issued(id)
    if (kept !== undefined) return JSON.parse(kept) as Receipt
    const receipt = signReceipt({ msg: id, to, node: this.c.nodeDid(), ts: this.c.clock() }, this.c.nodeKey())
    this.c.store.transaction(() => {
      this.c.store.outbox.issue(id, JSON.stringify(receipt), this.c.clock())
      this.c.audit.record({
        kind: 'receipt.issued',
        subject: to,
        envelopeId: id,
        data: { receiptId: receiptId(receipt), deliveredBy },
      })
    })
    return receipt
  }
}
