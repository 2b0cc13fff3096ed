/**
 * Every bound the node keeps on what others can make it store, relay, buffer
 * or read (issue 9), in one place with its documented default. A node takes
 * `MeshNodeInit.limits` (a partial override) or, when that is absent, the
 * JSON object in `$MESHSIG_LIMITS` (same shape), over `DEFAULT_LIMITS`.
 * Messages budgets and retention follow docs/protocol.md §5 and §7.
 */
import { MeshsigError } from './core/index.js'

/** Quotas on gossiped messages (`meshsig/v1/messages`) that this node validates and relays. */
export interface RelayLimits {
  /** Length of one budget window (ms). */
  readonly windowMs: number
  /** Messages one origin peer (libp2p author) may have accepted per window. */
  readonly perPeerMessages: number
  /** Bytes of messages one origin peer may have accepted per window. */
  readonly perPeerBytes: number
  /** Messages one sender DID may have accepted per window. */
  readonly perDidMessages: number
  /**
   * Most peers or DIDs tracked at once, per table (at least 1): past it the quotas and direct delivery
   * forget the oldest for a new one; the pull's presence table takes new peers once their interval passed.
   */
  readonly trackedKeys: number
  /** Messages from not yet registered DIDs held (not stored, not relayed) in case the registration follows. */
  readonly pendingMessages: number
  /** Bytes of such held messages. */
  readonly pendingBytes: number
  /** How long a held message waits for its sender's registration (ms). */
  readonly pendingTtlMs: number
  /** Age after which messages neither from nor to this node's agents are deleted (ms; ≥ 2 × maxSkewMs). */
  readonly retentionMs: number
  /** How often retention runs (ms). */
  readonly pruneIntervalMs: number
}

/** Bounds of the WebSocket event stream. */
export interface StreamLimits {
  /** A client whose unsent bytes pass this is dropped (slow or stalled readers). */
  readonly maxBufferedBytes: number
  /** Most simultaneous stream clients. */
  readonly maxClients: number
  /**
   * Percent of `maxClients` (rounded up, at most 100) kept for clients whose upgrade sends the
   * operator token: all others (agent credentials too) hold at most the rest
   * (docs/api.md, "WebSocket event stream"; decision 0046).
   */
  readonly provenPercent: number
}

/** Bounds of HTTP answers (the WebSocket stream has its own: `StreamLimits` and its ping). */
export interface HttpLimits {
  /**
   * A response whose client takes none of its bytes for this long (ms) is cut off: its socket is
   * destroyed, so a reader that stopped reading holds no buffered answer (docs/api.md, "Security").
   * A slow reader that keeps reading is never cut; neither is a request the node is still working on.
   */
  readonly sendStallMs: number
}

/** Bounds of `GET /snapshot` (and the stream's first event). */
export interface SnapshotLimits {
  /** Agents, messages and connections per page when the client names no limit. */
  readonly defaultLimit: number
  /** Largest page a client may ask for. */
  readonly maxLimit: number
  /** Most bytes of message bodies in one page (the newest message is always included). */
  readonly messageBytes: number
}

/** The durable outbox of direct messages (docs/protocol.md §10). */
export interface DeliveryLimits {
  /** How long a direct message is retried before it is `expired` (ms). */
  readonly expiryMs: number
  /** First retry delay after a failed delivery (ms); doubles per attempt. */
  readonly minBackoffMs: number
  /** Largest retry delay (ms). */
  readonly maxBackoffMs: number
  /** Most messages one outbox pass tries. */
  readonly batch: number
  /** Most deliveries in flight at once. */
  readonly concurrency: number
  /**
   * Least time between two presence announcements (docs/protocol.md §10, the
   * pull): a node sends at most one per interval, and takes (and relays) at
   * most one per announcing peer per interval (ms).
   */
  readonly presenceIntervalMs: number
  /**
   * How long after a node (re)joined each new connection announces it again
   * (its first peers may relay nothing), coalesced by `presenceIntervalMs` (ms).
   */
  readonly presenceSettleMs: number
  /** Long after a node joined, least time between two presence announcements made by new connections (ms). */
  readonly presenceRepeatMs: number
}

/** The JSON form of `GET /audit/export`, built whole in memory on the event loop (the NDJSON form streams). */
export interface JsonExportLimits {
  /** Above this many audit entries, a JSON export is built at most once per `intervalMs`, node-wide. */
  readonly entries: number
  /** Least time between two such large JSON exports (ms); meanwhile 429 with Retry-After. */
  readonly intervalMs: number
}

/** What the mesh can make this node store of the registry (docs/protocol.md §7, "Registry quota"). */
export interface RegistryLimits {
  /**
   * Most DIDs the node stores: agents, its own included, and DIDs that are
   * no agent but whose key logs it keeps (peer nodes, controllers). Past it
   * a registration of an agent it does not know yet, or such a key log,
   * from the mesh, is not stored (its own agents always are).
   */
  readonly maxAgents: number
  /**
   * Most registrations of one DID the node already stores that it takes
   * from the mesh (gossip, sync) per `renewalWindowMs`; past it they are
   * neither stored, audited nor relayed until the window ends.
   */
  readonly renewalsPerDid: number
  /** Length of one renewal window (ms). */
  readonly renewalWindowMs: number
}

/** Bounds of the signing proxy (docs/proxy.md "Limits", decision 0048). */
export interface ProxyLimits {
  /**
   * Most connections of the agent listeners waiting at once for the check
   * that they came through the redirect (one read of /proc/net/tcp{,6}
   * serves all that wait together); past it a connection is refused, 429
   * `RATE_LIMITED`.
   */
  readonly pendingRedirectChecks: number
  /**
   * Most requests one listener (one agent's, or the default one) holds at
   * once between reading their body (up to 8 MiB each, buffered for the
   * digest) and handing it to the gateway; past it a request is refused, 429
   * `RATE_LIMITED`.
   */
  readonly bufferedRequestsPerListener: number
  /**
   * Most requests one listener signs (and audits, two entries each) per
   * minute, at most that many at once (a token bucket); past it a request is
   * refused, 429 `RATE_LIMITED`, before it is read, signed or audited.
   */
  readonly signedRequestsPerMinute: number
}

/**
 * What gossip refusals may write into the audit log (docs/protocol.md §7,
 * decision 0053): a node-wide budget, since peer ids cost nothing. Past it a
 * refusal is counted (`meshsig_gossip_refusals_unaudited_total`), not audited,
 * and one entry per window sums up the counts by code.
 */
export interface GossipLimits {
  /** Gossip refusals (no envelope, forged, stale, …) audited entry by entry per window, over all peers. */
  readonly auditedRefusalsPerWindow: number
  /** Length of one window (ms). */
  readonly refusalWindowMs: number
}

/**
 * Capability discovery (docs/protocol.md §9, "Capability discovery"): what
 * this node announces on the DHT (decision 0059), the capability types of its
 * active own agents, a bounded number of them, a few provides at a time; and
 * how often it answers one peer's discovery requests (decision 0060).
 */
export interface DiscoveryLimits {
  /**
   * Most distinct capability types the node provides (and re-provides) on the
   * DHT, its oldest agents' first. Past it further types are not announced:
   * their agents are still stored and found by `POST /discover`, not by other
   * nodes' DHT lookups; one warning says so (component `discovery`).
   */
  readonly providedTypes: number
  /** Most DHT provide operations in flight at once (at least 1); the others wait in a queue. */
  readonly provideConcurrency: number
  /** `/meshsig/discover/1.0.0` requests one peer may have answered per `serveWindowMs`; past it `RATE_LIMITED`. */
  readonly servedPerPeer: number
  /** Length of one serving window (ms). */
  readonly serveWindowMs: number
}

/**
 * What peers can make this node sign, store and audit by `/meshsig/handshake/1.0.0`
 * (docs/protocol.md §9, "Handshakes"; decision 0061).
 */
export interface HandshakeLimits {
  /** Challenges one peer may have answered per `windowMs`; past it `RATE_LIMITED`, nothing signed. */
  readonly perPeerChallenges: number
  /** Length of one challenge window (ms). */
  readonly windowMs: number
  /**
   * A handshake of a pair (initiator, responder) whose connection was stored this
   * long ago or less, and still verifies under both current keys, answers with
   * that connection: no new row, no audit entry (ms).
   */
  readonly repeatWindowMs: number
}

/** Every bound of the node. */
export interface Limits {
  readonly relay: RelayLimits
  readonly gossip: GossipLimits
  readonly handshake: HandshakeLimits
  readonly registry: RegistryLimits
  readonly delivery: DeliveryLimits
  readonly stream: StreamLimits
  readonly http: HttpLimits
  readonly snapshot: SnapshotLimits
  readonly jsonExport: JsonExportLimits
  readonly proxy: ProxyLimits
  readonly discovery: DiscoveryLimits
  /** Most bytes read of any remote HTTP body (a seed's `/health`). */
  readonly remoteBodyBytes: number
  /** Least time between two checkpoints signed on demand (`POST /audit/checkpoint`, ms). */
  readonly onDemandCheckpointMs: number
}

/**
 * Checkpoints of one other node kept (`remote_checkpoints`, the newest
 * received; docs/audit.md): older ones are deleted as new ones arrive. With the
 * checkpoint gate's rate (services/checkpoint-gate.ts) this bounds what a node
 * minting checkpoints can make its peers store.
 */
export const REMOTE_CHECKPOINTS_PER_ORIGIN = 256

/** The documented defaults. */
export const DEFAULT_LIMITS: Limits = {
  relay: {
    windowMs: 60_000,
    perPeerMessages: 600,
    perPeerBytes: 8 * 1024 * 1024,
    perDidMessages: 120,
    trackedKeys: 10_000,
    pendingMessages: 64,
    pendingBytes: 1024 * 1024,
    pendingTtlMs: 30_000,
    retentionMs: 24 * 3_600_000,
    pruneIntervalMs: 60_000,
  },
  gossip: { auditedRefusalsPerWindow: 60, refusalWindowMs: 60_000 },
  handshake: { perPeerChallenges: 120, windowMs: 60_000, repeatWindowMs: 3_600_000 },
  registry: { maxAgents: 250_000, renewalsPerDid: 10, renewalWindowMs: 60_000 },
  delivery: {
    expiryMs: 24 * 3_600_000,
    minBackoffMs: 1_000,
    maxBackoffMs: 60_000,
    batch: 200,
    concurrency: 8,
    presenceIntervalMs: 1_000,
    presenceSettleMs: 5_000,
    presenceRepeatMs: 30_000,
  },
  stream: { maxBufferedBytes: 1024 * 1024, maxClients: 256, provenPercent: 25 },
  http: { sendStallMs: 60_000 },
  snapshot: { defaultLimit: 100, maxLimit: 1000, messageBytes: 1024 * 1024 },
  jsonExport: { entries: 10_000, intervalMs: 10_000 },
  proxy: { pendingRedirectChecks: 64, bufferedRequestsPerListener: 8, signedRequestsPerMinute: 600 },
  discovery: { providedTypes: 256, provideConcurrency: 3, servedPerPeer: 120, serveWindowMs: 60_000 },
  remoteBodyBytes: 64 * 1024,
  onDemandCheckpointMs: 10_000,
}

/** A partial override of `Limits`, group by group. */
export interface LimitsInit {
  readonly relay?: Partial<RelayLimits>
  readonly gossip?: Partial<GossipLimits>
  readonly handshake?: Partial<HandshakeLimits>
  readonly registry?: Partial<RegistryLimits>
  readonly delivery?: Partial<DeliveryLimits>
  readonly stream?: Partial<StreamLimits>
  readonly http?: Partial<HttpLimits>
  readonly snapshot?: Partial<SnapshotLimits>
  readonly jsonExport?: Partial<JsonExportLimits>
  readonly proxy?: Partial<ProxyLimits>
  readonly discovery?: Partial<DiscoveryLimits>
  readonly remoteBodyBytes?: number
  readonly onDemandCheckpointMs?: number
}

/**
 * Limits that 0 would turn off rather than tighten: no renewal from the mesh
 * at all leaves every other node's registries behind for good, a window of
 * 0 ms (a renewal's, a gossip refusal's, a handshake's, discovery serving's)
 * bounds nothing, and a socket timeout of 0 is none; a proxy allowed no
 * redirect check, no buffered request or no signed request refuses every
 * caller while it seems to run; no provide at a time would leave every type
 * queued for good (0 provided types is allowed: the node announces nothing;
 * 0 challenges per peer: it answers no peer's handshake; 0 served discovery
 * requests: it answers none).
 */
const AT_LEAST_ONE: ReadonlySet<string> = new Set([
  'gossip.refusalWindowMs',
  'handshake.windowMs',
  'handshake.repeatWindowMs',
  'registry.renewalsPerDid',
  'registry.renewalWindowMs',
  'http.sendStallMs',
  'proxy.pendingRedirectChecks',
  'proxy.bufferedRequestsPerListener',
  'proxy.signedRequestsPerMinute',
  'discovery.provideConcurrency',
  'discovery.serveWindowMs',
])

function checked<T extends object>(group: string, base: T, over: unknown): T {
  if (over === undefined) return base
  if (typeof over !== 'object' || over === null) throw badLimit(group, 'must be an object')
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [k, v] of Object.entries(over)) {
    if (!(k in base)) throw badLimit(`${group}.${k}`, 'is not a limit')
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw badLimit(`${group}.${k}`, 'must be an integer ≥ 0')
    if (v < 1 && AT_LEAST_ONE.has(`${group}.${k}`)) throw badLimit(`${group}.${k}`, 'must be an integer ≥ 1')
    out[k] = v
  }
  return out as T
}

function badLimit(name: string, why: string): MeshsigError {
  return new MeshsigError('INVALID_INPUT', `limit ${name} ${why}`, { field: name })
}

/** `DEFAULT_LIMITS` with `init` over it. Throws `INVALID_INPUT` naming a bad or unknown limit. */
export function resolveLimits(init: LimitsInit = {}): Limits {
  const { relay, gossip, handshake, registry, delivery, stream, http, snapshot, jsonExport, proxy, discovery, ...top } =
    init
  const scalars = checked('limits', { remoteBodyBytes: 0, onDemandCheckpointMs: 0 }, top)
  const snap = checked('snapshot', DEFAULT_LIMITS.snapshot, snapshot)
  if (snap.defaultLimit > snap.maxLimit) throw badLimit('snapshot.defaultLimit', 'must be ≤ snapshot.maxLimit')
  const streamLimits = checked('stream', DEFAULT_LIMITS.stream, stream)
  if (streamLimits.provenPercent > 100) throw badLimit('stream.provenPercent', 'must be ≤ 100')
  return {
    relay: checked('relay', DEFAULT_LIMITS.relay, relay),
    gossip: checked('gossip', DEFAULT_LIMITS.gossip, gossip),
    handshake: checked('handshake', DEFAULT_LIMITS.handshake, handshake),
    registry: checked('registry', DEFAULT_LIMITS.registry, registry),
    delivery: checked('delivery', DEFAULT_LIMITS.delivery, delivery),
    stream: streamLimits,
    http: checked('http', DEFAULT_LIMITS.http, http),
    snapshot: snap,
    jsonExport: checked('jsonExport', DEFAULT_LIMITS.jsonExport, jsonExport),
    proxy: checked('proxy', DEFAULT_LIMITS.proxy, proxy),
    discovery: checked('discovery', DEFAULT_LIMITS.discovery, discovery),
    remoteBodyBytes: 'remoteBodyBytes' in top ? scalars.remoteBodyBytes : DEFAULT_LIMITS.remoteBodyBytes,
    onDemandCheckpointMs:
      'onDemandCheckpointMs' in top ? scalars.onDemandCheckpointMs : DEFAULT_LIMITS.onDemandCheckpointMs,
  }
}

/** The override in `$MESHSIG_LIMITS` (JSON, a `LimitsInit`), or none. Throws `INVALID_INPUT` when unreadable. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): LimitsInit {
  const text = env.MESHSIG_LIMITS
  if (text === undefined || text.trim() === '') return {}
  try {
    return JSON.parse(text) as LimitsInit
  } catch {
    throw badLimit('MESHSIG_LIMITS', 'must be a JSON object')
  }
}
