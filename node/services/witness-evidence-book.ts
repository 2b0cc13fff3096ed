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
 *
 * A key costs nothing, so "once per origin" alone does not bound a flood of
 * throwaway logs (attack review 100; decision 0066, addendum): evidence is
 * recorded and relayed as above only against a log this node knows — its
 * own, or one it holds in its table of witnessed logs (it cosigned a note the
 * log signed, under a binding the DID's own key signed: known by what it
 * signed itself). A registration naming a DID as controller is signed by the
 * agent, not by that DID, so it makes no log known here (attack review 113;
 * decision 0079). A split view
 * of any other log is recorded, not relayed, while a node-wide budget of
 * `limits.witness.unknownEvidencePerWindow` lasts, and past it only counted.
 * Relays go through per-peer queues that retry until the peer answers
 * (witness-relays.ts).
 */
import { currentKeyOf } from '../core/index.js'
import { bindingVerifiers, verifyLogKeyBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { checkSplitView, logSignedNote } from '../core/witness-evidence.js'
import type { CheckpointEvidence } from '../core/views.js'
import type { AuditService } from '../audit/audit-service.js'
import type { NodeEvents } from '../events.js'
import type { MeshP2P } from '../p2p/index.js'
import type { Store } from '../store/index.js'
import type { WitnessLimits } from '../limits.js'
import type { WitnessLogs } from './witness-logs.js'
import { EvidenceRelays } from './witness-relays.js'

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
  readonly limits: WitnessLimits
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
  private readonly relays: EvidenceRelays
  /** The node-wide window of split views of unknown logs: its start (ms) and how many were recorded. */
  private unknownWindow = { since: Number.NEGATIVE_INFINITY, recorded: 0 }
  /** Split views of unknown logs that checked out but were only counted (metrics). */
  private unrecordedCount = 0

  constructor(private readonly c: EvidenceBookComponents) {
    this.relays = new EvidenceRelays(c.p2p, c.protocol)
  }

  /** Stop relaying (pending relays are dropped). */
  stop(): void {
    this.relays.stop()
  }

  /** Split views of logs this node does not know, past the node-wide budget: checked, counted, not recorded. */
  unrecorded(): number {
    return this.unrecordedCount
  }

  /** Relays waiting for a peer's answer (metrics, tests). */
  pendingRelays(): number {
    return this.relays.pending()
  }

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
    // found here: the log is held (a split view contradicts a cosigned checkpoint), so known
    const recorded = this.record({ ...e, ...notes, reportedBy: this.c.nodeDid(), at: this.c.clock() }, true)
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
      if (this.known(origin)) {
        if (this.record(evidence, true)) this.spread(origin, binding, notes.earlier, notes.later)
      } else if (!this.alreadyProven(evidence) && this.takeUnknown()) this.record(evidence, false)
      return true
    }
    return false
  }

  /** A log this node knows: its own, or one it holds in its table (decision 0079). */
  private known(origin: string): boolean {
    return origin === this.c.nodeDid() || this.c.logs.held(origin) !== undefined
  }

  private alreadyProven(e: CheckpointEvidence): boolean {
    return this.c.store.misc.meta(`witness.proven.${e.kind}.${e.origin}`) !== undefined
  }

  /** Take one of the window's records of an unknown log's split view; false (and counted) once spent. */
  private takeUnknown(): boolean {
    const now = this.c.clock()
    const { unknownEvidencePerWindow, unknownEvidenceWindowMs } = this.c.limits
    if (now - this.unknownWindow.since >= unknownEvidenceWindowMs) this.unknownWindow = { since: now, recorded: 0 }
    if (this.unknownWindow.recorded < unknownEvidencePerWindow) {
      this.unknownWindow.recorded++
      return true
    }
    this.unrecordedCount++
    return false
  }

  /**
   * Record evidence once per origin and kind: an audit entry (lowers the
   * origin's trust), the list, an event. True when it is to be relayed: new
   * and `known`, or recorded before while the origin was unknown (mark
   * `unrelayed:<at>`) and known now. False otherwise, or when the origin was
   * already proven so (by a row, or an item of the list from before the rows).
   */
  private record(e: CheckpointEvidence, known: boolean): boolean {
    const mark = `witness.proven.${e.kind}.${e.origin}`
    const was = this.c.store.misc.meta(mark)
    if (was !== undefined) {
      if (!known || !was.startsWith('unrelayed:')) return false
      this.c.store.misc.setMetaValue(mark, String(e.at)) // relayed once, now that the log is known here
      return true
    }
    const list = this.list()
    const held = list.some((x) => x.origin === e.origin && x.kind === e.kind)
    this.c.store.transaction(() => {
      this.c.store.misc.setMetaValue(mark, known ? String(e.at) : `unrelayed:${e.at}`)
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
    return known
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

  /**
   * Send split-view evidence against `origin` to every connected peer, with
   * the binding it was checked under, through its relay queue: retried until
   * the peer answers 200 or 422, whatever the 'proven' mark says here.
   */
  private spread(origin: string, originBinding: LogKeyBinding, earlier: string, later: string): void {
    const frame = { op: 'evidence', binding: this.c.binding(), origin, originBinding, earlier, later }
    const bytes = new TextEncoder().encode(JSON.stringify(frame))
    for (const p of this.c.p2p().peers()) this.relays.send(p.peerId, bytes)
  }
}
