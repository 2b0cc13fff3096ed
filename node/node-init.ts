/**
 * What a meshsig node is made from (`MeshNode.create`). Kept apart from the
 * node's wiring so the CLI and tests can name it without importing the node.
 */
import type { Identity } from './identity/index.js'
import type { LimitsInit } from './limits.js'
import type { Logger } from './logger.js'
import type { Startable } from './lifecycle.js'
import type { SyncBudget } from './services/sync-client.js'

/** How to make a node. */
export interface MeshNodeInit {
  /** Human name shown to peers and in /health. */
  readonly name: string
  /** The node identity (from `meshsig init`); its key is the libp2p peer key. */
  readonly identity: Identity
  /** The meshsig home the identity came from: lets the node take up its own key rotation (meshsig rotate-key). */
  readonly home?: string
  /** SQLite file, or ':memory:'. */
  readonly dbPath: string
  /** Custody key sealing custodied seeds (default: `custody.key` in `home`; docs/protocol.md §2). */
  readonly custodyKey?: Uint8Array
  /** libp2p listen addresses (default TCP and WS on 127.0.0.1, OS-chosen ports). */
  readonly listen?: readonly string[]
  /** 'tcp+ws' (default) or 'memory' (in-process tests). */
  readonly transports?: 'tcp+ws' | 'memory'
  /** Peers to join: multiaddrs with /p2p/, or the seed form ws://host:port. */
  readonly peers?: readonly string[]
  /** Extra host names (a DNS name, a NAT's public address) the mesh WebSocket listener answers to. */
  readonly allowedHosts?: readonly string[]
  /** Where the node logs (default: errors only, to standard error; `meshsig start` passes its level). */
  readonly logger?: Logger
  /** Freshness window of messages (ms), default ±5 minutes. */
  readonly maxSkewMs?: number
  /** Clock (ms since the epoch); tests pass their own. */
  readonly clock?: () => number
  /** Randomness source; tests may pass a seeded one. */
  readonly random?: (n: number) => Uint8Array
  /** DHT self-query interval (small in tests). */
  readonly dhtQuerySelfInterval?: number
  /** Gossipsub heartbeat (ms); small in tests. */
  readonly heartbeatInterval?: number
  /** Interval of anti-entropy registry syncs with a random peer (ms, default 30 s). */
  readonly antiEntropyMs?: number
  /** Per-peer budget of one registry reconciliation round (items, bytes, ms; docs/protocol.md §9). */
  readonly syncBudget?: SyncBudget
  /** Interval of periodic audit checkpoints when the log grew (ms, default 60 s). */
  readonly checkpointIntervalMs?: number
  /** Least age of the latest checkpoint before a read (export, proofs) signs a new one (ms, default 10 s). */
  readonly minCheckpointIntervalMs?: number
  /** Interval of replay-cache pruning (ms, default 60 s): nonces older than 2 × maxSkewMs are forgotten. */
  readonly replayPruneIntervalMs?: number
  /** Relay quotas, retention, stream and snapshot bounds (node/limits.ts); default `$MESHSIG_LIMITS` over the defaults. */
  readonly limits?: LimitsInit
  /**
   * Test-only: never dial these peers (inbound connections still open). Keeps
   * a test topology strict: DHT lookups otherwise connect every node to every other.
   */
  readonly denyDialPeer?: (peerId: string) => boolean
  /**
   * Test-only: parts started after the node's own (last), and stopped first.
   * Lets a test make a start fail with everything else running (test/integration/failed-start.test.ts).
   */
  readonly extraStartables?: readonly { readonly name: string; readonly part: Startable }[]
}
