/**
 * Pulling a peer's registry by reconciliation (docs/protocol.md §9): compare
 * root fingerprints (a converged round is one tiny exchange), descend only
 * into differing trie prefixes, fetch the missing items by short id (or, for
 * a node that holds little, page through the registry in application
 * order), then apply them in yielding batches. Each round runs under a
 * per-peer budget of items, bytes and time; a peer that breaks the protocol
 * or serves junk is charged (peer_faults, gossipsub penalty, disconnect,
 * backoff with doubling).
 */
import { envelopeId, toB64, publicKeyFromPeerId, type Envelope } from '../core/index.js'
import {
  SHORT_ID_HEX,
  childPrefixes,
  descentStep,
  orderKey,
  sameFingerprint,
  type Fingerprint,
} from '../core/registry-reconcile.js'
import type { MeshP2P, SyncRequest } from '../p2p/index.js'
import type { MiscRepo, Store } from '../store/index.js'
import { Admission } from './sync-admission.js'
import { RegistryIndex, watchIngest, type RegistryIndexStore } from './sync-index.js'
import { applyItems, decodeFingerprint, decodeItems, type ApplyCounts, type SyncResult } from './sync.js'
import type { Ingest } from './ingest.js'

/** Per-peer budget of one reconciliation round. */
export interface SyncBudget {
  /** Most items fetched. */
  readonly items: number
  /** Most application bytes moved. */
  readonly bytes: number
  /** Deadline of the round (ms). */
  readonly ms: number
}

/** Default: 10,000 items, 16 MiB, 60 s per round and peer. */
export const DEFAULT_SYNC_BUDGET: SyncBudget = { items: 10_000, bytes: 16 * 1024 * 1024, ms: 60_000 }
/** Junk items (forged, empty inceptions) in one round beyond which the peer is penalised. */
export const BAD_ITEMS_LIMIT = 32
/** First backoff of a penalised peer (ms); doubles per offence up to an hour. */
export const FIRST_BACKOFF_MS = 60_000
const PAGE = 256
const FP_PARENTS = 64
const PEER_KEY_MEMORY = 4096

/** A peer broke the protocol (answer shape, unrequested items, over its limits). */
class PeerFault extends Error {}
/**
 * An answer passed what is left of the round's byte budget: the peer could
 * not know that bound, so this ends the round without charging it.
 */
class BudgetSpent extends Error {}

/** The part of the mesh the client uses: one sync exchange, and charging a peer. */
export type SyncP2P = Pick<MeshP2P, 'sync' | 'penalise'>

/** The store as the client uses it: batches in transactions, peer fault counts. */
export interface SyncClientStore {
  readonly misc: Pick<MiscRepo, 'peerFault'>
  transaction: Store['transaction']
}

/** What the client needs. */
export interface SyncClientComponents {
  readonly store: SyncClientStore
  readonly ingest: Pick<Ingest, 'ingest'>
  readonly index: Pick<RegistryIndex, 'fingerprint' | 'hasShort'>
  readonly admission: Pick<Admission, 'admit' | 'dropPeer' | 'heldFor'>
  readonly p2p: () => SyncP2P
  readonly budget?: SyncBudget
  readonly onError: (err: unknown) => void
  /** Time of bans and backoffs (default `Date.now`). */
  readonly clock?: () => number
}

interface Round {
  readonly peer: string
  readonly peerKey: string | undefined
  readonly signal: AbortSignal
  bytes: number
  items: number
  readonly counts: ApplyCounts
}

/** Reconciliation rounds against peers, with their budgets and penalties. */
export class SyncClient {
  private readonly refused = new Set<string>()
  private readonly cursors = new Map<string, string>()
  private readonly bans = new Map<string, { until: number; backoff: number }>()
  private readonly peerKeys = new Map<string, string | undefined>()

  constructor(private readonly c: SyncClientComponents) {}

  /** True while `peer` serves its backoff. */
  isBanned(peer: string): boolean {
    const b = this.bans.get(peer)
    return b !== undefined && b.until > (this.c.clock ?? Date.now)()
  }

  /** Charge `peer` for junk it relayed outside a round (e.g. an inception flood by gossip), once per backoff. */
  charge(peer: string): void {
    if (!this.isBanned(peer)) void this.penalise(peer)
  }

  /** One round against `peer`; faults are charged to it, never thrown. */
  async round(peer: string): Promise<SyncResult | undefined> {
    if (this.isBanned(peer)) return undefined
    const budget = this.c.budget ?? DEFAULT_SYNC_BUDGET
    const counts: ApplyCounts = { accepted: 0, duplicates: 0, rejected: 0, forged: 0, held: 0 }
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new Error('the sync round ran out of time')), budget.ms)
    const r: Round = { peer, peerKey: this.peerKey(peer), signal: deadline.signal, bytes: 0, items: 0, counts }
    let fault = false
    try {
      await this.reconcile(r, budget)
    } catch (err) {
      fault = err instanceof PeerFault
      if (!fault) this.c.onError(err)
    } finally {
      clearTimeout(timer)
    }
    const leftovers = this.c.admission.dropPeer(peer)
    const bad = counts.forged + leftovers
    if (leftovers > 0) this.c.store.misc.peerFault(peer, { forged: leftovers })
    if (fault || bad > BAD_ITEMS_LIMIT) await this.penalise(peer)
    const { accepted, duplicates, rejected, held } = counts
    return { accepted, duplicates, rejected, held, bytes: r.bytes }
  }

  /** The node key a peer id names (remembered: parsing it costs a tenth of a converged round). */
  private peerKey(peer: string): string | undefined {
    if (this.peerKeys.has(peer)) return this.peerKeys.get(peer)
    if (this.peerKeys.size >= PEER_KEY_MEMORY) this.peerKeys.clear()
    const key = peerKeyOf(peer)
    this.peerKeys.set(peer, key)
    return key
  }

  private async reconcile(r: Round, budget: SyncBudget): Promise<void> {
    const [remote] = await this.fps(r, [''], false)
    const local = this.c.index.fingerprint('')
    if (remote === undefined || sameFingerprint(local, remote)) return
    if (this.cursors.has(r.peer) || local.count * 4 < remote.count) return this.pullPages(r, budget)
    const missing = await this.findMissing(r, budget)
    await this.fetch(r, budget, missing)
  }

  /** Ask for items with the bytes left in the round's budget as the byte limit. */
  private askWithin(r: Round, request: SyncRequest, maxItems: number, budget: SyncBudget): Promise<Uint8Array[]> {
    return this.ask(r, request, maxItems, budget.bytes - r.bytes, true)
  }

  private async ask(
    r: Round,
    request: SyncRequest,
    maxItems: number,
    maxBytes: number,
    budgeted = false,
  ): Promise<Uint8Array[]> {
    r.bytes += JSON.stringify(request).length
    try {
      const frames = await this.c.p2p().sync(r.peer, request, { signal: r.signal, limits: { maxItems, maxBytes } })
      for (const f of frames) r.bytes += f.length + 2
      return frames
    } catch (err) {
      // only a broken answer is the peer's fault (an unknown frame, over the limits); a transport failure
      // (the peer went offline mid-round) or a refusal from its side is no offence, or honest peers get banned
      const e = err as { code?: string; details?: Record<string, unknown> }
      const broken = e.code === 'PEER_ERROR' && e.details?.cause === undefined && e.details?.remoteCode === undefined
      if (broken && budgeted && e.details?.over === 'bytes') throw new BudgetSpent(String(err))
      if (broken) throw new PeerFault(String(err))
      throw err
    }
  }

  private async fps(r: Round, prefixes: string[], children: boolean): Promise<Fingerprint[]> {
    const want = prefixes.length * (children ? 16 : 1)
    const request: SyncRequest = children ? { kind: 'fp', prefixes, children } : { kind: 'fp', prefixes }
    const frames = await this.ask(r, request, want, want * 24)
    const out = frames.map(decodeFingerprint)
    if (out.length !== want || out.some((f) => f === undefined)) throw new PeerFault('bad fingerprint answer')
    return out as Fingerprint[]
  }

  /** Descend the trie where fingerprints differ; return the short ids the peer holds and this node lacks. */
  private async findMissing(r: Round, budget: SyncBudget): Promise<string[]> {
    let frontier = ['']
    const leaves: string[] = []
    while (frontier.length > 0) {
      const next: string[] = []
      for (let i = 0; i < frontier.length; i += FP_PARENTS) {
        const parents = frontier.slice(i, i + FP_PARENTS)
        const fps = await this.fps(r, parents, true)
        parents.flatMap(childPrefixes).forEach((child, k) => {
          const step = descentStep(child, this.c.index.fingerprint(child), fps[k]!)
          if (step === 'ids') leaves.push(child)
          else if (step === 'descend') next.push(child)
        })
      }
      frontier = next
    }
    const missing: string[] = []
    for (let i = 0; i < leaves.length && missing.length < budget.items; i += 256) {
      const frames = await this.ask(r, { kind: 'ids', prefixes: leaves.slice(i, i + 256) }, 4096, 4096 * 8)
      for (const f of frames) {
        if (f.length !== SHORT_ID_HEX / 2) throw new PeerFault('bad id answer')
        const short = Buffer.from(f).toString('hex')
        if (!this.c.index.hasShort(short) && !this.refused.has(short)) missing.push(short)
      }
    }
    return missing.slice(0, budget.items)
  }

  /** Fetch missing items by short id, check each was asked for, apply all in application order. */
  private async fetch(r: Round, budget: SyncBudget, missing: string[]): Promise<void> {
    const got: Envelope[] = []
    for (let i = 0; i < missing.length && r.bytes < budget.bytes; i += PAGE) {
      const ids = missing.slice(i, i + PAGE)
      const asked = new Set(ids)
      const frames = await this.askWithin(r, { kind: 'items', ids }, ids.length, budget).catch(spent)
      if (frames === undefined) break // the byte budget ran out: apply what came, the rest comes next round
      const items = decodeItems(frames)
      if (items === undefined) throw new PeerFault('an item is no envelope')
      for (const e of items) {
        if (!asked.delete(envelopeId(e).slice(0, SHORT_ID_HEX))) throw new PeerFault('an item was not asked for')
        got.push(e)
      }
    }
    got.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
    r.items += got.length
    await applyItems(this.c, got, { id: r.peer, key: r.peerKey }, r.counts, this.refused)
  }

  /** Page through the peer's registry in application order (a node that holds little). */
  private async pullPages(r: Round, budget: SyncBudget): Promise<void> {
    let after = this.cursors.get(r.peer)
    this.cursors.delete(r.peer)
    while (r.items < budget.items && r.bytes < budget.bytes) {
      const request: SyncRequest =
        after === undefined ? { kind: 'page', limit: PAGE } : { kind: 'page', after, limit: PAGE }
      const frames = await this.askWithin(r, request, PAGE, budget).catch(spent)
      if (frames === undefined) break // the byte budget ran out: the next round continues after the cursor
      const items = decodeItems(frames)
      if (items === undefined) throw new PeerFault('an item is no envelope')
      for (const e of items) {
        const k = keyOf(e)
        if (after !== undefined && k <= after) throw new PeerFault('a page is out of order')
        after = k
      }
      r.items += items.length
      await applyItems(this.c, items, { id: r.peer, key: r.peerKey }, r.counts, this.refused)
      if (items.length < PAGE) return
      if (r.counts.forged + this.c.admission.heldFor(r.peer) > BAD_ITEMS_LIMIT * 4)
        throw new PeerFault('a page of junk')
    }
    if (after !== undefined) this.cursors.set(r.peer, after) // the budget ran out: the next round continues here
  }

  private async penalise(peer: string): Promise<void> {
    const prev = this.bans.get(peer)
    const backoff = Math.min(3_600_000, prev === undefined ? FIRST_BACKOFF_MS : prev.backoff * 2)
    this.bans.set(peer, { until: (this.c.clock ?? Date.now)() + backoff, backoff })
    this.cursors.delete(peer)
    this.c.store.misc.peerFault(peer, { forged: 1 })
    await this.c
      .p2p()
      .penalise(peer, 100)
      .catch((err: unknown) => this.c.onError(err))
  }
}

/** Undefined for a spent budget; any other failure is thrown on. */
function spent(err: unknown): undefined {
  if (err instanceof BudgetSpent) return undefined
  throw err
}

function keyOf(e: Envelope): string {
  if (e.type === 'reg') return orderKey({ did: e.did, type: 'reg', seq: 0 })
  if (e.type === 'icp' || e.type === 'rot' || e.type === 'rev') return orderKey(e)
  return `2|${e.type}`
}

function peerKeyOf(peer: string): string | undefined {
  try {
    return toB64(publicKeyFromPeerId(peer))
  } catch {
    return undefined
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
