/**
 * The evidence a witness holds against logs (docs/audit.md, "Split views,
 * rewrites and evidence"; decision 0066). One proof that a log equivocated is
 * enough: evidence is recorded once per origin and kind, however many
 * different split views the log mints — an audit entry (the origin's trust
 * counts one failure), an item of `GET /witness/evidence`, an event — and a
 * split view is sent to every peer only when it is recorded. Both notes are
 * kept as the log signed them (its signature line only), so evidence always
 * fits an audit entry whatever lines the log padded its notes with. A peer
 * checks evidence it receives under the log's binding it holds, or the one
 * the evidence carries when that verifies under the current key of the
 * log's DID.
 */
import { currentKeyOf } from '../core/index.js'
import { bindingVerifiers, verifyLogKeyBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { checkSplitView, logSignedNote } from '../core/witness-evidence.js'
import type { CheckpointEvidence } from '../core/views.js'
import type { AuditService } from '../audit/audit-service.js'
import type { NodeEvents } from '../events.js'
import type { MeshP2P } from '../p2p/index.js'
import type { Store } from '../store/index.js'
import type { WitnessLogs } from './witness-logs.js'

/** Most evidence records kept for display. */
export const MAX_EVIDENCE = 256

/** What the evidence book needs from the node. */
export interface EvidenceBookComponents {
  readonly store: Store
  readonly audit: AuditService
  readonly events: NodeEvents
  readonly clock: () => number
  readonly nodeDid: () => string
  /** This node's own binding. */
  readonly binding: () => LogKeyBinding
  readonly logs: WitnessLogs
  readonly p2p: () => MeshP2P
  /** The libp2p protocol evidence is sent on. */
  readonly protocol: string
}

/** Split-view evidence as a peer sends it. */
export interface EvidenceFrame {
  readonly origin?: unknown
  readonly earlier?: unknown
  readonly later?: unknown
  /** The binding of the log it is about, for peers that never spoke to that log. */
  readonly originBinding?: unknown
}

/** Records, lists and relays evidence against logs. */
export class EvidenceBook {
  constructor(private readonly c: EvidenceBookComponents) {}

  /** Evidence this node holds, oldest first. */
  list(): CheckpointEvidence[] {
    return JSON.parse(this.c.store.misc.meta('witness.evidence') ?? '[]') as CheckpointEvidence[]
  }

  /**
   * Record evidence found here (both notes verified under `log`): kept as
   * the log signed them; a new split view is sent to every peer with `binding`.
   */
  found(e: Omit<CheckpointEvidence, 'at' | 'reportedBy'>, binding: LogKeyBinding): void {
    const { log } = bindingVerifiers(binding)
    let notes: { earlier: string; later: string }
    try {
      notes = { earlier: logSignedNote(e.earlier, log), later: logSignedNote(e.later, log) }
    } catch {
      return // a note cosigned before decision 0066 under a log key since replaced: no evidence under this one
    }
    const recorded = this.record({ ...e, ...notes, reportedBy: this.c.nodeDid(), at: this.c.clock() })
    if (recorded && e.kind === 'split-view') this.spread(e.origin, binding, notes.earlier, notes.later)
  }

  /**
   * Take split-view evidence `frame` from the peer whose binding is `sender`:
   * true when it checks out (recorded and relayed if it is the first against
   * its origin), false when it proves nothing.
   */
  accept(frame: EvidenceFrame, sender: LogKeyBinding): boolean {
    const { origin, earlier, later } = frame
    if (typeof earlier !== 'string' || typeof later !== 'string' || typeof origin !== 'string') return false
    for (const binding of this.bindingsOf(origin, frame.originBinding, sender)) {
      const { log } = bindingVerifiers(binding)
      try {
        checkSplitView(earlier, later, log)
      } catch {
        continue
      }
      const notes = { earlier: logSignedNote(earlier, log), later: logSignedNote(later, log) }
      const evidence = { origin, kind: 'split-view' as const, ...notes, reportedBy: sender.did, at: this.c.clock() }
      if (this.record(evidence)) this.spread(origin, binding, notes.earlier, notes.later)
      return true
    }
    return false
  }

  /**
   * Record evidence once per origin and kind: an audit entry (lowers the
   * origin's trust), the list, an event. False when the origin was already
   * proven so (by a row, or an item of the list from before the rows).
   */
  private record(e: CheckpointEvidence): boolean {
    const mark = `witness.proven.${e.kind}.${e.origin}`
    if (this.c.store.misc.meta(mark) !== undefined) return false
    const list = this.list()
    const held = list.some((x) => x.origin === e.origin && x.kind === e.kind)
    this.c.store.transaction(() => {
      this.c.store.misc.setMetaValue(mark, String(e.at))
      if (held) return
      this.c.store.misc.setMetaValue('witness.evidence', JSON.stringify([...list.slice(-(MAX_EVIDENCE - 1)), e]))
      this.c.audit.record({
        kind: 'checkpoint.inconsistent',
        subject: e.origin,
        data: { reason: e.kind, earlier: e.earlier, later: e.later, reportedBy: e.reportedBy },
      })
    })
    if (held) return false
    this.c.events.emit('audit:inconsistent', { origin: e.origin, kind: e.kind, reportedBy: e.reportedBy })
    return true
  }

  /**
   * The bindings of `origin`'s log keys to check evidence with: this node's
   * own; the one the log itself gave (`sender`'s, when the log sends it, or
   * the one held), while it verifies under the origin's current key; and the
   * one `offered` with the evidence, checked under that key when this node
   * holds the origin's key event log or has a binding from the log itself
   * (the key its DID names may be rotated out, and whoever kept it could bind
   * a log key of their own, docs/audit.md).
   */
  private bindingsOf(origin: string, offered: unknown, sender: LogKeyBinding): LogKeyBinding[] {
    if (origin === this.c.nodeDid()) return [this.c.binding()]
    const state = this.c.store.keyEvents.state(origin)
    const held = sender.did === origin ? sender : this.c.logs.heldBinding(origin)
    // without the origin's key event log or a binding from the log itself, its current key is not known here
    if (held === undefined && state === undefined) return []
    const out: LogKeyBinding[] = []
    for (const b of [held, offered]) {
      if (b === undefined) continue
      try {
        const checked = verifyLogKeyBinding(b, currentKeyOf(origin, state))
        if (checked.did === origin && !out.some((x) => x.logKey === checked.logKey)) out.push(checked)
      } catch {
        // not signed by the origin's current key, or the origin is revoked
      }
    }
    return out
  }

  /** Send split-view evidence against `origin` to every connected peer, with the binding it was checked under. */
  private spread(origin: string, originBinding: LogKeyBinding, earlier: string, later: string): void {
    const frame = { op: 'evidence', binding: this.c.binding(), origin, originBinding, earlier, later }
    const bytes = new TextEncoder().encode(JSON.stringify(frame))
    for (const p of this.c.p2p().peers()) {
      this.c
        .p2p()
        .request(p.peerId, this.c.protocol, bytes)
        .catch(() => undefined)
    }
  }
}
