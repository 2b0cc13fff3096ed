/**
 * The registry as this node serves it to reconciliation (docs/protocol.md
 * §9): an in-memory index of item ids with trie fingerprints kept up to date
 * as envelopes are accepted, so a converged round costs no store read and
 * no work in the registry's size. Reconciled are the current registrations
 * and the key event logs of anchored DIDs: a DID with a registration or
 * named as a registration's controller, the same rule on every node, so
 * nodes holding the same registry have the same root. A node's own key log
 * is reconciled when a registration anchors it; else a peer asks for it
 * alone (`self`). An inception with no registration is stored at most,
 * never served (issue 9).
 */
import { encodeEnvelope, envelopeId, type Envelope, type KeyEvent, type Verdict } from '../core/index.js'
import {
  childPrefixes,
  emptyFingerprint,
  foldId,
  MAX_DEPTH,
  orderKey,
  prefixesOf,
  SHORT_ID_HEX,
  type Fingerprint,
} from '../core/registry-reconcile.js'
import type { AgentsRepo, KeyEventsRepo } from '../store/index.js'
import type { Ingest } from './ingest.js'

/** The repositories the index reads (it never writes). */
export interface RegistryIndexStore {
  readonly keyEvents: Pick<KeyEventsRepo, 'allDids' | 'log' | 'byId'>
  readonly agents: Pick<AgentsRepo, 'get' | 'list'>
}

/** What the index needs: the store it loads from and serves, and this node's DID (its own log, served on `self`). */
export interface RegistryIndexComponents {
  readonly store: RegistryIndexStore
  readonly selfDid: string
}

/** One registry item of the index. */
export interface IndexItem {
  readonly id: string
  readonly did: string
  readonly type: 'icp' | 'rot' | 'rev' | 'reg'
  readonly seq: number
  readonly order: string
}

/** Registry ids, anchors and fingerprints of one node. */
export class RegistryIndex {
  private readonly served = new Map<string, IndexItem>()
  private readonly byShort = new Map<string, string>()
  private readonly stored = new Set<string>()
  private readonly shorts = new Set<string>()
  private readonly kel = new Map<string, IndexItem[]>()
  /** Each DID's current registration: its id and the controller it names. */
  private readonly regOf = new Map<string, { id: string; controller: string }>()
  /** Anchored DIDs, with how many current registrations anchor each (its own, and those naming it controller). */
  private readonly anchored = new Map<string, number>()
  /** Current key (b64) of every stored key log → its DID. */
  private readonly keyOwner = new Map<string, string>()
  private readonly fps = new Map<string, Fingerprint>()
  private readonly leaves = new Map<string, Set<string>>()
  private sorted: IndexItem[] | undefined

  private readonly store: RegistryIndexStore
  private readonly selfDid: string

  constructor(c: RegistryIndexComponents) {
    this.store = c.store
    this.selfDid = c.selfDid
  }

  /** Load every stored key event and registration (once, at start). */
  load(): void {
    for (const did of this.store.keyEvents.allDids()) {
      for (const e of this.store.keyEvents.log(did)) this.addKeyEvent(e, envelopeId(e))
    }
    for (const a of this.store.agents.list()) this.addReg(a.did, a.regId, a.controller)
  }

  /** Take up an envelope the node just accepted. */
  accepted(envelope: Envelope, id: string): void {
    if (envelope.type === 'reg') this.addReg(envelope.did, id, envelope.controller)
    else if (envelope.type === 'icp' || envelope.type === 'rot' || envelope.type === 'rev') {
      this.addKeyEvent(envelope, id)
    }
  }

  /** True when the node stores this item (served or not). */
  has(id: string): boolean {
    return this.stored.has(id)
  }

  /** True when the node stores key events of the DID. */
  hasLog(did: string): boolean {
    return this.kel.has(did)
  }

  /** True when a short id names an item the node stores. */
  hasShort(short: string): boolean {
    return this.shorts.has(short)
  }

  /** True when the DID's key events are reconciled (it has a registration or controls one). */
  isAnchored(did: string): boolean {
    return this.anchored.has(did)
  }

  /** True when the node stores a key log whose current key is `key` (b64): a peer's own log, named by its PeerId. */
  knowsKey(key: string): boolean {
    return this.keyOwner.has(key)
  }

  /** This node's own key log, encoded for the wire (answer to `self`). */
  ownLog(): Uint8Array[] {
    return this.store.keyEvents.log(this.selfDid).map((e) => encodeEnvelope(e))
  }

  /** Fingerprint of the served items under `prefix`. */
  fingerprint(prefix: string): Fingerprint {
    return this.fps.get(prefix) ?? emptyFingerprint()
  }

  /**
   * Served items under `prefix`, at most `max`. The trie is walked down from
   * `prefix` through the children whose fingerprint counts an item, to the
   * leaves (a `MAX_DEPTH`-digit prefix is one leaf): the work is in what is
   * found, never in the registry's size, and a prefix under which nothing is
   * served costs one lookup (docs/protocol.md §9, "Budgets"; decision 0086).
   */
  idsUnder(prefix: string, max: number): string[] {
    const out: string[] = []
    this.collect(prefix, max, out)
    return out
  }

  /** The served item a short id names, if any. */
  byShortId(short: string): IndexItem | undefined {
    const id = this.byShort.get(short)
    return id === undefined ? undefined : this.served.get(id)
  }

  /** Up to `limit` served items after the order cursor `after`, in application order. */
  page(after: string | undefined, limit: number): IndexItem[] {
    this.sorted ??= [...this.served.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
    const lo = after === undefined ? 0 : this.after(after)
    return this.sorted.slice(lo, lo + limit)
  }

  /** The stored envelope of a served item, encoded for the wire. */
  encode(item: IndexItem): Uint8Array | undefined {
    if (item.type === 'reg') {
      const row = this.store.agents.get(item.did)
      return row?.regId === item.id ? new Uint8Array(Buffer.from(row.regEnvelope, 'utf8')) : undefined
    }
    const e = this.store.keyEvents.byId(item.id)
    return e === undefined ? undefined : encodeEnvelope(e)
  }

  /** Add the served ids under `prefix` to `out` until it holds `max`. */
  private collect(prefix: string, max: number, out: string[]): void {
    if (out.length >= max || this.fingerprint(prefix.slice(0, MAX_DEPTH)).count === 0) return
    if (prefix.length < MAX_DEPTH) {
      for (const child of childPrefixes(prefix)) this.collect(child, max, out)
      return
    }
    for (const id of this.leaves.get(prefix.slice(0, MAX_DEPTH)) ?? []) {
      if (out.length >= max) return
      if (id.startsWith(prefix)) out.push(id)
    }
  }

  private addKeyEvent(e: KeyEvent, id: string): void {
    if (this.stored.has(id)) return
    this.stored.add(id)
    this.shorts.add(id.slice(0, SHORT_ID_HEX))
    const item: IndexItem = { id, did: e.did, type: e.type, seq: e.seq, order: orderKey(e) }
    const log = this.kel.get(e.did) ?? []
    log.push(item)
    this.kel.set(e.did, log)
    if (e.type !== 'rev') this.keyOwner.set(e.key, e.did)
    if (this.anchored.has(e.did)) this.serve(item)
  }

  private addReg(did: string, id: string, controller: string): void {
    const old = this.regOf.get(did)
    if (old?.id === id) return
    if (old !== undefined) this.unserve(old.id)
    this.regOf.set(did, { id, controller })
    this.stored.add(id)
    this.shorts.add(id.slice(0, SHORT_ID_HEX))
    this.serve({ id, did, type: 'reg', seq: 0, order: orderKey({ did, type: 'reg', seq: 0 }) })
    this.anchor(controller)
    if (old === undefined) this.anchor(did)
    // a controller no current registration names any more is no longer anchored by it: every node holding
    // the same registrations serves the same items (docs/protocol.md §9)
    else this.release(old.controller)
  }

  private anchor(did: string): void {
    const count = this.anchored.get(did) ?? 0
    this.anchored.set(did, count + 1)
    if (count === 0) for (const item of this.kel.get(did) ?? []) this.serve(item)
  }

  private release(did: string): void {
    const count = (this.anchored.get(did) ?? 1) - 1
    if (count > 0) {
      this.anchored.set(did, count)
      return
    }
    this.anchored.delete(did)
    for (const item of this.kel.get(did) ?? []) this.unserve(item.id, 'keep')
  }

  private serve(item: IndexItem): void {
    if (this.served.has(item.id)) return
    this.served.set(item.id, item)
    this.byShort.set(item.id.slice(0, SHORT_ID_HEX), item.id)
    this.fold(item.id, 1)
    // kept in order as items come (sorting 200k items for the next page request would stall the serving node)
    this.sorted?.splice(this.after(item.order), 0, item)
  }

  /** Stop serving an item: one no longer stored (`forget`), or one still stored but no longer anchored (`keep`). */
  private unserve(id: string, stored: 'forget' | 'keep' = 'forget'): void {
    const item = this.served.get(id)
    if (item === undefined) return
    this.served.delete(id)
    if (stored === 'forget') {
      this.stored.delete(id)
      this.shorts.delete(id.slice(0, SHORT_ID_HEX))
    }
    this.byShort.delete(id.slice(0, SHORT_ID_HEX))
    this.fold(id, -1)
    const at = this.after(item.order) - 1
    if (this.sorted?.[at]?.id === id) this.sorted.splice(at, 1)
    else this.sorted = undefined
  }

  /** Index in the sorted items of the first one whose order key is past `order`. */
  private after(order: string): number {
    const all = this.sorted ?? []
    let lo = 0
    let hi = all.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (all[mid]!.order <= order) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private fold(id: string, sign: 1 | -1): void {
    for (const p of prefixesOf(id)) {
      let fp = this.fps.get(p)
      if (fp === undefined) this.fps.set(p, (fp = emptyFingerprint()))
      foldId(fp, id, sign)
    }
    const leaf = id.slice(0, MAX_DEPTH)
    const set = this.leaves.get(leaf) ?? new Set<string>()
    if (sign === 1) set.add(id)
    else set.delete(id)
    this.leaves.set(leaf, set)
  }
}

/** Call `onAccepted` after every envelope `ingest` accepts, whatever path brought it. */
export function watchIngest(ingest: Pick<Ingest, 'ingest'>, onAccepted: (e: Envelope, id: string) => void): void {
  const original = ingest.ingest.bind(ingest)
  ingest.ingest = (input, source, opts): Verdict => {
    const v = original(input, source, opts)
    if (v.ok) onAccepted(v.envelope, v.id)
    return v
  }
}
