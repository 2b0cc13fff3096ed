/**
 * The shapes the UI reads from the node's REST API and WebSocket stream
 * (docs/api.md). The UI keeps its own small copies instead of importing the
 * node's types: it only ever sees JSON.
 */

/** `GET /health` without `status`/`version`: the node itself. */
export interface NodeInfo {
  readonly name: string
  readonly did: string
  readonly didKey: string
  readonly peerId: string
  readonly multiaddrs: string[]
  /** Seconds since the node started. */
  readonly uptime: number
}

/** `GET /stats`. */
export interface Stats {
  agents: number
  active: number
  revoked: number
  localAgents: number
  remoteAgents: number
  connections: number
  messages: number
  peers: number
  auditEntries: number
  uptime: number
}

/** A capability an agent announces. */
export interface Capability {
  readonly type: string
  readonly confidence?: number
}

/** An agent record (`GET /agents`). */
export interface Agent {
  did: string
  publicKey: string
  name: string
  capabilities: Capability[]
  status: 'active' | 'revoked'
  keySeq: number
  trustScore: number
  interactionsTotal: number
  interactionsSuccess: number
  online: boolean
  origin: 'local' | 'remote'
  /** DID of the node hosting the agent. */
  originServer: string
  createdAt: string
  lastSeenAt?: string
  peerId?: string
  revokedAt?: string
  revocationReason?: string
}

/** A signed message envelope as it crosses the mesh. */
export interface MsgEnvelope {
  readonly v: 1
  readonly type: 'msg'
  readonly from: string
  readonly to: string | null
  readonly body: string
  readonly ts: number
  readonly nonce: string
  readonly sig: string
}

/** A stored message (`GET /messages`). */
export interface Message {
  readonly seq: number
  readonly id: string
  readonly from: string
  readonly to: string | null
  readonly message: string
  readonly signature: string
  readonly ts: number
  readonly timestamp: string
  readonly source: string
  readonly receivedAt: string
  readonly envelope: MsgEnvelope
}

/** `GET /messages`. `total` counts the messages of the filter (`did`), not only this page. */
export interface MessagePage {
  readonly messages: Message[]
  readonly total: number
}

/** `GET /messages/:id`. */
export interface StoredMessage {
  readonly message: Message
  readonly auditIndex: number | null
}

/** `GET /health`. */
export interface Health extends NodeInfo {
  readonly version: string
  readonly trustLoopback: boolean
}

/** Messages from one agent to another (`GET /history/links`). */
export interface PairHistory {
  readonly from: string
  readonly to: string
  readonly count: number
  /** ms since the epoch. */
  readonly lastTs: number
}

/** `GET /history/links`. */
export interface LinkHistory {
  readonly links: PairHistory[]
  readonly total: number
  readonly messages: number
}

/** One minute of traffic (`t`: start of the minute, ms). */
export interface RatePoint {
  readonly t: number
  readonly verified: number
  readonly rejected: number
}

/** A trust sample (`t` in ms). */
export interface TrustPoint {
  readonly t: number
  readonly score: number
}

/** `GET /history/rates`. */
export interface RateHistory {
  readonly minutes: RatePoint[]
  readonly trust: TrustPoint[]
}

/** One key event of a DID, with its signed time. */
export interface KeyLogEntry {
  readonly seq: number
  readonly type: 'icp' | 'rot' | 'rev'
  readonly key: string | null
  readonly reason: string | null
  readonly ts: number
}

/** `GET /history/agents/:did`. */
export interface AgentHistory {
  readonly did: string
  readonly keyEvents: KeyLogEntry[]
  readonly trust: TrustPoint[]
}

/** A duplicity record (`GET /agents/:did` → `duplicity`). */
export interface Duplicity {
  readonly did: string
  readonly seq: number
  readonly keptId: string | null
  readonly conflictingId: string
  readonly type: string
  readonly detectedAt: string
}

/** `GET /agents/:did`. */
export interface AgentDetail extends Agent {
  readonly duplicity: Duplicity[]
}

/** `GET /connections`. */
export interface ConnectionPage {
  readonly connections: Connection[]
  readonly total: number
}

/** `POST /messages/verify`. */
export interface EnvelopeVerification {
  readonly valid: boolean
  readonly did: string | null
  readonly verifiedAt: string
  readonly id?: string | null
  readonly type?: string
  readonly code?: string
  readonly error?: string
}

/** `GET /audit/proof/:index`: RFC 9162 inclusion proof. */
export interface InclusionProof {
  readonly index: number
  readonly size: number
  readonly leafHash: string
  readonly root: string
  readonly proof: string[]
  readonly entry: { readonly kind: string; readonly ts: number; readonly envelopeId: string | null }
  readonly checkpoint: { readonly origin: string; readonly size: number; readonly root: string } | null
}

/** A verified handshake (`GET /connections`). */
export interface Connection {
  readonly id: string
  readonly fromDid: string
  readonly toDid: string
  readonly establishedAt: string
}

/** A connected mesh peer. */
export interface Peer {
  readonly peerId: string
  readonly addrs: string[]
}

/** `GET /snapshot`, also the `data` of the stream's first event. */
export interface Snapshot {
  readonly node: NodeInfo
  readonly stats: Stats
  readonly agents: Agent[]
  readonly connections: Connection[]
  readonly messages: Message[]
  readonly peers: Peer[]
  /** What a bounded snapshot left out: `agents.next` is set when more agents exist (`GET /agents` has them all). */
  readonly page?: { readonly agents: { readonly total: number; readonly next: string | null } }
}

/** One event of the WebSocket stream. */
export interface StreamEvent {
  readonly type: string
  readonly timestamp: string
  readonly data: Record<string, unknown>
}

/** The signer of a `POST /verify` request: a DID or a raw public key. */
export type VerifySigner = { readonly did: string } | { readonly publicKey: string }

/** Body of `POST /verify`. */
export type VerifyRequest = { readonly message: string; readonly signature: string } & VerifySigner

/** Answer of `POST /verify`. */
export interface Verification {
  readonly valid: boolean
  readonly message: string
  readonly signer: string
  readonly did: string
  readonly publicKey: string | null
  readonly keySource: string
  readonly verifiedAt: string
  readonly code?: string
}
