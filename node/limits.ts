/**
 * Every bound the node keeps on what others can make it store, relay, buffer
 * or read (issue 9), in one place with its documented default. A node takes
 * `MeshNodeInit.limits` (a partial override) or, when that is absent, the
 * JSON object in `$MESHSIG_LIMITS` (same shape), over `DEFAULT_LIMITS`.
 * Messages budgets and retention follow docs/protocol.md §5 and §7.
 */
import { MeshsigError } from './core/errors.js'
import type {
  RelayLimits,
  StreamLimits,
  HttpLimits,
  SnapshotLimits,
  DeliveryLimits,
  JsonExportLimits,
  RegistryLimits,
  ProxyLimits,
  GossipLimits,
  DiscoveryLimits,
  HandshakeLimits,
  WitnessLimits,
} from './limit-groups.js'

/** The groups of `Limits`, for whoever names one. */
export type * from './limit-groups.js'

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
  readonly witness: WitnessLimits
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

/**
 * Rotations and revocations held with one held (empty) inception, checked
 * against it before they are held (docs/protocol.md §9 "Empty inceptions",
 * decision 0085): a longer log is taken by sync once the DID is registered.
 */
export const HELD_KEY_EVENTS_PER_DID = 16

/** Rotations and revocations held at once over all held inceptions (decision 0085): ~8 MB at most. */
export const HELD_KEY_EVENTS = 8_192

/**
 * Rotations and revocations one peer sent (a gossip message's origin, a sync
 * server) held at once, whoever's held inceptions they extend: a sixteenth
 * of `HELD_KEY_EVENTS`, as a peer's 256 held DIDs are of 4,096 (decision 0087).
 */
export const HELD_KEY_EVENTS_PER_PEER = 512

/**
 * A connection to the API, a proxy listener or the mesh WebSocket listener
 * that has not sent a complete request head (or WebSocket upgrade) within this
 * many ms is closed (decision 0083). Node's `headersTimeout` starts only with
 * a request's first byte, so a connection that sends nothing was held for
 * ever (review 115 F1: another local user spent the node's file descriptors).
 */
export const SILENT_CONNECTION_MS = 5_000

/**
 * The share of the process's open-file limit the listeners' connections may
 * hold together (API, proxy listeners and mesh WebSocket listener; decision
 * 0083); the rest stays for the store, its journals, libp2p's TCP
 * connections (at most 300), proxy upstream requests and outbound dials.
 */
export const LISTENER_FD_SHARE = 0.5

/** Most connections the listeners hold together, whatever the open-file limit. */
export const MAX_LISTENER_CONNECTIONS = 8_192

/** Fewest connections the listeners hold together, however low the open-file limit. */
export const MIN_LISTENER_CONNECTIONS = 16

/**
 * Each listener kind's share of the listeners' connection budget (review 118,
 * M1): the API, the proxy listeners and the mesh WebSocket listener each count
 * in a pool of their own, so a host that fills the network-bound mesh
 * listener cannot take the operator's API or the agents' proxy connections.
 * The shares add up to at most 1 (each pool holds at least
 * `MIN_LISTENER_CONNECTIONS`).
 */
export const LISTENER_KIND_SHARES = { api: 0.25, proxy: 0.25, mesh: 0.5 } as const

/**
 * Answer items `/meshsig/sync/1.0.0` serves all peers together per window
 * (`SYNC_SERVE_WINDOW_MS`), over each peer's own budget (node/p2p/serve-budget.ts;
 * docs/protocol.md §9, "Budgets"; decision 0086): four peers' worth. PeerIds
 * cost nothing, so without it throwaway PeerIds multiplied the per-peer
 * budget (review 120, L1); past it a request is refused `RATE_LIMITED`.
 */
export const SYNC_SERVE_ITEMS_NODE = 1_000_000

/**
 * The last share of `SYNC_SERVE_ITEMS_NODE` kept for light peers: once the
 * node served all but this many items in a window, only peers served fewer
 * than `SYNC_SERVE_LIGHT_ITEMS` in theirs are still served, so peers paging the
 * registry do not starve a converged peer's reconciliation rounds.
 */
export const SYNC_SERVE_RESERVE = 250_000

/** Items a peer may have been served in its window and still draw on `SYNC_SERVE_RESERVE` (one full `ids` answer). */
export const SYNC_SERVE_LIGHT_ITEMS = 4_096

/** The open-file limit assumed where it cannot be read (no /proc/self/limits: macOS, Windows). */
export const ASSUMED_FD_LIMIT = 1_024

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
  stream: {
    maxBufferedBytes: 1024 * 1024,
    maxTotalBufferedBytes: 64 * 1024 * 1024,
    maxClients: 256,
    provenPercent: 25,
  },
  http: { sendStallMs: 60_000, messagePageBytes: 4 * 1024 * 1024, linksPage: 1200 },
  snapshot: { defaultLimit: 100, maxLimit: 1000, messageBytes: 1024 * 1024 },
  jsonExport: { entries: 10_000, intervalMs: 10_000, messageBytes: 12 * 1024 * 1024 },
  proxy: { pendingRedirectChecks: 64, bufferedRequestsPerListener: 8, signedRequestsPerMinute: 600 },
  discovery: {
    providedTypes: 256,
    provideConcurrency: 3,
    servedPerPeer: 120,
    serveWindowMs: 60_000,
    providersAsked: 16,
    askConcurrency: 4,
    networkDeadlineMs: 15_000,
  },
  witness: {
    servedPerPeer: 120,
    evidencePerPeer: 60,
    serveWindowMs: 60_000,
    origins: 1024,
    idleOriginMs: 7 * 24 * 3_600_000,
    unknownEvidencePerWindow: 16,
    unknownEvidenceWindowMs: 3_600_000,
  },
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
  readonly witness?: Partial<WitnessLimits>
  readonly remoteBodyBytes?: number
  readonly onDemandCheckpointMs?: number
}

/**
 * Limits that 0 would turn off rather than tighten: no renewal from the mesh
 * at all leaves every other node's registries behind for good, a window of
 * 0 ms (a renewal's, a gossip refusal's, a handshake's, discovery or witness
 * serving's) bounds nothing, and a socket timeout of 0 is none; a proxy allowed no
 * redirect check, no buffered request or no signed request refuses every
 * caller while it seems to run; no provide at a time would leave every type
 * queued for good (0 provided types is allowed: the node announces nothing;
 * 0 challenges per peer: it answers no peer's handshake; 0 served discovery
 * or witness requests: it answers none; 0 witnessed logs: it witnesses none;
 * a 0 ms idle time: the log cosigned longest ago always makes room).
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
  'discovery.askConcurrency',
  'discovery.networkDeadlineMs',
  'witness.serveWindowMs',
  'witness.unknownEvidenceWindowMs',
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
  const {
    relay,
    gossip,
    handshake,
    registry,
    delivery,
    stream,
    http,
    snapshot,
    jsonExport,
    proxy,
    discovery,
    witness,
    ...top
  } = init
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
    witness: checked('witness', DEFAULT_LIMITS.witness, witness),
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

// ---------------------------------------------------------------------------------------------------------------
// Request bodies in flight (attack review H3-4, decision 0092; docs/api.md, "Request bodies"). Every POST body is
// read whole before it is answered, so these bound what bodies that trickle in can make the node hold at once.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Request-body bytes the API holds at once, all clients together: a body is charged its declared
 * `Content-Length` (a chunked body the whole body limit) before it is read, and released when its answer closes.
 * Past it a request is answered 429 `RATE_LIMITED` with `Retry-After` and never read. 32 bodies of the largest
 * size (1 MiB), thousands of the sizes the benchmark sends (32 concurrent sends of under 1 KiB each).
 */
export const BODY_BYTES_IN_FLIGHT = 32 * 1024 * 1024

/**
 * The last part of `BODY_BYTES_IN_FLIGHT` only the operator may take (the operator token, a `trustLoopback`
 * loopback caller, the dashboard's session): agent credentials are free to mint on loopback, so anonymous callers
 * and agents together hold at most the rest, and cannot starve the operator's requests.
 */
export const BODY_BYTES_OPERATOR_RESERVE = 8 * 1024 * 1024

/**
 * Requests with a body one rate-limit bucket (api/rate-limit.ts `rateLimitKey`, counted by the socket's address,
 * never a forwarded one: decision 0090) has open at once. Twice the benchmark's 32 concurrent sends.
 */
export const BODIES_PER_CLIENT = 64

/**
 * The least rate a body must arrive at: one not complete within `BODY_DEADLINE_BASE_MS` plus its size at this many
 * bytes a second is cut: its connection is destroyed, without an answer. A 1 MiB body has 18 s, not the 30 s of
 * the server's `requestTimeout`.
 */
export const BODY_MIN_BYTES_PER_SECOND = 128 * 1024

/** The part of a body's deadline that does not depend on its size (ms). */
export const BODY_DEADLINE_BASE_MS = 10_000

// ---------------------------------------------------------------------------------------------------------------
// List reads (attack review H3-3; docs/api.md `GET /connections`, `GET /duplicity`): rows anyone can add (a
// handshake between agents registered on loopback) are answered a page at a time, never all in one answer.
// ---------------------------------------------------------------------------------------------------------------

/** Rows of a `GET /connections` or `GET /duplicity` page when no `limit` is given. */
export const LIST_PAGE_DEFAULT = 100

/** Most rows of a `GET /connections` or `GET /duplicity` page, whatever `limit` asks (as `/snapshot` and `/trust`). */
export const LIST_PAGE_MAX = 1000
