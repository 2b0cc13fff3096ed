/**
 * Which registry envelopes from the mesh a node takes in now (docs/protocol.md
 * §9, issue 9). An inception whose DID has no registration here, names no
 * registration's controller and is not the delivering peer's own node key is
 * an empty DID: anyone can mint them for free. It is held in a small bounded
 * pool (never stored, never relayed) until a registration anchors it; what
 * is left over is charged to the peer that sent it.
 */
import { MAX_KEY_EVENTS, type Envelope, type KeyEvent } from '../core/index.js'
import type { RegistryIndex } from './sync-index.js'

/** Bounds of the pool of held inceptions. */
export interface AdmissionLimits {
  /** Most DIDs held at once. */
  readonly maxHeld: number
  /** Most DIDs held for one peer. */
  readonly maxHeldPerPeer: number
}

/** Default bounds: 4,096 held DIDs, 256 per peer. */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = { maxHeld: 4096, maxHeldPerPeer: 256 }

/** What to do with one envelope: ingest these now (in order), hold it, or refuse it (the pool is full for its peer). */
export type Admitted = { readonly now: Envelope[] } | 'held' | 'refused'

interface Held {
  readonly peer: string
  readonly events: KeyEvent[]
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
  private readonly perPeer = new Map<string, number>()

  private readonly index: AdmissionComponents['index']
  private readonly limits: AdmissionLimits

  constructor(c: AdmissionComponents) {
    this.index = c.index
    this.limits = c.limits ?? DEFAULT_ADMISSION_LIMITS
  }

  /** Decide for `e` delivered by `peer`, whose own node key is `peerKey` (b64), if known. */
  admit(e: Envelope, peer: string, peerKey: string | undefined): Admitted {
    switch (e.type) {
      case 'icp':
        if (this.index.isAnchored(e.did) || this.index.hasLog(e.did) || e.key === peerKey) return { now: [e] }
        return this.hold(e, peer)
      case 'rot':
      case 'rev': {
        const h = this.held.get(e.did)
        if (h === undefined) return { now: [e] }
        // no valid key log is longer (docs/protocol.md §6): more is a flood, not a log to hold
        if (h.events.length >= MAX_KEY_EVENTS) return 'refused'
        h.events.push(e)
        return e.type === 'rot' && e.key === peerKey ? { now: this.release(e.did) } : 'held'
      }
      case 'reg':
        // the controller's log after the registration that names it: as an agent's first host a full node takes it
        // (docs/protocol.md §7); before, it could find the registry full and be refused for good (fifth review, 0045)
        return { now: [...this.release(e.did), e, ...this.release(e.controller)] }
      default:
        return { now: [e] }
    }
  }

  /** Drop what `peer` left held; returns how many DIDs it was (to charge to it). */
  dropPeer(peer: string): number {
    let n = 0
    for (const [did, h] of this.held) {
      if (h.peer !== peer) continue
      this.held.delete(did)
      n++
    }
    this.perPeer.delete(peer)
    return n
  }

  /** DIDs held for `peer` now. */
  heldFor(peer: string): number {
    return this.perPeer.get(peer) ?? 0
  }

  /** DIDs held now. */
  size(): number {
    return this.held.size
  }

  /** Peers holding at least one DID now. */
  peers(): number {
    return this.perPeer.size
  }

  private hold(e: KeyEvent, peer: string): Admitted {
    if (this.held.has(e.did)) return 'held'
    if ((this.perPeer.get(peer) ?? 0) >= this.limits.maxHeldPerPeer) return 'refused'
    if (this.held.size >= this.limits.maxHeld) this.evictOldest()
    this.held.set(e.did, { peer, events: [e] })
    // counted after the eviction, which may have released one of this peer's own
    this.perPeer.set(peer, (this.perPeer.get(peer) ?? 0) + 1)
    return 'held'
  }

  private release(did: string): Envelope[] {
    const h = this.held.get(did)
    if (h === undefined) return []
    this.held.delete(did)
    const left = (this.perPeer.get(h.peer) ?? 1) - 1
    if (left > 0) this.perPeer.set(h.peer, left)
    else this.perPeer.delete(h.peer) // a peer holding nothing is not remembered
    return h.events
  }

  private evictOldest(): void {
    const first = this.held.keys().next()
    if (!first.done) this.release(first.value)
  }
}
