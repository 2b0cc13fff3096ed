/**
 * The ping watch (docs/protocol.md §9, "A failed ping does not end a
 * connection"; decision 0038). libp2p's connection monitor (turned off in
 * libp2p-config.ts) aborts a connection on ONE failed ping, and under CPU
 * load pings stall, so whole meshes churned; without any check, a connection
 * across a cut link would stay until TCP gives up (minutes). The watch is the
 * node's one pinger: it pings each open connection's
 * peer every `intervalMs` and closes the connection only after
 * `maxFailures` failed pings in a row: a dead link goes within about
 * `maxFailures × intervalMs`, a slow minute does not.
 */

import type { Libp2p } from '@libp2p/interface'
import { intervalTask, type Startable } from '../lifecycle.js'
import type { MeshServices } from './libp2p-config.js'

/** One connection as the watch sees it. */
export interface PingedConnection {
  readonly id: string
  readonly remotePeer: string
  /** libp2p's connection status; only `open` ones are pinged. */
  readonly status: string
}

/** What the watch needs from the libp2p node. */
export interface PingWatchComponents {
  /** The node's connections now. */
  connections(): PingedConnection[]
  /** Ping the peer of connection `id` within `timeoutMs`; rejects when it does not answer. */
  ping(id: string, timeoutMs: number): Promise<void>
  /** Abort the connection `id`. */
  abort(id: string): void
}

/** Timing of the watch. */
export interface PingWatchInit {
  /** Time between two rounds of pings (ms). */
  readonly intervalMs: number
  /** How long one ping may take (ms). */
  readonly timeoutMs: number
  /** Failed pings in a row that close a connection. */
  readonly maxFailures: number
}

/** Defaults: a ping every 10 s, 10 s to answer, closed after 3 failures in a row (30–40 s of silence). */
export const DEFAULT_PING_WATCH: PingWatchInit = { intervalMs: 10_000, timeoutMs: 10_000, maxFailures: 3 }

/** Closes connections whose peer stopped answering pings (see the module comment). */
export class PingWatch {
  private readonly failures = new Map<string, number>()
  private readonly inFlight = new Set<string>()
  private readonly rounds: Startable

  constructor(
    private readonly c: PingWatchComponents,
    private readonly init: PingWatchInit = DEFAULT_PING_WATCH,
  ) {
    // a round cannot throw: each ping settles on its own
    this.rounds = intervalTask(
      init.intervalMs,
      () => this.round(),
      () => undefined,
    )
  }

  /** Start pinging. */
  start(): void {
    void this.rounds.start()
  }

  /** Stop pinging; pings under way end on their own. */
  stop(): void {
    void this.rounds.stop()
    this.failures.clear()
  }

  /** One round: a ping for each open connection not already waiting for one (also called by tests). */
  round(): void {
    const open = new Set<string>()
    for (const conn of this.c.connections()) {
      if (conn.status !== 'open') continue
      open.add(conn.id)
      if (!this.inFlight.has(conn.id)) void this.ping(conn)
    }
    for (const id of this.failures.keys()) if (!open.has(id)) this.failures.delete(id)
  }

  private async ping(conn: PingedConnection): Promise<void> {
    this.inFlight.add(conn.id)
    try {
      await this.c.ping(conn.id, this.init.timeoutMs)
      this.failures.delete(conn.id)
    } catch {
      const n = (this.failures.get(conn.id) ?? 0) + 1
      this.failures.set(conn.id, n)
      if (n >= this.init.maxFailures) {
        this.failures.delete(conn.id)
        this.c.abort(conn.id)
      }
    } finally {
      this.inFlight.delete(conn.id)
    }
  }
}

/** The ping watch's view of a libp2p node: its ping service, over the connection's peer. */
export function pingedLibp2p(libp2p: Libp2p<MeshServices>): PingWatchComponents {
  const byId = (id: string) => libp2p.getConnections().find((conn) => conn.id === id)
  return {
    connections: () =>
      libp2p.getConnections().map((conn) => ({
        id: conn.id,
        remotePeer: conn.remotePeer.toString(),
        status: conn.status,
      })),
    ping: async (id, timeoutMs) => {
      const conn = byId(id)
      if (conn === undefined) return
      try {
        await libp2p.services.ping.ping(conn.remotePeer, { signal: AbortSignal.timeout(timeoutMs) })
      } catch (err) {
        // a peer that speaks no ping answered multistream-select: it is alive
        if ((err as Error).name !== 'UnsupportedProtocolError') throw err
      }
    },
    abort: (id) => byId(id)?.abort(new Error('the peer answered no ping for too long (docs/protocol.md §9)')),
  }
}
