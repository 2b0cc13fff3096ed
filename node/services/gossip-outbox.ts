/**
 * Publishing that does not lose what it publishes to a mesh still forming.
 * A gossip publish right after a connection opens can reach nobody (the
 * peer's subscriptions have not arrived yet). The outbox retries such
 * publications until a subscriber takes them or they expire, and a slow
 * anti-entropy loop pulls a random peer's registry now and then for
 * anything gossip still missed.
 */
import type { MeshP2P, Topic } from '../p2p/index.js'

/** The part of the mesh the outbox uses: publish, connected peers, subscribers of a topic. */
export type OutboxP2P = Pick<MeshP2P, 'publish' | 'peers' | 'subscribers'>

/** What the outbox needs from the node. */
export interface GossipOutboxComponents {
  /** The mesh (called each time: the node creates it after the outbox). */
  readonly p2p: () => OutboxP2P
  /** Reports a failed publish (the outbox never throws it). */
  readonly onError: (err: unknown) => void
  readonly clock?: () => number
  /** Uniform in [0, 1): picks the anti-entropy peer. */
  readonly random?: () => number
  /** Most publications waiting for a subscriber (default `OUTBOX_MAX_PENDING`). */
  readonly maxPending?: number
  /** The anti-entropy loop `start()` runs: pull one random peer's registry every `intervalMs` (default 30 s). */
  readonly antiEntropy?: {
    readonly sync: (peerId: string) => Promise<unknown>
    readonly intervalMs?: number | undefined
  }
}

/** How long a publication that reached nobody is retried (ms). */
export const OUTBOX_TTL_MS = 60_000
/** Retry interval of pending publications (ms). */
export const OUTBOX_RETRY_MS = 200
/** Default interval of anti-entropy registry syncs (ms). */
export const ANTI_ENTROPY_MS = 30_000
/**
 * Most publications waiting for a subscriber. Past it the oldest is dropped:
 * a lost publication is not lost state, anti-entropy sync pulls it later
 * (docs/protocol.md §9).
 */
export const OUTBOX_MAX_PENDING = 1024

interface Pending {
  readonly topic: Topic
  readonly data: Uint8Array
  readonly until: number
}

/** Publishes with retry, and runs anti-entropy syncs (a Startable: node/lifecycle.ts). */
export class GossipOutbox {
  /** After `stop()`: no new publication is kept and none is retried until `start()` (no timer comes back). */
  private stopped = false
  private pending: Pending[] = []
  private retryTimer: NodeJS.Timeout | undefined
  private entropyTimer: NodeJS.Timeout | undefined
  private droppedCount = 0
  private readonly p2p: () => OutboxP2P
  private readonly clock: () => number

  constructor(private readonly c: GossipOutboxComponents) {
    this.p2p = c.p2p
    this.clock = c.clock ?? Date.now
  }

  /**
   * Publish now; keep retrying while connected peers exist but none is
   * subscribed yet. With no peer at all nothing is built or signed (a
   * StrictSign signature per publication): there is nobody to send it to,
   * and registry state reaches later peers by sync (docs/protocol.md §9).
   */
  async publish(topic: Topic, data: Uint8Array): Promise<number> {
    if (this.p2p().peers().length === 0) return 0
    let recipients = 0
    try {
      recipients = (await this.p2p().publish(topic, data)).recipients
    } catch (err) {
      this.c.onError(err)
    }
    if (recipients === 0 && !this.stopped && this.p2p().peers().length > 0) {
      this.pending.push({ topic, data, until: this.clock() + OUTBOX_TTL_MS })
      this.bound()
      this.armRetry()
    }
    return recipients
  }

  /** Publications waiting for a subscriber. */
  pendingCount(): number {
    return this.pending.length
  }

  /** Publications dropped because the outbox was full (oldest first). */
  dropped(): number {
    return this.droppedCount
  }

  /** Keep at most `maxPending` waiting publications, dropping the oldest. */
  private bound(): void {
    const over = this.pending.length - (this.c.maxPending ?? OUTBOX_MAX_PENDING)
    if (over <= 0) return
    this.pending.splice(0, over)
    this.droppedCount += over
  }

  /** Retry the waiting publications now (the retry timer calls this); expired ones are dropped. */
  async retry(): Promise<void> {
    if (this.stopped) return
    const now = this.clock()
    const still: Pending[] = []
    const batch = this.pending
    this.pending = [] // publications queued while this retry awaits are kept after it
    for (const p of batch) {
      if (p.until < now) continue
      if (this.p2p().subscribers(p.topic).length === 0) {
        still.push(p)
        continue
      }
      const reached = await this.p2p()
        .publish(p.topic, p.data)
        .then((r) => r.recipients)
        .catch(() => 0)
      if (reached === 0) still.push(p)
    }
    this.pending = [...still, ...this.pending]
    this.bound()
    if (this.pending.length === 0 && this.retryTimer) {
      clearInterval(this.retryTimer)
      this.retryTimer = undefined
    }
  }

  /** Every `intervalMs`, pull the registry of one random connected peer through `sync`. */
  startAntiEntropy(sync: (peerId: string) => Promise<unknown>, intervalMs = ANTI_ENTROPY_MS): void {
    this.entropyTimer = setInterval(() => {
      const peers = this.p2p().peers()
      const pick = peers[Math.floor((this.c.random ?? Math.random)() * peers.length)]
      if (pick) void sync(pick.peerId)
    }, intervalMs)
    this.entropyTimer.unref()
  }

  /** Start the anti-entropy loop of the components, if any, and retry what a stop left queued. */
  start(): void {
    this.stopped = false
    const ae = this.c.antiEntropy
    if (ae !== undefined && this.entropyTimer === undefined) this.startAntiEntropy(ae.sync, ae.intervalMs)
    if (this.pending.length > 0) this.armRetry()
  }

  /** Retry what is pending every `OUTBOX_RETRY_MS`, until nothing is (`retry` disarms it). */
  private armRetry(): void {
    this.retryTimer ??= setInterval(() => void this.retry(), OUTBOX_RETRY_MS)
    this.retryTimer.unref()
  }

  /**
   * Stop retrying and syncing; idempotent. What is queued stays (bounded, and
   * expiring) for a later `start()`: the node stops the outbox to move its mesh
   * to a rotated key (docs/protocol.md §2) and starts it again on the new one.
   */
  stop(): void {
    this.stopped = true
    if (this.retryTimer) clearInterval(this.retryTimer)
    if (this.entropyTimer) clearInterval(this.entropyTimer)
    this.retryTimer = this.entropyTimer = undefined
  }
}
