/**
 * The hosting node's side of direct delivery (docs/protocol.md §10): a
 * `msg` arriving over `/meshsig/deliver/1.0.0` for an agent this node hosts
 * runs the one acceptance path (ingest) and, once stored (or already stored),
 * is answered with a receipt signed by the node key. Anything else is
 * answered with a refusal code; nothing is stored for agents hosted elsewhere.
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
  readonly peerId: () => string
  /** Oldest (and newest) message time accepted: the outbox expiry plus the clock window (ms). */
  readonly windowMs: number
  /** Per-peer budget of one window: the relay quotas' `windowMs`, `perPeerMessages`, `perPeerBytes`, `trackedKeys`. */
  readonly budget: Pick<RelayLimits, 'windowMs' | 'perPeerMessages' | 'perPeerBytes' | 'trackedKeys'>
  /** Pull the registry of a peer whose delivery named a signer this node does not know yet. */
  readonly syncFrom?: (peerId: string) => void
}

/** What one peer delivered in the current window. */
interface Used {
  n: number
  bytes: number
}

/** Answers deliveries for the agents this node hosts. */
export class DeliveryInbound {
  private windowStart = -Infinity
  private readonly used = new Map<string, Used>()

  constructor(private readonly c: DeliveryInboundComponents) {}

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
    if (Math.abs(envelope.ts - this.c.clock()) > this.c.windowMs) {
      throw new MeshsigError('CLOCK_SKEW', 'message time is outside the delivery window', { windowMs: this.c.windowMs })
    }
    // freshness is the delivery window above: a message retried after downtime is older than the gossip window
    const v = this.c.ingest.ingest(envelope, { kind: 'deliver', peer: fromPeerId }, { fresh: false })
    if (v.ok) return { receipt: this.receiptFor(v.id, envelope.to, fromPeerId) }
    if (v.error.code === 'DUPLICATE' && v.id !== undefined && this.c.store.messages.exists(v.id)) {
      return { receipt: this.receiptFor(v.id, envelope.to, fromPeerId) }
    }
    if (v.error.code === 'UNKNOWN_SIGNER' || v.error.code === 'KEL_INVALID') this.c.syncFrom?.(fromPeerId)
    return { refused: { code: v.error.code, message: shortReason(v.error.message) } }
  }

  /**
   * Count a delivery against its peer's budget of the current window (a
   * peer cannot make this node verify without bound); false when over it,
   * or when too many peers are tracked already.
   */
  private charge(peer: string, bytes: number): boolean {
    const { budget } = this.c
    const now = this.c.clock()
    if (now - this.windowStart >= budget.windowMs) {
      this.used.clear()
      this.windowStart = now
    }
    let used = this.used.get(peer)
    if (used === undefined) {
      if (this.used.size >= budget.trackedKeys) return false
      used = { n: 0, bytes: 0 }
      this.used.set(peer, used)
    }
    if (used.n + 1 > budget.perPeerMessages || used.bytes + bytes > budget.perPeerBytes) return false
    used.n += 1
    used.bytes += bytes
    return true
  }

  /** Throw `NOT_FOUND` unless the registry names this node as the recipient's host. */
  private checkHostedHere(to: string): void {
    const agent = this.c.store.agents.get(to)
    if (agent === undefined || (agent.peerId !== this.c.peerId() && agent.origin !== 'local')) {
      throw new MeshsigError('NOT_FOUND', `${to} is not hosted by this node`, { did: to })
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
