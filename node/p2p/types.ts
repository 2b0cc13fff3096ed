/**
 * The public contract of node/p2p: what a caller passes in (`MeshP2PInit`)
 * and what it gets back (`MeshP2P`). The mesh knows nothing of the store: it
 * reaches the rest of the node only through these callbacks.
 */
import type { Topic } from './constants.js'
import type { IdentifyWatchInit } from './identify-watch.js'
import type { PingWatchInit } from './ping-watch.js'

export type { Topic } from './constants.js'

/** The verdict of a gossip validator, mapped onto gossipsub's TopicValidatorResult. */
export type ValidationResult = 'accept' | 'reject' | 'ignore'

/**
 * One request of registry reconciliation over `/meshsig/sync/1.0.0` (JSON on
 * the wire, docs/protocol.md §9): fingerprints of trie prefixes (or of their
 * 16 children), short ids under prefixes, envelopes by short id, or a page
 * of the registry in application order after a cursor. `registry` is the
 * whole-snapshot request of decision 0007, no longer served.
 */
export type SyncRequest =
  | { readonly kind: 'fp'; readonly prefixes: readonly string[]; readonly children?: boolean }
  | { readonly kind: 'ids'; readonly prefixes: readonly string[] }
  | { readonly kind: 'items'; readonly ids: readonly string[] }
  | { readonly kind: 'page'; readonly after?: string; readonly limit: number }
  | { readonly kind: 'self' }
  | { readonly kind: 'registry'; readonly since?: number }

/** Bounds of one sync answer: more items or bytes than this fail the exchange as `PEER_ERROR`. */
export interface SyncLimits {
  /** Most frames accepted. */
  readonly maxItems: number
  /** Most bytes accepted (sum of frames). */
  readonly maxBytes: number
}

/**
 * Answers one request of an extra request-response protocol. `request` is at
 * most `MAX_REQUEST_BYTES`; a thrown `MeshsigError` travels back to the caller
 * as `PEER_ERROR` with its code and message; any other error as a generic one.
 */
export type ProtocolHandler = (request: Uint8Array, fromPeerId: string) => Promise<Uint8Array> | Uint8Array

/** How a node joins the mesh and reaches back into the rest of the node. */
export interface MeshP2PInit {
  /** The node's Ed25519 32-byte seed; its libp2p PeerId is `peerIdFromPublicKey(publicKey)`. */
  readonly seed: Uint8Array
  /** Listen multiaddrs. Default `DEFAULT_LISTEN` (TCP and WS on 127.0.0.1); `/memory/<name>` with `transports: 'memory'`. */
  readonly listen?: readonly string[]
  /** Transports: TCP + WebSockets (default), or the in-process memory transport (tests only). */
  readonly transports?: 'tcp+ws' | 'memory'
  /** Multiaddrs with `/p2p/<id>` dialled at start and redialled with backoff whenever they drop. */
  readonly bootstrap?: readonly string[]
  /**
   * Gossip validator: runs meshsig's acceptance rules. `from` is the signed
   * originator's PeerId, `via` the peer that delivered the message (the one
   * gossipsub penalises on 'reject'). May be async; should answer fast
   * (< 100 ms). A throw counts as 'ignore'. Invalid = 'reject', duplicate = 'ignore'.
   */
  validate(topic: Topic, data: Uint8Array, from: string, via: string): ValidationResult | Promise<ValidationResult>
  /** Called once per accepted gossip message (never for the node's own publications). */
  onMessage(topic: Topic, data: Uint8Array, from: string, via: string): void
  /** Answers a `/meshsig/sync/1.0.0` request with frames (streamed as they come). */
  syncProvider(
    request: SyncRequest,
    fromPeerId: string,
  ): Promise<Iterable<Uint8Array> | AsyncIterable<Uint8Array>> | Iterable<Uint8Array> | AsyncIterable<Uint8Array>
  /** Refuse connections with these peers both ways (a penalised peer's backoff). */
  denyPeer?(peerId: string): boolean
  /** Called with errors the mesh cannot throw to anyone (callback failures, redial give-ups). */
  onError?(error: Error): void
  /** DHT self-query interval (ms); small values in tests make the routing table fill quickly. */
  readonly dhtQuerySelfInterval?: number
  /** Gossipsub heartbeat interval (ms, default 1000); smaller values graft meshes faster in tests. */
  readonly heartbeatInterval?: number
  /** Timing of the identify watch (identify-watch.ts, default `DEFAULT_IDENTIFY_WATCH`). */
  readonly identifyWatch?: IdentifyWatchInit
  /** Timing of the ping watch (ping-watch.ts, default `DEFAULT_PING_WATCH`). */
  readonly pingWatch?: PingWatchInit
  /**
   * Multiaddr prefixes (e.g. `/ip4/127.0.0.1/ipcidr/8`) whose connections are
   * never rate-limited or pruned. Default none; a loopback test mesh passes loopback.
   */
  readonly allow?: readonly string[]
  /**
   * Refuse to dial these peers (outbound only). Blocks misbehaving peers; tests
   * use it to keep a topology strict, since DHT lookups otherwise connect
   * every node to every other.
   */
  denyDialPeer?(peerId: string): boolean
  /** Extra host names peers may dial the mesh WebSocket listener by (the configuration's `allowedHosts`). */
  readonly wsAllowedHosts?: readonly string[]
}

/** One connected peer. */
export interface PeerInfo {
  /** Its PeerId (`12D3KooW…`). */
  readonly peerId: string
  /** Remote addresses of the open connections. */
  readonly addrs: string[]
  /** 'inbound' or 'outbound' (of the first open connection). */
  readonly direction?: string
}

/** Detail of the `peer:connect` and `peer:disconnect` events. */
export interface PeerEventDetail {
  /** PeerId of the peer that connected or disconnected. */
  readonly peerId: string
}

/** Events of a mesh node. */
export interface MeshP2PEventMap {
  /** First connection to a peer opened. */
  'peer:connect': CustomEvent<PeerEventDetail>
  /** Last connection to a peer closed. */
  'peer:disconnect': CustomEvent<PeerEventDetail>
}

/** Options of an event listener (the subset of AddEventListenerOptions meshsig uses). */
export interface MeshListenerOptions {
  /** Remove the listener after its first call. */
  readonly once?: boolean
  /** Remove the listener when this signal aborts. */
  readonly signal?: AbortSignal
}

/** A typed view of the EventTarget carrying meshsig's mesh events. */
export interface MeshP2PEvents {
  /** Listen to `peer:connect` or `peer:disconnect`. */
  addEventListener<K extends keyof MeshP2PEventMap>(
    type: K,
    listener: (event: MeshP2PEventMap[K]) => void,
    options?: MeshListenerOptions,
  ): void
  /** Stop listening. */
  removeEventListener<K extends keyof MeshP2PEventMap>(type: K, listener: (event: MeshP2PEventMap[K]) => void): void
}

/** Options of a cancellable mesh operation. */
export interface MeshCallOptions {
  /** Abort the operation early. */
  readonly signal?: AbortSignal
  /** Give up after this many ms (each operation has its own default). */
  readonly timeoutMs?: number
}

/** Options of `findCapabilityProviders`. */
export interface FindCapabilityOptions extends MeshCallOptions {
  /** Most providers answered (default 20). */
  readonly limit?: number
  /**
   * PeerIds put first when they provide the type (e.g. hosts named by stored registrations, best first): the
   * connected ones first, at most half of `limit`.
   */
  readonly prefer?: ReadonlySet<string>
}

/** A meshsig node on the libp2p mesh. Every failure is a `MeshsigError`. */
export interface MeshP2P {
  /** This node's PeerId (equals core `peerIdFromPublicKey` of its key). */
  readonly peerId: string
  /** Typed `peer:connect` / `peer:disconnect` events. */
  readonly events: MeshP2PEvents
  /** Listen addresses with `/p2p/<peerId>`, ready to hand to other nodes. */
  multiaddrs(): string[]
  /** Start listening, subscribe, and dial the bootstrap peers once (failed ones are retried in the background). */
  start(): Promise<void>
  /** Stop the bootstrap redialler and libp2p; idempotent. */
  stop(): Promise<void>
  /** Publish to a topic; with no subscribed peers it returns `{ recipients: 0 }`. */
  publish(topic: Topic, data: Uint8Array): Promise<{ recipients: number }>
  /** Dial a multiaddr with `/p2p/` (or a bare PeerId already known); returns the remote PeerId. */
  dial(addr: string, options?: MeshCallOptions): Promise<string>
  /** Peers with an open connection. */
  peers(): PeerInfo[]
  /**
   * Dialable addresses (with `/p2p/`) of each connected peer, at most `limit`
   * peers: where the node dials to rejoin them after it moved to a new key.
   */
  rejoinAddrs(limit: number): Promise<string[][]>
  /** Peers known to subscribe to `topic`. */
  subscribers(topic: Topic): string[]
  /** Peers in this node's gossipsub mesh for `topic` (the ones it forwards to). */
  meshPeers(topic: Topic): string[]
  /** This node's gossipsub score of a peer (negative = penalised). */
  peerScore(peerId: string): number
  /** One `/meshsig/sync/1.0.0` exchange; frames are unchecked bytes, bounded by `limits`. */
  sync(peerId: string, request: SyncRequest, options?: MeshCallOptions & { limits?: SyncLimits }): Promise<Uint8Array[]>
  /**
   * Charge a misbehaving peer: a gossipsub behaviour penalty of `penalty`
   * (its score goes negative), and its connections closed. Connections both
   * ways stay refused while the caller's `denyPeer` says so.
   */
  penalise(peerId: string, penalty: number): Promise<void>
  /**
   * Announce on the DHT that this node provides a capability (one DHT provide;
   * the DHT re-provides it on its own schedule until withdrawn). Which types,
   * how many at once and when again is the caller's (docs/protocol.md §9,
   * "Capability discovery").
   */
  provideCapability(type: string, options?: MeshCallOptions): Promise<void>
  /** Stop announcing a capability: the DHT no longer re-provides it (records on peers expire). */
  withdrawCapability(type: string): Promise<void>
  /**
   * PeerIds of other nodes providing a capability (this node excluded), at most `limit`: those in `prefer`
   * first (connected ones first, at most half of `limit`), the others in random order, from the provider records stored here and a DHT lookup
   * (docs/protocol.md §9, "Capability discovery").
   */
  findCapabilityProviders(type: string, options?: FindCapabilityOptions): Promise<string[]>
  /** Serve an extra request-response protocol (e.g. `/meshsig/discover/1.0.0`). */
  registerProtocol(protocol: string, handler: ProtocolHandler): Promise<void>
  /** One request-response exchange with a peer over `protocol`. */
  request(peerId: string, protocol: string, data: Uint8Array, options?: MeshCallOptions): Promise<Uint8Array>
  /** Answer `/meshsig/deliver/1.0.0` deliveries with `handler` (docs/protocol.md §10). */
  serveDeliveries(handler: ProtocolHandler): Promise<void>
  /** Deliver one direct message to the node `peerId` and return its answer (a receipt or a refusal). */
  deliver(peerId: string, data: Uint8Array, options?: MeshCallOptions): Promise<Uint8Array>
}
