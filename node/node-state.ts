/**
 * The shape of a wired node (node-parts.ts): every service it is made of and
 * what changes while it runs. Types only: the facades and `MeshNode` name it
 * without pulling in the wiring.
 */
import type { Envelope, IcpEnvelope, RegEnvelope } from './core/index.js'
import type { AuditLog } from './audit/audit-log.js'
import type { AuditService } from './audit/audit-service.js'
import type { CheckpointNotes } from './audit/checkpoint-notes.js'
import type { CheckpointScheduler } from './audit/checkpoint-scheduler.js'
import type { NodeEvents } from './events.js'
import type { Identity } from './identity/index.js'
import type { Limits } from './limits.js'
import type { Logger } from './logger.js'
import type { MeshNodeInit } from './node-init.js'
import type { MeshP2P } from './p2p/index.js'
import type { AgentCredentials } from './services/agent-credentials.js'
import type { AgentService } from './services/agent-service.js'
import type { DeliveryService } from './services/delivery-service.js'
import type { Discovery } from './services/discovery.js'
import type { GossipOutbox } from './services/gossip-outbox.js'
import type { HandshakeService } from './services/handshake-service.js'
import type { Ingest } from './services/ingest.js'
import type { KeyPairCache } from './services/key-cache.js'
import type { KeyService } from './services/key-service.js'
import type { MeshGossip } from './services/mesh-gossip.js'
import type { MessageRetention } from './services/message-retention.js'
import type { MessageService, SendInput, SentMessage } from './services/message-service.js'
import type { PeerDialer } from './services/peer-dialer.js'
import type { PresignComponents } from './services/presign.js'
import type { AgentRecord } from './services/records.js'
import type { RefusalAuditBudget } from './services/refusal-audit-budget.js'
import type { RelayGuard } from './services/relay-guard.js'
import type { ReportService } from './services/report-service.js'
import type { SendBatcher } from './services/send-batcher.js'
import type { SignPool } from './services/sign-pool.js'
import type { PreparedRegistration, RegistrationPrepComponents } from './services/registration-prep.js'
import type { RegistrySync } from './services/sync-client.js'
import type { TrustService } from './services/trust.js'
import type { WitnessService } from './services/witness-service.js'
import type { Store } from './store/index.js'

/** A registration waiting for its group commit. */
export type RegistrationJob =
  | { readonly kind: 'custodied'; readonly prepared: PreparedRegistration }
  | { readonly kind: 'external'; readonly icp: IcpEnvelope; readonly reg: RegEnvelope }

/** What changes while a node runs. */
export interface NodeState {
  /** The node identity now: replaced when the node takes up its own key rotation. */
  identity: Identity
  /** The libp2p side, once created. */
  p2p: MeshP2P | undefined
  /** True once `start()` has brought the mesh up. */
  meshReady: boolean
  startedAt: number
  /** When the latest on-demand checkpoint was signed. */
  lastOnDemand: number
}

/** Every service of one node. */
export interface NodeParts {
  readonly init: MeshNodeInit
  readonly state: NodeState
  readonly did: string
  readonly name: string
  readonly clock: () => number
  readonly random: (n: number) => Uint8Array
  readonly log: Logger
  readonly limits: Limits
  readonly events: NodeEvents
  readonly store: Store
  /** The mesh; throws INTERNAL before it is created. */
  readonly p2p: () => MeshP2P
  /** A failure nobody can be told of (gossip, dials, timers): logged once and counted in /metrics. */
  readonly onError: (err: unknown) => void
  readonly auditLog: AuditLog
  readonly audit: AuditService
  readonly notes: CheckpointNotes
  readonly witness: WitnessService
  readonly checkpoints: CheckpointScheduler
  readonly trust: TrustService
  readonly ingest: Ingest
  readonly registrySync: RegistrySync
  readonly credentials: AgentCredentials
  readonly agents: AgentService
  readonly messages: MessageService
  readonly retention: MessageRetention
  readonly discovery: Discovery
  readonly dialer: PeerDialer
  readonly outbox: GossipOutbox
  readonly gossip: MeshGossip
  /** Direct messages to their recipient's node, receipts, the durable outbox (docs/protocol.md §10). */
  readonly delivery: DeliveryService
  readonly relay: RelayGuard
  /** The node-wide budget of gossip refusals audited entry by entry (decision 0053). */
  readonly refusalAudit: RefusalAuditBudget
  readonly keyCache: KeyPairCache
  readonly keyService: KeyService
  readonly handshakes: HandshakeService
  readonly reports: ReportService
  readonly sends: SendBatcher<SendInput, SentMessage>
  /** Group commit of registrations (one fsync for the registrations of one event-loop turn). */
  readonly registrations: SendBatcher<RegistrationJob, { record: AgentRecord; envelopes: Envelope[] }>
  readonly presignParts: Omit<PresignComponents, 'pool'>
  readonly registrationParts: Omit<RegistrationPrepComponents, 'pool'>
  readonly signPool: SignPool
}
