/**
 * The groups of bounds in `Limits` (node/limits.ts holds the whole, its
 * defaults and its checks): one interface per part of the node, each bound
 * with what it counts. Messages budgets and retention follow docs/protocol.md
 * §5 and §7.
 */

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
  /**
   * A client this far behind (bytes sent since the last ping it answered, kernel buffers included) is dropped
   * rather than sent more; one caught up always takes the next event, however large (decision 0091).
   */
  readonly maxBufferedBytes: number
  /**
   * Most bytes all clients together are behind; anonymous clients at most all but `provenPercent` percent of it.
   * A client that would pass it is dropped, a new one closed 1013 before its snapshot (decision 0091).
   */
  readonly maxTotalBufferedBytes: number
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
  /**
   * Most bytes of JSON in one page of `GET /messages` (each message as written, its body twice: `message`
   * and in `envelope`); the page's first message is always included, and `next` names the rest (docs/api.md).
   */
  readonly messagePageBytes: number
  /**
   * Most message pairs `GET /history/links` lists, the most recent traffic first: twice the 600 edges the
   * dashboard draws (one pair per direction of an edge; ui/src/graph-links.ts).
   */
  readonly linksPage: number
}

/** Bounds of `GET /snapshot` (and the stream's first event). */
export interface SnapshotLimits {
  /** Agents, messages and connections per page when the client names no limit. */
  readonly defaultLimit: number
  /** Largest page a client may ask for. */
  readonly maxLimit: number
  /** Most bytes of messages in one page, as their JSON is written (the newest message is always included). */
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
  /**
   * Most bytes of stored message envelopes a JSON export is built with (its answer holds each body twice):
   * past it, 413 `PAYLOAD_TOO_LARGE` naming the NDJSON form, which streams (attack review 98).
   */
  readonly messageBytes: number
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
 * What refusals of what peers send (gossip, sync items, discovery answers,
 * deliveries) may write into the audit log (docs/protocol.md §7, decisions
 * 0053 and 0069): a node-wide budget, since peer ids cost nothing. Past it a
 * refusal is counted (`meshsig_gossip_refusals_unaudited_total`), not audited,
 * and one entry per window sums up the counts by code.
 */
export interface GossipLimits {
  /** Refusals of peers' envelopes (no envelope, forged, stale, …) audited entry by entry per window, over all peers. */
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
  /**
   * Most providers one network discovery asks (docs/protocol.md §9): those hosting a stored registration of
   * the type first, the others picked at random from all found (decision 0080).
   */
  readonly providersAsked: number
  /** Providers one network discovery asks at once (at least 1). */
  readonly askConcurrency: number
  /** How long one network discovery waits for all its providers' answers (ms, at least 1): then it answers. */
  readonly networkDeadlineMs: number
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

/**
 * What peers can make this node sign, store, audit and relay by `/meshsig/witness/1.0.0`
 * (docs/audit.md, "Split views, rewrites and evidence"; decision 0066).
 */
export interface WitnessLimits {
  /** Witness frames one peer may have answered per `serveWindowMs`; past it 429 `RATE_LIMITED`, nothing read. */
  readonly servedPerPeer: number
  /**
   * Evidence frames (`op: "evidence"`) one peer may have answered per `serveWindowMs`, a budget of their own:
   * relays of evidence never spend the relayer's budget of add-checkpoint requests (decision 0066, addendum).
   */
  readonly evidencePerPeer: number
  /** Length of one serving window (ms). */
  readonly serveWindowMs: number
  /**
   * Most logs the node witnesses (holds the latest cosigned checkpoint of); a log counts once a checkpoint
   * of it was cosigned. Past it a new log is refused 503, unless one cosigned `idleOriginMs` ago or longer
   * makes room (the one cosigned longest ago is forgotten).
   */
  readonly origins: number
  /**
   * How long ago a log's latest cosignature must be before it may make room for a new log, or before a new log
   * key of its DID is taken in place of the held one (ms).
   */
  readonly idleOriginMs: number
  /**
   * Split views of logs this node does not know (neither held in its table nor a controller of an agent it
   * stores) recorded per `unknownEvidenceWindowMs`, node-wide: past it they are only counted (a key costs nothing).
   */
  readonly unknownEvidencePerWindow: number
  /** Length of the window of `unknownEvidencePerWindow` (ms). */
  readonly unknownEvidenceWindowMs: number
}
