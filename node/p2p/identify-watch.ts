/**
 * The identify watch (docs/protocol.md §9, "Connections that never
 * identified"): libp2p runs identify once when a connection opens, with a
 * 5 s deadline, and drops its error. A connection whose identify failed (a
 * loaded machine, a slow link) stays open but gossipsub and the DHT never
 * hear of its peer: no gossip stream is opened over it, in either direction,
 * so broadcasts and registry gossip never cross it, and nothing says so.
 *
 * Every `sweepMs` the watch looks at the open connections older than
 * `graceMs`; for one whose peer has no outbound gossip stream it runs
 * identify again (which makes gossipsub open its stream), at most
 * `maxAttempts` times per connection with a doubling delay. A connection
 * whose identify failed every time is closed, so that the peer (or the
 * bootstrap keeper) dials a working one; a peer that identifies but speaks
 * no gossipsub is left alone.
 */

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
  connections(): WatchedConnection[]
  /** True when gossipsub has an outbound stream to `peerId`. */
  hasGossipStream(peerId: string): boolean
  /** Run identify on the connection `id`; resolves true when the peer speaks gossipsub. */
  identify(id: string): Promise<boolean>
  /** Close the connection `id`. */
  close(id: string): Promise<void>
  readonly clock: () => number
}

/** Timing of the watch (ms). */
export interface IdentifyWatchInit {
  readonly sweepMs: number
  /** Age of a connection before it is looked at (longer than identify's own 5 s deadline). */
  readonly graceMs: number
  readonly maxAttempts: number
}

/** Defaults: a sweep every 5 s; connections older than 10 s; three attempts 10, 20 and 40 s apart. */
export const DEFAULT_IDENTIFY_WATCH: IdentifyWatchInit = { sweepMs: 5_000, graceMs: 10_000, maxAttempts: 3 }

interface Attempts {
  count: number
  nextAt: number
  failed: number
  done: boolean
}

/** Re-identifies connections that gossip never attached to (see the module comment). */
export class IdentifyWatch {
  private readonly tracked = new Map<string, Attempts>()
  private timer: NodeJS.Timeout | undefined
  private readonly inFlight = new Set<string>()

  constructor(
    private readonly c: IdentifyWatchComponents,
    private readonly init: IdentifyWatchInit = DEFAULT_IDENTIFY_WATCH,
  ) {}

  /** Start sweeping. */
  start(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.sweep(), this.init.sweepMs)
    this.timer.unref()
  }

  /** Stop sweeping; attempts under way end on their own. */
  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
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
      if (this.c.hasGossipStream(conn.remotePeer)) continue
      const a = this.tracked.get(conn.id) ?? { count: 0, nextAt: now, failed: 0, done: false }
      this.tracked.set(conn.id, a)
      if (a.done || now < a.nextAt) continue
      a.count += 1
      a.nextAt = now + this.init.graceMs * 2 ** a.count
      a.done = a.count >= this.init.maxAttempts
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
      a.failed += 1
      if (a.failed >= this.init.maxAttempts) await this.c.close(id).catch(() => undefined)
    } finally {
      this.inFlight.delete(id)
    }
  }
}
