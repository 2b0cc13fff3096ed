/**
 * Every in-memory cache of the node and its bound, in one place (issue 13):
 * what each keeps, how many at most, and where it lives. Each cache drops its
 * oldest entries (or restarts) when full; none grows with traffic. The bounds
 * on what peers and clients can make the node store or relay are in
 * `limits.ts`.
 */
import { DID_KEY_MEMO_LIMIT, PUBLIC_KEY_CACHE_LIMIT, SIGNED_HERE_LIMIT } from './core/index.js'
import { DEFAULT_KEY_CACHE_SIZE } from './services/key-cache.js'
import { NEW_KEY_MEMO_SIZE, SIGN_WORKER_KEY_CACHE } from './services/sign-pool.js'
import { PEER_MEMORY } from './services/peer-memory.js'
import { REFUSED_IDS_MEMORY } from './services/sync.js'
import { MAX_CARRIED_DESCENTS } from './services/sync-client.js'
import { DEFAULT_ADMISSION_LIMITS } from './services/sync-admission.js'
import { UNPROVEN_REVOCATIONS_MEMORY } from './services/unproven-revocations.js'
import { CHECKPOINT_GATE_ORIGINS } from './services/checkpoint-gate.js'
import { MAX_PENDING as HANDSHAKES_PENDING } from './services/handshake-service.js'
import { OUTBOX_MAX_PENDING } from './services/gossip-outbox.js'
import { MAX_TRACKED_PEERS as SERVE_BUDGET_PEERS } from './p2p/serve-budget.js'
import { ADDRESS_CAP_PEERS, ADDRESSES_PER_PEER } from './p2p/address-cap.js'
import { PROVIDER_RECORDS_PER_PEER, PROVIDER_RECORDS_TOTAL } from './p2p/provider-store.js'
import { OPENED_CACHE_SIZE } from './store/custody-repo.js'
import { PREPARED_LIMIT } from './store/prepared.js'
import { CREDENTIAL_CACHE_SIZE } from './store/credentials-repo.js'
import { KEY_STATE_CACHE_SIZE } from './store/key-events-repo.js'
import { AGENT_HOST_CACHE_SIZE } from './store/agents-repo.js'
import { DEFAULT_LIMITS, HELD_KEY_EVENTS, HELD_KEY_EVENTS_PER_DID, HELD_KEY_EVENTS_PER_PEER } from './limits.js'
import { WRONG_UIDS_REPORTED_PER_LISTENER } from './proxy/admission.js'

/** Public KeyObjects each `/verify` thread keeps (api/verify-pool.ts), by key. */
export const VERIFY_WORKER_KEY_CACHE = 10_000

/** One bounded cache. */
export interface CacheBound {
  /** Most entries kept. */
  readonly max: number
  /** What an entry is and where the cache lives. */
  readonly holds: string
}

/** The node's caches and their bounds. */
export const CACHE_BOUNDS = {
  publicKeyObjects: {
    max: PUBLIC_KEY_CACHE_LIMIT,
    holds: 'node:crypto public KeyObjects by key (node/core/keys.ts)',
  },
  didKeys: {
    max: DID_KEY_MEMO_LIMIT,
    holds: 'the public key each well-formed did:msig names, by DID (node/core/did.ts)',
  },
  signedHere: {
    max: SIGNED_HERE_LIMIT,
    holds: 'SHA-256(key ‖ bytes) of signatures this process made (node/core/signed-here.ts)',
  },
  keyPairs: { max: DEFAULT_KEY_CACHE_SIZE, holds: 'signing key pairs by seed (node/services/key-cache.ts)' },
  signWorkerKeys: {
    max: SIGN_WORKER_KEY_CACHE,
    holds: 'private KeyObjects by seed, in each signing thread (node/services/sign-pool.ts)',
  },
  newAgentKeys: {
    max: NEW_KEY_MEMO_SIZE,
    holds: 'public keys the signing threads derived for new agents, by seed (node/services/sign-pool.ts)',
  },
  verifyWorkerKeys: {
    max: VERIFY_WORKER_KEY_CACHE,
    holds: 'public KeyObjects by key, in each /verify thread (api/verify-pool.ts)',
  },
  openedCustody: {
    max: OPENED_CACHE_SIZE,
    holds: 'opened custody rows by DID, forgotten on put, forget and any rollback (node/store/custody-repo.ts)',
  },
  agentHosts: {
    max: AGENT_HOST_CACHE_SIZE,
    holds: 'the PeerId hosting each agent, by DID, forgotten on any rollback (node/store/agents-repo.ts)',
  },
  preparedStatements: { max: PREPARED_LIMIT, holds: 'SQLite statements by SQL text (node/store/prepared.ts)' },
  keyStates: {
    max: KEY_STATE_CACHE_SIZE,
    holds: 'key states as JSON text by DID, forgotten on any rollback (node/store/key-events-repo.ts)',
  },
  credentialDids: {
    max: CREDENTIAL_CACHE_SIZE,
    holds: 'the DID of each credential hash looked up, never the credential (node/store/credentials-repo.ts)',
  },
  syncPeerKeys: { max: PEER_MEMORY, holds: 'node keys of sync peers (node/services/sync-client.ts)' },
  syncPeerBans: {
    max: PEER_MEMORY,
    holds: 'backoffs of penalised sync peers, expired ones forgotten first (node/services/sync-client.ts)',
  },
  checkpointGateOrigins: {
    max: CHECKPOINT_GATE_ORIGINS,
    holds: 'the current minute of each origin whose gossiped checkpoints were taken (node/services/checkpoint-gate.ts)',
  },
  syncCarriedDescents: {
    max: MAX_CARRIED_DESCENTS,
    holds: 'descents in progress of sync rounds waiting for the turn (node/services/sync-client.ts)',
  },
  syncQuietPeers: {
    max: PEER_MEMORY,
    holds: 'backoffs of sync peers too slow to answer, expired ones forgotten first (node/services/sync-client.ts)',
  },
  syncPeerCursors: {
    max: PEER_MEMORY,
    holds: 'page cursors of sync peers a round paged part-way through (node/services/sync-pass.ts)',
  },
  syncRefusedIds: {
    max: REFUSED_IDS_MEMORY,
    holds: 'short ids of registry items refused once, not fetched again (node/services/refused-ids.ts)',
  },
  unprovenRevocations: {
    max: UNPROVEN_REVOCATIONS_MEMORY,
    holds:
      'per peer and DID, the one revocation it delivered that no key known here could check (node/services/unproven-revocations.ts)',
  },
  syncJunkCounts: {
    max: PEER_MEMORY,
    holds: 'junk items each sync peer served in its hour, expired ones forgotten first (node/services/sync-client.ts)',
  },
  pendingHandshakes: { max: HANDSHAKES_PENDING, holds: 'handshakes awaiting confirmation (handshake-service.ts)' },
  handshakeChallengeCounts: {
    max: SERVE_BUDGET_PEERS,
    holds: "each peer's challenges answered in its window (handshake-service.ts; limits.handshake.perPeerChallenges)",
  },
  gossipOutbox: { max: OUTBOX_MAX_PENDING, holds: 'publications waiting for a subscriber (gossip-outbox.ts)' },
  providedCapabilityTypes: {
    max: DEFAULT_LIMITS.discovery.providedTypes,
    holds:
      'capability types provided on the DHT and their queued provides (capability-provides.ts; limits.discovery.providedTypes)',
  },
  dhtProviderRecords: {
    max: PROVIDER_RECORDS_TOTAL,
    holds:
      "other peers' DHT provider records of sha2-256 keys only, the biggest holder's oldest evicted first (node/p2p/provider-store.ts; decision 0080)",
  },
  dhtProviderRecordsPerPeer: {
    max: PROVIDER_RECORDS_PER_PEER,
    holds: 'the DHT provider records of one provider PeerId, its oldest evicted first (node/p2p/provider-store.ts)',
  },
  peerAddressSlots: {
    max: ADDRESS_CAP_PEERS,
    holds:
      'peers whose admitted peer-store addresses are tracked, least recently written dropped (node/p2p/address-cap.ts)',
  },
  peerAddressesPerPeer: {
    max: ADDRESSES_PER_PEER,
    holds:
      'the addresses the peer store may keep for one peer, later ones refused (node/p2p/address-cap.ts; review 117)',
  },
  signedNodeCard: {
    max: 1,
    holds:
      "the node's last signed A2A card and what it was built from, replaced when that changes (node/proxy/web-bot-auth-interop.ts)",
  },
  heldInceptions: {
    max: DEFAULT_ADMISSION_LIMITS.maxHeld,
    holds:
      'empty inceptions held until a registration anchors them, 256 per peer, the oldest released first (node/services/sync-admission.ts)',
  },
  heldKeyEvents: {
    max: HELD_KEY_EVENTS,
    holds: `rotations and revocations held with the held inceptions, each checked first (one revocation per DID that no held key signed, unchecked until its registration), ${HELD_KEY_EVENTS_PER_DID} per DID, ${HELD_KEY_EVENTS_PER_PEER} per peer (node/services/sync-admission.ts; decisions 0085, 0087)`,
  },
  proxyWrongUids: {
    max: WRONG_UIDS_REPORTED_PER_LISTENER,
    holds: 'per proxy agent listener, the other uids refused there and audited once (node/proxy/admission.ts)',
  },
} as const satisfies Record<string, CacheBound>
