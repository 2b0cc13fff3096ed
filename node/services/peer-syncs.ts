/**
 * Registry syncs started by peer events (docs/protocol.md §9): at most one
 * sync per peer in flight, at most one started per interval, triggers inside
 * it coalesced into one follow-up; rounds run one at a time node-wide, each
 * after its peer answered a first exchange, holding the turn in slices
 * (node/services/sync-turns.ts).
 * Gossip that triggers a sync (an unknown signer) is free to forge, so its
 * triggers cannot multiply syncs.
 */
import type { SyncResult } from './sync.js'
import type { SyncClient } from './sync-client.js'
import { SyncTurns } from './sync-turns.js'

/**
 * Least time between two registry syncs with one peer (ms). A sync pulls the
 * peer's whole registry: triggers inside the interval are coalesced into one
 * follow-up sync after it.
 */
export const MIN_SYNC_INTERVAL_MS = 5_000

/** What a sync with a converged peer found: nothing to move. */
const CONVERGED: SyncResult = Object.freeze({ accepted: 0, duplicates: 0, rejected: 0, held: 0, bytes: 0, passes: 0 })

/** What the sync scheduler needs. */
export interface PeerSyncsComponents {
  /** Reconciliation rounds; none: syncs do nothing. */
  readonly sync?: Pick<SyncClient, 'probe' | 'round' | 'isBanned' | 'sliceMs'>
  /** Least time between two syncs started with one peer (ms, default `MIN_SYNC_INTERVAL_MS`). */
  readonly minSyncIntervalMs?: number
  readonly onError: (err: unknown) => void
}

/** Sync bookkeeping of one peer. */
interface PeerSync {
  /** When the latest sync with the peer started (Date.now ms). */
  lastStart: number
  /** The sync in flight, if any (never rejects). */
  running: Promise<SyncResult | undefined> | undefined
  /** The one follow-up sync scheduled after the interval, if any. */
  followUp: Promise<SyncResult | undefined> | undefined
  timer: NodeJS.Timeout | undefined
  wake: (() => void) | undefined
}

/** Coalesced, serialised registry syncs with the node's peers. */
export class PeerSyncs {
  private readonly syncs = new Map<string, PeerSync>()
  private readonly turns: SyncTurns
  private stopped = false

  /** True from `stop()` until `start()`. */
  get isStopped(): boolean {
    return this.stopped
  }

  constructor(private readonly c: PeerSyncsComponents) {
    this.turns = new SyncTurns(c.sync !== undefined ? { sliceMs: c.sync.sliceMs } : {})
  }

  private get interval(): number {
    return this.c.minSyncIntervalMs ?? MIN_SYNC_INTERVAL_MS
  }

  /**
   * Pull and apply a peer's registry state; errors are reported, not thrown.
   * A call inside the interval (or while one runs) shares the one follow-up
   * sync scheduled after it, so a genuine gap is still filled.
   */
  syncFrom(peerId: string): Promise<SyncResult | undefined> {
    if (this.stopped) return Promise.resolve(undefined)
    let s = this.syncs.get(peerId)
    if (s === undefined) {
      s = { lastStart: -Infinity, running: undefined, followUp: undefined, timer: undefined, wake: undefined }
      this.syncs.set(peerId, s)
    }
    if (s.followUp !== undefined) return s.followUp
    const wait = s.lastStart + this.interval - Date.now()
    if (s.running === undefined && wait <= 0) return this.runSync(peerId, s)
    s.followUp = this.followUp(peerId, s, Math.max(0, wait))
    return s.followUp
  }

  /** Startable (node/lifecycle.ts): syncs run again. */
  start(): void {
    this.stopped = false
    this.turns.start()
  }

  /** Cancel scheduled follow-up syncs (they resolve undefined); later calls do nothing until `start()`. */
  stop(): void {
    this.stopped = true
    this.turns.stop()
    for (const s of this.syncs.values()) {
      if (s.timer !== undefined) clearTimeout(s.timer)
      s.wake?.()
    }
  }

  /** The coalesced sync: after `delay` ms and once the running one finished. */
  private async followUp(peerId: string, s: PeerSync, delay: number): Promise<SyncResult | undefined> {
    await new Promise<void>((resolve) => {
      s.wake = resolve
      s.timer = setTimeout(resolve, delay)
      s.timer.unref()
    })
    s.timer = undefined
    s.wake = undefined
    while (s.running !== undefined) await s.running
    s.followUp = undefined
    return this.stopped ? undefined : this.runSync(peerId, s)
  }

  private runSync(peerId: string, s: PeerSync): Promise<SyncResult | undefined> {
    s.lastStart = Date.now()
    const run = this.pull(peerId).finally(() => {
      if (s.running === run) s.running = undefined
      if (s.running === undefined && s.followUp === undefined) this.forgetIdle(peerId, s)
    })
    s.running = run
    return run
  }

  /** Drop a peer's bookkeeping once its interval passed with nothing pending (the map stays small). */
  private forgetIdle(peerId: string, s: PeerSync): void {
    const t = setTimeout(() => {
      if (this.syncs.get(peerId) === s && s.running === undefined && s.followUp === undefined) this.syncs.delete(peerId)
    }, this.interval)
    t.unref()
  }

  /**
   * One reconciliation round; rounds run one at a time node-wide, so a join
   * pulls the registry once. Its first exchange comes first, outside that
   * queue: a converged peer needs no turn, and one that does not answer
   * (peer ids cost nothing) never holds the turn of another. A round that
   * runs holds the turn in slices: a slow one queues again while others
   * pull (docs/protocol.md §9).
   */
  private async pull(peerId: string): Promise<SyncResult | undefined> {
    const sync = this.c.sync
    if (sync === undefined || sync.isBanned(peerId)) return undefined
    try {
      const probe = await sync.probe(peerId)
      if (probe !== 'differs') return probe === 'same' ? CONVERGED : undefined
      return await this.turns.run((slice) =>
        this.stopped || sync.isBanned(peerId) ? Promise.resolve(undefined) : sync.round(peerId, slice),
      )
    } catch (err) {
      this.c.onError(err)
      return undefined
    }
  }
}
