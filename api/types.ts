/**
 * Response shapes of the REST API, for the typed client and for readers of
 * docs/api.md. Every field is camelCase; times are ISO 8601 unless named
 * `ts` (ms since the epoch); lists come wrapped (`{agents: […], total}`).
 */
import type { Capability } from '../node/core/factory.js'
import type { Envelope, MsgEnvelope, RevEnvelope, RotEnvelope } from '../node/core/envelope.js'
import type { Receipt } from '../node/core/receipt.js'
import type { AgentRecord } from '../node/services/records.js'
import type {
  AuditReport,
  ConnectionView,
  MessageView,
  NodeStats,
  RevokedView,
} from '../node/services/report-service.js'

import type { NodeInfo } from '../node/mesh-node.js'
import type { KeyLogEntry, PairView, RatePoint, TrustPoint } from '../node/services/history-report.js'

export type { AgentRecord, AuditReport, ConnectionView, MessageView, NodeStats, RevokedView }

/** `GET /health`: the node's identity and addresses (uptime in seconds) and the meshsig version. */
export interface ApiHealth extends NodeInfo {
  readonly version: string
  /** True when every loopback caller acts as the operator (docs/protocol.md §8): a warning to show. */
  readonly trustLoopback: boolean
}

/** A connected mesh peer. */
export interface ApiPeer {
  readonly peerId: string
  readonly addrs: string[]
  readonly direction?: string
}

/** `GET /snapshot` (and the first WebSocket event's `data`). */
export interface ApiSnapshot {
  readonly node: Omit<ApiHealth, 'version' | 'trustLoopback'>
  readonly stats: NodeStats
  readonly agents: AgentRecord[]
  readonly connections: ConnectionView[]
  readonly messages: MessageView[]
  readonly peers: ApiPeer[]
  readonly revoked: RevokedView[]
}

/** `POST /agents/register` (201). `privateKey` only when the node generated the key. */
export interface ApiRegistered {
  readonly identity: {
    readonly did: string
    readonly publicKey: string
    readonly privateKey?: string
    /**
     * The agent credential (`msag_…`), returned once for an agent whose keys the
     * node keeps: `Authorization: Bearer` acts as this agent (docs/protocol.md §8).
     */
    readonly credential?: string
    readonly createdAt: string
  }
  readonly record: AgentRecord
}

/** `POST /verify`. */
export interface ApiVerification {
  readonly valid: boolean
  readonly message: string
  readonly signer: string
  readonly did: string
  readonly publicKey: string | null
  readonly keySource: 'key-event-log' | 'did' | 'did:key' | 'public-key'
  readonly verifiedAt: string
  /** Why it is not valid: SIGNATURE_INVALID, ROTATED_KEY (an older key of the DID) or REVOKED. */
  readonly code?: 'SIGNATURE_INVALID' | 'ROTATED_KEY' | 'REVOKED'
}

/** `POST /messages/send`. */
export interface ApiSent {
  readonly sent: true
  readonly verified: true
  readonly id: string
  readonly from: string
  readonly to: string | null
  readonly signature: string
  readonly ts: number
  readonly timestamp: string
  readonly envelope: MsgEnvelope
}

/** `POST /messages/verify`. */
export interface ApiMessageVerification {
  readonly valid: boolean
  readonly did: string | null
  readonly verifiedAt: string
  readonly id?: string | null
  readonly type?: Envelope['type']
  readonly code?: string
  readonly error?: string
}

/** `POST /agents/rotate-key`. */
export interface ApiRotated {
  readonly rotated: true
  readonly did: string
  readonly publicKey: string
  readonly previousPublicKey: string
  readonly keySeq: number
  readonly custodied: boolean
  readonly rotatedAt: string
  readonly envelope: RotEnvelope
  readonly record: AgentRecord | null
  /** Returned once when this call generated the new key and the node does not keep it. */
  readonly privateKey?: string
  /** Returned once when the node does not keep the next (pre-rotation) key. */
  readonly nextPrivateKey?: string
}

/** `POST /agents/revoke`. */
export interface ApiRevoked {
  readonly revoked: true
  readonly did: string
  readonly reason: string
  readonly revokedAt: string
  readonly keySeq: number
  readonly final: boolean
  readonly envelope: RevEnvelope
}

/** `POST /discover/network`. */
export interface ApiNetworkDiscovery {
  readonly local: AgentRecord[]
  readonly remote: { readonly record: AgentRecord; readonly provider: string; readonly via: 'dht' }[]
  readonly total: number
}

/** `POST /handshake`. */
export interface ApiHandshake {
  readonly established: true
  readonly verified: true
  readonly connection: ConnectionView
}

/** Body of every error answer. */
export interface ApiErrorBody {
  readonly error: string
  readonly code: string
  readonly did?: string
  readonly details?: Record<string, unknown>
  /** 429 only. */
  readonly retryAfter?: number
}

/** Input of a registration: node-generated keys (`name`, `capabilities`). */
export interface ApiRegisterInput {
  readonly name: string
  readonly capabilities?: readonly Capability[]
}

export type { KeyLogEntry, PairView, RatePoint, TrustPoint }

/** `GET /history/links`: signed messages per pair of agents (counts, last seen), most first. */
export interface ApiLinkHistory {
  readonly links: PairView[]
  /** Number of pairs. */
  readonly total: number
  /** Stored messages in all. */
  readonly messages: number
}

/** `GET /history/rates`: the last hour per minute, oldest first. */
export interface ApiRateHistory {
  /** Messages verified and envelopes rejected per minute (from the audit log). */
  readonly minutes: RatePoint[]
  /** The average trust of all agents, sampled once a minute while asked. */
  readonly trust: TrustPoint[]
}

/** `GET /history/agents/:did`: the key event log with times and the trust samples of the last hour. */
export interface ApiAgentHistory {
  readonly did: string
  readonly keyEvents: KeyLogEntry[]
  readonly trust: TrustPoint[]
}

/** `GET /messages/:id`: one stored message and the index of the audit entry recording its acceptance. */
export interface ApiStoredMessage {
  readonly message: MessageView
  /** For `GET /audit/proof/:index`; null when the entry was not found near the message's arrival. */
  readonly auditIndex: number | null
  /** A direct message's delivery state and receipt (docs/api.md); null for a broadcast or one this node only relayed. */
  readonly delivery?: ApiDelivery | null
}

/** Where a direct message stands (docs/api.md, `GET /messages/:id`; docs/protocol.md §10). */
export interface ApiDelivery {
  /** `sender`: this node sent it (its outbox); `host`: this node hosts the recipient and issued the receipt. */
  readonly role: 'sender' | 'host'
  readonly state: 'pending' | 'delivered' | 'refused' | 'expired'
  /** Failed attempts so far. */
  readonly attempts: number
  /** The refusal code (`refused`) or the latest failure's code (`pending`), else null. */
  readonly code: string | null
  readonly reason: string | null
  /** The hosting node's signed receipt once `delivered`. */
  readonly receipt: Receipt | null
  /** When a pending message expires (ms since the epoch); null on the host. */
  readonly expiresAt: number | null
  readonly updatedAt: number
}
