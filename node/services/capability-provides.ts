/**
 * What this node announces on the DHT for capability discovery
 * (docs/protocol.md §9, "Capability discovery"; decision 0059): the
 * capability types of its active own agents (custodied or hosted here), at
 * most `limits.discovery.providedTypes` of them, its oldest agents' first,
 * provided through one queue `limits.discovery.provideConcurrency` at a time.
 * A type no active own agent holds any more is withdrawn: the DHT no longer
 * re-provides it. On new connections (debounced) the current set is
 * provided again through the same queue.
 */
import type { DiscoveryLimits } from '../limits.js'
import type { NodeEvent, NodeEvents } from '../events.js'
import type { MeshP2P } from '../p2p/index.js'
import type { AgentsRepo } from '../store/index.js'

/** Delay between a new peer connecting and providing the current set again (ms). */
export const REPROVIDE_DEBOUNCE_MS = 1_000
/** Least time between two re-announcements made by connections (ms), so churn cannot flood the DHT. */
export const REPROVIDE_MIN_INTERVAL_MS = 30_000
/** Longest time a re-announcement goes on with kept counts before it counts the set from the store again (ms). */
export const RECOUNT_MS = 60 * 60_000

/** What the announcements need from the node. */
export interface CapabilityProvidesComponents {
  /**
   * This node's agents: `ownActiveTypeCounts` for the whole set (at start, when types were left out and a
   * slot freed, at most hourly with a re-announcement), `get` for the agent of an event.
   */
  readonly agents: Pick<AgentsRepo, 'get' | 'ownActiveTypeCounts'>
  readonly events: Pick<NodeEvents, 'subscribe'>
  readonly p2p: () => Pick<MeshP2P, 'provideCapability' | 'withdrawCapability'>
  readonly limits: Pick<DiscoveryLimits, 'providedTypes' | 'provideConcurrency'>
  /** The node's DID: the controller its own agents' registrations name. */
  readonly nodeDid: () => string
  /** One warning when types are past the bound (not one per registration). */
  readonly warn: (message: string) => void
  readonly onError: (err: unknown) => void
}

/** How many types are announced, waiting or in flight, and how many are left out by the bound. */
export interface ProvidesView {
  /** Distinct types this node provides (announced, waiting in the queue or in flight). */
  readonly provided: number
  /** Provides waiting in the queue. */
  readonly queued: number
  /** Provides in flight. */
  readonly running: number
  /**
   * Types of active own agents not announced, past `providedTypes`: exact at each count from the store;
   * registrations since add the types they brought past it (so a type may be counted more than once).
   */
  readonly leftOut: number
}

/** The bounded set of provided capability types, and the queue that provides them. */
export class CapabilityProvides {
  /**
   * The types announced (or waiting, or in flight), at most
   * `limits.providedTypes`, each with how many own active agents hold it:
   * counted at each full count, then kept by the events (a renewal of an
   * agent counts its types again, so a count may run high until the next
   * full count: a type then stays announced a while, never leaves early).
   */
  private readonly announced = new Map<string, number>()
  private readonly queue: string[] = []
  private readonly queued = new Set<string>()
  private running = 0
  /** Bumped by `stop`: provides of an earlier mesh no longer count against the queue. */
  private epoch = 0
  private started = false
  private leftOut = 0
  private warned = false
  private recountScheduled = false
  private reprovideTimer: NodeJS.Timeout | undefined
  private lastReprovide = -Infinity
  /** When the set was last counted from the store (any reason). */
  private lastRecount = -Infinity
  /** When a freed slot last had the set counted (those are at most every `REPROVIDE_MIN_INTERVAL_MS`). */
  private lastFreedRecount = -Infinity

  constructor(private readonly c: CapabilityProvidesComponents) {
    c.events.subscribe((e) => this.onEvent(e))
  }

  /** Start announcing (Startable, once the mesh is up; again on a new libp2p node after a move to a new key). */
  start(): void {
    this.started = true
    this.announced.clear()
    this.recount()
    this.pump()
  }

  /** Stop announcing: the queue is emptied, a pending re-announcement dropped; `start` begins afresh. */
  stop(): void {
    this.started = false
    this.epoch += 1
    this.running = 0
    this.queue.length = 0
    this.queued.clear()
    clearTimeout(this.reprovideTimer)
    this.reprovideTimer = undefined
  }

  /** A peer connected: provide the current set again, debounced, at most once per `REPROVIDE_MIN_INTERVAL_MS`. */
  peerConnected(): void {
    if (!this.started || this.reprovideTimer !== undefined) return
    const delay = Math.max(REPROVIDE_DEBOUNCE_MS, this.lastReprovide + REPROVIDE_MIN_INTERVAL_MS - Date.now())
    this.reprovideTimer = setTimeout(() => {
      this.reprovideTimer = undefined
      this.lastReprovide = Date.now()
      this.reprovide()
    }, delay)
    this.reprovideTimer.unref()
  }

  /**
   * The current set, all of it queued again; counted again from the store
   * first when the last full count is older than `RECOUNT_MS` (a count reads
   * every own agent's capabilities: at every re-announcement it cost seconds
   * of the event loop with tens of thousands of own agents; review 86).
   */
  reprovide(): void {
    if (!this.started) return
    if (Date.now() - this.lastRecount >= RECOUNT_MS) this.recount()
    for (const type of this.announced.keys()) this.enqueue(type)
    this.pump()
  }

  /** The types provided now, in announcement order. */
  types(): string[] {
    return [...this.announced.keys()]
  }

  /** Counts of the set and the queue. */
  view(): ProvidesView {
    return { provided: this.announced.size, queued: this.queue.length, running: this.running, leftOut: this.leftOut }
  }

  /**
   * A registration of an own agent adds its types; a revocation of one
   * withdraws those of its types no other own active agent holds (by the
   * counts kept, no read of the store: probing the store walked every
   * revoked holder of a type; review 90), and counts the set again only when
   * types were left out and a slot freed.
   */
  private onEvent(e: NodeEvent): void {
    if (e.type === 'agent:registered') {
      if (e.data.controller !== this.c.nodeDid() || this.ownRow(e.data.did) === undefined) return
      this.add(new Set(e.data.capabilities.map((cap) => cap.type)))
      this.pump()
    } else if (e.type === 'agent:revoked') {
      const row = this.ownRow(e.data.did)
      if (row !== undefined) this.released(row.capabilities.map((cap) => cap.type))
    }
  }

  /** The stored row of `did` when it is one of this node's own agents. */
  private ownRow(did: string): ReturnType<AgentsRepo['get']> {
    try {
      const row = this.c.agents.get(did)
      return row?.origin === 'local' ? row : undefined
    } catch (err) {
      this.c.onError(err) // the store is closed once the node stopped
      return undefined
    }
  }

  /** A revoked own agent's `types`: withdraw those no own active agent holds any more. */
  private released(types: readonly string[]): void {
    let freed = false
    for (const type of new Set(types)) {
      const holders = this.announced.get(type)
      if (holders === undefined) continue
      if (holders > 1) {
        this.announced.set(type, holders - 1)
        continue
      }
      this.withdraw(type)
      freed = true
    }
    if (freed && this.leftOut > 0) this.scheduleRecount() // a slot freed: the next oldest types may take it
    this.pump()
  }

  /** Add one holder of each of `types` (`holders` each, from a full count); past the bound they are counted and warned of once. */
  private add(types: Iterable<string>, holders: (type: string) => number = () => 1): void {
    let left = 0
    for (const type of types) {
      const held = this.announced.get(type)
      if (held !== undefined) {
        this.announced.set(type, held + holders(type))
        continue
      }
      if (this.announced.size >= this.c.limits.providedTypes) {
        left += 1
        continue
      }
      this.announced.set(type, holders(type))
      this.enqueue(type)
    }
    if (left > 0) this.noteLeftOut(this.leftOut + left)
  }

  /**
   * Count the set again from the store, at once the first time, then at
   * most once per `REPROVIDE_MIN_INTERVAL_MS`: revocations come in bursts,
   * and a count reads every own agent's capabilities.
   */
  private scheduleRecount(): void {
    if (this.recountScheduled) return
    this.recountScheduled = true
    const delay = Math.max(0, this.lastFreedRecount + REPROVIDE_MIN_INTERVAL_MS - Date.now())
    setTimeout(() => {
      this.recountScheduled = false
      if (!this.started) return
      this.lastFreedRecount = Date.now()
      this.recount()
      this.pump()
    }, delay).unref()
  }

  /** The set from the store: the active own agents' types, oldest agent first, up to the bound. */
  private recount(): void {
    this.lastRecount = Date.now()
    let wanted: { type: string; holders: number }[]
    try {
      wanted = this.c.agents.ownActiveTypeCounts()
    } catch (err) {
      this.c.onError(err)
      return
    }
    const kept = new Map(wanted.slice(0, this.c.limits.providedTypes).map((w) => [w.type, w.holders]))
    for (const type of [...this.announced.keys()]) {
      if (!kept.has(type)) this.withdraw(type)
      else this.announced.set(type, kept.get(type)!) // the store's count replaces the kept one
    }
    this.add(
      [...kept.keys()].filter((type) => !this.announced.has(type)),
      (type) => kept.get(type)!,
    )
    this.noteLeftOut(wanted.length - kept.size)
  }

  /** Record how many types the bound leaves out; warn once when it starts to (again after it stopped). */
  private noteLeftOut(count: number): void {
    this.leftOut = count
    if (count === 0) this.warned = false
    if (count === 0 || this.warned) return
    this.warned = true
    this.c.warn(
      `capability types of this node's agents past limits.discovery.providedTypes ` +
        `(${this.c.limits.providedTypes}): ${count} not announced on the DHT; other nodes' network ` +
        'discovery does not find their agents here; raise the bound to announce them',
    )
  }

  private withdraw(type: string): void {
    this.announced.delete(type)
    if (this.queued.delete(type)) this.queue.splice(this.queue.indexOf(type), 1)
    if (this.started) void this.withdrawOne(type)
  }

  /** Drop the DHT's record of `type` (failures are reported, not thrown). */
  private async withdrawOne(type: string): Promise<void> {
    try {
      await this.c.p2p().withdrawCapability(type)
    } catch (err) {
      this.c.onError(err)
    }
  }

  private enqueue(type: string): void {
    if (this.queued.has(type)) return
    this.queued.add(type)
    this.queue.push(type)
  }

  /** Start queued provides while fewer than `provideConcurrency` are in flight. */
  private pump(): void {
    while (this.started && this.running < this.c.limits.provideConcurrency && this.queue.length > 0) {
      const type = this.queue.shift()!
      this.queued.delete(type)
      this.running += 1
      const epoch = this.epoch
      void this.provideOne(type).finally(() => {
        if (epoch !== this.epoch) return
        this.running -= 1
        this.pump()
      })
    }
  }

  /** One provide; a failed one stays in the set and is tried again with the next re-announcement. */
  private async provideOne(type: string): Promise<void> {
    try {
      await this.c.p2p().provideCapability(type)
    } catch (err) {
      this.c.onError(err)
      return
    }
    // withdrawn while it was in flight: the provide may have stored the record again
    if (!this.announced.has(type) && this.started) await this.withdrawOne(type)
  }
}
