/**
 * The identify watch (docs/protocol.md §9, "Connections gossip never
 * attached to"). Gossipsub opens one stream each way per peer, when libp2p
 * tells it of the peer after identify, and never again while a connection
 * stays open. Two ways this leaves an open connection that carries no
 * gossip, seen on a loaded machine: libp2p runs identify once per
 * connection, with a 5 s deadline, and drops its error, so gossipsub never
 * hears of the peer; and a peer that dropped us from its router (and closed
 * its end) while the connection stayed keeps writing into a stream nobody
 * reads. Sync still fills the registry; broadcasts never cross.
 *
 * Every `sweepMs` the watch looks at the open connections older than
 * `graceMs` whose peer lacks a gossip stream in either direction. It runs
 * identify again (which makes gossipsub open its outbound stream), up to
 * `maxAttempts` times, `graceMs` apart; a connection still without both
 * streams after that is closed, so that the peer (or the bootstrap keeper)
 * dials one on which both ends start afresh. A peer that identifies but
 * speaks no gossipsub is left alone.
 */

import type { Libp2p } from '@libp2p/interface'
import { intervalTask, type Startable } from '../lifecycle.js'
import type { MeshServices } from './libp2p-config.js'

/** One connection as the watch sees it. */
export interface WatchedConnection {
  readonly id: string
  readonly remotePeer: string
  /** libp2p's connection status; only `open` ones are looked at. */
  readonly status: string
  /** When the connection opened (ms, the clock's time base). */
  readonly openedAt: number
}

/** What the watch needs from the libp2p node. */
export interface IdentifyWatchComponents {
  /** The node's connections now. */
  connections(): WatchedConnection[]
  /** True when gossipsub has a stream to `peerId` and one from it. */
  hasGossipStreams(peerId: string): boolean
  /** Run identify on the connection `id`; resolves true when the peer speaks gossipsub. */
  identify(id: string): Promise<boolean>
  /** Close the connection `id`. */
  close(id: string): Promise<void>
  /** Now, in ms (the time base of `openedAt`). */
  readonly clock: () => number
}

/** Timing of the watch (ms). */
export interface IdentifyWatchInit {
  /** Time between two sweeps. */
  readonly sweepMs: number
  /** Age of a connection before it is looked at (longer than identify's own 5 s deadline). */
  readonly graceMs: number
  /** Identify runs on one broken connection before it is closed. */
  readonly maxAttempts: number
}

/** Defaults: a sweep every 5 s; connections older than 10 s; three attempts 10 s apart, then a close. */
export const DEFAULT_IDENTIFY_WATCH: IdentifyWatchInit = { sweepMs: 5_000, graceMs: 10_000, maxAttempts: 3 }

interface Attempts {
  count: number
  nextAt: number
  /** The peer speaks no gossipsub: nothing to repair. */
  done: boolean
}

/** Re-identifies connections that gossip never attached to (see the module comment). */
export class IdentifyWatch {
  private readonly tracked = new Map<string, Attempts>()
  private readonly inFlight = new Set<string>()
  private readonly sweeps: Startable

  constructor(
    private readonly c: IdentifyWatchComponents,
    private readonly init: IdentifyWatchInit = DEFAULT_IDENTIFY_WATCH,
  ) {
    // a sweep cannot throw: each attempt settles on its own
    this.sweeps = intervalTask(
      init.sweepMs,
      () => this.sweep(),
      () => undefined,
    )
  }

  /** Start sweeping. */
  start(): void {
    void this.sweeps.start()
  }

  /** Stop sweeping; attempts under way end on their own. */
  stop(): void {
    void this.sweeps.stop()
    this.tracked.clear()
  }

  /** One pass over the open connections (also called by tests). */
  sweep(): void {
    const now = this.c.clock()
    const open = new Set<string>()
    for (const conn of this.c.connections()) {
      if (conn.status !== 'open') continue
      open.add(conn.id)
      if (now - conn.openedAt < this.init.graceMs || this.inFlight.has(conn.id)) continue
      if (this.c.hasGossipStreams(conn.remotePeer)) {
        this.tracked.delete(conn.id) // attached (again): a later break starts a fresh count
        continue
      }
      const a = this.tracked.get(conn.id) ?? { count: 0, nextAt: now, done: false }
      this.tracked.set(conn.id, a)
      if (a.done || now < a.nextAt) continue
      a.nextAt = now + this.init.graceMs
      if (a.count >= this.init.maxAttempts) {
        a.done = true
        void this.c.close(conn.id).catch(() => undefined)
        continue
      }
      a.count += 1
      void this.attempt(conn.id, a)
    }
    for (const id of this.tracked.keys()) if (!open.has(id)) this.tracked.delete(id)
  }

  private async attempt(id: string, a: Attempts): Promise<void> {
    this.inFlight.add(id)
    try {
      // a peer that identifies without gossipsub will never have a stream: nothing more to do
      if (!(await this.c.identify(id))) a.done = true
    } catch {
      // counted as an attempt: a connection identify keeps failing on is closed like any other
    } finally {
      this.inFlight.delete(id)
    }
  }
}

/** The identify watch's view of a libp2p node. */
export function watchedLibp2p(libp2p: Libp2p<MeshServices>): IdentifyWatchComponents {
  const byId = (id: string) => libp2p.getConnections().find((conn) => conn.id === id)
  const pubsub = libp2p.services.pubsub
  const gossip = new Set(pubsub.protocols)
  // the implementation's maps of streams (not in the GossipSub interface); its peers as a fallback
  const streams = pubsub as unknown as {
    streamsOutbound?: ReadonlyMap<string, unknown>
    streamsInbound?: ReadonlyMap<string, unknown>
  }
  const { streamsOutbound: outbound, streamsInbound: inbound } = streams
  return {
    connections: () =>
      libp2p.getConnections().map((conn) => ({
        id: conn.id,
        remotePeer: conn.remotePeer.toString(),
        status: conn.status,
        openedAt: conn.timeline.open,
      })),
    hasGossipStreams: (peerId) =>
      outbound !== undefined && inbound !== undefined
        ? outbound.has(peerId) && inbound.has(peerId)
        : pubsub.getPeers().some((p) => p.toString() === peerId),
    identify: async (id) => {
      const conn = byId(id)
      if (conn === undefined) return false
      const { protocols } = await libp2p.services.identify.identify(conn)
      return protocols.some((p) => gossip.has(p))
    },
    close: async (id) => {
      await byId(id)?.close()
    },
    clock: () => Date.now(),
  }
}
