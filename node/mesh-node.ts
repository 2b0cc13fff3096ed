/**
 * A meshsig node: wires the store, the audit log, the acceptance pipeline
 * and the libp2p mesh into one service interface that every face (REST API,
 * CLI through the API, tests) uses.
 */
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import {
  DEFAULT_MAX_SKEW_MS,
  acceptEnvelope,
  didKeyFromPublicKey,
  fromB64,
  MeshsigError,
  RevokedError,
  type Capability,
  type ChkEnvelope,
  type Envelope,
  type IcpEnvelope,
  type KeyPair,
  type RegEnvelope,
  type RevEnvelope,
  type Verdict,
} from './core/index.js'
import { AuditLog } from './audit/audit-log.js'
import { AuditService } from './audit/audit-service.js'
import { CheckpointNotes } from './audit/checkpoint-notes.js'
import { WitnessService } from './services/witness-service.js'
import { logKeys } from './services/witness-wiring.js'
import { NodeEvents } from './events.js'
import { createLogger, type Logger } from './logger.js'
import { loadIdentity, type Identity } from './identity/index.js'
import { createMeshP2P, type MeshP2P } from './p2p/index.js'
import type { Store } from './store/index.js'
import { openNodeStore } from './node-store.js'
import { AgentService, type RegisteredAgent } from './services/agent-service.js'
import { Ingest } from './services/ingest.js'
import { MessageService, authorizeSend, type SendInput, type SentMessage } from './services/message-service.js'
import { AgentCredentials } from './services/agent-credentials.js'
import { refusalRecord, type RefusalInput } from './services/audit-records.js'
import type { AgentRecord } from './services/records.js'
import { answerSync, type SyncResult } from './services/sync.js'
import { createRegistrySync, type RegistrySync, type SyncBudget } from './services/sync-client.js'
import { Discovery, type NetworkDiscovery } from './services/discovery.js'
import { PeerDialer } from './services/peer-dialer.js'
import { GossipOutbox } from './services/gossip-outbox.js'
import { MeshGossip } from './services/mesh-gossip.js'
import { RelayGuard, type RelayDrop } from './services/relay-guard.js'
import { limitsFromEnv, resolveLimits, type Limits, type LimitsInit } from './limits.js'
import { TrustService } from './services/trust.js'
import { HistoryReport } from './services/history-report.js'
import { KeyPairCache } from './services/key-cache.js'
import { SendBatcher } from './services/send-batcher.js'
import { SignPool } from './services/sign-pool.js'
import { presign, type PresignComponents } from './services/presign.js'
import {
  KeyService,
  signerKey,
  type RevokeInput,
  type RotateInput,
  type Rotation,
  type SignerKey,
} from './services/key-service.js'
import { keyView, type KeyView } from './services/key-view.js'
import { duplicityViews, type DuplicityView } from './services/duplicity.js'
import { refreshRegistrations } from './services/registration-refresh.js'
import { HandshakeService, type HandshakeInput } from './services/handshake-service.js'
import {
  ReportService,
  type AuditReport,
  type ConnectionView,
  type MessageView,
  type NodeSnapshot,
  type NodeStats,
  type RevokedView,
} from './services/report-service.js'
import type { MessageQuery } from './store/index.js'
import type { ProxyAuditRecord, ProxySigner } from './proxy/index.js'
import { Interop } from './proxy/web-bot-auth-interop.js'

/** A registration waiting for its group commit. */
type RegistrationJob =
  | { readonly kind: 'custodied'; readonly name: string; readonly capabilities: readonly Capability[] }
  | { readonly kind: 'external'; readonly icp: IcpEnvelope; readonly reg: RegEnvelope }

/** How to make a node. */
export interface MeshNodeInit {
  /** Human name shown to peers and in /health. */
  readonly name: string
  /** The node identity (from `meshsig init`); its key is the libp2p peer key. */
  readonly identity: Identity
  /** The meshsig home the identity came from: lets the node take up its own key rotation (meshsig rotate-key). */
  readonly home?: string
  /** SQLite file, or ':memory:'. */
  readonly dbPath: string
  /** Custody key sealing custodied seeds (default: `custody.key` in `home`; docs/protocol.md §2). */
  readonly custodyKey?: Uint8Array
  /** libp2p listen addresses (default TCP and WS on 127.0.0.1, OS-chosen ports). */
  readonly listen?: readonly string[]
  /** 'tcp+ws' (default) or 'memory' (in-process tests). */
  readonly transports?: 'tcp+ws' | 'memory'
  /** Peers to join: multiaddrs with /p2p/, or the seed form ws://host:port. */
  readonly peers?: readonly string[]
  /** Extra host names (a DNS name, a NAT's public address) the mesh WebSocket listener answers to. */
  readonly allowedHosts?: readonly string[]
  /** Where the node logs (default: errors only, to standard error; `meshsig start` passes its level). */
  readonly logger?: Logger
  /** Freshness window of messages (ms), default ±5 minutes. */
  readonly maxSkewMs?: number
  /** Clock (ms since the epoch); tests pass their own. */
  readonly clock?: () => number
  /** Randomness source; tests may pass a seeded one. */
  readonly random?: (n: number) => Uint8Array
  /** DHT self-query interval (small in tests). */
  readonly dhtQuerySelfInterval?: number
  /** Gossipsub heartbeat (ms); small in tests. */
  readonly heartbeatInterval?: number
  /** Interval of anti-entropy registry syncs with a random peer (ms, default 30 s). */
  readonly antiEntropyMs?: number
  /** Per-peer budget of one registry reconciliation round (items, bytes, ms; docs/protocol.md §9). */
  readonly syncBudget?: SyncBudget
  /** Interval of periodic audit checkpoints when the log grew (ms, default 60 s). */
  readonly checkpointIntervalMs?: number
  /** Least age of the latest checkpoint before a read (export, proofs) signs a new one (ms, default 10 s). */
  readonly minCheckpointIntervalMs?: number
  /** Interval of replay-cache pruning (ms, default 60 s): nonces older than 2 × maxSkewMs are forgotten. */
  readonly replayPruneIntervalMs?: number
  /** Relay quotas, retention, stream and snapshot bounds (node/limits.ts); default `$MESHSIG_LIMITS` over the defaults. */
  readonly limits?: LimitsInit
}

/** What /health reports. */
export interface NodeInfo {
  readonly status: 'ok'
  readonly name: string
  readonly did: string
  readonly didKey: string
  readonly peerId: string
  readonly multiaddrs: string[]
  readonly uptime: number
  /** The libp2p side: `starting` until the mesh listens and its protocols are up, then `ready`. */
  readonly mesh: 'starting' | 'ready'
}

/** A running meshsig node. Create with `MeshNode.create`, then `start()`. */
export class MeshNode {
  readonly events = new NodeEvents()
  /** The node's logger (injected; components log through children of it). */
  readonly log: Logger
  readonly store: Store
  readonly did: string
  readonly name: string
  readonly agents: AgentService
  private readonly ingestor: Ingest
  private readonly messages: MessageService
  private readonly discovery: Discovery
  private readonly dialer: PeerDialer
  private readonly outbox: GossipOutbox
  private readonly gossip: MeshGossip
  /** Registry reconciliation: index, empty-inception admission, rounds (docs/protocol.md §9). */
  private readonly registrySync: RegistrySync
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
  private readonly relay: RelayGuard
  private retentionTimer: NodeJS.Timeout | undefined
  /** Web Bot Auth key directory and A2A agent cards (docs/interop.md). */
  readonly interop: Interop = new Interop(this)
  private checkpointTimer: NodeJS.Timeout | undefined
  private replayTimer: NodeJS.Timeout | undefined
  private readonly clock: () => number
  /** The node identity now: replaced when the node takes up its own key rotation. */
  private identity: Identity
  private startedAt = 0
  /** True once `start()` has brought the mesh up. */
  private meshReady = false
  private p2pNode: MeshP2P | undefined
  private readonly keyCache = new KeyPairCache()
  private readonly keyService: KeyService
  private readonly credentials: AgentCredentials
  private readonly handshakes: HandshakeService
  private readonly reports: ReportService
  private readonly sends: SendBatcher<SendInput, SentMessage>
  /** Group commit of registrations (one fsync for the registrations of one event-loop turn). */
  private readonly registrations: SendBatcher<RegistrationJob, { record: AgentRecord; envelopes: Envelope[] }>
  private readonly presignParts: Omit<PresignComponents, 'pool'>
  private readonly signPool = new SignPool(Math.min(2, availableParallelism() - 1), this.keyCache)

  private constructor(private readonly init: MeshNodeInit) {
    this.clock = init.clock ?? Date.now
    this.log = init.logger ?? createLogger({ level: 'error' })
    this.limits = resolveLimits(init.limits ?? limitsFromEnv())
    this.relay = new RelayGuard(this.limits.relay, this.clock)
    this.startedAt = this.clock()
    this.identity = init.identity
    const random = init.random ?? ((n: number) => new Uint8Array(randomBytes(n)))
    this.did = init.identity.did
    this.name = init.name
    this.store = this.openStore(init)
    const audit = new AuditLog(this.store, this.clock)
    const lk = logKeys({
      home: init.home,
      did: this.did,
      identity: () => this.identity.keyPair,
      clock: this.clock,
      events: this.events,
    })
    this.audit = new AuditService({
      ...(lk.anchor ? { anchor: lk.anchor } : {}),
      onAlarm: lk.alarm,
      store: this.store,
      log: audit,
      clock: this.clock,
      nodeDid: () => this.did,
      nodeKey: () => this.identity.keyPair,
      keyLog: () => this.store.keyEvents.log(this.did),
      onCheckpoint: (chk) => this.announceCheckpoint(chk),
      ...(init.minCheckpointIntervalMs !== undefined ? { minCheckpointIntervalMs: init.minCheckpointIntervalMs } : {}),
    })
    this.notes = new CheckpointNotes({ store: this.store, logKey: lk.log, binding: lk.binding })
    this.witness = new WitnessService({
      store: this.store,
      audit: this.audit,
      notes: this.notes,
      events: this.events,
      clock: this.clock,
      nodeDid: () => this.did,
      witnessKey: lk.witness,
      binding: lk.binding,
      p2p: () => this.p2p,
      onError: (err) => this.onError(err),
    })
    this.trust = new TrustService(this.store)
    this.ingestor = new Ingest({
      store: this.store,
      audit,
      events: this.events,
      clock: this.clock,
      maxSkewMs: init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
      nodeDid: () => this.did,
    })
    this.registrySync = createRegistrySync({
      store: this.store,
      ingest: this.ingestor,
      p2p: () => this.p2p,
      selfDid: this.did,
      onError: (err) => this.onError(err),
      ...(init.syncBudget !== undefined ? { budget: init.syncBudget } : {}),
    })
    this.credentials = new AgentCredentials({ credentials: this.store.credentials, random, clock: this.clock })
    this.agents = new AgentService({
      store: this.store,
      ingest: this.ingestor,
      clock: this.clock,
      random,
      nodeDid: () => this.did,
      peerId: () => this.p2p.peerId,
      isOnline: (peerId) => this.p2p.peers().some((p) => p.peerId === peerId),
      trust: (did) => this.trust.agent(did).score,
      credentials: this.credentials,
    })
    this.messages = new MessageService({
      store: this.store,
      ingest: this.ingestor,
      clock: this.clock,
      random,
      custodiedSeed: (did) => this.agents.custodiedSeed(did),
      keyPair: (seed) => this.keyCache.get(seed),
    })
    this.discovery = new Discovery({ agents: this.agents, ingest: this.ingestor, p2p: () => this.p2p })
    this.dialer = new PeerDialer(
      () => this.p2p,
      (err) => this.onError(err),
      this.limits.remoteBodyBytes,
    )
    this.outbox = new GossipOutbox({ p2p: () => this.p2p, onError: (err) => this.onError(err), clock: this.clock })
    this.gossip = new MeshGossip({
      store: this.store,
      ingest: this.ingestor,
      audit: this.audit,
      events: this.events,
      outbox: this.outbox,
      p2p: () => this.p2p,
      onError: (err) => this.onError(err),
      relay: this.relay,
      sync: this.registrySync.client,
      admission: this.registrySync.admission,
    })
    const base = { store: this.store, clock: this.clock, random }
    this.keyService = new KeyService({
      ...base,
      ingest: this.ingestor,
      keys: this.keyCache,
      nodeDid: () => this.did,
      nodeKey: () => this.identity.keyPair,
      ownRotation: (rotId) => this.ownRotation(rotId),
    })
    this.handshakes = new HandshakeService({
      ...base,
      audit,
      events: this.events,
      maxSkewMs: init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
      custodiedKey: (did) => this.custodiedKey(did),
      p2p: () => this.p2p,
      syncFrom: (peerId) => this.gossip.syncFrom(peerId),
    })
    this.presignParts = { store: this.store, clock: this.clock, random, keys: this.keyCache }
    this.sends = new SendBatcher({ store: this.store, events: this.events, send: (input) => this.messages.send(input) })
    this.registrations = new SendBatcher({
      store: this.store,
      events: this.events,
      send: (job: RegistrationJob) =>
        job.kind === 'custodied'
          ? this.agents.register(job.name, job.capabilities)
          : this.agents.registerExternal(job.icp, job.reg),
    })
    this.reports = new ReportService({
      ...base,
      agents: this.agents,
      peerCount: () => this.p2p.peers().length,
      uptime: () => this.info().uptime,
      node: () => ({ did: this.did, name: this.name, publicKey: this.identity.keyState.key, peerId: this.p2p.peerId }),
      verifiable: (size) => this.audit.verifiable(size),
    })
  }

  /**
   * The node's store with its custody key (node-store.ts); a store that does
   * not open (e.g. KEY_MISMATCH) leaves no worker behind.
   */
  private openStore(init: MeshNodeInit): Store {
    try {
      return openNodeStore(init)
    } catch (err) {
      void this.signPool.close()
      throw err
    }
  }

  /** Make a node (opens the store; the mesh starts with `start`). */
  static async create(init: MeshNodeInit): Promise<MeshNode> {
    const node = new MeshNode(init)
    node.events.subscribe((e) => {
      if (e.type === 'key:duplicity' && typeof e.data.id === 'string' && node.p2pNode)
        node.gossip.spreadDuplicity(e.data.id)
    })
    node.p2pNode = await createMeshP2P({
      seed: init.identity.keyPair.seed,
      ...(init.listen ? { listen: init.listen } : {}),
      ...(init.transports ? { transports: init.transports } : {}),
      bootstrap: (init.peers ?? []).filter((p) => p.startsWith('/')),
      validate: (topic, data, from, via) => node.gossip.validate(topic, data, via, from),
      onMessage: () => undefined,
      syncProvider: (request) => answerSync(node.registrySync.index, request),
      denyPeer: (peerId) => node.registrySync.client.isBanned(peerId),
      onError: (err) => node.onError(err),
      ...(init.dhtQuerySelfInterval !== undefined ? { dhtQuerySelfInterval: init.dhtQuerySelfInterval } : {}),
      ...(init.heartbeatInterval !== undefined ? { heartbeatInterval: init.heartbeatInterval } : {}),
      ...(init.allowedHosts !== undefined ? { wsAllowedHosts: init.allowedHosts } : {}),
    })
    return node
  }

  private get p2p(): MeshP2P {
    if (!this.p2pNode) throw new MeshsigError('INTERNAL', 'mesh not created')
    return this.p2pNode
  }

  /** Join the mesh: own key log in, protocols up, peers dialled, registry synced. */
  async start(): Promise<void> {
    this.startedAt = this.clock()
    for (const event of this.identity.file.keyLog) this.ingestor.ingest(event, { kind: 'local' }, { fresh: false })
    const parts = { store: this.store, ingest: this.ingestor, keys: this.keyCache, clock: this.clock }
    const refreshed = refreshRegistrations({ ...parts, nodeDid: this.did, peerId: this.p2p.peerId })
    this.p2p.events.addEventListener('peer:connect', (e) => this.gossip.onPeerConnect(e.detail.peerId))
    this.p2p.events.addEventListener('peer:disconnect', (e) => this.gossip.onPeerDisconnect(e.detail.peerId))
    await this.discovery.register()
    await this.handshakes.register()
    await this.witness.start()
    await this.p2p.start()
    if (refreshed.length > 0) void this.gossip.publish(refreshed).catch((e) => this.onError(e))
    for (const seed of (this.init.peers ?? []).filter((p) => !p.startsWith('/'))) this.dialer.keep(seed)
    this.outbox.startAntiEntropy((peerId) => this.gossip.syncFrom(peerId), this.init.antiEntropyMs)
    this.checkpointTimer = setInterval(() => {
      if (this.audit.stale()) void this.checkpoint().catch((e) => this.onError(e))
    }, this.init.checkpointIntervalMs ?? 60_000)
    this.checkpointTimer.unref()
    // a message older than the freshness window fails the clock check anyway: its nonce need not be kept
    const keepMs = 2 * (this.init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)
    this.replayTimer = setInterval(() => {
      try {
        this.store.messages.pruneReplay(this.clock() - keepMs)
      } catch (err) {
        this.onError(err)
      }
    }, this.init.replayPruneIntervalMs ?? 60_000)
    this.replayTimer.unref()
    this.startRetention(keepMs)
    this.gossip.provideLocalCapabilities()
    this.meshReady = true
  }

  /** Delete relayed traffic (neither from nor to this node's agents) past its retention (issue 9). */
  private startRetention(keepMs: number): void {
    const retention = Math.max(this.limits.relay.retentionMs, keepMs)
    const every = Math.max(10, this.limits.relay.pruneIntervalMs)
    this.retentionTimer = setInterval(() => {
      try {
        this.store.messages.pruneForeign(this.clock() - retention)
      } catch (err) {
        this.onError(err)
      }
    }, every)
    this.retentionTimer.unref()
  }

  /** Gossiped messages the relay quotas held back, by reason, and those waiting for a registration. */
  relayStats(): { dropped: Readonly<Record<RelayDrop, number>>; held: { messages: number; bytes: number } } {
    return { dropped: this.relay.drops(), held: this.relay.held() }
  }

  /** Leave the mesh and close the store; idempotent. */
  async stop(): Promise<void> {
    this.dialer.stop()
    await this.signPool.close()
    this.outbox.stop()
    this.gossip.stop()
    if (this.checkpointTimer) clearInterval(this.checkpointTimer)
    if (this.replayTimer) clearInterval(this.replayTimer)
    if (this.retentionTimer) clearInterval(this.retentionTimer)
    await this.p2pNode?.stop()
    try {
      this.store.close()
    } catch {
      // already closed
    }
  }

  /** A failure nobody can be told of (gossip, dials, timers): logged once and counted in /metrics. */
  private onError(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code
    this.log.warn('background failure', {
      error: err instanceof Error ? err.message : String(err),
      ...(typeof code === 'string' ? { code } : {}),
    })
  }

  /** Pull and apply a peer's registry state; errors are reported, not thrown. */
  syncFrom(peerId: string): Promise<SyncResult | undefined> {
    return this.gossip.syncFrom(peerId)
  }

  /** Sign a checkpoint of the audit log now; it is announced and gossiped on the audit topic. */
  checkpoint(): Promise<ChkEnvelope> {
    return Promise.resolve(this.audit.checkpoint())
  }

  private lastOnDemand = -Infinity

  /**
   * A checkpoint for `POST /audit/checkpoint` (issue 9): signed at most once
   * per `limits.onDemandCheckpointMs`; a call inside that interval answers the
   * latest checkpoint (`fresh: false`) and signs nothing.
   */
  async checkpointOnDemand(): Promise<{ checkpoint: ChkEnvelope; fresh: boolean }> {
    const latest = this.audit.latest()
    const now = this.clock()
    if (latest !== undefined && now - this.lastOnDemand < this.limits.onDemandCheckpointMs) {
      return { checkpoint: latest, fresh: false }
    }
    this.lastOnDemand = now
    return { checkpoint: await this.checkpoint(), fresh: true }
  }

  /** Announce and gossip a checkpoint this node signed (periodic, on demand, or for an export). */
  private announceCheckpoint(chk: ChkEnvelope): void {
    this.events.emit('audit:checkpoint', { origin: chk.origin, size: chk.size, root: chk.root, local: true })
    if (this.p2pNode) void this.gossip.publish([chk]).catch((e) => this.onError(e))
    if (this.meshReady) void this.witness.gather(chk).catch((e) => this.onError(e))
  }

  /** Register an agent whose keys this node keeps; gossips its inception and registration. */
  async registerAgent(name: string, capabilities: readonly Capability[] = []): Promise<RegisteredAgent> {
    const registered = (await this.registrations.send({ kind: 'custodied', name, capabilities })) as RegisteredAgent
    this.announceRegistration(registered.envelopes, capabilities)
    return registered
  }

  /** Gossip a committed registration (the outbox retries) and provide its capabilities once. */
  private announceRegistration(envelopes: Envelope[], capabilities: readonly Capability[]): void {
    setImmediate(() => void this.gossip.publish(envelopes).catch((e) => this.onError(e)))
    this.gossip.provide(capabilities.map((c) => c.type))
  }

  /** Register an agent that keeps its own key (signed icp + reg); gossips both. */
  async registerExternalAgent(icp: IcpEnvelope, reg: RegEnvelope): Promise<AgentRecord> {
    const { record, envelopes } = await this.registrations.send({ kind: 'external', icp, reg })
    this.announceRegistration(envelopes, reg.capabilities)
    return record
  }

  /** Check, store and gossip a message (docs/protocol.md §8 signing paths). */
  async sendMessage(input: SendInput): Promise<SentMessage> {
    authorizeSend(input)
    const prepared = await presign({ ...this.presignParts, pool: this.signPool }, input)
    const sent = await this.sends.send(prepared)
    // gossip after the caller has its answer: the message is committed; the outbox retries publications
    setImmediate(() => void this.gossip.publish([sent.envelope]))
    return sent
  }

  /** Accept an envelope of any type from a client (API) and gossip it when accepted. */
  async submitEnvelope(envelope: unknown, client = 'local'): Promise<Verdict> {
    const v = this.ingestor.ingest(envelope, { kind: 'api', peer: client }, { fresh: true })
    if (v.ok) await this.gossip.publish([v.envelope])
    return v
  }

  /** Local and (through the DHT) remote agents offering a capability. */
  discoverNetwork(capability: string, minConfidence = 0, limit = 50): Promise<NetworkDiscovery> {
    return this.discovery.network(capability, minConfidence, limit)
  }

  /** Dial a peer by multiaddr or seed address (ws://host:port); keeps redialling seed addresses. */
  async connectPeer(addr: string): Promise<string[]> {
    return this.dialer.connect(addr)
  }

  /** Connected peers. */
  peers(): { peerId: string; addrs: string[] }[] {
    return this.p2p.peers()
  }

  /** Identity and addresses of this node. */
  info(): NodeInfo {
    const key = this.identity.keyState.key
    return {
      status: 'ok',
      name: this.name,
      did: this.did,
      didKey: didKeyFromPublicKey(Buffer.from(key, 'base64')),
      peerId: this.p2p.peerId,
      multiaddrs: this.meshReady ? this.p2p.multiaddrs() : [],
      uptime: Math.max(0, Math.round((this.clock() - this.startedAt) / 1000)),
      mesh: this.meshReady ? 'ready' : 'starting',
    }
  }

  /** Network statistics (`GET /stats`). */
  stats(): NodeStats {
    return this.reports.stats()
  }

  /** The whole network state as this node sees it (`GET /snapshot`, first WebSocket event). */
  snapshot(recent = 50): NodeSnapshot<NodeInfo, { peerId: string; addrs: string[] }> {
    return {
      node: this.info(),
      stats: this.stats(),
      agents: this.agents.list(),
      connections: this.reports.connections(recent),
      messages: this.reports.messages({ limit: recent }),
      peers: this.peers(),
      revoked: this.reports.revoked(),
    }
  }

  /** Stored messages, newest first. */
  listMessages(query: MessageQuery = {}): MessageView[] {
    return this.reports.messages(query)
  }

  /** Verified connections (handshakes), newest first. */
  connections(limit?: number): ConnectionView[] {
    return this.reports.connections(limit)
  }

  /** The revocation list. */
  revoked(): RevokedView[] {
    return this.reports.revoked()
  }

  /** Everything the store holds, for compliance export. */
  auditExport(size?: number): AuditReport {
    return this.reports.auditExport(size)
  }

  /** The key that currently checks a signer's signatures (key event log first). */
  signerKey(identifier: string): SignerKey {
    return signerKey(this.store, identifier)
  }

  /** Run the acceptance rules on an envelope without storing it (freshness and duplicates aside). */
  checkEnvelope(envelope: unknown): Verdict {
    const ctx = { ...this.ingestor.context(), hasEnvelope: () => false, nonceSeen: () => false }
    return acceptEnvelope(envelope, ctx, { fresh: false })
  }

  /** Mutual challenge-response between two agents; stores the connection on both nodes. */
  handshake(input: HandshakeInput): Promise<ConnectionView> {
    return this.handshakes.initiate(input)
  }

  /** Rotate an agent's key (proof required) and gossip the rotation. */
  async rotateAgent(input: RotateInput): Promise<Rotation> {
    const rotation = this.keyService.rotate(input)
    const reg = rotation.registration
    await this.gossip.publish(reg === undefined ? [rotation.envelope] : [rotation.envelope, reg])
    return rotation
  }

  /** Revoke a DID (proof required) and gossip the revocation; final. */
  async revokeAgent(input: RevokeInput): Promise<RevEnvelope> {
    const rev = this.keyService.revoke(input)
    await this.gossip.publish([rev])
    return rev
  }

  /** The key state of a DID as this node knows it (`GET /keys/:did`). */
  keyView(identifier: string): KeyView {
    return keyView(this.store, identifier)
  }

  /** Conflicting key events this node refused (all, or those of one DID), newest first. */
  duplicities(did?: string): DuplicityView[] {
    return duplicityViews(this.store, did)
  }

  /**
   * The node's own rotation `rotId` is taken up only when the identity file in
   * its home already holds it: returns the switch to the new key, or undefined.
   * The libp2p PeerId follows the new key at the next start.
   */
  private ownRotation(rotId: string): (() => void) | undefined {
    if (this.init.home === undefined) return undefined
    let next: Identity
    try {
      next = loadIdentity(this.init.home)
    } catch (err) {
      this.onError(err)
      return undefined
    }
    if (next.did !== this.did || next.keyState.lastId !== rotId) return undefined
    return () => {
      this.identity = next
    }
  }

  /** The custodied key pair of an agent this node registered (cached). */
  private custodiedKey(did: string): KeyPair | undefined {
    const seed = this.agents.custodiedSeed(did)
    return seed === undefined ? undefined : this.keyCache.get(seed)
  }

  /**
   * The signer of the HTTP signing proxy (docs/proxy.md): this node's current
   * key when `did` is absent or the node's DID, else the key of an agent this
   * node custodies; undefined when the node holds no key for `did`. Throws
   * `RevokedError` for a revoked DID. The seed never leaves the node.
   */
  proxySigner(did: string = this.did): ProxySigner | undefined {
    const key = did === this.did ? this.identity.keyPair : this.custodiedKey(did)
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
    if (did === this.did) return this.identity.nextKeyPair.publicKey
    const next = this.store.custody.get(did)?.nextSeed
    return next ? this.keyCache.get(fromB64(next, 'next seed', 32)).publicKey : undefined
  }

  /** The DID an agent credential acts for, or undefined (unknown, malformed, or its agent revoked). */
  agentForCredential(credential: string): string | undefined {
    const did = this.credentials.resolve(credential)
    return did !== undefined && !this.store.keyEvents.state(did)?.revoked ? did : undefined
  }

  /** Record an API action refused for want of authority (audit kind `api.refused`). */
  recordRefusal(refusal: RefusalInput): void {
    this.audit.record(refusalRecord(refusal))
    const { action, subject, code, authority } = refusal
    this.events.emit('api:refused', { action, subject, code, authority })
  }

  private historyReport: HistoryReport | undefined

  /** History read models for the dashboard and verifier: pairs, rates, trust samples, key logs, message lookup. */
  history(): HistoryReport {
    return (this.historyReport ??= new HistoryReport({ store: this.store, agents: this.agents, clock: this.clock }))
  }

  /** Record a request the signing proxy forwarded (audit kind `proxy.request`: no headers, bodies or tokens). */
  recordProxyRequest(record: ProxyAuditRecord): void {
    const { signer, method, authority, path, status, code } = record
    this.audit.record({ kind: 'proxy.request', subject: signer, code, data: { method, authority, path, status } })
  }

  /** The underlying mesh (for tests and diagnostics). */
  get mesh(): MeshP2P {
    return this.p2p
  }
}
