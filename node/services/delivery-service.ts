/**
 * Direct delivery of messages to their recipient's node, with signed
 * receipts and a durable outbox (docs/protocol.md §10, decision 0020). A
 * message with a `to` is kept in the SQLite outbox and sent over
 * `/meshsig/deliver/1.0.0` to the peer the registry names as the recipient's
 * host, retried with capped exponential backoff until that node's receipt, a
 * final refusal or the expiry; at once when a connection to the host opens,
 * when the host announces its presence (the pull, delivery-presence.ts), and
 * after a restart. Broadcasts stay on gossip.
 */
import {
  encodeEnvelope,
  envelopeId,
  isMeshsigError,
  MeshsigError,
  type KeyPair,
  type MsgEnvelope,
} from '../core/index.js'
import type { AuditService } from '../audit/audit-service.js'
import type { DeliveryLimits } from '../limits.js'
import type { NodeEvents } from '../events.js'
import { PRESENCE_TOPIC, type MeshP2P, type Topic, type ValidationResult } from '../p2p/index.js'
import type { OutboxRow, Store } from '../store/index.js'
import { DeliveryInbound, type DeliveryAnswer, type DeliveryInboundComponents } from './delivery-inbound.js'
import { deliveryView, DeliveryOutcomes, type Failure } from './delivery-outcomes.js'
import { DeliveryPresence } from './delivery-presence.js'
import type { Ingest } from './ingest.js'
import type { DeliveryView } from '../core/views.js'

export type { DeliveryView }

/** What delivery needs from the node. */
export interface DeliveryComponents {
  readonly store: Store
  readonly ingest: Ingest
  readonly audit: AuditService
  readonly p2p: () => MeshP2P
  readonly clock: () => number
  readonly nodeDid: () => string
  readonly nodeKey: () => KeyPair
  readonly limits: DeliveryLimits
  /** The clock window of fresh messages (ms); the hosting side accepts expiry + this. */
  readonly maxSkewMs: number
  /** Per-peer budget of inbound deliveries (the relay quotas, node/limits.ts). */
  readonly budget: DeliveryInboundComponents['budget']
  /** Pull a peer's registry (a delivery named a signer this node does not know yet). */
  readonly syncFrom?: (peerId: string) => void
  /** The sender rules and DID budgets gossip uses (relay-guard.ts), shared by inbound deliveries. */
  readonly relay?: DeliveryInboundComponents['relay']
  /** Registrations arriving: a message waiting for its recipient's host is retried at once. */
  readonly events?: Pick<NodeEvents, 'subscribe'>
  /** Gossip (through the retrying outbox): carries this node's presence announcements (the pull). */
  readonly publish: (topic: Topic, data: Uint8Array) => Promise<unknown>
  readonly onError: (err: unknown) => void
}

/** Deliveries in flight to one host at once (each its own stream on one connection). */
const PER_HOST_STREAMS = 8

/** The outbox loop and both sides of `/meshsig/deliver/1.0.0`. */
export class DeliveryService {
  private readonly inbound: DeliveryInbound
  private readonly outcomes: DeliveryOutcomes
  private readonly presence: DeliveryPresence
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private stopped = true
  /** Aborts the deliveries in flight when the node stops. */
  private abort = new AbortController()
  /** Stops listening to registrations (set by `start()`). */
  private unsubscribe: (() => void) | undefined

  constructor(private readonly c: DeliveryComponents) {
    this.outcomes = new DeliveryOutcomes(c)
    this.inbound = new DeliveryInbound({
      ...c,
      windowMs: c.limits.expiryMs + c.maxSkewMs,
    })
    this.presence = new DeliveryPresence({
      ...{ clock: c.clock, nodeKey: c.nodeKey, maxSkewMs: c.maxSkewMs, onError: c.onError },
      intervalMs: c.limits.presenceIntervalMs,
      settleMs: c.limits.presenceSettleMs,
      repeatMs: c.limits.presenceRepeatMs,
      peerId: () => c.p2p().peerId,
      hostsAgents: () => c.store.agents.count('local') > 0,
      trackedPeers: c.budget.trackedKeys,
      publish: (data) => c.publish(PRESENCE_TOPIC, data),
      wake: (peerId) => this.wakeFor(peerId),
    })
  }

  /** Serve deliveries, retry at once when a peer connects, and resume the outbox kept across restarts. */
  async start(): Promise<void> {
    this.stopped = false
    this.abort = new AbortController()
    await this.c.p2p().serveDeliveries((req, from) => this.inbound.handle(req, from))
    // the mesh dialled its bootstrap peers already: a node that starts with peers announces itself now
    this.presence.start(this.c.p2p().peers().length)
    this.c.p2p().events.addEventListener('peer:connect', (e) => this.onPeerConnect(e.detail.peerId))
    this.c
      .p2p()
      .events.addEventListener('peer:disconnect', () => this.presence.disconnected(this.c.p2p().peers().length))
    this.unsubscribe = this.c.events?.subscribe((e) => {
      if (e.type === 'agent:registered' && typeof e.data.did === 'string') this.onRegistered(e.data.did)
    })
    this.kick()
  }

  /** Stop retrying (the outbox stays on disk). */
  async stop(): Promise<void> {
    this.stopped = true
    this.presence.stop()
    this.unsubscribe?.()
    this.unsubscribe = undefined
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.abort.abort()
    await this.running // its deliveries aborted, the pass ends before the store closes
  }

  /**
   * Keep a committed direct message for delivery; false for a broadcast.
   * A message to an agent of this node is delivered already: its receipt is
   * the node's own.
   */
  enqueue(envelope: MsgEnvelope, id: string = envelopeId(envelope)): boolean {
    if (envelope.to === null) return false
    const now = this.c.clock()
    // an agent of this node has it once it is stored: no receipt from the node to itself, no retry (§10)
    if (this.hostedHere(envelope.to)) {
      this.c.store.messages.markDeliveredHere(id)
      return true
    }
    const row = {
      id,
      to: envelope.to,
      envelope: JSON.stringify(envelope),
      now,
      expiresAt: now + this.c.limits.expiryMs,
    }
    if (this.c.store.outbox.enqueue(row)) setImmediate(() => this.kick()) // after the caller's transaction has committed
    return true
  }

  /** Messages waiting for a receipt. */
  undelivered(): number {
    return this.c.store.outbox.pending()
  }

  /**
   * Where a direct message stands (docs/api.md, `GET /messages/:id`): as its
   * sender's node (the outbox), or as the node hosting its recipient (the
   * receipt it issued); undefined when this node is neither.
   */
  view(id: string): DeliveryView | undefined {
    return deliveryView(this.c.store, id)
  }

  /**
   * A registration arrived: messages waiting for that recipient are due now, not at their backoff; a sender
   * whose delivery was refused as unknown hears this node's presence, so it retries now (docs/protocol.md §10).
   */
  private onRegistered(did: string): void {
    if (this.stopped) return
    if (this.inbound.senderRegistered(did)) this.presence.announce()
    try {
      if (this.c.store.outbox.wakeTo(did, this.c.clock()) > 0) this.kick()
    } catch (err) {
      this.c.onError(err)
    }
  }

  /**
   * The gossip validator of presence announcements (docs/protocol.md §10,
   * the pull): a checked announcement wakes the messages waiting for the
   * agents its peer hosts.
   */
  validatePresence(data: Uint8Array, from: string): ValidationResult {
    return this.presence.validate(data, from)
  }

  /** A peer connected: wake what waits for it, and tell the mesh this node is here (delivery-presence.ts). */
  private onPeerConnect(peerId: string): void {
    if (this.stopped) return
    this.presence.connected()
    try {
      this.wakeFor(peerId)
    } catch (err) {
      this.c.onError(err)
    }
  }

  /** Make the pending messages to agents the registry says `peerId` hosts due now; the count woken. */
  private wakeFor(peerId: string): number {
    const woken = this.c.store.outbox.wakeFor(peerId, this.c.clock())
    if (woken > 0) this.kick()
    return woken
  }

  /** Run an outbox pass now (or right after the running one). */
  private kick(): void {
    if (this.stopped) return
    if (this.running !== undefined) {
      this.again = true
      return
    }
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    let failed = false
    this.running = this.pass()
      .catch((err) => {
        failed = true
        this.c.onError(err)
      })
      .finally(() => {
        this.running = undefined
        if (this.again) {
          this.again = false
          this.kick()
        } else this.schedule(failed)
      })
  }

  /** Sleep until the earliest pending message is due (at least `minBackoffMs` after a failed pass). Never throws. */
  private schedule(afterFailure: boolean): void {
    if (this.stopped) return
    let next: number | undefined
    try {
      next = this.c.store.outbox.nextDueAt()
    } catch (err) {
      this.c.onError(err)
      return
    }
    if (next === undefined) return
    const floor = afterFailure ? this.c.limits.minBackoffMs : 0
    const wait = Math.min(Math.max(floor, next - this.c.clock()), this.c.limits.maxBackoffMs)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.kick()
    }, wait)
    this.timer.unref()
  }

  /** Try every due message: hosts in parallel (bounded), the first message to each alone, then a few at a time. */
  private async pass(): Promise<void> {
    const rows = this.c.store.outbox.due(this.c.clock(), Math.max(1, this.c.limits.batch))
    const byHost = new Map<string, OutboxRow[]>()
    for (const row of rows) {
      const host = this.c.store.agents.get(row.to)?.peerId ?? ''
      byHost.set(host, [...(byHost.get(host) ?? []), row])
    }
    const queue = [...byHost.entries()]
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined && !this.stopped; next = queue.shift()) {
        await this.deliverAll(next[0], next[1])
      }
    }
    const lanes = Math.max(1, Math.min(this.c.limits.concurrency, queue.length))
    await Promise.all(Array.from({ length: lanes }, worker))
  }

  /**
   * Deliver one host's due messages: the first alone (an unreachable host
   * defers the rest to the same backoff without dialling again), then the
   * others `PER_HOST_STREAMS` at a time over the open connection.
   */
  private async deliverAll(host: string, rows: readonly OutboxRow[]): Promise<void> {
    const [first, ...rest] = rows
    if (first === undefined) return
    const down = await this.tryRow(first, host)
    if (down?.unreachable) {
      for (const row of rest) this.retryLater(row, down)
      return
    }
    for (let i = 0; i < rest.length && !this.stopped; i += PER_HOST_STREAMS) {
      await Promise.all(rest.slice(i, i + PER_HOST_STREAMS).map((row) => this.tryRow(row, host)))
    }
  }

  /** Expire, or attempt and schedule the retry of, one row; returns the attempt's failure. */
  private async tryRow(row: OutboxRow, host: string): Promise<Failure | undefined> {
    if (this.stopped) return undefined
    if (row.expiresAt <= this.c.clock()) {
      this.outcomes.expire(row)
      return undefined
    }
    let failure: Failure | undefined
    try {
      failure = await this.attempt(row, host)
    } catch (err) {
      // whatever went wrong (a garbled answer, a store error), the row is rescheduled, never retried in a loop
      failure = { code: 'PEER_ERROR', reason: err instanceof Error ? err.message : String(err) }
    }
    if (failure !== undefined) this.retryLater(row, failure)
    return failure
  }

  /** Schedule the next attempt: `minBackoffMs` doubling per failed attempt, capped, never past the expiry. */
  private retryLater(row: OutboxRow, failure: Failure): void {
    const now = this.c.clock()
    const backoff = Math.min(this.c.limits.maxBackoffMs, this.c.limits.minBackoffMs * 2 ** Math.min(row.attempts, 20))
    this.c.store.outbox.retryAt(row.id, Math.min(now + backoff, row.expiresAt), failure, now)
  }

  /** One delivery attempt; undefined when the message is settled (delivered or refused for good). */
  private async attempt(row: OutboxRow, host: string): Promise<Failure | undefined> {
    const agent = this.c.store.agents.get(row.to)
    if (agent === undefined || host === '') return { code: 'NOT_FOUND', reason: `${row.to} is not in the registry` }
    if (this.hostedHere(row.to)) {
      this.settleLocal(row.id)
      return undefined
    }
    let answer: DeliveryAnswer
    try {
      const data = encodeEnvelope(JSON.parse(row.envelope) as MsgEnvelope)
      const bytes = await this.c.p2p().deliver(host, data, { signal: this.abort.signal })
      const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'))
      if (typeof parsed !== 'object' || parsed === null) throw new MeshsigError('PEER_ERROR', 'not a delivery answer')
      answer = parsed as DeliveryAnswer
    } catch (err) {
      const e = isMeshsigError(err) ? err : new MeshsigError('PEER_ERROR', String(err))
      return { code: e.code, reason: e.message, unreachable: e.code === 'UNREACHABLE' }
    }
    if ('refused' in answer && typeof answer.refused === 'object' && answer.refused !== null) {
      return this.outcomes.refused(row, host, String(answer.refused.code), String(answer.refused.message))
    }
    return this.outcomes.receipt(row, host, agent.controller, (answer as { receipt?: unknown }).receipt)
  }

  /** True when the registry names this node as the host of `to`. */
  private hostedHere(to: string): boolean {
    return this.c.store.agents.hostOf(to) === this.c.p2p().peerId
  }

  /** A queued message whose recipient turned out to be an agent of this node: delivered, it is stored here (§10). */
  private settleLocal(id: string): void {
    this.c.store.outbox.settled(id, { state: 'delivered', receipt: null }, this.c.clock())
  }
}
