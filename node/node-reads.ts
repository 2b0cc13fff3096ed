/**
 * The read side of a node's service interface: what `/health`, `/stats`,
 * `/snapshot`, the key and message views, the history read models and the
 * signing proxy ask of it. Every method forwards to the service that owns
 * the data (node-parts.ts); the write side is node-facade.ts.
 */
import { acceptEnvelope, didKeyFromPublicKey, fromB64, MeshsigError, RevokedError, type Verdict } from './core/index.js'
import type { AuditService } from './audit/audit-service.js'
import type { CheckpointNotes } from './audit/checkpoint-notes.js'
import type { NodeEvents } from './events.js'
import type { Limits } from './limits.js'
import type { Logger } from './logger.js'
import type { NodeInfo } from './core/views.js'
import { custodiedKey, uptimeSeconds, type NodeParts } from './node-parts.js'
import type { MeshP2P } from './p2p/index.js'
import type { ProxySigner } from './proxy/index.js'
import { Interop } from './proxy/web-bot-auth-interop.js'
import type { AgentService } from './services/agent-service.js'
import type { DeliveryView } from './services/delivery-service.js'
import { duplicityView, duplicityViews, type DuplicityView } from './services/duplicity.js'
import { HistoryReport } from './services/history-report.js'
import { signerKey, type SignerKey } from './services/key-service.js'
import { storedVerification, type StoredVerification } from './services/stored-verification.js'
import { keyView, type KeyView } from './services/key-view.js'
import { ownRevocation } from './services/own-revocation.js'
import type { RelayDrop } from './services/relay-guard.js'
import type {
  AuditReport,
  ConnectionView,
  MessageView,
  NodeSnapshot,
  NodeStats,
  PlacedRevocation,
  RevokedView,
  SnapshotPageQuery,
} from './services/report-service.js'
import type { TrustService } from './services/trust.js'
import type { WitnessService } from './services/witness-service.js'
import type { AgentRecord } from './services/records.js'
import type { AgentQuery, ConnectionCursor, MessageQuery, RevokedCursor, Store } from './store/index.js'

/** Reads of a node's state, forwarded to its services. */
export class NodeReads {
  readonly events: NodeEvents
  /** The node's logger (injected; components log through children of it). */
  readonly log: Logger
  readonly store: Store
  readonly did: string
  readonly name: string
  readonly agents: AgentService
  /** Checkpoints, proofs and the verifiable audit export. */
  readonly audit: AuditService
  /** Trust scores per agent, peer and connection, from the audit log's evidence. */
  readonly trust: TrustService
  /** The node's checkpoints as C2SP signed notes, with their cosignatures (docs/audit.md). */
  readonly notes: CheckpointNotes
  /** The node as a witness of its peers' logs (docs/audit.md). */
  readonly witness: WitnessService
  /** Every bound the node keeps (node/limits.ts). */
  readonly limits: Limits
  /** Web Bot Auth key directory and A2A agent cards (docs/interop.md). */
  readonly interop: Interop
  private historyReport: HistoryReport | undefined

  constructor(protected readonly parts: NodeParts) {
    ;({ events: this.events, log: this.log, store: this.store, did: this.did, name: this.name } = parts)
    ;({ agents: this.agents, audit: this.audit, trust: this.trust, notes: this.notes } = parts)
    ;({ witness: this.witness, limits: this.limits } = parts)
    this.interop = new Interop(this)
  }

  /** Identity and addresses of this node. */
  info(): NodeInfo {
    const { state } = this.parts
    const ready = state.meshReady
    // a node whose own DID is revoked says so, and acts as no controller any more (decision 0077)
    const revocation = ownRevocation(this.store, this.did)
    const failure = this.store.failure() // fail-stop after a failed disk sync (decision 0093)
    return {
      status: failure !== undefined ? 'failed' : revocation === undefined ? 'ok' : 'revoked',
      ...(failure !== undefined ? { failure: failure.message } : {}),
      ...(revocation !== undefined ? { revocation } : {}),
      name: this.name,
      did: this.did,
      didKey: didKeyFromPublicKey(Buffer.from(state.identity.keyState.key, 'base64')),
      peerId: this.parts.p2p().peerId,
      multiaddrs: ready ? this.parts.p2p().multiaddrs() : [],
      uptime: uptimeSeconds(this.parts),
      mesh: ready ? 'ready' : 'starting',
    }
  }

  /** Follow the node's events (the WebSocket stream, metrics); returns the unsubscribe. */
  subscribe(listener: Parameters<NodeEvents['subscribe']>[0]): () => void {
    return this.events.subscribe(listener)
  }

  /** The node's logger (the API logs through a child of it; `/metrics` counts its warnings). */
  logger(): Logger {
    return this.log
  }

  /** Every bound the node keeps (node/limits.ts). */
  bounds(): Limits {
    return this.limits
  }

  /** True when this node's registry holds an agent with this DID (its host, a cached read: agents are never deleted). */
  isRegistered(did: string): boolean {
    return this.store.agents.hostOf(did) !== undefined
  }

  /** One agent's record (`GET /agents/:did`), or undefined. */
  agentRecord(did: string): AgentRecord | undefined {
    return this.agents.record(did)
  }

  /** The capability types this node announces on the DHT: bounded, oldest own agents' first (decision 0059). */
  announcedTypes(): readonly string[] {
    return this.parts.discovery.provides.types()
  }

  /** Registered agents matching `query` (origin, status, capability; one page of them with `limit`). */
  listAgents(query: AgentQuery = {}): AgentRecord[] {
    return this.agents.list(query)
  }

  /** How many registered agents match `query` (its paging aside). */
  countAgents(query: AgentQuery = {}): number {
    return this.agents.count(query)
  }

  /** Agents this node knows offering `capability`, best confidence first. */
  discoverAgents(capability: string | undefined, minConfidence = 0, limit = 50): AgentRecord[] {
    return this.agents.discover(capability, minConfidence, limit)
  }

  /** Connected peers. */
  peers(): { peerId: string; addrs: string[] }[] {
    return this.parts.p2p().peers()
  }

  /** Gossiped messages (and direct deliveries) the relay quotas held back, by reason, and those waiting for a registration. */
  relayStats(): { dropped: Readonly<Record<RelayDrop, number>>; held: { messages: number; bytes: number } } {
    return { dropped: this.parts.relay.drops(), held: this.parts.relay.held() }
  }

  /** Gossip and delivery refusals counted but not audited entry by entry (past the node-wide budget, decision 0053), by code. */
  unauditedRefusals(): Readonly<Record<string, number>> {
    return this.parts.refusalAudit.unaudited()
  }

  /** Network statistics (`GET /stats`). */
  stats(): NodeStats {
    return this.parts.reports.stats()
  }

  /**
   * One page of the network state as this node sees it (`GET /snapshot`,
   * first WebSocket event; docs/api.md): `page.limit` agents from
   * `page.offset` on and the newest `page.limit` revocations, each read as
   * one page from the store, with their totals counted there. Its cost
   * follows the page, not the registry (decision 0046).
   */
  snapshot(page: SnapshotPageQuery): NodeSnapshot<NodeInfo, { peerId: string; addrs: string[] }> {
    const reports = this.parts.reports
    const stats = this.stats()
    return {
      node: this.info(),
      stats,
      agents: this.agents.list({ limit: page.limit, offset: page.offset }),
      peers: this.peers(),
      revoked: reports.revoked(page.limit),
      totals: { agents: stats.agents, revoked: reports.revokedCount() },
    }
  }

  /** Stored messages, newest first. */
  listMessages(query: MessageQuery = {}): MessageView[] {
    return this.parts.reports.messages(query)
  }

  /** Verified connections (handshakes), newest first; the page after `after` when given. */
  connections(limit?: number, after?: ConnectionCursor): ConnectionView[] {
    return this.parts.reports.connections(limit, after)
  }

  /** The revocation list, the revocation learned last first (the newest `limit` only, when given). */
  revoked(limit?: number): RevokedView[] {
    return this.parts.reports.revoked(limit)
  }

  /** The next `limit` of the revocation list after `after`, with their places (the cursor after each). */
  revokedAfter(after: RevokedCursor | undefined, limit: number): PlacedRevocation[] {
    return this.parts.reports.revokedAfter(after, limit)
  }

  /** How many DIDs this node knows revoked. */
  revokedCount(): number {
    return this.parts.reports.revokedCount()
  }

  /**
   * Everything the store holds, for compliance export, built whole: refused
   * (`PAYLOAD_TOO_LARGE`) when the stored messages' envelopes pass
   * `jsonExport.messageBytes`, which the streamed NDJSON export never holds at
   * once (attack review 98, docs/api.md `GET /audit/export`).
   */
  auditExport(size?: number): AuditReport {
    const bytes = this.store.messages.envelopeBytes()
    const limit = this.limits.jsonExport.messageBytes
    if (bytes > limit) {
      const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`
      const why = `a JSON export would hold ${mib(bytes)} of stored messages, past jsonExport.messageBytes (${mib(limit)})`
      throw new MeshsigError(
        'PAYLOAD_TOO_LARGE',
        `${why}: stream it with ?format=ndjson (meshsig audit --ndjson --out FILE)`,
        { limit },
      )
    }
    return this.parts.reports.auditExport(size)
  }

  /** The key that currently checks a signer's signatures (key event log first). */
  signerKey(identifier: string): SignerKey {
    return signerKey(this.store, identifier)
  }

  /** Run the acceptance rules on an envelope without storing it (freshness and duplicates aside). */
  checkEnvelope(envelope: unknown): Verdict {
    const ctx = { ...this.parts.ingest.context(), hasEnvelope: () => false, nonceSeen: () => false }
    return acceptEnvelope(envelope, ctx, { fresh: false })
  }

  /**
   * `POST /messages/verify`: the acceptance rules of now (freshness and
   * duplicates aside), and for a message this node stores, how it checks
   * out as accepted (services/stored-verification.ts).
   */
  verifyEnvelope(envelope: unknown): { verdict: Verdict; stored?: StoredVerification } {
    const verdict = this.checkEnvelope(envelope)
    const e = verdict.envelope
    if (e?.type !== 'msg' || verdict.id === undefined) return { verdict }
    const found = this.store.messages.get(verdict.id)
    if (found === undefined) return { verdict }
    const stored = storedVerification(e, found.envelope, found.receivedAt, this.store.keyEvents)
    return stored === undefined ? { verdict } : { verdict, stored }
  }

  /** The key state of a DID as this node knows it (`GET /keys/:did`). */
  keyView(identifier: string): KeyView {
    return keyView(this.store, identifier)
  }

  /**
   * Up to `limit` conflicting key events this node refused, newest first, those before the one whose
   * conflicting id is `after` when given (docs/api.md `GET /duplicity`), and how many there are.
   */
  duplicityPage(limit: number, after?: string): { rows: DuplicityView[]; total: number } {
    const rows = this.store.keyEvents.duplicityPage(limit, after).map(duplicityView)
    return { rows, total: this.store.keyEvents.duplicityCount() }
  }

  /** Conflicting key events this node refused (all, or those of one DID), newest first. */
  duplicities(did?: string): DuplicityView[] {
    return duplicityViews(this.store, did)
  }

  /** The DID an agent credential acts for, or undefined (unknown, malformed, or its agent revoked). */
  agentForCredential(credential: string): string | undefined {
    const did = this.parts.credentials.resolve(credential)
    return did !== undefined && !this.store.keyEvents.state(did)?.revoked ? did : undefined
  }

  /**
   * The SHA-256 (hex) of the live agent credential a credential id names
   * (api/token-proof.ts: the node proves it holds a credential before a
   * client sends it), or undefined (unknown, ambiguous, or its agent revoked).
   */
  credentialHashById(id: string): string | undefined {
    const found = this.parts.credentials.byId(id)
    return found !== undefined && !this.store.keyEvents.state(found.did)?.revoked ? found.hash : undefined
  }

  /** Where a direct message stands: pending, delivered with its receipt, refused or expired (docs/api.md). */
  delivery(id: string): DeliveryView | undefined {
    return this.parts.delivery.view(id)
  }

  /** Direct messages this node sent that wait for a receipt (`/metrics`). */
  undelivered(): number {
    return this.parts.delivery.undelivered()
  }

  /** History read models for the dashboard and verifier: pairs, rates, trust samples, key logs, message lookup. */
  history(): HistoryReport {
    const { store, clock } = this.parts
    return (this.historyReport ??= new HistoryReport({ store, clock }))
  }

  /**
   * The signer of the HTTP signing proxy (docs/proxy.md): this node's current
   * key when `did` is absent or the node's DID, else the key of an agent this
   * node custodies; undefined when the node holds no key for `did`. Throws
   * `RevokedError` for a revoked DID. The seed never leaves the node.
   */
  proxySigner(did: string = this.did): ProxySigner | undefined {
    const key = did === this.did ? this.parts.state.identity.keyPair : custodiedKey(this.parts, did)
    // a revoked agent's seed is destroyed with its revocation: no key, but the answer is still REVOKED
    if (key === undefined && !this.store.keyEvents.state(did)?.revoked) return undefined
    if (key === undefined || this.signerKey(did).revoked) throw new RevokedError(did)
    return { did, publicKey: key.publicKey, sign: (data) => key.sign(data) }
  }

  /**
   * The public key the key event log of `did` (the node, or an agent it
   * custodies) commits to as its next key: published ahead of a rotation in
   * the Web Bot Auth key directory (docs/interop.md). Never the seed.
   */
  proxyNextKey(did: string = this.did): Uint8Array | undefined {
    if (did === this.did) return this.parts.state.identity.nextKeyPair.publicKey
    const next = this.store.custody.get(did)?.nextSeed
    return next ? this.parts.keyCache.get(fromB64(next, 'next seed', 32)).publicKey : undefined
  }

  /** The underlying mesh (for tests and diagnostics). */
  get mesh(): MeshP2P {
    return this.parts.p2p()
  }
}
