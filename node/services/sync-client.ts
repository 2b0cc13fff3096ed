/**
 * Reconciliation rounds against peers (docs/protocol.md §9): each round runs
 * budgeted passes (sync-pass.ts) for as long as the peer has more and
 * behaves; a peer that breaks the protocol or serves junk is charged
 * (peer_faults, gossipsub penalty, disconnect, backoff with doubling).
 */
import { peerKeyB64 } from '../core/index.js'
import { isSlowAnswer, type MeshP2P } from '../p2p/index.js'
import type { MiscRepo, Store } from '../store/index.js'
import { PeerMemory } from './peer-memory.js'
import { Admission } from './sync-admission.js'
import { RegistryIndex, watchIngest, type RegistryIndexStore } from './sync-index.js'
import { SLICE_MS, type TurnSlice } from './sync-turns.js'
import { RefusedIds, type ApplyCounts, type SyncResult } from './sync.js'
import { PassRunner, type PassComponents } from './sync-pass.js'
import { CarriedDescents } from './sync-carried.js'
import {
  BAD_ITEMS_LIMIT,
  DEFAULT_SYNC_BUDGET,
  FORGERY_WINDOW_MS,
  PeerFault,
  ROUND_MS,
  type Carry,
  type Round,
  type SyncBudget,
} from './sync-round.js'

export { BAD_ITEMS_LIMIT, DEFAULT_SYNC_BUDGET, type SyncBudget } from './sync-round.js'
export { CarriedDescents, MAX_CARRIED_DESCENTS } from './sync-carried.js'

/** First backoff of a penalised peer (ms); doubles per offence up to an hour. */
export const FIRST_BACKOFF_MS = 60_000
/** Most budgeted passes one round runs against a peer (100 × 10,000 items by default). */
export const MAX_PASSES = 100
/** Peers whose node key, backoff and page cursor the client remembers, each (the oldest forgotten when full). */
export { PEER_MEMORY } from './peer-memory.js'

/** The part of the mesh the client uses: one sync exchange, and charging a peer. */
export type SyncP2P = Pick<MeshP2P, 'sync' | 'penalise' | 'peers'>

/** The store as the client uses it: batches in transactions, peer fault counts. */
export interface SyncClientStore {
  readonly misc: Pick<MiscRepo, 'peerFault'>
  transaction: Store['transaction']
}

/** What the client needs. */
export interface SyncClientComponents extends PassComponents {
  readonly store: SyncClientStore
  readonly admission: Pick<Admission, 'admit' | 'dropPeer' | 'heldFor'>
  readonly p2p: () => SyncP2P
  readonly budget?: SyncBudget
  readonly onError: (err: unknown) => void
  /** Time of bans and backoffs (default `Date.now`). */
  readonly clock?: () => number
  /**
   * True while this node's registry is full (docs/protocol.md §7): inceptions
   * left held are then those of registrations it refused, not junk. Default never.
   */
  readonly registryFull?: () => boolean
  /** Peers each per-peer memory keeps (default `PEER_MEMORY`). */
  readonly peerMemory?: number
}

/** Reconciliation rounds against peers, with their budgets and penalties. */
export class SyncClient {
  private readonly refused = new RefusedIds()
  private readonly cursors: PeerMemory<string>
  // a full memory forgets expired bans first, then the oldest: a forgotten peer keeps its gossipsub penalty and faults
  private readonly bans: PeerMemory<{ until: number; backoff: number }>
  private readonly peerKeys: PeerMemory<{ key: string | undefined }>
  // peers too slow in a sync exchange or pass: their syncs wait, their connections do not (slowness proves nothing)
  private readonly quiet: PeerMemory<{ until: number; backoff: number }>
  // junk items each peer served in its current window, over passes, rounds and connections (decision 0069)
  private readonly junk: PeerMemory<{ since: number; count: number }>

  private readonly passes: PassRunner
  private readonly carried = new CarriedDescents()

  constructor(private readonly c: SyncClientComponents) {
    this.cursors = new PeerMemory(c.peerMemory)
    this.bans = new PeerMemory(c.peerMemory, (b) => b.until <= this.now())
    this.peerKeys = new PeerMemory(c.peerMemory)
    this.quiet = new PeerMemory(c.peerMemory, (q) => q.until <= this.now())
    this.junk = new PeerMemory(c.peerMemory, (j) => j.since + FORGERY_WINDOW_MS <= this.now())
    this.passes = new PassRunner(c, this.refused, this.cursors)
    // a key event taken by any path (gossip, API, sync) moves its DID's log on, and a registration names its
    // controller: what was refused on the old state may pass now (docs/protocol.md §9, decisions 0052 and 0069)
    watchIngest(c.ingest, (e) => {
      if (e.type !== 'msg' && e.type !== 'chk') this.refused.advanced(e.did)
    })
  }

  private now(): number {
    return (this.c.clock ?? Date.now)()
  }

  /** True while `peer` serves its backoff. */
  isBanned(peer: string): boolean {
    const b = this.bans.get(peer)
    return b !== undefined && b.until > this.now()
  }

  /** True while `peer`, too slow in a sync exchange or pass, is left alone (`hush`): not asked, no round. */
  isQuiet(peer: string): boolean {
    const q = this.quiet.get(peer)
    return q !== undefined && q.until > this.now()
  }

  /** Charge `peer` for junk it relayed outside a round (e.g. an inception flood by gossip), once per backoff. */
  charge(peer: string): void {
    if (!this.isBanned(peer)) void this.penalise(peer)
  }

  /**
   * Whether a round with `peer` has work: its root fingerprint, asked before
   * the round waits for the node-wide turn, so that a peer that does not
   * answer (a sync exchange not answered within `SYNC_ANSWER_MS` ends) holds
   * no other peer's sync (docs/protocol.md §9). `same`: converged, nothing
   * to do. A slow peer is left alone for a while (`hush`); a broken answer
   * is charged as in a round; a transport failure (the peer left) is neither.
   */
  async probe(peer: string): Promise<'differs' | 'same' | 'none'> {
    if (this.isBanned(peer) || this.isQuiet(peer)) return 'none'
    const counts: ApplyCounts = { accepted: 0, duplicates: 0, rejected: 0, forged: 0, held: 0 }
    // bounded by the exchange's own time; a signal of its own, no listeners shared between probes
    const signal = new AbortController().signal
    const r: Round = { peer, peerKey: this.peerKey(peer), signal, bytes: 0, items: 0, counts }
    try {
      return (await this.passes.differs(r)) ? 'differs' : 'same'
    } catch (err) {
      if (err instanceof PeerFault) await this.penalise(peer)
      else if (isSlowAnswer(err)) this.hush(peer)
      return 'none'
    }
  }

  /**
   * Leave `peer` alone for a backoff (60 s, doubling each time until a round
   * with it brings something new in time, up to an hour): an exchange went
   * unanswered within `SYNC_ANSWER_MS`, a pass ran out of its time, or a
   * round out of its own. It keeps its connections and score: slowness
   * proves no malice, an overloaded honest peer is slow too.
   */
  private hush(peer: string): void {
    this.quiet.set(peer, doubled(this.quiet.get(peer), this.now()))
  }

  /** Slice of the node-wide turn one round holds while others wait (ms; node/services/sync-turns.ts). */
  get sliceMs(): number {
    return (this.c.budget ?? DEFAULT_SYNC_BUDGET).sliceMs ?? SLICE_MS
  }

  /**
   * One round against `peer`, holding `turn`, its slice of the node-wide
   * turn (none: the whole turn; given one, a peer that left while the round
   * waited for it gets no round): passes, each under the budget, for as long
   * as the last left items behind (a page cursor, a list cut at the budget)
   * and the peer behaved, at most `MAX_PASSES`; so a join pulls the registry
   * in one go, not one budget per anti-entropy interval. When its slice is over and
   * another round waits, the pass ends at its next exchange and the round
   * queues again (docs/protocol.md §9). Faults are charged to the peer,
   * never thrown.
   */
  async round(peer: string, turn?: TurnSlice): Promise<SyncResult | undefined> {
    // a peer that left while its round waited for the turn gets none: waiting rounds are bounded by connections
    if (turn !== undefined && !this.connected(peer)) return undefined
    const slice = turn ?? wholeTurn(Date.now)
    let total: SyncResult | undefined
    let more = false
    let fresh = 0 // new items this slice
    const carry: Carry = {} // a descent its slice or budget cut goes on in the next pass
    const roundMs = (this.c.budget ?? DEFAULT_SYNC_BUDGET).roundMs ?? ROUND_MS
    for (let i = 0; i < MAX_PASSES && !this.isBanned(peer) && !this.isQuiet(peer); i++) {
      if (slice.heldMs() >= roundMs) {
        this.hush(peer) // it held the node-wide turn for a whole round's time: the rest waits (docs/protocol.md §9)
        break
      }
      const pass = await this.pass(peer, slice, fresh, carry)
      total = total === undefined ? pass.result : sumResults(total, pass.result)
      fresh += pass.result.accepted
      more = pass.more
      if (!more) break
      if (slice.due(fresh > 0)) {
        this.carried.keep(carry)
        if (!(await slice.requeue(fresh > 0)) || !this.connected(peer)) break // the node stops, or the peer left
        fresh = 0
      }
    }
    this.passes.endRound(peer)
    this.carried.drop(carry)
    // only a round that brought something new, in time, clears a peer's record of slowness
    if (!this.isQuiet(peer) && (total?.accepted ?? 0) > 0) this.quiet.delete(peer)
    // inceptions still held when the round ends were junk, unless it stopped between one and its registration,
    // or this node's registry is full and refused their registrations (docs/protocol.md §7)
    const leftovers = this.c.admission.dropPeer(peer)
    if (leftovers > 0 && !more && !this.c.registryFull?.() && !this.isBanned(peer)) {
      this.c.store.misc.peerFault(peer, { forged: leftovers })
      if (this.pastJunkLimit(peer, leftovers)) await this.penalise(peer)
    }
    return total
  }

  private async pass(
    peer: string,
    slice: TurnSlice,
    fresh: number,
    carry: Carry,
  ): Promise<{ result: SyncResult; more: boolean }> {
    const budget = this.c.budget ?? DEFAULT_SYNC_BUDGET
    const counts: ApplyCounts = { accepted: 0, duplicates: 0, rejected: 0, forged: 0, held: 0 }
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new Error('the sync round ran out of time')), budget.ms)
    const due = (): boolean => slice.due(fresh + counts.accepted > 0)
    const r: Round = {
      peer,
      peerKey: this.peerKey(peer),
      signal: deadline.signal,
      bytes: 0,
      items: 0,
      counts,
      due,
      carry,
    }
    let fault = false
    let more = false
    try {
      more = await this.passes.reconcile(r, budget)
    } catch (err) {
      fault = err instanceof PeerFault
      // a peer too slow to answer, or to end the pass: its turn goes to others for a while
      if (!fault && (isSlowAnswer(err) || deadline.signal.aborted)) this.hush(peer)
      else if (!fault) this.c.onError(err)
    } finally {
      clearTimeout(timer)
    }
    const charged = this.pastJunkLimit(peer, counts.forged) || fault
    if (charged) await this.penalise(peer)
    const { accepted, duplicates, rejected, held } = counts
    // another pass only after progress or the end of a slice: a pass that fetched nothing (its first answer past the
    // byte budget) would repeat
    const again = more && !charged && (r.items > 0 || r.cut === true)
    const result = { accepted, duplicates, rejected, held, bytes: r.bytes, passes: 1 }
    return { result, more: again }
  }

  /**
   * Count `n` more junk items `peer` served; true when its count in the window (`FORGERY_WINDOW_MS`, from its
   * first) passes `BAD_ITEMS_LIMIT`. Passes, rounds and connections add up: a rogue that serves a few in each
   * (padded with items this node holds, or reconnecting) is charged as one that serves them at once.
   */
  private pastJunkLimit(peer: string, n: number): boolean {
    if (n === 0) return false
    const now = this.now()
    const held = this.junk.get(peer)
    const live = held !== undefined && held.since + FORGERY_WINDOW_MS > now ? held : { since: now, count: 0 }
    const count = live.count + n
    this.junk.set(peer, { since: live.since, count })
    return count > BAD_ITEMS_LIMIT
  }

  private connected(peer: string): boolean {
    return this.c
      .p2p()
      .peers()
      .some((p) => p.peerId === peer)
  }

  /** The node key a peer id names (remembered: parsing it costs a tenth of a converged round). */
  private peerKey(peer: string): string | undefined {
    const known = this.peerKeys.get(peer)
    if (known !== undefined) return known.key
    const key = peerKeyB64(peer)
    this.peerKeys.set(peer, { key })
    return key
  }

  private async penalise(peer: string): Promise<void> {
    this.bans.set(peer, doubled(this.bans.get(peer), this.now()))
    this.cursors.delete(peer)
    this.junk.delete(peer) // its backoff pays for what it served so far
    this.c.store.misc.peerFault(peer, { forged: 1 })
    await this.c
      .p2p()
      .penalise(peer, 100)
      .catch((err: unknown) => this.c.onError(err))
  }
}

/** The whole turn, never lent: a round started without the node-wide turns (a test, a single sync). */
function wholeTurn(clock: () => number): TurnSlice {
  const since = clock()
  return { due: () => false, requeue: () => Promise.resolve(true), heldMs: () => clock() - since }
}

/** The next backoff after `prev`: `FIRST_BACKOFF_MS`, doubling up to an hour, from `now`. */
function doubled(prev: { backoff: number } | undefined, now: number): { until: number; backoff: number } {
  const backoff = Math.min(3_600_000, prev === undefined ? FIRST_BACKOFF_MS : prev.backoff * 2)
  return { until: now + backoff, backoff }
}

function sumResults(a: SyncResult, b: SyncResult): SyncResult {
  return {
    accepted: a.accepted + b.accepted,
    duplicates: a.duplicates + b.duplicates,
    rejected: a.rejected + b.rejected,
    held: a.held + b.held,
    bytes: a.bytes + b.bytes,
    passes: a.passes + b.passes,
  }
}

/** The registry sync parts of one node, wired together. */
export interface RegistrySync {
  readonly index: RegistryIndex
  readonly admission: Admission
  readonly client: SyncClient
}

/** What a node's registry sync needs: the client's components, a store the index can load, the node's DID. */
export type RegistrySyncComponents = Omit<SyncClientComponents, 'index' | 'admission' | 'store'> & {
  readonly store: SyncClientStore & RegistryIndexStore
  readonly selfDid: string
}

/** Build the index (loaded from the store and kept current through `ingest`), the admission rule and the client. */
export function createRegistrySync(c: RegistrySyncComponents): RegistrySync {
  const index = new RegistryIndex({ store: c.store, selfDid: c.selfDid })
  index.load()
  watchIngest(c.ingest, (e, id) => index.accepted(e, id))
  const admission = new Admission({ index })
  return { index, admission, client: new SyncClient({ ...c, index, admission }) }
}
