/**
 * The node's side of the mesh: the gossip validator (every envelope through
 * the one ingest path, decision 0005 for Reject vs Ignore), peer arrivals
 * and departures (audit entries, registry sync, capability announcements),
 * registry catch-up, and publishing through the outbox.
 */
import {
  shortReason,
  decodeEnvelope,
  didFromPublicKey,
  encodeEnvelope,
  keyCommitment,
  peerKeyB64,
  publicKeyFromDid,
  publicKeyFromPeerId,
  verifyEnvelopeSignature,
  type ChkEnvelope,
  type Envelope,
  type MsgEnvelope,
  type Verdict,
} from '../core/index.js'
import type { AuditService } from '../audit/audit-service.js'
import type { NodeEvents } from '../events.js'
import type { Topic } from '../p2p/index.js'
import type { AgentsRepo, KeyEventsRepo, MiscRepo, Store } from '../store/index.js'
import type { CapabilityProvides } from './capability-provides.js'
import type { CheckpointGate } from './checkpoint-gate.js'
import type { GossipOutbox } from './gossip-outbox.js'
import { GOSSIP_REJECT_CODES, type Ingest } from './ingest.js'
import type { RelayGuard } from './relay-guard.js'
import type { SyncResult } from './sync.js'
import type { Admission } from './sync-admission.js'
import type { SyncClient } from './sync-client.js'
import { PeerSyncs } from './peer-syncs.js'
import { unauditedRecord, type RefusalAuditBudget } from './refusal-audit-budget.js'

export { MIN_SYNC_INTERVAL_MS } from './peer-syncs.js'

/** The gossip topic of each envelope type (docs/protocol.md §9). */
export const TOPIC_OF: Readonly<Record<Envelope['type'], Topic>> = {
  msg: 'meshsig/v1/messages',
  reg: 'meshsig/v1/registry',
  icp: 'meshsig/v1/registry',
  rot: 'meshsig/v1/registry',
  rev: 'meshsig/v1/registry',
  chk: 'meshsig/v1/audit',
}

/** The repositories the gossip side reads and writes. */
export interface MeshGossipStore {
  readonly agents: Pick<AgentsRepo, 'get'>
  readonly keyEvents: Pick<KeyEventsRepo, 'duplicityOf' | 'state'>
  readonly misc: Pick<MiscRepo, 'peerFault'>
  transaction: Store['transaction']
}

/** What the gossip side needs from the node. */
/** Registrations from one peer that wait for a key log at once (docs/protocol.md §9); more are dropped unchecked. */
export const MAX_AWAITING_LOG_PER_PEER = 32
/** Peers with registrations waiting for a key log at once. */
const MAX_AWAITING_LOG_PEERS = 256

export interface MeshGossipComponents {
  readonly store: MeshGossipStore
  readonly ingest: Pick<Ingest, 'ingest' | 'check' | 'refuse'>
  readonly audit: Pick<AuditService, 'record'>
  readonly events: Pick<NodeEvents, 'emit' | 'subscribe'>
  readonly outbox: Pick<GossipOutbox, 'publish'>
  /** The capability types announced on the DHT (capability-provides.ts); none: nothing is announced. */
  readonly provides?: Pick<CapabilityProvides, 'start' | 'stop' | 'peerConnected'>
  readonly onError: (err: unknown) => void
  /** Quotas on relayed messages (node/services/relay-guard.ts); none when absent. */
  readonly relay?: RelayGuard
  /** Least time between two registry syncs started with one peer (ms, default `MIN_SYNC_INTERVAL_MS`). */
  readonly minSyncIntervalMs?: number
  /** Reconciliation rounds (docs/protocol.md §9); none: syncs do nothing. */
  readonly sync?: Pick<SyncClient, 'probe' | 'round' | 'charge' | 'isBanned' | 'sliceMs'>
  /** Which gossiped checkpoints are taken (checkpoint-gate.ts); none: all go to ingest. */
  readonly checkpoints?: Pick<CheckpointGate, 'admit' | 'taken'>
  /** The empty-inception rule of registry gossip (issue 9); none: everything goes to ingest. */
  readonly admission?: Pick<Admission, 'admit' | 'dropPeer'>
  /**
   * Takes a direct message (`to` set) for delivery to its recipient's node
   * instead of gossip (docs/protocol.md §10); true when it took it. None: every message is gossiped.
   */
  readonly direct?: (envelope: MsgEnvelope) => boolean
  /** The node-wide budget of gossip refusals audited entry by entry (refusal-audit-budget.ts); none: unbounded. */
  readonly refusalAudit?: Pick<RefusalAuditBudget, 'audit' | 'flush'>
}

/** Gossip validation, peer events, sync and publishing for one node. */
export class MeshGossip {
  private readonly syncs: PeerSyncs

  constructor(private readonly c: MeshGossipComponents) {
    this.syncs = new PeerSyncs(c)
    c.events.subscribe((e) => {
      if (e.type === 'agent:registered' && typeof e.data.did === 'string') this.releaseHeld(e.data.did)
    })
  }

  /**
   * The gossip validator: ingest, then Accept, Reject (proof of forgery) or
   * Ignore (races, duplicates, and messages past the relay quotas: from an
   * unregistered DID, or over the budget of their origin peer or sender).
   * `origin` is the peer that first published the message (default `via`).
   */
  validate(topic: Topic, data: Uint8Array, via: string, origin = via): 'accept' | 'reject' | 'ignore' {
    let envelope: Envelope
    try {
      envelope = decodeEnvelope(data)
    } catch (err) {
      this.recordUndecodable(topic, via, err)
      return 'reject'
    }
    if (TOPIC_OF[envelope.type] !== topic) return 'reject'
    if (envelope.type === 'msg' && this.overQuota(envelope.from, data, via, origin)) return 'ignore'
    if (envelope.type === 'chk' && !this.takesCheckpoint(envelope, origin, via)) return 'ignore'
    if (topic === 'meshsig/v1/registry' && this.c.admission) return this.admitRegistry(envelope, via, origin)
    const v: Verdict = this.c.ingest.ingest(envelope, { kind: 'gossip', peer: via }, { fresh: true })
    if (v.ok && envelope.type === 'msg') this.c.relay?.accepted(envelope.from)
    if (v.ok && envelope.type === 'chk') this.c.checkpoints?.taken(envelope.origin)
    if (v.ok) return 'accept'
    if (v.error.code === 'UNKNOWN_SIGNER' || v.error.code === 'KEL_INVALID') void this.syncFrom(via)
    return GOSSIP_REJECT_CODES.has(v.error.code) ? 'reject' : 'ignore'
  }

  /**
   * The checkpoint gate (checkpoint-gate.ts): past its origin's rate, of an
   * origin this node does not know, or valid but republished by another
   * peer, a checkpoint is neither stored nor relayed; a forged one goes on to
   * ingest, which refuses and charges it.
   */
  private takesCheckpoint(chk: ChkEnvelope, origin: string, via: string): boolean {
    const gate = this.c.checkpoints?.admit(chk, origin, via) ?? 'take'
    if (gate !== 'foreign') return gate === 'take'
    if (this.c.ingest.check(chk).ok) return false
    // signed by its publisher's own key, the very key the origin committed to next: the origin rotated and its
    // rotation is on the way (second attack review); not a forgery to charge, but a log to sync
    if (!byCommittedNextKey(chk, origin, this.c.store.keyEvents.state(chk.origin)?.next)) return true
    void this.syncFrom(via)
    return false
  }

  /** True when the relay quotas hold a message back (docs/protocol.md §7); it is then neither stored nor relayed. */
  private overQuota(from: string, data: Uint8Array, via: string, origin: string): boolean {
    if (this.c.relay === undefined) return false
    const registered = this.c.store.agents.get(from) !== undefined
    return this.c.relay.admit(origin, from, data, registered, via) !== undefined
  }

  /**
   * A registration arrived: ingest the messages its DID sent just before
   * (held, not relayed), each within the sender's budget as if it came now
   * (docs/protocol.md §7): past it, the rest are dropped.
   */
  private releaseHeld(did: string): void {
    const relay = this.c.relay
    for (const held of relay?.release(did) ?? []) {
      if (relay?.admitDirect(did, true) !== undefined) continue
      try {
        const v = this.c.ingest.ingest(decodeEnvelope(held.data), { kind: 'gossip', peer: held.via }, { fresh: true })
        if (v.ok) relay?.accepted(did)
      } catch (err) {
        this.c.onError(err)
      }
    }
  }

  /**
   * Registry gossip under the empty-inception rule (docs/protocol.md §9): an
   * inception nobody registered is held, not stored or relayed ('ignore');
   * past its origin's share of the pool it is refused ('reject': the
   * delivering peer's score pays). A registration releases what it anchors.
   */
  private admitRegistry(envelope: Envelope, via: string, origin: string): 'accept' | 'reject' | 'ignore' {
    const admitted = this.c.admission!.admit(envelope, origin, peerKeyB64(origin), via)
    if (admitted === 'held' || admitted === 'later') return 'ignore'
    if (admitted === 'refused') {
      this.c.sync?.charge(origin) // past its share of held inceptions: a flood, not a registration race
      return 'reject'
    }
    if ('forged' in admitted) {
      this.c.ingest.refuse(admitted.forged, { kind: 'gossip', peer: via }) // not checked against its held log (0085)
      return 'reject'
    }
    let verdict: 'accept' | 'reject' | 'ignore' = 'ignore'
    // each released event is charged to the peer that delivered it, not to this one (decision 0085)
    for (const { envelope: e, peer } of admitted.now) {
      if (e === envelope && this.needsLog(e)) {
        void this.fetchLog(e, via) // its DID may have rotated: not checkable here without the log
        continue // (past the peer's share of registrations awaiting a log: dropped unchecked, unaudited)
      }
      const v: Verdict = this.c.ingest.ingest(e, { kind: 'gossip', peer }, { fresh: true })
      if (e !== envelope) continue
      if (v.ok) verdict = 'accept'
      else {
        if (v.error.code === 'UNKNOWN_SIGNER' || v.error.code === 'KEL_INVALID') void this.syncFrom(via)
        verdict = GOSSIP_REJECT_CODES.has(v.error.code) ? 'reject' : 'ignore'
      }
    }
    return verdict
  }

  /** True for a registration this node cannot check: no key log of its DID, and not signed by the key the DID names. */
  private needsLog(e: Envelope): e is Extract<Envelope, { type: 'reg' }> {
    if (e.type !== 'reg' || this.c.store.keyEvents.state(e.did) !== undefined) return false
    try {
      verifyEnvelopeSignature(e, publicKeyFromDid(e.did))
      return false
    } catch {
      return true
    }
  }

  /**
   * A registration not signed by the key its DID names, whose key log this
   * node lacks (docs/protocol.md §9): ignored for now, the log pulled from
   * the peer that sent it (each event checked). Once stored the
   * registration is gossiped on, so it goes on hop by hop; a peer whose sync
   * brought no log for it is charged (it relayed a forgery).
   */
  private async fetchLog(e: Extract<Envelope, { type: 'reg' }>, via: string): Promise<void> {
    // each one waiting is checked and audited once the sync ends: a peer's share is bounded, so forged
    // registrations cannot grow the audit log without bound before the sync charges their peer
    const waiting = this.awaitingLog.get(via) ?? 0
    if (waiting >= MAX_AWAITING_LOG_PER_PEER || (waiting === 0 && this.awaitingLog.size >= MAX_AWAITING_LOG_PEERS))
      return
    this.awaitingLog.set(via, waiting + 1)
    try {
      await this.syncFrom(via)
      if (this.syncs.isStopped) return
      const again = this.c.ingest.ingest(e, { kind: 'gossip', peer: via }, { fresh: false })
      if (again.ok || again.error.code === 'DUPLICATE') {
        await this.c.outbox.publish(TOPIC_OF.reg, encodeEnvelope(e)).catch((err: unknown) => this.c.onError(err))
      } else if (again.error.code !== 'REGISTRY_FULL' && !this.c.store.keyEvents.state(e.did)) this.c.sync?.charge(via)
    } finally {
      const left = (this.awaitingLog.get(via) ?? 1) - 1
      if (left > 0) this.awaitingLog.set(via, left)
      else this.awaitingLog.delete(via)
    }
  }

  /** Registrations waiting for their key log, per delivering peer (`fetchLog`). */
  private readonly awaitingLog = new Map<string, number>()

  /** Log gossip that is no envelope at all: a forgery the delivering peer answers for (docs/protocol.md §7). */
  private recordUndecodable(topic: Topic, via: string, err: unknown): void {
    const reason = shortReason(err instanceof Error ? err.message : String(err))
    const entry = {
      kind: 'envelope.rejected' as const,
      code: 'MALFORMED',
      data: { via: 'gossip', deliveredBy: via, topic, reason },
    }
    this.c.store.transaction(() => {
      this.c.store.misc.peerFault(via, { forged: 1 }) // at most the newest 10,000 peers' counts are kept
      // within the node-wide budget of audited gossip refusals: junk frames from fresh peer ids are free (decision 0053)
      if (this.c.refusalAudit === undefined) this.c.audit.record(entry)
      else this.c.refusalAudit.audit('MALFORMED', entry, (input) => this.c.audit.record(input))
    })
  }

  /** A peer connected: record it, pull its registry, announce our capabilities again. */
  onPeerConnect(peerId: string): void {
    this.c.events.emit('peer:connected', { peerId })
    this.recordPeer('peer.joined', peerId)
    void this.syncFrom(peerId)
    this.c.provides?.peerConnected()
  }

  /** A peer's last connection closed: record it, and drop the empty inceptions held for it (decision 0085). */
  onPeerDisconnect(peerId: string): void {
    this.c.events.emit('peer:disconnected', { peerId })
    this.recordPeer('peer.left', peerId)
    this.c.admission?.dropPeer(peerId) // uncharged: a round may have stopped between an inception and its registration
  }

  /** Log a peer joining or leaving (subject: the DID of its node key, when its PeerId holds one). */
  private recordPeer(kind: 'peer.joined' | 'peer.left', peerId: string): void {
    let subject: string | null = null
    try {
      subject = didFromPublicKey(publicKeyFromPeerId(peerId))
    } catch {
      // not an Ed25519 PeerId: no DID to name
    }
    try {
      this.c.audit.record({ kind, subject, data: { peerId } })
    } catch (err) {
      this.c.onError(err) // the store is closed once the node stopped
    }
  }

  /** Pull and apply a peer's registry state, coalesced and serialised (peer-syncs.ts); errors are reported. */
  syncFrom(peerId: string): Promise<SyncResult | undefined> {
    return this.syncs.syncFrom(peerId)
  }

  /**
   * Startable (node/lifecycle.ts), once the mesh is up: announce the
   * capabilities of this node's own agents. Started again after a move to a
   * new key, on a new libp2p node whose DHT has provided nothing yet.
   */
  start(): void {
    this.syncs.start()
    this.c.provides?.start()
  }

  /**
   * Cancel scheduled follow-up syncs (they resolve undefined); later calls do
   * nothing until `start()`. The gossip refusals counted but not audited so
   * far are audited in one entry (decision 0053).
   */
  stop(): void {
    this.syncs.stop()
    this.c.provides?.stop()
    const unaudited = this.c.refusalAudit?.flush()
    if (unaudited === undefined) return
    try {
      this.c.audit.record(unauditedRecord(unaudited))
    } catch (err) {
      this.c.onError(err)
    }
  }

  /**
   * Gossip envelopes on their topics (retried by the outbox while the mesh
   * forms); a direct message goes to `direct` instead (docs/protocol.md §10). A registration goes before its DID's inception: peers then store
   * the inception as anchored at once instead of holding it (docs/protocol.md §9).
   */
  async publish(envelopes: readonly Envelope[]): Promise<void> {
    const regs = new Set(envelopes.filter((e) => e.type === 'reg').map((e) => e.did))
    const late = (e: Envelope): number => (e.type === 'icp' && regs.has(e.did) ? 1 : 0)
    const direct = this.c.direct
    const gossiped = direct === undefined ? envelopes : envelopes.filter((e) => !(e.type === 'msg' && direct(e)))
    const ordered = [...gossiped].sort((a, b) => late(a) - late(b))
    for (const e of ordered) await this.c.outbox.publish(TOPIC_OF[e.type], encodeEnvelope(e))
  }

  /** Gossip a newly recorded duplicity's conflicting event, so every node records the evidence. */
  spreadDuplicity(conflictingId: string): void {
    try {
      const row = this.c.store.keyEvents.duplicityOf(conflictingId)
      if (row) void this.publish([row.envelope]).catch((e) => this.c.onError(e))
    } catch (err) {
      this.c.onError(err)
    }
  }
}

/** True when `chk` verifies under the key of `peerId` and that key is the one `next` commits to (pre-rotation). */
function byCommittedNextKey(chk: ChkEnvelope, peerId: string, next: string | null | undefined): boolean {
  if (next === null || next === undefined) return false
  try {
    const key = publicKeyFromPeerId(peerId)
    if (keyCommitment(key) !== next) return false
    verifyEnvelopeSignature(chk, key)
    return true
  } catch {
    return false
  }
}
