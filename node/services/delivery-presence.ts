/**
 * The pull of direct delivery (docs/protocol.md §10, "The pull"; decision
 * 0020): a node that starts, or finds a peer after having had none, gossips
 * a presence announcement signed by its node key on `meshsig/v1/presence`.
 * Every node that takes it makes its pending outbox rows for agents whose
 * registration names that peer as host due at once, so what waited for the
 * returning node is delivered now, also by senders not connected to it.
 *
 * Bounds: a node announces at most once per `presenceIntervalMs`; a node
 * takes (and so relays) at most one announcement per announcing peer per
 * interval, newer than the last it took and within the clock window (both
 * checked first, so a replayed old frame spends nothing), charged before the
 * signature is checked to the peer whose key signed the gossip frame (no one
 * can spend another peer's budget). Waking only moves the time of
 * deliveries that were due anyway, to the registered host alone.
 */
import {
  encodePresence,
  isMeshsigError,
  peerIdFromPublicKey,
  signPresence,
  checkPresenceSignature,
  parsePresence,
  type KeyPair,
  type Presence,
} from '../core/index.js'
import type { ValidationResult } from '../p2p/index.js'

/** What the pull needs from the node. */
export interface DeliveryPresenceComponents {
  readonly clock: () => number
  readonly nodeKey: () => KeyPair
  /** The PeerId the mesh runs under (it follows a rotated node key once the mesh has moved, docs/protocol.md §2). */
  readonly peerId: () => string
  /** True when this node hosts some agent (a node hosting none has nothing to pull). */
  readonly hostsAgents: () => boolean
  /** The clock window of a presence's `ts` (ms). */
  readonly maxSkewMs: number
  /** Least time between two announcements sent, and between two taken from one peer (ms). */
  readonly intervalMs: number
  /**
   * How long after (re)joining every new connection is told again (ms,
   * coalesced by the interval): the first peers may relay nothing (a node
   * older than the topic, a rogue), and an announcement that reached one
   * subscriber is not retried by the gossip outbox.
   */
  readonly settleMs: number
  /** Long after joining, least time between two announcements that new connections make (ms). */
  readonly repeatMs: number
  /** Most announcing peers remembered at once (past it, new ones wait for the interval). */
  readonly trackedPeers: number
  /** Gossip the announcement (retried while the mesh forms). */
  readonly publish: (data: Uint8Array) => Promise<unknown>
  /** Make the pending messages to agents hosted by `peerId` due now; the count woken. */
  readonly wake: (peerId: string) => number
  readonly onError: (err: unknown) => void
}

/** What this node took from one announcing peer. */
interface Seen {
  /** When its latest announcement was charged (this node's clock). */
  at: number
  /** The `ts` of the latest announcement taken. */
  ts: number
}

/** Codes of an announcement that is a forgery (the delivering peer is penalised). */
const FORGED = new Set(['MALFORMED', 'KEY_MISMATCH', 'SIGNATURE_INVALID', 'INVALID_KEY'])

/** Sends and takes presence announcements. */
export class DeliveryPresence {
  private lastSent = -Infinity
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  /** No peer connected: the next connection announces this node. */
  private alone = true
  /** When this node last went from no peer to some. */
  private joinedAt = -Infinity
  private readonly seen = new Map<string, Seen>()

  constructor(private readonly c: DeliveryPresenceComponents) {}

  /**
   * A peer connected. The first after none hears this node's presence, and
   * so do the next ones within `settleMs`; later, a new connection
   * (a partition healing around a node that kept some peers) announces at
   * most once per `repeatMs`.
   */
  connected(): void {
    const now = this.c.clock()
    if (this.alone) {
      this.alone = false
      this.joinedAt = now
      this.announce()
    } else if (now - this.joinedAt < this.c.settleMs || now - this.lastSent >= this.c.repeatMs) this.announce()
  }

  /** A peer left; `count` peers are still connected. */
  disconnected(count: number): void {
    if (count === 0) this.alone = true
  }

  /** Announce this node now, or once the interval since the last announcement has passed (coalesced). */
  announce(): void {
    if (this.stopped || this.timer !== undefined) return
    const wait = this.lastSent + this.c.intervalMs - this.c.clock()
    if (wait <= 0) return this.send()
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.send()
    }, wait)
    this.timer.unref()
  }

  private send(): void {
    if (this.stopped) return
    this.lastSent = this.c.clock()
    try {
      const key = this.c.nodeKey()
      // after a rotation of the node key, until the mesh has moved, the gossip signer is the old PeerId: peers
      // would reject an announcement naming the new one (and penalise this node), so there is none
      if (peerIdFromPublicKey(key.publicKey) !== this.c.peerId() || !this.c.hostsAgents()) return
      const data = encodePresence(signPresence(key, this.lastSent))
      void this.c.publish(data).catch((err) => this.c.onError(err))
    } catch (err) {
      this.c.onError(err)
    }
  }

  /**
   * The gossip validator of `meshsig/v1/presence`: 'accept' (relay it) once
   * the announcement of `from` is checked and its hosted messages are woken;
   * 'ignore' past its budget, stale or replayed; 'reject' for a forgery.
   */
  validate(data: Uint8Array, from: string): ValidationResult {
    if (this.stopped) return 'ignore'
    let presence: Presence
    try {
      presence = parsePresence(data, from)
    } catch (err) {
      return isMeshsigError(err) && FORGED.has(err.code) ? 'reject' : 'ignore'
    }
    // stale or replayed (a genuine old frame passed on again) before the budget: a replay cannot spend it
    const last = this.seen.get(from)?.ts ?? -Infinity
    if (Math.abs(presence.ts - this.c.clock()) > this.c.maxSkewMs || presence.ts <= last) return 'ignore'
    const seen = this.charge(from)
    if (seen === undefined) return 'ignore'
    try {
      checkPresenceSignature(presence)
    } catch {
      return 'reject'
    }
    seen.ts = presence.ts
    try {
      this.c.wake(from)
    } catch (err) {
      this.c.onError(err)
    }
    return 'accept'
  }

  /** Count an announcement against its peer's interval; undefined when over it or too many peers are tracked. */
  private charge(peer: string): Seen | undefined {
    const now = this.c.clock()
    const seen = this.seen.get(peer)
    if (seen !== undefined) {
      if (now - seen.at < this.c.intervalMs) return undefined
      seen.at = now
      return seen
    }
    if (this.seen.size >= this.c.trackedPeers) this.forgetOld(now)
    if (this.seen.size >= this.c.trackedPeers) return undefined
    const fresh = { at: now, ts: -Infinity }
    this.seen.set(peer, fresh)
    return fresh
  }

  /** Forget peers whose interval has passed (their replay guard is then the clock window alone). */
  private forgetOld(now: number): void {
    for (const [peer, s] of this.seen) if (now - s.at >= this.c.intervalMs) this.seen.delete(peer)
  }

  /** Stop announcing and taking announcements. */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Take announcements (again); with `peerCount` peers connected already, announce this node now. */
  start(peerCount: number): void {
    this.stopped = false
    this.alone = true
    if (peerCount > 0) this.connected()
  }
}
