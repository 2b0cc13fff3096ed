/**
 * One budgeted pass of a reconciliation round (docs/protocol.md §9): compare
 * root fingerprints (a converged pass is one tiny exchange), descend only
 * into differing trie prefixes, take a prefix where the peer holds exactly
 * one item more by the id the fingerprints' XOR names, list short ids where
 * the peer holds few, fetch what is missing (or, for a node that holds
 * little, page through the registry in application order), then apply it
 * in yielding batches. Every answer is checked against what was asked.
 */
import { envelopeId, type Envelope } from '../core/index.js'
import {
  IDS_BELOW,
  MAX_DEPTH,
  SHORT_ID_HEX,
  childPrefixes,
  descentStep,
  envelopeOrderKey,
  guessedId,
  inApplicationOrder,
  sameFingerprint,
  type DescentStep,
} from '../core/registry-reconcile.js'
import { MAX_SYNC_PREFIXES, type MeshP2P, type SyncRequest } from '../p2p/index.js'
import { TurnOver, ask, askWithin, fingerprints, refusedBy, spent } from './sync-exchange.js'
import type { Store } from '../store/index.js'
import type { PeerMemory } from './peer-memory.js'
import type { Admission } from './sync-admission.js'
import type { RegistryIndex } from './sync-index.js'
import { MAX_IDS_ANSWER, applyItems, type ApplyCounts, type RefusedIds } from './sync.js'
import {
  BAD_ITEMS_LIMIT,
  KEY_EVENT_TYPES,
  PeerFault,
  registryItems,
  type Descent,
  type Leaf,
  type Round,
  type SyncBudget,
} from './sync-round.js'
import type { Ingest } from './ingest.js'

/** Items asked for in one fetch or page. */
const PAGE = 256
/** Listed ids a descent keeps ahead of its fetches (the rest of its leaves are listed as it fetches). */
const LIST_AHEAD = 2_048
/** A page cursor that is no order key: the peer's pages brought only what this node holds, descend instead. */
const DESCEND = ''
/** Prefixes whose children one fingerprint request asks for. */
const FP_PARENTS = 64
/** Most events a node's own key log answer may hold. */
const SELF_EVENTS = 256

/** What a pass needs: the exchange, the index it compares with, the acceptance path and the admission rule. */
export interface PassComponents {
  readonly store: Pick<Store, 'transaction'>
  readonly ingest: Pick<Ingest, 'ingest' | 'refuse'>
  readonly index: Pick<RegistryIndex, 'fingerprint' | 'has' | 'hasShort' | 'knowsKey'>
  readonly admission: Pick<Admission, 'admit' | 'heldFor'>
  readonly p2p: () => Pick<MeshP2P, 'sync'>
  /** True while this node's registry is full (docs/protocol.md §7); default never. */
  readonly registryFull?: () => boolean
}

/** Runs passes; remembers refused ids and page cursors across them. */
export class PassRunner {
  constructor(
    private readonly c: PassComponents,
    private readonly refused: RefusedIds,
    private readonly cursors: Pick<PeerMemory<string>, 'get' | 'has' | 'set' | 'delete'>,
  ) {}

  /**
   * The first exchange of a round alone: true when a round has work, the
   * peer's root fingerprint differing from this node's (or its own key log
   * unknown here, which only a round pulls).
   */
  async differs(r: Round): Promise<boolean> {
    const [remote] = await fingerprints(this.c.p2p, r, [''], false) // asked in any case: a peer's answer is what earns its turn
    if (r.peerKey !== undefined && !this.c.index.knowsKey(r.peerKey)) return true
    return remote !== undefined && !sameFingerprint(this.c.index.fingerprint(''), remote)
  }

  /**
   * One pass; true when it left items behind for another (a page cursor, a
   * truncated list, the byte budget, the end of the round's slice of the
   * turn). What it fetched before its slice ended is applied.
   */
  async reconcile(r: Round, budget: SyncBudget): Promise<boolean> {
    try {
      return await this.reconcileWithin(r, budget)
    } catch (err) {
      if (err instanceof TurnOver) return true // nothing fetched was left unapplied (fetch and its retry catch it)
      throw err
    }
  }

  private async reconcileWithin(r: Round, budget: SyncBudget): Promise<boolean> {
    if (r.peerKey !== undefined && !this.c.index.knowsKey(r.peerKey)) await this.pullSelf(r)
    let d = r.carry?.descent
    const carried = d !== undefined // begun in an earlier pass: a fresh root comparison tells whether the round is done
    if (d === undefined) {
      const [remote] = await fingerprints(this.c.p2p, r, [''], false)
      const local = this.c.index.fingerprint('')
      if (remote === undefined || sameFingerprint(local, remote)) return false
      const cursor = this.cursors.get(r.peer)
      if (cursor !== DESCEND && (cursor !== undefined || local.count * 4 < remote.count))
        return this.pullPages(r, budget)
      const step = descentStep('', local, remote)
      d = { frontier: step === 'descend' ? [''] : [], leaves: [], guesses: new Map(), missing: [], truncated: false }
      this.take(r, d, { prefix: '', count: remote.count }, step, () => guessedId(local, remote))
      if (r.carry !== undefined) r.carry.descent = d
    }
    const left = await this.descend(r, budget, d)
    if (!left && r.carry !== undefined) r.carry.descent = undefined
    return left || d.truncated || carried
  }

  /**
   * Go on with descent `d`: compare children where fingerprints differ, list
   * the prefixes to list (a few thousand ids ahead of the fetches), fetch
   * what this node lacks, apply it. True when `d` has work left (its slice
   * or budget ended the pass); what it fetched is applied in any case.
   */
  private async descend(r: Round, budget: SyncBudget, d: Descent): Promise<boolean> {
    const envelopes: Envelope[] = []
    try {
      for (let room = true; room && hasWork(d);) {
        await this.compare(r, d)
        await this.list(r, d)
        room = await this.fetch(r, budget, d, envelopes)
      }
    } catch (err) {
      if (!(err instanceof TurnOver)) throw err
    } finally {
      await applyItems(this.c, inApplicationOrder(envelopes), { id: r.peer, key: r.peerKey }, r.counts, this.refused)
    }
    return hasWork(d)
  }

  /** A round with `peer` ended: its next round may page again. */
  endRound(peer: string): void {
    if (this.cursors.get(peer) === DESCEND) this.cursors.delete(peer)
  }

  /**
   * The peer's own key log, when this node holds no log with the peer's key:
   * outside the reconciled set until a registration anchors it (§9). Its
   * inception passes the admission rule as the delivering peer's own key.
   */
  private async pullSelf(r: Round): Promise<void> {
    const frames = await ask(
      this.c.p2p,
      r,
      { kind: 'self' },
      { maxItems: SELF_EVENTS, maxBytes: SELF_EVENTS * 4096 },
    ).catch(refusedBy)
    const events = registryItems(frames, r.counts, KEY_EVENT_TYPES)
    r.items += frames.length
    await applyItems(this.c, inApplicationOrder(events), { id: r.peer, key: r.peerKey }, r.counts, this.refused)
  }

  /** Put a prefix where `d` goes next: list it, guess its one missing id, or nothing. */
  private take(r: Round, d: Descent, leaf: Leaf, step: DescentStep, guess: () => string): void {
    if (step === 'ids') d.leaves.push(leaf)
    else if (step === 'guess') {
      const short = guess().slice(0, SHORT_ID_HEX)
      if (this.lacks(r.peer, short)) d.guesses.set(short, leaf)
    }
  }

  /** True when this node neither holds nor refused the item of `short` (as any copy, or as `peer`'s). */
  private lacks(peer: string, short: string): boolean {
    return !this.c.index.hasShort(short) && !this.refused.has(peer, short)
  }

  /**
   * Compare the children of `d`'s frontier, up to 64 parents a request:
   * differing children are descended, listed or guessed (one missing item
   * under a prefix, named by the fingerprints' XOR).
   */
  private async compare(r: Round, d: Descent): Promise<void> {
    while (d.frontier.length > 0) {
      const parents = d.frontier.slice(0, FP_PARENTS)
      const fps = await fingerprints(this.c.p2p, r, parents, true)
      d.frontier.splice(0, parents.length)
      parents.flatMap(childPrefixes).forEach((child, k) => {
        const local = this.c.index.fingerprint(child)
        const s = descentStep(child, local, fps[k]!)
        if (s === 'descend') d.frontier.push(child)
        else this.take(r, d, { prefix: child, count: fps[k]!.count }, s, () => guessedId(local, fps[k]!))
      })
    }
  }

  /**
   * List `d`'s leaves until `LIST_AHEAD` short ids wait to be fetched. Leaves
   * are asked in batches whose counts fit one answer (`MAX_IDS_ANSWER`), so
   * no list is cut short unnoticed (a cut list would fetch an inception
   * without its registration); a prefix that holds more marks `d` truncated.
   */
  private async list(r: Round, d: Descent): Promise<void> {
    while (d.leaves.length > 0 && d.missing.length < LIST_AHEAD) {
      let sum = 0
      let j = 0
      while (j < d.leaves.length && j < MAX_SYNC_PREFIXES && (j === 0 || sum + d.leaves[j]!.count <= MAX_IDS_ANSWER))
        sum += d.leaves[j++]!.count
      if (sum > MAX_IDS_ANSWER) d.truncated = true // one prefix holds more than an answer: a fresh descent follows
      const prefixes = d.leaves.slice(0, j).map((l) => l.prefix)
      const frames = await ask(
        this.c.p2p,
        r,
        { kind: 'ids', prefixes },
        { maxItems: MAX_IDS_ANSWER, maxBytes: MAX_IDS_ANSWER * 8 },
      )
      d.leaves.splice(0, j)
      for (const f of frames) {
        if (f.length !== SHORT_ID_HEX / 2) throw new PeerFault('bad id answer')
        const short = Buffer.from(f).toString('hex')
        if (this.lacks(r.peer, short)) d.missing.push(short)
      }
    }
  }

  /**
   * Fetch `d`'s guesses and listed ids (those this node still lacks) into
   * `out`, within the pass's budgets; check each item was asked for. A guess
   * the peer did not serve named nothing it holds (this node holds items the
   * peer lacks there): its prefix is listed instead. False when a budget
   * stopped it.
   */
  private async fetch(r: Round, budget: SyncBudget, d: Descent, out: Envelope[]): Promise<boolean> {
    const shorts = [...d.guesses.keys(), ...d.missing].filter((s) => this.lacks(r.peer, s))
    const asked = new Set<string>()
    const served = new Set<string>()
    try {
      for (let i = 0; i < shorts.length; i += PAGE) {
        const room = budget.items - r.items
        if (r.bytes >= budget.bytes || room <= 0) return false
        const ids = shorts.slice(i, i + Math.min(PAGE, room))
        const frames = await askWithin(this.c.p2p, r, { kind: 'items', ids }, ids.length, budget).catch(spent)
        if (frames === undefined) return false // the byte budget ran out (or the slice): apply what came
        const want = new Set(ids)
        for (const id of ids) asked.add(id)
        const items = registryItems(frames, r.counts)
        for (const e of items) {
          const short = envelopeId(e).slice(0, SHORT_ID_HEX)
          if (!want.delete(short)) throw new PeerFault('an item was not asked for')
          served.add(short)
          out.push(e)
        }
        r.items += frames.length
      }
      return true
    } finally {
      for (const [short, leaf] of d.guesses) {
        if (!asked.has(short) && this.lacks(r.peer, short)) continue
        d.guesses.delete(short)
        // a wrong guess: below a prefix too full for one list answer, compare its children instead (found by review)
        if (asked.has(short) && !served.has(short))
          if (leaf.count > IDS_BELOW && leaf.prefix.length < MAX_DEPTH) d.frontier.push(leaf.prefix)
          else d.leaves.push(leaf)
      }
      d.missing = d.missing.filter((s) => !asked.has(s) && this.lacks(r.peer, s))
    }
  }

  /**
   * A page brings every item again, those refused before too: they are not
   * checked, stored or audited again (docs/protocol.md §9). The other paths
   * never fetch them.
   */
  private notRefused(items: Envelope[], counts: ApplyCounts, peer: string): Envelope[] {
    if (this.refused.size === 0) return items
    const fresh = items.filter((e) => !this.refused.has(peer, envelopeId(e).slice(0, SHORT_ID_HEX)))
    counts.rejected += items.length - fresh.length
    return fresh
  }

  /** Page through the peer's registry in application order (a node that holds little). */
  private async pullPages(r: Round, budget: SyncBudget): Promise<boolean> {
    let after = this.cursors.get(r.peer)
    this.cursors.delete(r.peer)
    while (r.items < budget.items && r.bytes < budget.bytes) {
      const limit = Math.min(PAGE, budget.items - r.items)
      const request: SyncRequest = after === undefined ? { kind: 'page', limit } : { kind: 'page', after, limit }
      const frames = await askWithin(this.c.p2p, r, request, limit, budget).catch(spent)
      if (frames === undefined) break // the byte budget or the slice ran out: the next pass continues after the cursor
      const items = registryItems(frames, r.counts)
      for (const e of items) {
        const k = envelopeOrderKey(e)
        if (after !== undefined && k <= after) throw new PeerFault('a page is out of order')
        after = k
      }
      r.items += frames.length // skipped frames too: a page of them still moves the round on
      const known = r.counts.accepted + r.counts.held
      await applyItems(
        this.c,
        this.notRefused(items, r.counts, r.peer),
        { id: r.peer, key: r.peerKey },
        r.counts,
        this.refused,
      )
      if (frames.length < limit) return false // the last page: by the frames served, not the items kept
      const held = this.c.registryFull?.() === true ? 0 : this.c.admission.heldFor(r.peer) // full: honest ones held
      if (r.counts.forged + held > BAD_ITEMS_LIMIT * 4) throw new PeerFault('a page of junk')
      if (r.counts.accepted + r.counts.held === known) {
        // a whole page this node holds (another peer paged it first, or it held them): from here on this round
        // descends, which fetches only what is missing (docs/protocol.md §9)
        this.cursors.set(r.peer, DESCEND)
        return true
      }
    }
    if (after !== undefined) this.cursors.set(r.peer, after) // the budget ran out: the next pass continues here
    return after !== undefined || r.cut === true
  }
}

/** True while descent `d` has prefixes to compare or list, or ids to fetch. */
function hasWork(d: Descent): boolean {
  return d.frontier.length + d.leaves.length + d.guesses.size + d.missing.length > 0
}
