/**
 * node/p2p: meshsig's libp2p mesh (docs/protocol.md §9), the only module that imports
 * libp2p. It knows nothing of the store; the node reaches in and out through
 * the callbacks of `MeshP2PInit`:
 *
 * - `createMeshP2P(init)` builds a node (TCP + WebSockets, Noise, Yamux,
 *   identify, ping, gossipsub with StrictSign, Kademlia DHT under
 *   `/meshsig/kad/1.0.0`) whose PeerId is the core PeerId of its seed;
 * - gossip on `meshsig/v1/{registry,messages,audit,presence}` runs `validate` on every
 *   message ('reject' penalises the delivering peer, 'ignore' does not) and
 *   hands accepted ones to `onMessage`;
 * - `/meshsig/sync/1.0.0` answers with `syncProvider`; `registerProtocol` /
 *   `request` carry discovery and handshakes;
 * - capabilities are provided and found on the DHT by `capabilityCid(type)`;
 * - `resolveSeedAddress('ws://host:port')` turns the seed form of `--peer`
 *   into multiaddrs.
 *
 * Every failure is a `MeshsigError`: `INVALID_INPUT`, `UNREACHABLE` or `PEER_ERROR`.
 */
export { createMeshP2P } from './mesh-p2p.js'
export type {
  FindCapabilityOptions,
  MeshCallOptions,
  MeshP2P,
  MeshP2PEventMap,
  MeshP2PEvents,
  MeshP2PInit,
  MeshListenerOptions,
  PeerEventDetail,
  PeerInfo,
  ProtocolHandler,
  SyncRequest,
  Topic,
  ValidationResult,
} from './types.js'
export {
  AUDIT_TOPIC,
  DEFAULT_LISTEN,
  DELIVER_PROTOCOL,
  DISCOVER_PROTOCOL,
  HANDSHAKE_PROTOCOL,
  KAD_PROTOCOL,
  MAX_GOSSIP_DATA_BYTES,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_ITEM_BYTES,
  MESSAGES_TOPIC,
  PRESENCE_TOPIC,
  REGISTRY_TOPIC,
  SYNC_PROTOCOL,
  SYNC_ANSWER_MS,
  TOPICS,
  isTopic,
} from './constants.js'
export { isSlowAnswer } from './p2p-errors.js'
export { capabilityCid, checkCapabilityType } from './capability.js'
export { MAX_SYNC_IDS, MAX_SYNC_PREFIXES, decodeSyncRequest, encodeSyncRequest } from './sync.js'
export { isSeedUrl, resolveSeedAddress } from './seed-address.js'
export { DEFAULT_IDENTIFY_WATCH, type IdentifyWatchInit } from './identify-watch.js'
export { DEFAULT_PING_WATCH, type PingWatchInit } from './ping-watch.js'
