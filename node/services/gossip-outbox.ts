/**
 * Publishing that does not lose what it publishes to a mesh still forming.
 * A gossip publish right after a connection opens can reach nobody (the
 * peer's subscriptions have not arrived yet). The outbox retries such
 * publications until a subscriber takes them or they expire, and a slow
 * anti-entropy loop pulls a random peer's registry now and then for
 * anything gossip still missed.
 */
import type { MeshP2P, Topic } from '../p2p/index.js'

/** How long a publication that reached nobody is retried (ms). */
export const OUTBOX_TTL_MS = 60_000
/** Retry interval of pending publications (ms). */
export const OUTBOX_RETRY_MS = 200
/** Default interval of anti-entropy registry syncs (ms). */
export const ANTI_ENTROPY_MS = 30_000

interface Pending {
  readonly topic: Topic
  readonly data: Uint8Array
  readonly until: number
}

/** Publishes with retry, and runs anti-entropy syncs. */
export class GossipOutbox {
  private pending: Pending[] = []
  private retryTimer: NodeJS.Timeout | undefined
  private entropyTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly p2p: () => MeshP2P,
    private readonly onError: (err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Publish now; keep retrying while connected peers exist but none is subscribed yet. */
  async publish(topic: Topic, data: Uint8Array): Promise<number> {
    let recipients = 0
    try {
      recipients = (await this.p2p().publish(topic, data)).recipients
    } catch (err) {
      this.onError(err)
    }
    if (recipients === 0 && this.p2p().peers().length > 0) {
      this.pending.push({ topic, data, until: this.clock() + OUTBOX_TTL_MS })
      this.retryTimer ??= setInterval(() => void this.retry(), OUTBOX_RETRY_MS)
      this.retryTimer.unref()
    }
    return recipients
  }

  private async retry(): Promise<void> {
    const now = this.clock()
    const still: Pending[] = []
    for (const p of this.pending) {
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
    this.pending = still
    if (still.length === 0 && this.retryTimer) {
      clearInterval(this.retryTimer)
      this.retryTimer = undefined
    }
  }

  /** Every `intervalMs`, pull the registry of one random connected peer through `sync`. */
  startAntiEntropy(sync: (peerId: string) => Promise<unknown>, intervalMs = ANTI_ENTROPY_MS): void {
    this.entropyTimer = setInterval(() => {
      const peers = this.p2p().peers()
      const pick = peers[Math.floor(Math.random() * peers.length)]
      if (pick) void sync(pick.peerId)
    }, intervalMs)
    this.entropyTimer.unref()
  }

  /** Stop retrying and syncing. */
  stop(): void {
    if (this.retryTimer) clearInterval(this.retryTimer)
    if (this.entropyTimer) clearInterval(this.entropyTimer)
    this.retryTimer = this.entropyTimer = undefined
    this.pending = []
  }
}
