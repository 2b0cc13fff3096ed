/**
 * How a delivery attempt ends at the sender's node (docs/protocol.md §10):
 * a receipt checked against the registry and the answering peer, a refusal
 * that is final or not (the error table's `deliveryRetry` and `retryable`
 * columns), or the expiry. Each settled state is written with its audit
 * entry in one transaction, at most once per message.
 */
import {
  shortReason,
  currentKeyOf,
  ERROR_TABLE,
  isMeshsigError,
  MeshsigError,
  publicKeyFromPeerId,
  receiptId,
  toB64,
  verifyReceipt,
  type ErrorCode,
  type Receipt,
} from '../core/index.js'
import type { AuditService } from '../audit/audit-service.js'
import type { OutboxRow, Store } from '../store/index.js'
import type { DeliveryView } from '../core/views.js'

/** Why one attempt did not settle a message. */
export interface Failure {
  readonly code: string
  readonly reason: string
  /** The host could not be reached: the other messages to it wait too. */
  readonly unreachable?: boolean
}

/** True when a hosting node's refusal with `code` ends the delivery (docs/protocol.md §10). */
export function isFinalRefusal(code: string): boolean {
  const surface = ERROR_TABLE[code as ErrorCode] as (typeof ERROR_TABLE)[ErrorCode] | undefined
  return surface !== undefined && surface.retryable !== true && surface.deliveryRetry !== true
}

/** What settling needs from the node. */
export interface DeliveryOutcomeComponents {
  readonly store: Store
  readonly audit: AuditService
  readonly clock: () => number
}

/** Settles outbox rows: delivered, refused, expired. */
export class DeliveryOutcomes {
  constructor(private readonly c: DeliveryOutcomeComponents) {}

  /** A refusal: final ones settle the message (audited); others are a failure to retry. */
  refused(row: OutboxRow, host: string, code: string, reason: string): Failure | undefined {
    if (!isFinalRefusal(code)) return { code, reason }
    this.c.store.transaction(() => {
      if (!this.c.store.outbox.settled(row.id, { state: 'refused', code, reason }, this.c.clock())) return
      this.c.audit.record({
        kind: 'delivery.refused',
        subject: row.to,
        envelopeId: row.id,
        code,
        data: { peerId: host, reason: shortReason(reason) },
      })
    })
    return undefined
  }

  /**
   * Check a receipt (docs/protocol.md §10): signed by the key of the node the
   * registry names as the recipient's controller, which must be the key of
   * the peer that answered (the registry's host). A bad one is audited and
   * the message stays pending.
   */
  receipt(row: OutboxRow, host: string, controller: string, input: unknown): Failure | undefined {
    let receipt: Receipt
    try {
      const peerKey = publicKeyFromPeerId(host)
      const nodeKey = currentKeyOf(controller, this.c.store.keyEvents.state(controller))
      if (toB64(nodeKey) !== toB64(peerKey)) {
        throw new MeshsigError('KEY_MISMATCH', `peer ${host} does not hold the key of ${controller}`)
      }
      receipt = verifyReceipt(input, { msg: row.id, to: row.to, node: controller, nodeKey })
    } catch (err) {
      const e = isMeshsigError(err) ? err : new MeshsigError('MALFORMED', String(err))
      this.c.audit.record({
        kind: 'receipt.rejected',
        subject: row.to,
        envelopeId: row.id,
        code: e.code,
        data: { peerId: host, reason: shortReason(e.message) },
      })
      return { code: e.code, reason: e.message }
    }
    this.settleDelivered(row.id, row.to, receipt, host)
    return undefined
  }

  /** Settle a message as delivered with its verified receipt (audited once). */
  settleDelivered(id: string, to: string, receipt: Receipt, peerId: string): void {
    this.c.store.transaction(() => {
      if (!this.c.store.outbox.settled(id, { state: 'delivered', receipt: JSON.stringify(receipt) }, this.c.clock()))
        return
      this.c.audit.record({
        kind: 'receipt.accepted',
        subject: to,
        envelopeId: id,
        data: { receiptId: receiptId(receipt), node: receipt.node, peerId },
      })
    })
  }

  /** Settle a message as expired (audited once). */
  expire(row: OutboxRow): void {
    this.c.store.transaction(() => {
      if (!this.c.store.outbox.settled(row.id, { state: 'expired' }, this.c.clock())) return
      this.c.audit.record({
        kind: 'delivery.expired',
        subject: row.to,
        envelopeId: row.id,
        data: { attempts: row.attempts },
      })
    })
  }
}

/**
 * Where a direct message stands (docs/api.md, `GET /messages/:id`): as its
 * sender's node (the outbox row, or the mark of a message delivered to an
 * agent of this node), or as the node hosting its recipient (the receipt it
 * issued); undefined when this node is neither.
 */
export function deliveryView(
  store: { outbox: Pick<Store['outbox'], 'get' | 'issued'>; messages: Pick<Store['messages'], 'deliveredHereAt'> },
  id: string,
): DeliveryView | undefined {
  const row = store.outbox.get(id)
  if (row !== undefined) {
    return {
      role: 'sender',
      state: row.state,
      attempts: row.attempts,
      code: row.code,
      reason: row.reason,
      receipt: row.receipt === null ? null : (JSON.parse(row.receipt) as Receipt),
      expiresAt: row.expiresAt,
      updatedAt: row.updatedAt,
    }
  }
  const here = store.messages.deliveredHereAt(id)
  if (here !== undefined) {
    const sender = { role: 'sender', state: 'delivered', attempts: 0, code: null, reason: null, receipt: null } as const
    return { ...sender, expiresAt: here, updatedAt: here }
  }
  const issued = store.outbox.issued(id)
  if (issued === undefined) return undefined
  const receipt = JSON.parse(issued) as Receipt
  const host = { role: 'host', state: 'delivered', attempts: 0, code: null, reason: null, expiresAt: null } as const
  return { ...host, receipt, updatedAt: receipt.ts }
}
