/**
 * Which registry envelopes from the mesh a node takes in now (docs/protocol.md
 * §9, issue 9). An inception whose DID has no registration here, names no
 * registration's controller and is not the delivering peer's own node key is
 * an empty DID: anyone can mint them for free. It is held in a small bounded
 * pool (never stored, never relayed) until a registration anchors it; what
 * is left over is charged to the peer that sent it. A rotation or revocation
 * of a held DID is held only once it checks against the held log (decision
 * 0085), and each held event keeps the peer that delivered it. One
 * revocation no key known here can check (its controller's, perhaps) is held
 * per DID and checked once the registration names the controller.
 */
import {
  applyKeyEvent,
  envelopeId,
  fromB64,
  isMeshsigError,
  verifyEnvelopeSignature,
  type Envelope,
  type MeshsigError,
  type KeyEvent,
  type KeyState,
  type Rejected,
} from '../core/index.js'
import { HELD_KEY_EVENTS, HELD_KEY_EVENTS_PER_DID, HELD_KEY_EVENTS_PER_PEER } from '../limits.js'
import { GOSSIP_REJECT_CODES } from './ingest.js'
import { HeldShares } from './held-shares.js'
import type { RegistryIndex } from './sync-index.js'

/** Bounds of the pool of held inceptions and of the key events held with them. */
export interface AdmissionLimits {
  /** Most DIDs held at once. */
  readonly maxHeld: number
  /** Most DIDs held for one peer. */
  readonly maxHeldPerPeer: number
  /** Most rotations and revocations held with one inception; a longer log is taken by sync once registered. */
  readonly maxEventsPerDid?: number
  /** Most rotations and revocations held at once, over all held DIDs. */
  readonly maxEvents?: number
  /** Most rotations and revocations held at once with the DIDs held for one peer. */
  readonly maxEventsPerPeer?: number
}

/** Default bounds: 4,096 held DIDs, 256 per peer; 16 key events per DID, 512 per peer, 8,192 in all (node/limits.ts). */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxHeld: 4096,
  maxHeldPerPeer: 256,
  maxEventsPerDid: HELD_KEY_EVENTS_PER_DID,
  maxEvents: HELD_KEY_EVENTS,
  maxEventsPerPeer: HELD_KEY_EVENTS_PER_PEER,
}

/** One envelope to ingest now, and the peer that delivered it: its verdict is that peer's, nobody else's. */
export interface Released {
  readonly envelope: Envelope
  readonly peer: string
}

/**
 * What to do with one envelope: ingest these now (in order, each under the
 * peer that delivered it); hold it; refuse it, its peer's share of the pool
 * being full (`refused`: charged); leave it to a later sync (`later`: neither
 * held nor charged); or refuse it as the forgery `forged`, to be charged to
 * the peer that delivered it.
 */
export type Admitted =
  { readonly now: readonly Released[] } | { readonly forged: Rejected } | 'held' | 'refused' | 'later'

/** A held key event, the peer that delivered it, and the peer whose share of held events it counts in. */
interface HeldEvent {
  readonly event: KeyEvent
  readonly peer: string
  /** Its origin (a gossip message's publisher, a sync server), not the DID's holder (review 127 F4). */
  readonly share: string
}

interface Held {
  /** The peer the DID is held for (charged for it if it is left over). */
  readonly peer: string
  /** The inception first, then the rotations and revocations that chain from it, each with its deliverer. */
  readonly events: HeldEvent[]
  /**
   * The one revocation of the DID no key of its held log signed, and its id: perhaps its controller's, unknown
   * until the registration names it (decision 0069). Released after the registration; any other revocation of
   * the DID waits for a sync once one is held, unchecked (review 123 M2: junk cost a verify each, every round).
   */
  unproven?: HeldEvent & { readonly id: string }
  /** The key state after each event: `states[seq]`. */
  readonly states: KeyState[]
  /**
   * Why the held log is only part of the DID's, if it is: an event that failed before any signature check
   * (`gap`), or the caps (`capped`: a long, valid log, which wins). Its registration then waits for a sync that
   * brings the whole log.
   */
  partial?: 'gap' | 'capped'
}

/** What the admission rule needs. */
export interface AdmissionComponents {
  /** What the rule reads: is a DID anchored, does the node store its log. */
  readonly index: Pick<RegistryIndex, 'isAnchored' | 'hasLog'>
  /** Bounds of the pool (default `DEFAULT_ADMISSION_LIMITS`). */
  readonly limits?: AdmissionLimits
}

/** The held-inception pool and the admission rule. */
export class Admission {
  private readonly held = new Map<string, Held>()
  /** Per peer, what is held for it and what it sent (held-shares.ts). */
  private readonly shares = new HeldShares()

  private readonly index: AdmissionComponents['index']
  private readonly limits: Required<AdmissionLimits>

  constructor(c: AdmissionComponents) {
    this.index = c.index
    this.limits = { ...DEFAULT_ADMISSION_LIMITS, ...c.limits } as Required<AdmissionLimits>
  }

  /**
   * Decide for `e`, held (if it is) for `peer`, whose own node key is
   * `peerKey` (b64), if known; `via` delivered it (by default `peer`: a
   * gossip message's relay, where `peer` is its origin).
   */
  admit(e: Envelope, peer: string, peerKey: string | undefined, via: string = peer): Admitted {
    switch (e.type) {
      case 'icp':
        if (this.index.isAnchored(e.did) || this.index.hasLog(e.did) || e.key === peerKey)
          return { now: [{ envelope: e, peer: via }] }
        return this.hold(e, peer, via)
      case 'rot':
      case 'rev': {
        const h = this.held.get(e.did)
        if (h === undefined) return { now: [{ envelope: e, peer: via }] }
        const admitted = this.extend(h, e, peer, via)
        return admitted === 'held' && e.type === 'rot' && e.key === peerKey ? { now: this.release(e.did) } : admitted
      }
      case 'reg': {
        // the controller's log after the registration that names it: as an agent's first host a full node takes it
        // (docs/protocol.md §7); before, it could find the registry full and be refused for good (fifth review, 0045)
        const waits = this.waitsForLog(e)
        // a log made partial by an event that failed before any signature check (a gap: review 123) is no long
        // log: it is dropped, not stored bare, and the registration comes again with the whole log by sync
        if (waits && this.held.get(e.did)?.partial !== 'capped') return this.drop(e.did)
        // its unproven revocation last: checked once the registration names its controller and its log is in
        const { log, unproven } = this.take(e.did)
        const reg = waits ? [] : [{ envelope: e, peer: via }]
        return { now: [...log, ...reg, ...this.release(e.controller), ...unproven] }
      }
      default:
        return { now: [{ envelope: e, peer: via }] }
    }
  }

  /** Drop what `peer` left held; returns how many DIDs it was (to charge to it). */
  dropPeer(peer: string): number {
    let n = 0
    for (const [did, h] of this.held) {
      if (h.peer !== peer) continue
      this.forget(did, h)
      n++
    }
    return n
  }

  /** DIDs held for `peer` now. */
  heldFor(peer: string): number {
    return this.shares.dids(peer)
  }

  /** Rotations and revocations `peer` sent (as their origin) that are held now, whoever's DIDs they extend. */
  eventsFor(peer: string): number {
    return this.shares.events(peer)
  }

  /** DIDs held now. */
  size(): number {
    return this.held.size
  }

  /** Rotations and revocations held now, over all held DIDs. */
  events(): number {
    return this.shares.allEvents()
  }

  /** Peers with at least one DID or key event held now. */
  peers(): number {
    return this.shares.peers()
  }

  private hold(e: Extract<KeyEvent, { type: 'icp' }>, peer: string, via: string): Admitted {
    if (this.held.has(e.did)) return 'held'
    if (this.heldFor(peer) >= this.limits.maxHeldPerPeer) return 'refused'
    let state: KeyState
    try {
      state = applyKeyEvent(undefined, e) // a forged inception is no DID to hold (decision 0085)
    } catch (err) {
      return forgedOrLater(e, err)
    }
    if (this.held.size >= this.limits.maxHeld) this.evictOldest()
    this.held.set(e.did, { peer, events: [{ event: e, peer: via, share: peer }], states: [state] })
    this.shares.addDid(peer) // counted after the eviction, which may have released one of this peer's own
    return 'held'
  }

  /**
   * Hold `e` after the held log of its DID if it checks there (the rules of
   * docs/protocol.md §4 and §6, `applyKeyEvent`): a forgery is refused at once
   * and charged to `via`; what cannot be checked here or finds no room (in
   * `peer`'s share, whose it is) is left to a later sync, and the DID's log
   * is partial from then on.
   */
  private extend(h: Held, e: KeyEvent, peer: string, via: string): Admitted {
    // the one held already (its id and signature: a copy with a junk signature has its id; review 127 F1)
    if (h.unproven !== undefined && e.type === 'rev') return sameRevocation(e, h.unproven) ? 'held' : 'later'
    let state: KeyState
    try {
      state = applyKeyEvent(h.states[h.states.length - 1], e, {
        eventIdAt: (seq) => h.states[seq]?.lastId,
        stateBefore: (seq) => h.states[seq - 1],
      })
    } catch (err) {
      if (isMeshsigError(err) && err.code === 'DUPLICATE') return 'held' // held already
      // a revocation its own key did not sign may be its controller's, unknown here (§6, decision 0069)
      const unproven = e.type === 'rev' && isMeshsigError(err) && err.code === 'SIGNATURE_INVALID'
      if (unproven) return this.holdUnproven(h, { event: e, peer: via, share: peer })
      if (!forged(err)) h.partial ??= 'gap'
      return forgedOrLater(e, err)
    }
    if (h.events.length > this.limits.maxEventsPerDid || !this.count(peer)) {
      h.partial = 'capped'
      return 'later'
    }
    h.events.push({ event: e, peer: via, share: peer })
    h.states.push(state)
    return 'held'
  }

  /** Hold `rev` as the one revocation of its DID no key of the held log signed, if there is room (review 123 M2). */
  private holdUnproven(h: Held, rev: HeldEvent): Admitted {
    if (!this.count(rev.share)) return 'later'
    h.unproven = { ...rev, id: envelopeId(rev.event) }
    return 'held'
  }

  /**
   * Count one more event `peer` sent if there is room for it, over all DIDs
   * and in `peer`'s own share: not the DID holder's, which a rogue that
   * delivered an honest agent's inception first could have filled (review 127 F4).
   */
  private count(peer: string): boolean {
    return this.shares.takeEvent(peer, { perPeer: this.limits.maxEventsPerPeer, total: this.limits.maxEvents })
  }

  /**
   * True for a registration of a DID whose log is held only in part, not
   * signed by the key the held part leaves current: checked now it would
   * fail, and charge the honest peer that delivered it; it comes again with
   * the whole log by sync (decision 0085).
   */
  private waitsForLog(reg: Extract<Envelope, { type: 'reg' }>): boolean {
    const h = this.held.get(reg.did)
    const state = h?.states[h.states.length - 1]
    if (h?.partial === undefined || state === undefined) return false
    try {
      verifyEnvelopeSignature(reg, fromB64(state.key, 'key', 32))
      return false
    } catch {
      return true
    }
  }

  /** Forget what is held of `did`, storing and charging nothing: `later`. */
  private drop(did: string): Admitted {
    const h = this.held.get(did)
    if (h !== undefined) this.forget(did, h)
    return 'later'
  }

  /** Forget what is held of `did` and return it to ingest: its log, then its unproven revocation. */
  private release(did: string): Released[] {
    const { log, unproven } = this.take(did)
    return [...log, ...unproven]
  }

  /** Forget what is held of `did`; its log and its unproven revocation (if any), each to ingest under its deliverer. */
  private take(did: string): { log: Released[]; unproven: Released[] } {
    const h = this.held.get(did)
    if (h === undefined) return { log: [], unproven: [] }
    this.forget(did, h)
    const released = ({ event, peer }: HeldEvent): Released => ({ envelope: event, peer })
    return { log: h.events.map(released), unproven: h.unproven === undefined ? [] : [released(h.unproven)] }
  }

  private forget(did: string, h: Held): void {
    this.held.delete(did)
    const counted = h.unproven === undefined ? h.events.slice(1) : [...h.events.slice(1), h.unproven]
    for (const e of counted) this.shares.release(e.share, 0, 1)
    this.shares.release(h.peer, 1, 0)
  }

  private evictOldest(): void {
    const first = this.held.keys().next()
    if (!first.done) this.drop(first.value)
  }
}

/** True when `e` is the held revocation `held`: its id, and its signature too (the id does not cover it). */
function sameRevocation(e: KeyEvent, held: HeldEvent & { readonly id: string }): boolean {
  return e.sig === held.event.sig && envelopeId(e) === held.id
}

/** True when `err` proves the event forged or broken: its deliverer is charged (the gossip `reject` codes). */
function forged(err: unknown): err is MeshsigError {
  return isMeshsigError(err) && GOSSIP_REJECT_CODES.has(err.code)
}

/** The forgery verdict of `e` when `err` proves it forged, else `later`: nobody is charged for it. */
function forgedOrLater(e: KeyEvent, err: unknown): Admitted {
  if (!forged(err)) return 'later'
  return { forged: { ok: false, error: err, id: envelopeId(e), envelope: e } }
}
