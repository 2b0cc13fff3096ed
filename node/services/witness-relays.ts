/**
 * Relays of split-view evidence to peers (docs/audit.md, "Split views,
 * rewrites and evidence"; decision 0066, addendum): one small queue per peer,
 * at most `RELAY_CONCURRENCY` frames in flight to it (well under the 64
 * inbound streams a peer allows per protocol and connection), and a relay is
 * pending until the peer answers 200 (recorded, or held already) or 422 (it
 * proves nothing there): any other answer (429, a failed stream) is retried
 * with a doubling backoff, at most `RELAY_ATTEMPTS` times. Found by the
 * hundredth attack review: relays sent once, all at once, were lost.
 */
import type { MeshP2P } from '../p2p/index.js'

/** Evidence frames in flight to one peer at once. */
export const RELAY_CONCURRENCY = 4
/** Sends of one relay at most (the first and its retries). */
export const RELAY_ATTEMPTS = 6
/** Wait before the first retry (ms), doubled for each next one: 5 s to 80 s, past a serving window. */
export const RELAY_BACKOFF_MS = 5_000
/** Relays waiting for one peer; past it a new one is dropped (they are one per log proven dishonest). */
export const RELAY_PENDING_PER_PEER = 64

interface Relay {
  readonly bytes: Uint8Array
  attempt: number
}

interface PeerQueue {
  readonly waiting: Relay[]
  running: number
}

/** The per-peer queues of evidence relays. */
export class EvidenceRelays {
  private readonly queues = new Map<string, PeerQueue>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private stopped = false

  constructor(
    private readonly p2p: () => MeshP2P,
    private readonly protocol: string,
  ) {}

  /** Queue `bytes` for `peerId`; false when its queue is full. */
  send(peerId: string, bytes: Uint8Array): boolean {
    return this.enqueue(peerId, { bytes, attempt: 0 })
  }

  /** Relays waiting or in flight (all peers). */
  pending(): number {
    let n = this.timers.size
    for (const q of this.queues.values()) n += q.waiting.length + q.running
    return n
  }

  /** Drop every pending relay and retry (the node stops). */
  stop(): void {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.queues.clear()
  }

  private enqueue(peerId: string, relay: Relay): boolean {
    if (this.stopped) return false
    const q = this.queues.get(peerId) ?? { waiting: [], running: 0 }
    if (q.waiting.length + q.running >= RELAY_PENDING_PER_PEER) return false
    this.queues.set(peerId, q)
    q.waiting.push(relay)
    this.pump(peerId, q)
    return true
  }

  private pump(peerId: string, q: PeerQueue): void {
    while (q.running < RELAY_CONCURRENCY && q.waiting.length > 0) {
      const relay = q.waiting.shift()!
      q.running++
      void this.run(peerId, relay).finally(() => {
        q.running--
        if (q.running === 0 && q.waiting.length === 0 && this.queues.get(peerId) === q) this.queues.delete(peerId)
        else this.pump(peerId, q)
      })
    }
  }

  /** Send `relay` once; on an answer other than 200 or 422, schedule the next attempt. */
  private async run(peerId: string, relay: Relay): Promise<void> {
    let status: unknown
    try {
      const answer = await this.p2p().request(peerId, this.protocol, relay.bytes)
      status = (JSON.parse(new TextDecoder().decode(answer)) as { status?: unknown }).status
    } catch {
      status = undefined // a failed stream or a garbled answer: try again
    }
    if (status === 200 || status === 422 || this.stopped) return
    relay.attempt++
    if (relay.attempt >= RELAY_ATTEMPTS) return
    const t = setTimeout(
      () => {
        this.timers.delete(t)
        this.enqueue(peerId, relay)
      },
      RELAY_BACKOFF_MS * 2 ** (relay.attempt - 1),
    )
    t.unref?.()
    this.timers.add(t)
  }
}
