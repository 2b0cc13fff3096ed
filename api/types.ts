/**
 * Response shapes of the REST API, for the typed client and for readers of
 * docs/api.md. Every field is camelCase; times are ISO 8601 unless named
 * `ts` (ms since the epoch); lists come wrapped (`{agents: […], total}`).
 * The route handlers build their answers against these types (`satisfies`),
 * and the dashboard (ui/src/types.ts) imports them type-only, so this module
 * imports nothing but type-only modules (node/core/views.ts, event-data.ts, the envelope
 * schemas): a renamed field fails `npm run typecheck` and `npm run typecheck:ui`.
 */
import type { ChkEnvelope, Envelope, MsgEnvelope, RevEnvelope, RotEnvelope } from '../node/core/envelope-schema.js'
import type {
  AgentRecord,
  AgentTrust,
  CapabilityView,
  CheckpointEvidence,
  ConnectionTrust,
  ConnectionView,
  DeliveryView,
  DuplicityView,
  InclusionProofView,
  KeyLogEntry,
  MessageView,
  NodeInfo,
  NodeStats,
  PairView,
  RatePoint,
  RevokedView,
  StoredVerification,
  TrustPoint,
  TrustReport,
} from '../node/core/views.js'
import type { NodeEvent, NodeEventData } from '../node/core/event-data.js'

export type {
  AgentRecord,
  CapabilityView,
  ConnectionView,
  InclusionProofView,
  MessageView,
  MsgEnvelope,
  NodeEvent,
  NodeEventData,
  NodeInfo,
  NodeStats,
  RevokedView,
  TrustReport,
}

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
  /** What this bounded page left out (docs/api.md, `GET /snapshot`). */
  readonly page: ApiSnapshotPage
}

/** How much of each list a snapshot page holds; `agents.next` is the `cursor` of the next page. */
export interface ApiSnapshotPage {
  readonly limit: number
  readonly agents: { readonly total: number; readonly next: string | null }
  readonly revoked: { readonly total: number; readonly truncated: boolean }
  readonly messages: { readonly returned: number; readonly truncated: boolean }
}

/** The stream's first event: the first page of the snapshot (`GET /snapshot`). */
export interface ApiSnapshotEvent {
  readonly type: 'snapshot'
  readonly timestamp: string
  readonly data: ApiSnapshot
}

/** One event of the WebSocket stream (docs/api.md): the snapshot, then every node event with its typed `data`. */
export type ApiStreamEvent = ApiSnapshotEvent | NodeEvent

/**
 * `GET /trust/:did`: the agent's trust and that of its connections, at most `limit` of them by the other
 * DID; `next` is the `cursor` of the following ones, null on the last (decision 0081).
 */
export interface ApiAgentTrust extends AgentTrust {
  readonly connections: ConnectionTrust[]
  readonly next: string | null
}

/**
 * `GET /trust`: one page of the trust report, at most `limit` rows of each list by key; `next` is the
 * `cursor` of the following page, null on the last (decision 0081).
 */
export interface ApiTrustPage extends TrustReport {
  readonly limit: number
  readonly next: string | null
}

/** `GET /witness/evidence`: the inconsistent checkpoints this node witnessed (docs/audit.md). */
export interface ApiWitnessEvidence {
  readonly evidence: CheckpointEvidence[]
  readonly total: number
}

/** `GET /agents`, `POST /discover`: the matching agents (`total` before `limit`). */
export interface ApiAgentList {
  readonly agents: AgentRecord[]
  readonly total: number
  /** `GET /agents?limit`: the `cursor` of the next page, null on the last (absent without `limit`). */
  readonly next?: string | null
  /**
   * `POST /discover` with `"format": "a2a"`: the signed A2A cards (node/core/a2a-card.ts
   * `A2aAgentCard`, docs/interop.md §2) of the agents found that this node hosts and holds the key of.
   */
  readonly cards?: readonly object[]
}

/** A recorded duplicity, with the conflicting event itself (anyone can check that the DID's key signed it). */
export type ApiDuplicity = DuplicityView

/** `GET /agents/:did`: the record and the duplicity recorded for the DID. */
export interface ApiAgentDetail extends AgentRecord {
  readonly duplicity: ApiDuplicity[]
}

/** `GET /duplicity`. */
export interface ApiDuplicityList {
  readonly duplicity: ApiDuplicity[]
  readonly total: number
  /** The `cursor` of the next page, null on the last (docs/api.md `GET /duplicity`). */
  readonly next: string | null
}

/** `GET /revoked`. */
export interface ApiRevokedList {
  readonly revoked: RevokedView[]
  readonly total: number
  /** `GET /revoked?limit`: the `cursor` of the next page, null on the last (absent without `limit`). */
  readonly next?: string | null
}

/** `GET /connections`: the newest connections; `total` counts all. */
export interface ApiConnectionPage {
  readonly connections: ConnectionView[]
  readonly total: number
  /** The `cursor` of the next page, null on the last (docs/api.md `GET /connections`). */
  readonly next: string | null
}

/** `GET /messages`: a page, newest first; `total` counts the messages of the filter (`did`), not only this page. */
export interface ApiMessagePage {
  readonly messages: MessageView[]
  readonly total: number
  /**
   * The `before` of the next page (the `seq` of this page's last message), or null on the last page. A page
   * ends at `limit` messages or at `http.messagePageBytes` of JSON, whichever comes first (docs/api.md).
   */
  readonly next: number | null
}

/** `GET /peers`. */
export interface ApiPeerList {
  readonly peers: ApiPeer[]
  readonly total: number
}

/** `POST /peers/connect`. */
export interface ApiConnected {
  readonly connected: true
  readonly peerIds: string[]
}

/** `GET /audit/checkpoint` (JSON): the latest signed checkpoint, the log's size and the checkpoint as a signed note. */
export interface ApiCheckpoint {
  readonly checkpoint: ChkEnvelope | null
  readonly size: number
  readonly note: string | null
}

/** `POST /audit/checkpoint`: 201 with a fresh checkpoint (gossiped), 200 with the latest inside the on-demand limit. */
export interface ApiCheckpointSigned {
  readonly checkpoint: ChkEnvelope
  readonly gossiped: boolean
  readonly reused?: true
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
  /** Set when the recipient is not in this node's registry (a mistyped DID, or one not synced yet). */
  readonly warning?: string
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
  /** For a message this node stores: how it was accepted, and what changed since. */
  readonly stored?: StoredVerification
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
  /** With `"format": "a2a"`: the signed A2A cards of the local agents found that this node can sign (docs/api.md). */
  readonly cards?: readonly object[]
}

/** `POST /handshake`. */
export interface ApiHandshake {
  readonly established: true
  readonly verified: true
  readonly connection: ConnectionView
}

/** `POST /dashboard/pass` (operator): a one-time pass the dashboard redeems for a lane of its own. */
export interface ApiDashboardPass {
  /** The secret; the dashboard's URL carries it as `#pass=<pass>`. */
  readonly pass: string
  /** When it can no longer be redeemed (ms since the epoch). */
  readonly expiresAt: number
  /** How long a pass lives (ms). */
  readonly ttlMs: number
}

/** `POST /dashboard/session {pass}`: the session the page sends as `X-Meshsig-View` (and on its stream). */
export interface ApiDashboardSession {
  /** The secret (43 b64url characters); the page keeps it in its `sessionStorage`. */
  readonly session: string
  /** How long the session lives after its last request (ms). */
  readonly idleMs: number
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
  readonly capabilities?: readonly CapabilityView[]
}

export type { KeyLogEntry, PairView, RatePoint, TrustPoint }

/**
 * `GET /history/links`: stored messages per pair of agents (counts, last seen), the most recent traffic
 * first, at most `http.linksPage` pairs.
 */
export interface ApiLinkHistory {
  readonly links: PairView[]
  /** Number of pairs in all (`links` holds the most recent of them). */
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
export type ApiDelivery = DeliveryView
