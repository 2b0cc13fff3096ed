/**
 * Names and limits of meshsig's libp2p mesh (docs/protocol.md §9): gossip topics,
 * protocol ids, size bounds and timeouts. Everything that crosses the wire is
 * bounded here, in one place.
 */

/** Gossip topic carrying registrations and key events (reg, icp, rot, rev). */
export const REGISTRY_TOPIC = 'meshsig/v1/registry'
/** Gossip topic carrying signed messages (msg). */
export const MESSAGES_TOPIC = 'meshsig/v1/messages'
/** Gossip topic carrying audit checkpoints (chk). */
export const AUDIT_TOPIC = 'meshsig/v1/audit'

/** Gossip topic carrying presence announcements (prs): a node back on the mesh pulls its agents' messages (docs/protocol.md §10). */
export const PRESENCE_TOPIC = 'meshsig/v1/presence'

/** The gossip topics every meshsig node subscribes to. */
export const TOPICS = [REGISTRY_TOPIC, MESSAGES_TOPIC, AUDIT_TOPIC, PRESENCE_TOPIC] as const

/** One of meshsig's gossip topics. */
export type Topic = (typeof TOPICS)[number]

/** True when `value` names one of meshsig's gossip topics. */
export function isTopic(value: unknown): value is Topic {
  return typeof value === 'string' && (TOPICS as readonly string[]).includes(value)
}

/** Kademlia DHT protocol of the meshsig mesh (a private DHT, not the IPFS one). */
export const KAD_PROTOCOL = '/meshsig/kad/1.0.0'
/** Request-response protocol through which late joiners pull registry state. */
export const SYNC_PROTOCOL = '/meshsig/sync/1.0.0'
/** Request-response protocol for capability discovery queries. */
export const DISCOVER_PROTOCOL = '/meshsig/discover/1.0.0'
/** Request-response protocol for agent handshakes. */
export const HANDSHAKE_PROTOCOL = '/meshsig/handshake/1.0.0'
/** Request-response protocol carrying a direct message to its recipient's node (docs/protocol.md §10). */
export const DELIVER_PROTOCOL = '/meshsig/deliver/1.0.0'
/** Largest delivery request: one `msg` envelope (a 256 Ki-unit body escaped as JSON fits). */
export const MAX_DELIVER_REQUEST_BYTES = 2 * 1024 * 1024
/** Largest delivery answer: a receipt or a refusal (bytes). */
export const MAX_DELIVER_ANSWER_BYTES = 4 * 1024
/** Default timeout of one delivery (dial, possibly a DHT peer lookup, and the answer; ms). */
export const DEFAULT_DELIVER_TIMEOUT_MS = 15_000

/** Domain prefix hashed into a capability's DHT key. */
export const CAPABILITY_KEY_PREFIX = 'meshsig/capability/v1:'

/** Default listen addresses: TCP and WebSockets on loopback, OS-chosen ports. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] as const

/** Largest payload `publish` accepts (bytes). Gossip frames above 1 MiB are refused on receipt. */
export const MAX_GOSSIP_DATA_BYTES = 512 * 1024
/** Largest gossip RPC frame accepted from a peer (bytes). */
export const MAX_GOSSIP_FRAME_BYTES = 1024 * 1024

/** Largest request a request-response handler reads (bytes). */
export const MAX_REQUEST_BYTES = 64 * 1024
/** Largest single item of a response (bytes). */
export const MAX_RESPONSE_ITEM_BYTES = 1024 * 1024
/** Largest total size of one response (bytes). */
export const MAX_RESPONSE_TOTAL_BYTES = 64 * 1024 * 1024
/** Most items one response may carry. */
export const MAX_RESPONSE_ITEMS = 100_000
/** Default timeout of one request-response exchange (ms). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000
/** Default timeout of `sync`, which may move a whole registry (ms). */
export const DEFAULT_SYNC_TIMEOUT_MS = 60_000
/**
 * A sync exchange not answered whole within this long ends as slow (ms).
 * Every sync request asks a bounded answer (a fingerprint, at most 4,096 ids,
 * 256 items, a page of 512), which a peer serves from memory in
 * milliseconds; a slower one holds no sync turn (docs/protocol.md §9).
 */
export const SYNC_ANSWER_MS = 10_000
/** Default timeout of a dial (ms). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000
/** Default timeout of a DHT provide or provider lookup (ms). */
export const DEFAULT_DHT_TIMEOUT_MS = 30_000

/** First redial delay of a dropped bootstrap peer (ms). */
export const BOOTSTRAP_MIN_BACKOFF_MS = 500
/** Largest redial delay of a bootstrap peer (ms). */
export const BOOTSTRAP_MAX_BACKOFF_MS = 30_000
/**
 * Most multiaddrs taken from one seed's `/health` answer (after dropping
 * duplicates): one answer buys at most this many dials (review 107 L1).
 */
export const MAX_SEED_ADDRS = 8

/** peerStore tag that keeps bootstrap peers out of the connection pruner's reach. */
export const BOOTSTRAP_TAG = 'meshsig-bootstrap'
