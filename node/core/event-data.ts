/**
 * The data of every node event, by event name (docs/api.md, WebSocket
 * stream): what `NodeEvents.emit` accepts and the stream carries. Types
 * only, like views.ts, so the dashboard can import them type-only.
 */
import type { CapabilityView } from './views.js'

/** Who handed the node an envelope: its own API, a local call, gossip, sync or a direct protocol. */
export type EnvelopeSourceKind = string

/** A message the node accepted (`message:signed` on the sender's node, `message:received` elsewhere). */
export interface MessageEventData {
  readonly id: string
  readonly from: string
  readonly to: string | null
  readonly body: string
  readonly ts: number
  readonly signature: string
  readonly source: EnvelopeSourceKind
}

/** The `data` of every node event, by event name (docs/api.md, WebSocket stream). */
export interface NodeEventData {
  readonly 'agent:registered': {
    readonly did: string
    readonly name: string
    readonly capabilities: CapabilityView[]
    readonly controller: string
    readonly source: EnvelopeSourceKind
  }
  readonly 'agent:rotated': { readonly did: string; readonly seq: number; readonly publicKey: string }
  readonly 'agent:revoked': { readonly did: string; readonly reason: string; readonly ts: number }
  readonly 'key:duplicity': {
    readonly did: string | null
    readonly seq: number | null
    readonly id: string | null
    readonly keptId: string | null
    readonly source: EnvelopeSourceKind
  }
  readonly 'message:signed': MessageEventData
  readonly 'message:received': MessageEventData
  readonly 'message:rejected': {
    readonly code: string
    readonly reason: string
    readonly type: string | null
    readonly id: string | null
    readonly source: EnvelopeSourceKind
    /** The DID the refusal counts against, when the envelope proves it (docs/protocol.md §7). */
    readonly attributableTo: string | null
    /** The signer the envelope claims (not proven). */
    readonly claimed: string | null
  }
  readonly 'connection:established': {
    readonly id: string
    readonly fromDid: string
    readonly toDid: string
    readonly establishedAt: string
  }
  readonly 'peer:connected': { readonly peerId: string }
  readonly 'peer:disconnected': { readonly peerId: string }
  readonly 'audit:checkpoint': {
    readonly origin: string
    readonly size: number
    readonly root: string
    /** Set when this node signed it. */
    readonly local?: true
  }
  readonly 'audit:inconsistent': {
    readonly origin: string
    /** Set when this node's own log failed its continuity check (it stops signing checkpoints). */
    readonly local?: true
    readonly message?: string
    /** For a peer's log: what was inconsistent, and who reported it. */
    readonly kind?: string
    readonly reportedBy?: string
    readonly [detail: string]: unknown
  }
  readonly 'api:refused': {
    readonly action: string
    readonly subject: string | null
    readonly code: string
    readonly authority: string
  }
}

/** Names of the events a node emits. */
export type NodeEventType = keyof NodeEventData

/** One event as the WebSocket stream carries it: `{type, timestamp, data}`, `data` typed by `type`. */
export type NodeEvent<K extends NodeEventType = NodeEventType> = {
  readonly [T in K]: {
    readonly type: T
    /** ISO 8601 time the node emitted it. */
    readonly timestamp: string
    readonly data: NodeEventData[T]
  }
}[K]
