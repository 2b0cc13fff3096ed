/**
 * The libp2p node meshsig runs (docs/protocol.md §9): TCP + WebSockets (or the in-process
 * memory transport in tests), Noise, Yamux, identify, ping, gossipsub with
 * StrictSign and a private Kademlia DHT under `/meshsig/kad/1.0.0`. The
 * reasons for each non-default option sit next to it. The WebSocket listener
 * applies docs/protocol.md §8's Host and Origin rules to every upgrade.
 */
import type { IncomingMessage } from 'node:http'
import { Server as NetServer } from 'node:net'
import { hostname, networkInterfaces } from 'node:os'
import type { Duplex } from 'node:stream'
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { gossipsub, StrictSign, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub'
import type { PeerScoreParams, TopicScoreParams } from '@libp2p/gossipsub/score'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, Listener, PrivateKey, Transport } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { kadDHT, passthroughMapper, type KadDHT, type KadDHTInit } from '@libp2p/kad-dht'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets, type WebSocketsComponents } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Libp2pOptions } from 'libp2p'
import { guardRawConnections, liftDeadline } from '../connection-guard.js'
import { MeshsigError } from '../core/errors.js'
import { KEY_LENGTH } from '../core/keys.js'
import { DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_LISTEN, KAD_PROTOCOL, MAX_GOSSIP_FRAME_BYTES, TOPICS } from './constants.js'
import { invalidInput } from './p2p-errors.js'
import { withCachedSigning } from './fast-keys.js'
import { guardWebSocketDials } from './ws-dial-guard.js'
import type { MeshP2PInit } from './types.js'
import { PeerAddressCap } from './address-cap.js'
import { ProviderBoundedDatastore } from './provider-store.js'
import { meshHostNames, meshUpgradeRefusal, upgradeRefusalResponse, type UpgradePolicy } from './upgrade-guard.js'

/**
 * Who may open a WebSocket to the mesh listener besides libp2p nodes dialing
 * this node by one of its own names (docs/protocol.md §8). The node passes the
 * configuration's `allowedHosts` as `wsAllowedHosts`.
 */
export interface MeshWebSocketAccess {
  /** Extra host names (a DNS name, a NAT's public address) peers may dial this node by. */
  readonly wsAllowedHosts?: readonly string[]
  /** Origins (`scheme://host[:port]`) of pages allowed to join the mesh; none by default. */
  readonly wsAllowedOrigins?: readonly string[]
}

/** The libp2p services of a meshsig node. */
export interface MeshServices extends Record<string, unknown> {
  /** Gossipsub router. */
  pubsub: GossipSub
  /** Kademlia DHT (capability providers). */
  dht: KadDHT
  /** Identify (needed by gossipsub and the DHT). */
  identify: Identify
  /** Ping (needed by the DHT and the connection monitor). */
  ping: Ping
}

/** The libp2p private key made from a node's 32-byte Ed25519 seed. */
export async function privateKeyFromSeed(seed: Uint8Array): Promise<PrivateKey> {
  if (!(seed instanceof Uint8Array) || seed.length !== KEY_LENGTH) {
    throw invalidInput(`a node seed is ${KEY_LENGTH} bytes`)
  }
  return withCachedSigning(await generateKeyPairFromSeed('Ed25519', seed), seed)
}

/**
 * Peer score of one meshsig topic. A rejected message costs its deliverer
 * (P4, quadratic in the count, decaying ~10 %/s): one is a visible penalty,
 * a handful in quick succession sinks the peer below the graylist threshold.
 * Mesh-delivery quotas (P3, P3b) are off: meshsig topics are quiet, and a
 * quiet honest neighbour must not be punished for having nothing to say.
 */
const TOPIC_SCORE: Partial<TopicScoreParams> = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 300,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 50,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -5,
  invalidMessageDeliveriesDecay: 0.9,
}

function scoreParams(): Partial<PeerScoreParams> {
  return {
    topics: Object.fromEntries(TOPICS.map((topic) => [topic, TOPIC_SCORE])) as PeerScoreParams['topics'],
    // Several nodes of one operator on one host (or a dev mesh) share loopback.
    IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']),
  }
}

/** Gossipsub options of a meshsig node; the reason for each non-default sits next to it. */
export function gossipOptions(init: Pick<MeshP2PInit, 'heartbeatInterval'>): Partial<GossipsubOpts> {
  return {
    globalSignaturePolicy: StrictSign,
    // A lone node (or one whose peers have not subscribed yet) may publish: the
    // message is stored locally and reaches others through sync.
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    // Flood own messages to every peer (not only the mesh): lowest latency,
    // and a line topology works from the first heartbeat.
    floodPublish: true,
    fallbackToFloodsub: false,
    allowedTopics: [...TOPICS],
    heartbeatInterval: init.heartbeatInterval ?? 1000,
    maxInboundDataLength: MAX_GOSSIP_FRAME_BYTES,
    scoreParams: scoreParams(),
  }
}

/**
 * The only DHT value namespace kad-dht knows by default is `/pk/`; meshsig stores no DHT values, so its
 * validator refuses every record and a peer's `PUT_VALUE` stores nothing (docs/protocol.md §9, decision 0080).
 * Any other namespace has no validator and kad-dht refuses it already.
 */
export function refuseDhtValue(): never {
  throw new MeshsigError('INVALID_INPUT', 'meshsig nodes store no DHT values')
}

/** DHT options: a private LAN-style DHT that keeps loopback and private addresses. */
export function dhtOptions(init: Pick<MeshP2PInit, 'dhtQuerySelfInterval'>): KadDHTInit {
  const interval = init.dhtQuerySelfInterval
  return {
    protocol: KAD_PROTOCOL,
    // Every meshsig node is a DHT server: the mesh is small and dialable.
    clientMode: false,
    // The default mapper drops private addresses, which empties a loopback or
    // LAN mesh's routing table; meshsig meshes are private, so keep them all.
    peerInfoMapper: passthroughMapper,
    // Do not park queries until the routing table has a peer: a lone node's
    // provide stores locally and returns (it is re-announced when peers come),
    // and a lookup of an unknown PeerId fails fast instead of hanging.
    allowQueryWithZeroPeers: true,
    // kad-dht merges these over its defaults: `pk` replaced, so no PUT_VALUE is stored (refuseDhtValue).
    validators: { pk: refuseDhtValue },
    ...(interval === undefined
      ? {}
      : { querySelfInterval: interval, initialQuerySelfInterval: Math.min(interval, 1000) }),
  }
}

/** The upgrade hook of @libp2p/websockets 10's listener (a public method its HTTP server's 'upgrade' event calls). */
interface UpgradeHook {
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

/**
 * Put the Host and Origin check in front of a WebSocket listener.
 * @libp2p/websockets 10 offers no `verifyClient`: its listener binds its own
 * `onUpgrade` method to the HTTP server's 'upgrade' event when `listen()`
 * runs, so the check wraps that method before then. A listener without it
 * (a changed library) fails the start rather than listen unguarded.
 */
function guardListener(listener: Listener, policy: UpgradePolicy): Listener {
  const hook = listener as Listener & Partial<UpgradeHook>
  if (typeof hook.onUpgrade !== 'function') {
    throw new MeshsigError(
      'INTERNAL',
      'the mesh WebSocket listener has no upgrade hook to guard (@libp2p/websockets changed)',
    )
  }
  guardTcpServer(listener)
  const upgrade = hook.onUpgrade.bind(listener)
  hook.onUpgrade = (req, socket, head) => {
    liftDeadline(socket) // a complete upgrade head: the silent deadline is met
    const refusal = meshUpgradeRefusal(req.headers, policy)
    if (refusal === undefined) return upgrade(req, socket, head)
    socket.on('error', () => undefined)
    socket.end(upgradeRefusalResponse(refusal))
  }
  return listener
}

/**
 * Guard the TCP server under a WebSocket listener (node/connection-guard.ts,
 * decision 0083): @libp2p/websockets 10 waits for a connection's first byte
 * with no deadline and offers no option to bound it (its `http` options reach
 * only the HTTP server it hands the socket to after that byte), so a silent
 * connection is closed here, and the connections count in the process's mesh pool.
 */
function guardTcpServer(listener: Listener): void {
  const server = (listener as Listener & { server?: unknown }).server
  if (!(server instanceof NetServer)) {
    throw new MeshsigError(
      'INTERNAL',
      'the mesh WebSocket listener has no TCP server to guard (@libp2p/websockets changed)',
    )
  }
  guardRawConnections(server)
}

/** The WebSocket transport whose listeners refuse browser origins and foreign Host headers (dials: ws-dial-guard). */
function guardedWebSockets(policy: UpgradePolicy): (components: WebSocketsComponents) => Transport {
  const make = webSockets()
  return (components) => {
    const transport = guardWebSocketDials(make(components))
    const createListener = transport.createListener.bind(transport)
    transport.createListener = (options) => guardListener(createListener(options), policy)
    return transport
  }
}

function machineNames(): { hostname: string; addresses: string[] } {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))
  return { hostname: hostname(), addresses }
}

/** The Host and Origin policy of the mesh WebSocket listener of a node listening on `init.listen`. */
export function upgradePolicy(init: Pick<MeshP2PInit, 'listen'> & MeshWebSocketAccess): UpgradePolicy {
  return {
    allowedHosts: meshHostNames(init.listen ?? DEFAULT_LISTEN, machineNames(), init.wsAllowedHosts ?? []),
    allowedOrigins: new Set((init.wsAllowedOrigins ?? []).map((o) => o.trim().toLowerCase())),
  }
}

async function transports(init: MeshP2PInit & MeshWebSocketAccess): Promise<NonNullable<Libp2pOptions['transports']>> {
  const kind = init.transports
  if (kind === 'memory') {
    // A devDependency: loaded only when a test asks for it.
    const { memory } = await import('@libp2p/memory')
    return [memory()]
  }
  if (kind !== undefined && kind !== 'tcp+ws') throw invalidInput(`unknown transports: ${String(kind)}`)
  return [tcp(), guardedWebSockets(upgradePolicy(init))]
}

function gater(init: MeshP2PInit, self: string): ConnectionGater {
  const deny = init.denyDialPeer
  const denyPeer = init.denyPeer
  const addresses = new PeerAddressCap(self)
  return {
    denyDialPeer: (peerId) => denyPeer?.(peerId.toString()) === true || deny?.(peerId.toString()) === true,
    denyInboundEncryptedConnection: (peerId) => denyPeer?.(peerId.toString()) === true,
    // libp2p passes this to the peer store as its addressFilter: at most ADDRESSES_PER_PEER per peer (review 117).
    filterMultiaddrForPeer: (peerId, ma) => addresses.allow(peerId.toString(), ma.toString()),
  }
}

/** Ping streams per connection each way: the ping watch and kad-dht both ping (libp2p's default is 2 in, 1 out). */
export const PING_STREAMS = { inbound: 8, outbound: 4 } as const

/**
 * Full libp2p options of a meshsig node (not started). Its datastore (in memory, as libp2p's default) bounds
 * the DHT provider records other peers leave (provider-store.ts); one is made when none is passed.
 */
export async function libp2pOptions(
  init: MeshP2PInit & MeshWebSocketAccess,
  privateKey: PrivateKey,
  datastore = new ProviderBoundedDatastore(peerIdFromPrivateKey(privateKey).toString()),
): Promise<Libp2pOptions<MeshServices>> {
  return {
    privateKey,
    datastore,
    start: false,
    addresses: { listen: [...(init.listen ?? DEFAULT_LISTEN)] },
    transports: await transports(init),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: gater(init, peerIdFromPrivateKey(privateKey).toString()),
    connectionManager: {
      // Allow-listed ranges are never rate-limited nor pruned.
      allow: [...(init.allow ?? [])],
      dialTimeout: DEFAULT_DIAL_TIMEOUT_MS,
    },
    // libp2p's monitor pings every connection each 10 s and aborts it on ONE failed ping; under CPU load pings
    // time out or find the ping service's stream slots taken (by kad-dht's pings), and whole meshes churned
    // (decision 0038). The ping watch (ping-watch.ts) pings instead and closes after 3 failures in a row.
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      ping: ping({ maxInboundStreams: PING_STREAMS.inbound, maxOutboundStreams: PING_STREAMS.outbound }),
      pubsub: gossipsub(gossipOptions(init)),
      dht: kadDHT(dhtOptions(init)),
    },
  }
}
