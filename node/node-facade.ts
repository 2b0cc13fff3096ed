/**
 * The write side of a node's service interface: registrations, sends,
 * envelopes, key rotation and revocation, handshakes, checkpoints, dials and
 * audit records. Each forwards to the service that owns it (node-parts.ts)
 * and gossips what it committed; the reads are in node-reads.ts.
 */
import type { Capability, ChkEnvelope, Envelope, IcpEnvelope, RegEnvelope, RevEnvelope, Verdict } from './core/index.js'
import { NodeAuditReads } from './node-audit-reads.js'
import type { ProxyAuditRecord } from './proxy/index.js'
import type { RegisteredAgent } from './services/agent-service.js'
import { refusalRecord, type RefusalInput } from './services/audit-records.js'
import { recordableDid, withKnownDids } from './services/known-did.js'
import type { NetworkDiscovery } from './services/discovery.js'
import type { HandshakeInput } from './services/handshake-service.js'
import type { RevokeInput, RotateInput, Rotation } from './services/key-service.js'
import { authorizeSend, type SendInput, type SentMessage } from './services/message-service.js'
import { refuseUnderRevokedDid } from './services/own-revocation.js'
import { presign } from './services/presign.js'
import { prepareRegistration } from './services/registration-prep.js'
import type { AgentRecord } from './services/records.js'
import type { ConnectionView } from './services/report-service.js'
import type { SyncResult } from './services/sync.js'

/** A node's service interface: the reads of `NodeReads` and `NodeAuditReads`, and the actions below. */
export class NodeFacade extends NodeAuditReads {
  /** Register an agent whose keys this node keeps; gossips its inception and registration. */
  async registerAgent(name: string, capabilities: readonly Capability[] = []): Promise<RegisteredAgent> {
    refuseUnderRevokedDid(this.store, this.did, 'registers agents') // decision 0077
    const { registrationParts, signPool, registrations } = this.parts
    const prepared = await prepareRegistration({ ...registrationParts, pool: signPool }, name, capabilities)
    const registered = (await registrations.send({ kind: 'custodied', prepared })) as RegisteredAgent
    this.announceRegistration(registered.envelopes)
    return registered
  }

  /** Register an agent that keeps its own key (signed icp + reg); gossips both. */
  async registerExternalAgent(icp: IcpEnvelope, reg: RegEnvelope): Promise<AgentRecord> {
    refuseUnderRevokedDid(this.store, this.did, 'hosts agents') // its registration names this node: decision 0077
    const { record, envelopes } = await this.parts.registrations.send({ kind: 'external', icp, reg })
    this.announceRegistration(envelopes)
    return record
  }

  /**
   * Gossip a committed registration (the outbox retries). Its capabilities are announced on the DHT from its
   * `agent:registered` event (services/capability-provides.ts, docs/protocol.md §9 "Capability discovery").
   */
  private announceRegistration(envelopes: Envelope[]): void {
    const { gossip, onError } = this.parts
    setImmediate(() => void gossip.publish(envelopes).catch(onError))
  }

  /** Check, store and gossip a message (docs/protocol.md §8 signing paths). */
  async sendMessage(given: SendInput): Promise<SentMessage> {
    // a bare key names a DID only when the node knows it: a private key pasted there is not published (known-did.ts)
    const input = 'envelope' in given ? given : withKnownDids(this.parts.store, given, ['fromDid', 'toDid'])
    authorizeSend(input)
    const { presignParts, signPool, sends, gossip, onError } = this.parts
    const prepared = await presign({ ...presignParts, pool: signPool }, input)
    // a direct message is in the durable outbox, committed with it, before the caller has its answer (docs/protocol.md §10)
    const sent = await sends.send(prepared)
    // a broadcast is gossiped after the caller has its answer (committed; the gossip outbox retries); a direct
    // message is in the delivery outbox already, enqueued in the batch's transaction (docs/protocol.md §10)
    if (sent.envelope.to === null) setImmediate(() => void gossip.publish([sent.envelope]).catch(onError))
    return sent
  }

  /** Accept an envelope of any type from a client (API) and gossip it when accepted. */
  async submitEnvelope(envelope: unknown, client = 'local'): Promise<Verdict> {
    const v = this.parts.ingest.ingest(envelope, { kind: 'api', peer: client }, { fresh: true })
    if (v.ok) await this.parts.gossip.publish([v.envelope])
    return v
  }

  /** Rotate an agent's key (proof required) and gossip the rotation. */
  async rotateAgent(input: RotateInput): Promise<Rotation> {
    // a rotation here leaves a registration naming this node as controller (decision 0070): decision 0077
    refuseUnderRevokedDid(this.store, this.did, 'rotates agents')
    const rotation = this.parts.keyService.rotate(withKnownDids(this.parts.store, input, ['did']))
    const reg = rotation.registration
    // answered once its gossip is out: a message the caller signs next with the new key, or a revocation, does
    // not overtake the rotation or the registration signed again with it (review H7 F1; decision 0093 addendum)
    await this.parts.gossip.publish(reg === undefined ? [rotation.envelope] : [rotation.envelope, reg])
    if (rotation.did !== this.parts.did) return rotation
    // the node's own key: its libp2p PeerId follows it now (docs/protocol.md §2); the rotation stands whatever
    // becomes of the move (a mesh that could not start again is logged, and /health stays "starting")
    await this.followOwnKey().catch(this.parts.onError)
    return rotation
  }

  /** Move the mesh to the PeerId of the node's current key (MeshNode restarts its libp2p parts). */
  protected async followOwnKey(): Promise<void> {}

  /** Revoke a DID (proof required) and gossip the revocation; final. */
  async revokeAgent(input: RevokeInput): Promise<RevEnvelope> {
    const rev = this.parts.keyService.revoke(withKnownDids(this.parts.store, input, ['did']))
    await this.parts.gossip.publish([rev])
    return rev
  }

  /** Mutual challenge-response between two agents; stores the connection on both nodes. */
  handshake(input: HandshakeInput): Promise<ConnectionView> {
    return this.parts.handshakes.initiate(withKnownDids(this.parts.store, input, ['fromDid', 'toDid']))
  }

  /** Local and (through the DHT) remote agents offering a capability. */
  discoverNetwork(capability: string, minConfidence = 0, limit = 50): Promise<NetworkDiscovery> {
    return this.parts.discovery.network(capability, minConfidence, limit)
  }

  /** Dial a peer by multiaddr or seed address (ws://host:port); keeps redialling seed addresses. */
  async connectPeer(addr: string): Promise<string[]> {
    return this.parts.dialer.connect(addr)
  }

  /** Pull and apply a peer's registry state; errors are reported, not thrown. */
  syncFrom(peerId: string): Promise<SyncResult | undefined> {
    return this.parts.gossip.syncFrom(peerId)
  }

  /** Sign a checkpoint of the audit log now; it is announced and gossiped on the audit topic. */
  checkpoint(): Promise<ChkEnvelope> {
    return Promise.resolve(this.audit.checkpoint())
  }

  /**
   * A checkpoint for `POST /audit/checkpoint` (issue 9): signed at most once
   * per `limits.onDemandCheckpointMs`; a call inside that interval answers the
   * latest checkpoint (`fresh: false`) and signs nothing.
   */
  async checkpointOnDemand(): Promise<{ checkpoint: ChkEnvelope; fresh: boolean }> {
    const latest = this.audit.latest()
    const { state, clock } = this.parts
    const now = clock()
    if (latest !== undefined && now - state.lastOnDemand < this.limits.onDemandCheckpointMs) {
      return { checkpoint: latest, fresh: false }
    }
    state.lastOnDemand = now
    return { checkpoint: await this.checkpoint(), fresh: true }
  }

  /** Record an API action refused for want of authority (audit kind `api.refused`). */
  recordRefusal(given: RefusalInput): void {
    // recorded and announced as a DID only when it is one: a bare key naming no known DID may be a private key
    const refusal = { ...given, subject: recordableDid(this.parts.store, given.subject) }
    this.audit.record(refusalRecord(refusal))
    const { action, subject, code, authority } = refusal
    this.events.emit('api:refused', { action, subject, code, authority })
  }

  /**
   * Record a request the signing proxy signed, before it is forwarded (`status: null`), or its outcome
   * (`requestEntry`: the index of the first); audit kind `proxy.request`, no headers, bodies or tokens
   * (docs/proxy.md "Audit"). Returns the entry's index.
   */
  recordProxyRequest(record: ProxyAuditRecord): number {
    const { signer, method, authority, path, status, code, requestEntry } = record
    const data = { method, authority, path, status, ...(requestEntry !== undefined ? { requestEntry } : {}) }
    return this.audit.record({ kind: 'proxy.request', subject: signer, code, data }).index
  }
}
