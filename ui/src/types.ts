/**
 * The shapes the UI reads from the node's REST API and WebSocket stream
 * (docs/api.md), derived from the API's own response types (api/types.ts,
 * imported type-only: no node code reaches the bundle). A field renamed on
 * the node fails `npm run typecheck:ui` here instead of drifting silently.
 */
import type * as Api from '../../api/types.js'

/** `T` with its fields writable: the dashboard updates its copies in place as events arrive. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** `GET /health` without `version`/`trustLoopback`: the node itself. */
export type NodeInfo = Api.NodeInfo
/** `GET /stats`. */
export type Stats = Mutable<Api.NodeStats>
/** A capability an agent announces. */
export type Capability = Api.CapabilityView
/**
 * An agent record (`GET /agents`). The dashboard adds an agent from its
 * `agent:registered` event before the next snapshot, so the fields that
 * event does not carry may be missing until then.
 */
export type Agent = Mutable<Omit<Api.AgentRecord, OptionalUntilSnapshot>> &
  Partial<Mutable<Pick<Api.AgentRecord, OptionalUntilSnapshot>>>
/** Agent fields an `agent:registered` event does not carry. */
type OptionalUntilSnapshot = 'displayName' | 'peerId' | 'lastSeenAt'
/** A signed message envelope as it crosses the mesh. */
export type MsgEnvelope = Api.MsgEnvelope
/** A stored message (`GET /messages`). */
export type Message = Api.MessageView
/** `GET /messages`. `total` counts the messages of the filter (`did`), not only this page. */
export type MessagePage = Api.ApiMessagePage
/** `GET /messages/:id`. */
export type StoredMessage = Api.ApiStoredMessage
/** `GET /health`. */
export type Health = Api.ApiHealth
/** Messages from one agent to another (`GET /history/links`). */
export type PairHistory = Api.PairView
/** `GET /history/links`. */
export type LinkHistory = Api.ApiLinkHistory
/** One minute of traffic (`t`: start of the minute, ms). */
export type RatePoint = Api.RatePoint
/** A trust sample (`t` in ms). */
export type TrustPoint = Api.TrustPoint
/** `GET /history/rates`. */
export type RateHistory = Api.ApiRateHistory
/** One key event of a DID, with its signed time. */
export type KeyLogEntry = Api.KeyLogEntry
/** `GET /history/agents/:did`. */
export type AgentHistory = Api.ApiAgentHistory
/** A duplicity record (`GET /agents/:did` → `duplicity`). */
export type Duplicity = Api.ApiDuplicity
/** `GET /agents/:did`. */
export type AgentDetail = Api.ApiAgentDetail
/** `GET /connections`. */
export type ConnectionPage = Api.ApiConnectionPage
/** `POST /messages/verify`. */
export type EnvelopeVerification = Api.ApiMessageVerification
/** `GET /audit/proof/:index`: RFC 9162 inclusion proof. */
export type InclusionProof = Api.InclusionProofView
/** A verified handshake (`GET /connections`). */
export type Connection = Api.ConnectionView
/** A connected mesh peer. */
export type Peer = Api.ApiPeer
/** `GET /snapshot`, also the `data` of the stream's first event. */
export type Snapshot = Api.ApiSnapshot
/** One event of the WebSocket stream: the snapshot, then node events with `data` typed by `type`. */
export type StreamEvent = Api.ApiStreamEvent
/** The `data` of each node event, by event name. */
export type EventData = Api.NodeEventData
/** A node event of the stream (not the snapshot), `data` typed by its name(s). */
export type NodeEvent<K extends keyof EventData = keyof EventData> = Api.NodeEvent<K>

/** The signer of a `POST /verify` request: a DID or a raw public key. */
export type VerifySigner = { readonly did: string } | { readonly publicKey: string }

/** Body of `POST /verify`. */
export type VerifyRequest = { readonly message: string; readonly signature: string } & VerifySigner

/** Answer of `POST /verify`. */
export type Verification = Api.ApiVerification
