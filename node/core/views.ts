/**
 * The JSON views every face shows (docs/api.md): the shapes the REST API
 * answers and the WebSocket stream carries, as the node's services build
 * them. Types only, importing nothing but the envelope wire types, so that
 * the dashboard (ui/) can import them type-only through api/types.ts and the
 * compiler checks both sides against one declaration.
 */
import type { ChkEnvelope, KeyEvent, MsgEnvelope, Receipt } from './envelope-schema.js'

/** The node itself (`GET /health` without `version`/`trustLoopback`). */
export interface NodeInfo {
  /**
   * `revoked` once the node's own DID is revoked: it then registers and rotates no agent (decision 0077);
   * `failed` once its database could not sync to disk: it writes nothing more until restarted (decision 0093).
   */
  readonly status: 'ok' | 'revoked' | 'failed'
  /** Why the node has `failed`: the store's error, naming the disk and the restart. */
  readonly failure?: string
  /** The revocation of the node's own DID, when it is revoked. */
  readonly revocation?: { readonly reason: string; readonly revokedAt: string; readonly by: 'self' | 'controller' }
  readonly name: string
  readonly did: string
  readonly didKey: string
  readonly peerId: string
  readonly multiaddrs: string[]
  /** Seconds since the node started. */
  readonly uptime: number
  /** The libp2p side: `starting` until the mesh listens and its protocols are up, then `ready`. */
  readonly mesh: 'starting' | 'ready'
}

/** A capability an agent offers, with optional self-declared confidence in [0, 1]. */
export interface CapabilityView {
  readonly type: string
  readonly confidence?: number
}

/** An agent as the API returns it. */
export interface AgentRecord {
  readonly did: string
  /** Current public key (b64): after rotation, not the key the DID encodes. */
  readonly publicKey: string
  readonly name: string
  readonly displayName: string
  readonly capabilities: CapabilityView[]
  readonly status: 'active' | 'revoked'
  readonly keySeq: number
  readonly trustScore: number
  readonly interactionsTotal: number
  readonly interactionsSuccess: number
  readonly online: boolean
  readonly origin: 'local' | 'remote'
  /** DID of the node hosting the agent. */
  readonly originServer: string
  readonly peerId: string
  readonly createdAt: string
  readonly lastSeenAt: string
  readonly revokedAt?: string
  readonly revocationReason?: string
}

/** Network statistics (`GET /stats`). */
export interface NodeStats {
  /** Agents known (local and remote). */
  readonly agents: number
  /** Agents not revoked. */
  readonly active: number
  readonly revoked: number
  readonly localAgents: number
  readonly remoteAgents: number
  /** Verified handshake connections. */
  readonly connections: number
  /** Stored (verified) messages. */
  readonly messages: number
  /** Connected mesh peers. */
  readonly peers: number
  /** Entries in the audit log. */
  readonly auditEntries: number
  /** Seconds since the node started. */
  readonly uptime: number
}

/** A stored message as the API shows it; `envelope` lets anyone re-verify it. */
export interface MessageView {
  /** Arrival order on this node (page with `before`). */
  readonly seq: number
  readonly id: string
  readonly from: string
  readonly to: string | null
  readonly message: string
  readonly signature: string
  readonly nonce: string
  /** Signed time, ms since the epoch. */
  readonly ts: number
  /** Signed time, ISO 8601. */
  readonly timestamp: string
  /** Every stored message passed the acceptance rules. */
  readonly verified: true
  readonly source: string
  readonly receivedAt: string
  readonly envelope: MsgEnvelope
}

/**
 * A stored message verified again (`POST /messages/verify`, docs/api.md):
 * how this node accepted it, and what changed since.
 */
export interface StoredVerification {
  /** When this node accepted it, ISO 8601. */
  readonly acceptedAt: string
  /** `seq` of the sender's key event whose key signed it (0: the inception key). */
  readonly keySeq: number
  /** The sender has rotated to another key since. */
  readonly keyRotatedSince: boolean
  /** The sender and recipient DIDs that are revoked now (each revoked after the message was accepted). */
  readonly revokedSince: readonly string[]
}

/** A recorded duplicity: two key events of one DID at one sequence number (`GET /duplicity`, `GET /agents/:did`). */
export interface DuplicityView {
  readonly did: string
  readonly seq: number
  /** Id of the event this node accepted first and keeps. */
  readonly keptId: string | null
  /** Id of the conflicting event it refused. */
  readonly conflictingId: string
  /** Type of the conflicting event (icp, rot, rev). */
  readonly type: KeyEvent['type']
  readonly detectedAt: string
  /** The conflicting event itself: anyone can check that the DID's key signed it. */
  readonly envelope: KeyEvent
}

/** Where a direct message stands in its delivery (docs/protocol.md §10). */
export type DeliveryState = 'pending' | 'delivered' | 'refused' | 'expired'

/** The delivery state of one direct message (docs/api.md, `GET /messages/:id`). */
export interface DeliveryView {
  /** `sender`: this node sent it and keeps it in its outbox; `host`: this node hosts the recipient. */
  readonly role: 'sender' | 'host'
  readonly state: DeliveryState
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

/** A trust score with the evidence behind it (docs/protocol.md §7). */
export interface TrustView {
  /** In [0, 1]: (α + s) / (α + β + s + w·f). */
  readonly score: number
  /** s: message credit (agent), verified messages (connection) or accepted envelopes delivered (peer). */
  readonly successes: number
  /** f: duplicities and inconsistent checkpoints (agent), refusals delivered (peer); 0 for a connection. */
  readonly failures: number
}

/** A verified connection (handshake) between two agents. */
export interface ConnectionView {
  readonly id: string
  /** The agent that initiated the handshake. */
  readonly fromDid: string
  /** The agent that answered it. */
  readonly toDid: string
  readonly establishedAt: string
  readonly verified: true
  /** Both signed challenge responses. */
  readonly transcript: unknown
  /** Trust of the connection: the credit the messages between the two agents earned (docs/protocol.md §7, decision 0051). */
  readonly trust?: TrustView
}

/** An entry of the revocation list. */
export interface RevokedView {
  readonly did: string
  readonly name: string | null
  readonly reason: string
  readonly revokedAt: string
  /** Who signed the revocation: the DID itself or its controller (hosting node). */
  readonly by: 'self' | 'controller'
  readonly keySeq: number
}

/**
 * A row of the revocation list and its place there: the order the node
 * learned the revocations in, which the list's `cursor` names (docs/api.md).
 */
export interface PlacedRevocation {
  readonly view: RevokedView
  readonly place: number
}

/** Signed messages from one agent to another (`GET /history/links`). */
export interface PairView {
  readonly from: string
  readonly to: string
  readonly count: number
  /** Signed time of the latest message, ms since the epoch. */
  readonly lastTs: number
}

/** One key event of a DID with its time (`GET /history/agents/:did`). */
export interface KeyLogEntry {
  readonly seq: number
  readonly type: KeyEvent['type']
  /** The key it made current (icp, rot); null for a revocation. */
  readonly key: string | null
  /** Reason of a revocation, else null. */
  readonly reason: string | null
  /** Signed time, ms since the epoch. */
  readonly ts: number
}

/** One minute of signature traffic (start of the minute, ms since the epoch). */
export interface RatePoint {
  readonly t: number
  /** Messages accepted (signature checked) in that minute. */
  readonly verified: number
  /** Envelopes of any type refused in that minute. */
  readonly rejected: number
}

/** A trust sample (ms since the epoch). */
export interface TrustPoint {
  readonly t: number
  readonly score: number
}

/** The fields of an audit entry every reader relies on (docs/audit.md); the node's proofs carry the whole `AuditEntry`. */
export interface AuditEntryHead {
  readonly kind: string
  readonly ts: number
  readonly envelopeId: string | null
}

/** An RFC 9162 inclusion proof of one entry in a tree of `size` leaves (`GET /audit/proof/:index`). */
export interface InclusionProofView<Entry extends AuditEntryHead = AuditEntryHead> {
  readonly index: number
  readonly size: number
  /** The entry itself: its leaf hash is SHA-256(0x00 || JCS(entry)). */
  readonly entry: Entry
  readonly leafHash: string
  /** MTH of the tree of `size` leaves, b64. */
  readonly root: string
  /** PATH(index, D[size]), b64, from the leaf up. */
  readonly proof: string[]
  /** The signed checkpoint of `size` entries, when the node signed one. */
  readonly checkpoint: ChkEnvelope | null
}

/** Parameters of the trust formula (docs/protocol.md §7). */
export interface TrustParams {
  /** Prior successes α (> 0). */
  readonly alpha: number
  /** Prior failures β (> 0). */
  readonly beta: number
  /** Weight w of one failure against one success (≥ 0). */
  readonly failureWeight: number
}

/** The trust of one agent. */
export interface AgentTrust extends TrustView {
  readonly did: string
  /** A revoked agent scores 0 (docs/protocol.md §7). */
  readonly revoked?: boolean
}

/** The trust of one delivering peer (PeerId, or "api:<client address>"). */
export interface PeerTrust extends TrustView {
  readonly peer: string
}

/** The trust of the connection between two agents (sorted). */
export interface ConnectionTrust extends TrustView {
  readonly a: string
  readonly b: string
}

/** Every score the node keeps, with the formula's parameters. */
export interface TrustReport {
  readonly formula: string
  readonly params: TrustParams
  readonly agents: AgentTrust[]
  readonly peers: PeerTrust[]
  readonly connections: ConnectionTrust[]
}

/** Evidence that a log signed two inconsistent checkpoints. */
export interface CheckpointEvidence {
  readonly origin: string
  readonly kind: 'split-view' | 'rewrite'
  readonly earlier: string
  readonly later: string
  readonly reportedBy: string
  readonly at: number
}
