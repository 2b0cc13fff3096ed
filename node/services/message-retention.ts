/**
 * How long the message store keeps what it need not keep forever, as one
 * startable with its two timers (docs/protocol.md §3 freshness, issue 9
 * retention):
 * - replay nonces older than 2 × the freshness window are forgotten (a message
 *   that old fails the clock check anyway, so its nonce need not be kept);
 * - relayed traffic (neither from nor to this node's agents) older than the
 *   relay retention (at least that same window) is deleted.
 */
import { intervalTask, type Startable } from '../lifecycle.js'
import type { MessagesRepo } from '../store/index.js'

/** Default interval of replay-cache pruning (ms). */
export const REPLAY_PRUNE_INTERVAL_MS = 60_000

/** What retention needs. */
export interface MessageRetentionComponents {
  /** The two pruning operations of the message store. */
  readonly messages: Pick<MessagesRepo, 'pruneReplay' | 'pruneForeign'>
  readonly clock: () => number
  readonly onError: (err: unknown) => void
  /** The freshness window (ms): nonces are kept for twice it. */
  readonly maxSkewMs: number
  /** Interval of replay pruning (ms, default 60 s). */
  readonly replayPruneIntervalMs?: number
  /** Relay retention (ms) and its pruning interval (node/limits.ts `relay`). */
  readonly relay: { readonly retentionMs: number; readonly pruneIntervalMs: number }
}

/** Prunes the replay cache and relayed traffic on their own intervals while started. */
export class MessageRetention implements Startable {
  private readonly replay: Startable
  private readonly foreign: Startable

  constructor(c: MessageRetentionComponents) {
    const keepMs = 2 * c.maxSkewMs
    const retention = Math.max(c.relay.retentionMs, keepMs)
    this.replay = intervalTask(
      c.replayPruneIntervalMs ?? REPLAY_PRUNE_INTERVAL_MS,
      () => c.messages.pruneReplay(c.clock() - keepMs),
      c.onError,
    )
    this.foreign = intervalTask(
      Math.max(10, c.relay.pruneIntervalMs),
      () => c.messages.pruneForeign(c.clock() - retention),
      c.onError,
    )
  }

  /** Start both prunes. */
  start(): void {
    this.replay.start()
    this.foreign.start()
  }

  /** Stop both (idempotent). */
  stop(): void {
    this.foreign.stop()
    this.replay.stop()
  }
}
