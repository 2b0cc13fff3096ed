/**
 * Every node is a witness for its peers (c2sp.org/tlog-witness semantics,
 * docs/audit.md) over libp2p (`/meshsig/witness/1.0.0`) and HTTP
 * (`POST /witness/add-checkpoint`). It learns a peer's log key only from
 * the peer itself, over libp2p, through a binding its identity key signed;
 * per origin it keeps the latest checkpoint it cosigned (checked and
 * replaced in one transaction). Two roots for one size, or a checkpoint not
 * consistent with the cosigned one, is refused with the spec's status. A
 * split view (self-proving: two notes under one log key) is recorded in the
 * audit log (`checkpoint.inconsistent`), shown, announced and sent to every
 * peer with the log's binding, and each peer checks both notes before it
 * records it too — once per (origin, size, roots), however many report it. A
 * failing consistency proof is recorded only when the log itself sent it
 * over libp2p, and is not gossiped: the proof is not signed, so it proves
 * nothing to a third party. As a log, the node asks each peer to cosign
 * each of its checkpoints.
 */
import { createHash } from 'node:crypto'
import { currentKeyOf, publicKeyFromPeerId, toB64, type KeyPair } from '../core/index.js'
import { bindingVerifiers, verifyLogKeyBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { cosignCheckpoint, parseCheckpointText, parseNote } from '../core/note.js'
import { addCheckpointBody, decideAddCheckpoint, type WitnessDecision, type WitnessedState } from '../core/witness.js'
import { checkSplitView, evidenceKey } from '../core/witness-evidence.js'
import type { AuditService } from '../audit/audit-service.js'
import type { CheckpointNotes } from '../audit/checkpoint-notes.js'
import type { NodeEvents } from '../events.js'
import type { MeshP2P } from '../p2p/index.js'
import type { CheckpointEvidence } from '../core/views.js'

export type { CheckpointEvidence }
import type { Store } from '../store/index.js'
import type { ChkEnvelope } from '../core/index.js'

/** The libp2p protocol of the witness. */
export const WITNESS_PROTOCOL = '/meshsig/witness/1.0.0'
/** Most origins one node witnesses. */
export const MAX_WITNESSED_ORIGINS = 1024
/** Most evidence records kept for display. */
const MAX_EVIDENCE = 256

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
  readonly witnessKey: KeyPair
  readonly binding: () => LogKeyBinding
  readonly p2p: () => MeshP2P
  readonly onError: (err: unknown) => void
}

interface Wire {
  readonly op?: unknown
  readonly binding?: unknown
  readonly body?: unknown
  readonly origin?: unknown
  readonly earlier?: unknown
  readonly later?: unknown
  /** With evidence: the binding of the log it is about, for peers that never spoke to that log. */
  readonly originBinding?: unknown
}

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

/** The witness and cosignature gatherer of one node. */
export class WitnessService {
  constructor(private readonly c: WitnessComponents) {}

  /** Answer the witness protocol on libp2p (Startable: before the mesh starts). */
  async start(): Promise<void> {
    await this.c.p2p().registerProtocol(WITNESS_PROTOCOL, (req, from) => json(this.serve(req, from)))
  }

  /** Nothing of its own to release: the protocol closes with the mesh; cosignatures asked for meanwhile fail and are reported. */
  stop(): void {}

  /** Answer one request of the witness protocol from the peer `fromPeerId` (add-checkpoint, or evidence). */
  serve(req: Uint8Array, fromPeerId: string): unknown {
    let wire: Wire
    try {
      wire = JSON.parse(new TextDecoder().decode(req)) as Wire
    } catch {
      return { status: 400, body: 'not JSON' }
    }
    const learned = this.learn(wire.binding, fromPeerId)
    if (learned === null) return { status: 403, body: 'the binding is not signed by this peer' }
    if (wire.op === 'evidence') return { status: this.acceptEvidence(wire, learned) ? 200 : 422 }
    if (wire.op !== 'add-checkpoint' || typeof wire.body !== 'string') return { status: 400, body: 'unknown op' }
    return { ...this.addCheckpoint(wire.body, learned.did), binding: this.c.binding() }
  }

  /**
   * Keep a peer's binding when it binds the peer's own DID and the peer's key
   * signed it: the DID's current key (its log's, else the key it names) is the
   * peer's key. Null otherwise: a peer cannot bind a log key to another DID.
   */
  private learn(input: unknown, fromPeerId: string): LogKeyBinding | null {
    try {
      const peerKey = publicKeyFromPeerId(fromPeerId)
      const b = verifyLogKeyBinding(input, peerKey)
      if (!Buffer.from(this.currentKey(b.did)).equals(peerKey)) return null
      const known = this.c.store.misc.meta(`witness.binding.${b.did}`)
      if (known === undefined && this.originCount() >= MAX_WITNESSED_ORIGINS) return null
      if (known === undefined) this.bumpOrigins()
      this.c.store.misc.setMetaValue(`witness.binding.${b.did}`, JSON.stringify(b))
      return b
    } catch {
      return null
    }
  }

  /** The key `did` signs with now (its log's, else the key it names); throws for a revoked DID. */
  private currentKey(did: string): Uint8Array {
    return currentKeyOf(did, this.c.store.keyEvents.state(did))
  }

  private originCount(): number {
    return Number(this.c.store.misc.meta('witness.origins') ?? '0')
  }

  private bumpOrigins(): void {
    this.c.store.misc.setMetaValue('witness.origins', String(this.originCount() + 1))
  }

  /**
   * The binding learned from `origin`, while it still verifies under the
   * origin's current key: one its DID has since rotated away from (or that a
   * holder of a rotated-out key gave before this node learned the rotation)
   * is not used; the origin sends a fresh one with its next request.
   */
  private bindingOf(origin: string): LogKeyBinding | null {
    const text = this.c.store.misc.meta(`witness.binding.${origin}`)
    if (text === undefined) return null
    try {
      return verifyLogKeyBinding(JSON.parse(text), this.currentKey(origin))
    } catch {
      return null
    }
  }

  private stateOf(origin: string): WitnessedState | undefined {
    const text = this.c.store.misc.meta(`witness.state.${origin}`)
    return text === undefined ? undefined : (JSON.parse(text) as WitnessedState)
  }

  /**
   * C2SP add-checkpoint: decide, persist atomically, cosign (or refuse with
   * the spec's status). `from` is the DID of the peer that sent it over
   * libp2p (authenticated); absent over HTTP.
   */
  addCheckpoint(body: string, from?: string): WitnessAnswer {
    const decision = this.c.store.transaction(() => {
      const d = decideAddCheckpoint(
        body,
        (origin) => {
          const b = this.bindingOf(origin)
          return b === null ? null : bindingVerifiers(b).log
        },
        (origin) => this.stateOf(origin),
      )
      if (d.status === 200) {
        const { origin, size, root } = d.request.checkpoint
        const state: WitnessedState = { size, root: toB64(root), note: d.request.note }
        this.c.store.misc.setMetaValue(`witness.state.${origin}`, JSON.stringify(state))
      }
      return d
    })
    return this.answer(decision, from)
  }

  private answer(d: WitnessDecision, from: string | undefined): WitnessAnswer {
    if (d.status === 200) {
      const text = parseNote(d.request.note).text
      const name = bindingVerifiers(this.c.binding()).witness.name
      const line = cosignCheckpoint(text, name, this.c.witnessKey, Math.floor(this.c.clock() / 1000))
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: line }
    }
    const e = d.evidence
    const origin = e === undefined ? undefined : parseCheckpointText(parseNote(e.later).text).origin
    // a split view is self-proving whoever sends it; a proof that fails blames the log only when the log sent it
    // (over HTTP anyone can pair the log's public note with a broken proof)
    if (e !== undefined && origin !== undefined && (e.kind === 'split-view' || from === origin)) {
      this.record({ origin, ...e, reportedBy: this.c.nodeDid(), at: this.c.clock() })
      if (e.kind === 'split-view') this.spread(origin, e.earlier, e.later)
    }
    if (d.status === 409 && d.latestSize !== undefined) {
      return { status: 409, contentType: 'text/x.tlog.size', body: `${d.latestSize}\n` }
    }
    return { status: d.status, contentType: 'text/plain; charset=utf-8', body: `${d.reason}\n` }
  }

  /**
   * Record evidence once (by kind, origin, sizes and roots, however many
   * witnesses report it): an audit entry (lowers the origin's trust), the
   * list, an event.
   */
  private record(e: CheckpointEvidence): boolean {
    const id = createHash('sha256')
      .update(evidenceKey(e.kind, e.earlier, e.later))
      .digest('hex')
    if (this.c.store.misc.meta(`witness.evidence.${id}`) !== undefined) return false
    this.c.store.transaction(() => {
      this.c.store.misc.setMetaValue(`witness.evidence.${id}`, '1')
      const list = this.evidence().slice(-(MAX_EVIDENCE - 1))
      this.c.store.misc.setMetaValue('witness.evidence', JSON.stringify([...list, e]))
      this.c.audit.record({
        kind: 'checkpoint.inconsistent',
        subject: e.origin,
        data: { reason: e.kind, earlier: e.earlier, later: e.later, reportedBy: e.reportedBy },
      })
    })
    this.c.events.emit('audit:inconsistent', { origin: e.origin, kind: e.kind, reportedBy: e.reportedBy })
    return true
  }

  /** This node's signed binding of its log and witness keys. */
  binding(): LogKeyBinding {
    return this.c.binding()
  }

  /** Evidence of inconsistent checkpoints this node holds, oldest first. */
  evidence(): CheckpointEvidence[] {
    return JSON.parse(this.c.store.misc.meta('witness.evidence') ?? '[]') as CheckpointEvidence[]
  }

  /**
   * A split view is self-proving: both notes verify under the origin's log
   * key, one size, two roots. The key comes from the origin itself (this
   * node's own, or the binding it sent when asking for cosignatures), else
   * from the binding carried with the evidence, checked under the key the
   * origin's DID names — so a node that never spoke to the log checks it too.
   */
  private acceptEvidence(wire: Wire, sender: LogKeyBinding): boolean {
    if (typeof wire.earlier !== 'string' || typeof wire.later !== 'string' || typeof wire.origin !== 'string') {
      return false
    }
    try {
      const binding = this.originBinding(wire.origin, wire.originBinding)
      if (binding === null) return false
      const origin = checkSplitView(wire.earlier, wire.later, bindingVerifiers(binding).log)
      const evidence = { origin, kind: 'split-view' as const, earlier: wire.earlier, later: wire.later }
      if (this.record({ ...evidence, reportedBy: sender.did, at: this.c.clock() })) {
        this.spread(origin, wire.earlier, wire.later)
      }
      return true
    } catch {
      return false
    }
  }

  /** The binding of `origin`'s log keys this node can trust, or null. */
  private originBinding(origin: string, offered: unknown): LogKeyBinding | null {
    if (origin === this.c.nodeDid()) return this.c.binding()
    const known = this.bindingOf(origin)
    if (known !== null) return known
    // a binding offered by a third party is checked under the origin's current key in its log: the key its DID
    // names may be rotated out, and whoever kept it could bind a log key of their own (docs/audit.md)
    if (this.c.store.keyEvents.state(origin) === undefined) return null
    try {
      const b = verifyLogKeyBinding(offered, this.currentKey(origin))
      return b.did === origin ? b : null
    } catch {
      return null // not signed by the origin's current key, or the origin is revoked
    }
  }

  private spread(origin: string, earlier: string, later: string): void {
    const originBinding = this.originBinding(origin, undefined)
    const msg = json({ op: 'evidence', binding: this.c.binding(), origin, originBinding, earlier, later })
    for (const p of this.c.p2p().peers()) {
      void this.c
        .p2p()
        .request(p.peerId, WITNESS_PROTOCOL, msg)
        .catch(() => undefined)
    }
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
    const key = `cosigner.${peerId}`
    let old = Number(this.c.store.misc.meta(key) ?? '0')
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
      const w = this.learn(res.binding, peerId)
      if (w === null) return false
      if (this.c.notes.addCosignatures(chk, res.body, bindingVerifiers(w).witness) === 0) return false
      this.c.store.misc.setMetaValue(key, String(chk.size))
      return true
    }
    return false
  }
}
