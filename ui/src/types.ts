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
  online: boolean
  origin: 'local' | 'remote'
  /** DID of the node hosting the agent. */
  originServer: string
  createdAt: string
  revokedAt?: string
  revocationReason?: string
}

/** A stored message (`GET /messages`). */
export interface Message {
  readonly id: string
  readonly from: string
  readonly to: string | null
  readonly message: string
  readonly timestamp: string
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
