/**
 * Every node is a witness for its peers (c2sp.org/tlog-witness semantics,
 * docs/audit.md) over libp2p (`/meshsig/witness/1.0.0`) and HTTP
 * (`POST /witness/add-checkpoint`). Each peer has a budget of frames per
 * window (`limits.witness`, decision 0066), and one of its own for evidence
 * frames (relays never spend a witness's add-checkpoint budget; addendum);
 * past it 429, nothing else read. It
 * learns a log's key only from the log itself, over libp2p, through a
 * binding its identity key signed, and keeps it with the latest checkpoint
 * it cosigned (witness-logs.ts: checked and replaced in one transaction; a
 * log key is not replaced under the same identity key, only after a rotation
 * of the DID, decision 0084; a bounded table, a log counted once cosigned).
 * A repeat of the checkpoint cosigned gets the cosignature given: nothing
 * signed, nothing written. Two roots for one size, or a checkpoint not
 * consistent with the cosigned one, is refused with the spec's status, and
 * the evidence goes to the evidence book (witness-evidence-book.ts): a split
 * view (self-proving: two notes under one log key) whoever showed it, a
 * failing consistency proof only when the log itself sent it over libp2p
 * (the proof is not signed, so it proves nothing to a third party). A note
 * that contradicts a `chk` of its origin and size this node keeps is refused
 * 422 and recorded once per log (split-view.ts, decision 0079). As a log, the
 * node asks each peer to cosign each of its checkpoints.
 */
import { currentKeyOf, publicKeyFromPeerId, toB64, type KeyPair } from '../core/index.js'
import { bindingVerifiers, verifyLogKeyBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { cosignCheckpoint, parseCheckpointText, parseNote, type NoteVerifier } from '../core/note.js'
import { addCheckpointBody, decideAddCheckpoint, type WitnessDecision } from '../core/witness.js'
import { logSignedNote } from '../core/witness-evidence.js'
import type { AuditService } from '../audit/audit-service.js'
import type { CheckpointNotes } from '../audit/checkpoint-notes.js'
import type { NodeEvents } from '../events.js'
import type { WitnessLimits } from '../limits.js'
import type { MeshP2P } from '../p2p/index.js'
import { ServeBudget } from '../p2p/serve-budget.js'
import type { CheckpointEvidence } from '../core/views.js'
import type { Store } from '../store/index.js'
import type { ChkEnvelope } from '../core/index.js'
import { EvidenceBook, type EvidenceFrame } from './witness-evidence-book.js'
import { WitnessCosigners } from './witness-cosigners.js'
import { WitnessLogs } from './witness-logs.js'
import { chkContradicting, recordNoteSplit, type NoteSplitView } from './split-view.js'

export type { CheckpointEvidence }

/** The libp2p protocol of the witness. */
export const WITNESS_PROTOCOL = '/meshsig/witness/1.0.0'

/** An HTTP-shaped answer of the witness. */
export interface WitnessAnswer {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

/** What the witness needs from the node. */
export interface WitnessComponents {
  readonly store: Store
  readonly audit: AuditService
  readonly notes: CheckpointNotes
  readonly events: NodeEvents
  readonly clock: () => number
  readonly nodeDid: () => string
  /** The witness key of the node's current identity key (made anew after a rotation, decision 0084). */
  readonly witnessKey: () => KeyPair
  readonly binding: () => LogKeyBinding
  readonly p2p: () => MeshP2P
  readonly onError: (err: unknown) => void
  /** The per-peer budget and the table of logs (docs/audit.md, decision 0066). */
  readonly limits: WitnessLimits
  /**
   * True for a node it knows, whose log goes last in a full table of witnessed
   * logs (decision 0066, addendum): a DID that controls an agent this node
   * stores and whose own key event log it holds (decision 0079).
   */
  readonly knows: (did: string) => boolean
}

interface Wire extends EvidenceFrame {
  readonly op?: unknown
  readonly binding?: unknown
  readonly body?: unknown
}

/** What an add-checkpoint came to in its transaction: a cosignature, a refusal, or no room for a new log. */
type Outcome =
  | { readonly cosignature: string }
  | { readonly refused: Exclude<WitnessDecision, { status: 200 }>; readonly split?: NoteSplitView }
  | { readonly full: true }

/** The evidence a refusal carries. */
type Evidence = NonNullable<Extract<WitnessDecision, { status: 400 | 403 | 404 | 409 | 422 }>['evidence']>

const TEXT = 'text/plain; charset=utf-8'
const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

/** The witness and cosignature gatherer of one node. */
export class WitnessService {
  private readonly logs: WitnessLogs
  private readonly book: EvidenceBook
  /** Frames answered per peer and window: past the budget 429, nothing read, signed or written. */
  private readonly budget: ServeBudget
  /** Evidence frames answered per peer and window, apart from add-checkpoint requests. */
  private readonly evidenceBudget: ServeBudget
  private readonly cosigners: WitnessCosigners

  constructor(private readonly c: WitnessComponents) {
    this.logs = new WitnessLogs(c.store, c.limits, c.clock, c.knows)
    this.book = new EvidenceBook({ ...c, logs: this.logs, protocol: WITNESS_PROTOCOL })
    const { servedPerPeer, evidencePerPeer, serveWindowMs } = c.limits
    this.budget = new ServeBudget(servedPerPeer, serveWindowMs, c.clock, { budget: 'witness', unit: 'frames' })
    this.cosigners = new WitnessCosigners(c.store, () => Math.max(1, c.limits.origins))
    this.evidenceBudget = new ServeBudget(evidencePerPeer, serveWindowMs, c.clock, {
      budget: 'witness evidence',
      unit: 'frames',
    })
  }

  /** Answer the witness protocol on libp2p (Startable: before the mesh starts). */
  async start(): Promise<void> {
    await this.c.p2p().registerProtocol(WITNESS_PROTOCOL, (req, from) => json(this.serve(req, from)))
  }

  /** Drop pending evidence relays; the protocol closes with the mesh; cosignatures asked for meanwhile fail and are reported. */
  stop(): void {
    this.book.stop()
  }

  /** Split views of unknown logs only counted, past the node-wide budget (decision 0066, addendum). */
  unrecordedEvidence(): number {
    return this.book.unrecorded()
  }

  /** Answer one request of the witness protocol from the peer `fromPeerId` (add-checkpoint, or evidence). */
  serve(req: Uint8Array, fromPeerId: string): unknown {
    let wire: Wire | undefined
    try {
      wire = JSON.parse(new TextDecoder().decode(req)) as Wire
    } catch {
      wire = undefined
    }
    try {
      // charged before anything is checked, signed or written (docs/audit.md); garbage to the add-checkpoint budget
      ;(wire?.op === 'evidence' ? this.evidenceBudget : this.budget).take(fromPeerId)
    } catch (err) {
      return { status: 429, body: `RATE_LIMITED: ${(err as Error).message}` }
    }
    if (wire === undefined || wire === null || typeof wire !== 'object') return { status: 400, body: 'not JSON' }
    const sender = this.verifySender(wire.binding, fromPeerId)
    if (sender === null) return { status: 403, body: 'the binding is not signed by this peer' }
    if (this.logs.conflicts(sender)) {
      return {
        status: 403,
        body: `${sender.did} is witnessed here under another log key: a log key is not replaced under the same identity key`,
      }
    }
    if (wire.op === 'evidence') return { status: this.book.accept(wire, sender) ? 200 : 422 }
    if (wire.op !== 'add-checkpoint' || typeof wire.body !== 'string') return { status: 400, body: 'unknown op' }
    return { ...this.addCheckpoint(wire.body, sender), binding: this.c.binding() }
  }

  /**
   * A peer's binding when it binds the peer's own DID and the peer's key
   * signed it: the DID's current key (its log's, else the key it names) is
   * the peer's key. Null otherwise: a peer cannot bind a log key to another
   * DID. Nothing is stored here: a log's binding is kept once it is cosigned.
   */
  private verifySender(input: unknown, fromPeerId: string): LogKeyBinding | null {
    try {
      const peerKey = publicKeyFromPeerId(fromPeerId)
      const b = verifyLogKeyBinding(input, peerKey)
      return Buffer.from(this.currentKey(b.did)).equals(peerKey) ? b : null
    } catch {
      return null
    }
  }

  /** The key `did` signs with now (its log's, else the key it names); throws for a revoked DID. */
  private currentKey(did: string): Uint8Array {
    return currentKeyOf(did, this.c.store.keyEvents.state(did))
  }

  /**
   * The log key of `origin`: the one the log itself just sent (a key held for
   * it is the same one), else the one held, while its binding verifies under
   * the origin's current key — one its DID has since rotated away from (or
   * that a holder of a rotated-out key gave before this node learned the
   * rotation) is not used; the log sends a fresh binding with its next request.
   */
  private logKey(origin: string, sender: LogKeyBinding | undefined): NoteVerifier | null {
    if (sender?.did === origin) return bindingVerifiers(sender).log
    const held = this.logs.heldBinding(origin)
    if (held === undefined) return null
    try {
      return bindingVerifiers(verifyLogKeyBinding(held, this.currentKey(origin))).log
    } catch {
      return null
    }
  }

  /**
   * C2SP add-checkpoint: decide, persist atomically, cosign (or refuse with
   * the spec's status). `sender` is the binding of the peer that sent it over
   * libp2p (authenticated); absent over HTTP.
   */
  addCheckpoint(body: string, sender?: LogKeyBinding): WitnessAnswer {
    const outcome = this.c.store.transaction(() => this.decide(body, sender))
    if ('cosignature' in outcome) return { status: 200, contentType: TEXT, body: outcome.cosignature }
    if ('full' in outcome) return { status: 503, contentType: TEXT, body: `${this.logs.fullReason()}\n` }
    const d = outcome.refused
    if (d.evidence !== undefined) this.evidenceFound(d.evidence, sender)
    if (outcome.split !== undefined) recordNoteSplit(this.c, outcome.split)
    if (d.status === 409 && d.latestSize !== undefined) {
      return { status: 409, contentType: 'text/x.tlog.size', body: `${d.latestSize}\n` }
    }
    return { status: d.status, contentType: TEXT, body: `${d.reason}\n` }
  }

  private decide(body: string, sender: LogKeyBinding | undefined): Outcome {
    const d = decideAddCheckpoint(
      body,
      (origin) => this.logKey(origin, sender),
      (origin) => this.logs.held(origin),
    )
    if (d.status !== 200) return { refused: d }
    const split = this.chkClash(d.request.note, d.request.checkpoint, sender)
    if (split !== undefined) {
      const reason = `two roots for size ${split.size}: the log's chk of that size has another root`
      return { refused: { status: 422, reason }, split }
    }
    const { origin, size, root } = d.request.checkpoint
    const held = this.logs.held(origin)
    // a repeat of the checkpoint cosigned: the cosignature given, nothing signed or written (decision 0066)
    if (held?.cosignature !== undefined && held.size === size && held.root === toB64(root)) {
      return { cosignature: held.cosignature }
    }
    if (held === undefined && !this.logs.makeRoom(origin)) return { full: true }
    const binding = sender?.did === origin ? sender : this.logs.heldBinding(origin)!
    const cosignature = this.cosign(d.request.note)
    const note = logSignedNote(d.request.note, bindingVerifiers(binding).log)
    this.logs.keep(origin, { size, root: toB64(root), note, binding, cosignature, at: this.c.clock() })
    return { cosignature }
  }

  /**
   * A `chk` of the note's origin and size that this node keeps, with another
   * root and signed by the origin's current key: the DID showed the mesh one
   * tree and this witness another (decision 0079). Undefined when none.
   */
  private chkClash(
    note: string,
    at: { readonly origin: string; readonly size: number; readonly root: Uint8Array },
    sender: LogKeyBinding | undefined,
  ): NoteSplitView | undefined {
    const { origin, size } = at
    const log = this.logKey(origin, sender)
    if (log === null) return undefined
    let key: Uint8Array
    try {
      key = this.currentKey(origin)
    } catch {
      return undefined // a revoked origin: logKey found no binding either
    }
    const chk = chkContradicting(this.c.store.auditEntries, { origin, size, root: toB64(at.root) }, key)
    return chk === undefined ? undefined : { origin, size, chkId: chk.id, note: logSignedNote(note, log) }
  }

  private cosign(note: string): string {
    const name = bindingVerifiers(this.c.binding()).witness.name
    return cosignCheckpoint(parseNote(note).text, name, this.c.witnessKey(), Math.floor(this.c.clock() / 1000))
  }

  /**
   * Evidence the decision found: a split view is self-proving whoever sends
   * it; a proof that fails blames the log only when the log sent it (over
   * HTTP anyone can pair the log's public note with a broken proof).
   */
  private evidenceFound(e: Evidence, sender: LogKeyBinding | undefined): void {
    const origin = parseCheckpointText(parseNote(e.later).text).origin
    if (e.kind !== 'split-view' && sender?.did !== origin) return
    const binding = sender?.did === origin ? sender : this.logs.heldBinding(origin)
    if (binding !== undefined) this.book.found({ origin, ...e }, binding)
  }

  /** This node's signed binding of its log and witness keys. */
  binding(): LogKeyBinding {
    return this.c.binding()
  }

  /** Evidence of inconsistent checkpoints this node holds, oldest first. */
  evidence(): CheckpointEvidence[] {
    return this.book.list()
  }

  /** Ask every connected peer to cosign `chk`; keeps each returned cosignature that verifies. */
  async gather(chk: ChkEnvelope): Promise<number> {
    const results = await Promise.all(
      this.c
        .p2p()
        .peers()
        .map((p) => this.askOne(p.peerId, chk)),
    )
    return results.filter(Boolean).length
  }

  private async askOne(peerId: string, chk: ChkEnvelope): Promise<boolean> {
    let old = Number(this.c.store.misc.meta(`cosigner.${peerId}`) ?? '0')
    for (let attempt = 0; attempt < 2; attempt++) {
      if (old > chk.size) return false
      const proof = this.c.audit.consistency(old, chk.size).proof.map((h) => Buffer.from(h, 'base64'))
      const note = this.c.notes.note(chk)
      const req = json({ op: 'add-checkpoint', binding: this.c.binding(), body: addCheckpointBody(old, proof, note) })
      let res: { status?: number; body?: string; binding?: unknown }
      try {
        res = JSON.parse(new TextDecoder().decode(await this.c.p2p().request(peerId, WITNESS_PROTOCOL, req)))
      } catch (err) {
        this.c.onError(err)
        return false
      }
      if (res.status === 409 && typeof res.body === 'string' && /^\d+\n$/.test(res.body)) {
        old = Number(res.body)
        continue
      }
      if (res.status !== 200 || typeof res.body !== 'string') return false
      return this.keepCosignature(peerId, chk, res.body, res.binding)
    }
    return false
  }

  /**
   * Keep the cosignature a witness returned for `chk` (one line per witness
   * key; when the note's slots are full the witnesses held keep theirs), and
   * its binding for auditors. True when its line is in the note.
   */
  private keepCosignature(peerId: string, chk: ChkEnvelope, lines: string, input: unknown): boolean {
    const w = this.verifySender(input, peerId)
    if (w === null || this.logs.conflicts(w)) return false
    const kept = this.c.notes.addCosignatures(chk, lines, bindingVerifiers(w).witness)
    if (kept !== 'kept') return false
    // rows only for kept lines, bounded (decision 0066, addendum): the witness's size and its binding for auditors
    this.c.store.transaction(() => {
      this.cosigners.keep(peerId, w, chk.size)
    })
    return true
  }
}
