/**
 * The node's side of the mesh: the gossip validator (every envelope through
 * the one ingest path, decision 0005 for Reject vs Ignore), peer arrivals
 * and departures (audit entries, registry sync, capability announcements),
 * registry catch-up, and publishing through the outbox.
 */
import {
  decodeEnvelope,
  didFromPublicKey,
  encodeEnvelope,
  publicKeyFromPeerId,
  type Envelope,
  type Verdict,
} from '../core/index.js'
import type { AuditService } from '../audit/audit-service.js'
import type { NodeEvents } from '../events.js'
import type { MeshP2P, Topic } from '../p2p/index.js'
import type { Store } from '../store/index.js'
import type { AgentService } from './agent-service.js'
import type { GossipOutbox } from './gossip-outbox.js'
import { GOSSIP_REJECT_CODES, type Ingest } from './ingest.js'
import { applySnapshot, type SyncResult } from './sync.js'

/** The gossip topic of each envelope type (SPEC §4). */
export const TOPIC_OF: Readonly<Record<Envelope['type'], Topic>> = {
  msg: 'meshsig/v1/messages',
  reg: 'meshsig/v1/registry',
  icp: 'meshsig/v1/registry',
  rot: 'meshsig/v1/registry',
  rev: 'meshsig/v1/registry',
  chk: 'meshsig/v1/audit',
}

/** What the gossip side needs from the node. */
export interface MeshGossipComponents {
  readonly store: Store
  readonly ingest: Ingest
  readonly audit: AuditService
  readonly events: NodeEvents
  readonly agents: AgentService
  readonly outbox: GossipOutbox
  readonly p2p: () => MeshP2P
  readonly onError: (err: unknown) => void
}

/** Gossip validation, peer events, sync and publishing for one node. */
export class MeshGossip {
  constructor(private readonly c: MeshGossipComponents) {}

  /** The gossip validator: ingest, then Accept, Reject (proof of forgery) or Ignore (races, duplicates). */
  validate(topic: Topic, data: Uint8Array, via: string): 'accept' | 'reject' | 'ignore' {
    let envelope: Envelope
    try {
      envelope = decodeEnvelope(data)
    } catch (err) {
      this.recordUndecodable(topic, via, err)
      return 'reject'
    }
    if (TOPIC_OF[envelope.type] !== topic) return 'reject'
    const v: Verdict = this.c.ingest.ingest(envelope, { kind: 'gossip', peer: via }, { fresh: true })
    if (v.ok) return 'accept'
    if (v.error.code === 'UNKNOWN_SIGNER' || v.error.code === 'KEL_INVALID') void this.syncFrom(via)
    return GOSSIP_REJECT_CODES.has(v.error.code) ? 'reject' : 'ignore'
  }

  /** Log gossip that is no envelope at all: a forgery the delivering peer answers for (SPEC §6). */
  private recordUndecodable(topic: Topic, via: string, err: unknown): void {
    const reason = (err instanceof Error ? err.message : String(err)).slice(0, 300)
    this.c.store.transaction(() => {
      this.c.store.misc.peerFault(via, { forged: 1 })
      this.c.audit.record({
        kind: 'envelope.rejected',
        code: 'MALFORMED',
        data: { via: 'gossip', deliveredBy: via, topic, reason },
      })
    })
  }

  /** A peer connected: record it, pull its registry, announce our capabilities again. */
  onPeerConnect(peerId: string): void {
    this.c.events.emit('peer:connected', { peerId })
    this.recordPeer('peer.joined', peerId)
    void this.syncFrom(peerId)
    this.provideLocalCapabilities()
  }

  /** A peer's last connection closed: record it. */
  onPeerDisconnect(peerId: string): void {
    this.c.events.emit('peer:disconnected', { peerId })
    this.recordPeer('peer.left', peerId)
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

  /** Pull and apply a peer's registry state; errors are reported, not thrown. */
  async syncFrom(peerId: string): Promise<SyncResult | undefined> {
    try {
      const items = await this.c.p2p().sync(peerId, { kind: 'registry' })
      return applySnapshot(this.c.ingest, items, peerId)
    } catch (err) {
      this.c.onError(err)
      return undefined
    }
  }

  /** Gossip envelopes on their topics (retried by the outbox while the mesh forms). */
  async publish(envelopes: readonly Envelope[]): Promise<void> {
    for (const e of envelopes) await this.c.outbox.publish(TOPIC_OF[e.type], encodeEnvelope(e))
  }

  /** Announce capabilities on the DHT (failures are reported, not thrown). */
  provide(types: Iterable<string>): void {
    for (const type of types)
      void this.c
        .p2p()
        .provideCapability(type)
        .catch((e) => this.c.onError(e))
  }

  /** Announce every capability of this node's own agents. */
  provideLocalCapabilities(): void {
    const caps = new Set<string>()
    for (const a of this.c.agents.list({ origin: 'local' })) for (const cap of a.capabilities) caps.add(cap.type)
    this.provide(caps)
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
