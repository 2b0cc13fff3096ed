/**
 * Agents hosted by this node: registration with node-custodied keys (with a
 * committed next key for pre-rotation) and bring-your-own-key registration,
 * plus the read side (records, local discovery).
 */
import {
  DEFAULT_TRUST_PARAMS,
  fromB64,
  MeshsigError,
  publicKeyFromDid,
  toB64,
  type Envelope,
  type IcpEnvelope,
  type RegEnvelope,
} from '../core/index.js'
import type { AgentQuery, AgentRow, Store } from '../store/index.js'
import type { AgentCredentials } from './agent-credentials.js'
import type { Ingest } from './ingest.js'
import { toAgentRecord, type AgentRecord, type TrustFn } from './records.js'
import type { PreparedRegistration } from './registration-prep.js'

/**
 * What registering a node-custodied agent returns, once: the private key and
 * the agent credential (docs/protocol.md §8). The node keeps the key
 * (encrypted) and only the credential's hash.
 */
export interface RegisteredAgent {
  readonly identity: { did: string; publicKey: string; privateKey: string; credential: string; createdAt: string }
  readonly record: AgentRecord
  /** The envelopes to gossip (icp, then reg). */
  readonly envelopes: Envelope[]
}

/** What the agent service needs from the node. */
export interface AgentServiceComponents {
  readonly store: Store
  readonly ingest: Ingest
  readonly isOnline: (peerId: string) => boolean
  readonly trust: TrustFn
  /** Issues the agent credential of each custodied agent. */
  readonly credentials: AgentCredentials
}

/** Registration and lookup of agents. */
export class AgentService {
  constructor(private readonly c: AgentServiceComponents) {}

  /**
   * Register a new agent whose keys this node makes and keeps (sealed in the
   * 0600 database): its keys and signed envelopes come from
   * `prepareRegistration` (registration-prep.ts); this checks and stores them.
   */
  register(prepared: PreparedRegistration): RegisteredAgent {
    const { icp, reg, seed, nextSeed, ts } = prepared
    const credential = this.c.store.transaction(() => {
      const profile = { name: reg.name, capabilities: reg.capabilities }
      this.c.store.custody.put({ did: icp.did, seed: toB64(seed), nextSeed: toB64(nextSeed), createdAt: ts, profile })
      this.ingestOrThrow(icp)
      this.ingestOrThrow(reg)
      return this.c.credentials.issue(icp.did)
    })
    return {
      identity: {
        did: icp.did,
        publicKey: icp.key,
        privateKey: toB64(seed),
        credential,
        createdAt: new Date(ts).toISOString(),
      },
      record: this.record(icp.did)!,
      envelopes: [icp, reg],
    }
  }

  /** Register an agent that holds its own key: a signed inception and registration. */
  registerExternal(icp: IcpEnvelope, reg: RegEnvelope): { record: AgentRecord; envelopes: Envelope[] } {
    if (icp.did !== reg.did) throw new MeshsigError('INVALID_INPUT', 'inception and registration name different DIDs')
    this.c.store.transaction(() => {
      this.ingestOrThrow(icp, true)
      this.ingestOrThrow(reg)
    })
    return { record: this.record(reg.did)!, envelopes: [icp, reg] }
  }

  private ingestOrThrow(envelope: Envelope, allowDuplicate = false): void {
    const v = this.c.ingest.ingest(envelope, { kind: 'local' }, { fresh: false })
    if (!v.ok && !(allowDuplicate && v.error.code === 'DUPLICATE')) throw v.error
  }

  /** The public record of a known agent. */
  record(did: string): AgentRecord | undefined {
    const row = this.c.store.agents.get(did)
    return row ? this.recordOf(row) : undefined
  }

  /** Records of agents matching a query (one page of them with `limit`: store/agents-repo.ts `list`). */
  list(query: AgentQuery = {}): AgentRecord[] {
    return this.c.store.agents.list(query).map((row) => this.recordOf(row))
  }

  /** How many agents match `query` (its paging aside). */
  count(query: AgentQuery = {}): number {
    return this.c.store.agents.countMatching(query)
  }

  /** The public record of a stored agent row. */
  private recordOf(row: AgentRow): AgentRecord {
    const state = this.c.store.keyEvents.state(row.did)
    const online = row.origin === 'local' || this.c.isOnline(row.peerId)
    const record = toAgentRecord(row, state, online, this.c.trust)
    return record.publicKey ? record : { ...record, publicKey: toB64(publicKeyFromDid(row.did)) }
  }

  /**
   * Agents offering a capability (any, without one), never revoked ones, best trust first, at most `limit`
   * (`POST /discover`): SQLite ranks the matching rows by their trust evidence and only those `limit` become
   * records (docs/api.md, POST /discover).
   */
  discover(capability: string | undefined, minConfidence = 0, limit = 50): AgentRecord[] {
    const q: AgentQuery = capability !== undefined ? { capability, minConfidence } : {}
    const rows = this.c.store.agents.byTrust({ ...q, status: 'active', limit }, DEFAULT_TRUST_PARAMS)
    return rows.map((row) => this.recordOf(row))
  }

  /**
   * This node's own active agents holding `capability`, best trust first, at most `limit`: what it names to a
   * discovering peer and in the `local` part of `POST /discover/network` (docs/protocol.md §9, "Capability
   * discovery"). Read from the own agents alone, so however many agents of others hold the type costs nothing.
   */
  ownMatches(capability: string, minConfidence: number, limit: number): AgentRow[] {
    return this.c.store.agents.ownByTrust(capability, minConfidence, limit, DEFAULT_TRUST_PARAMS)
  }

  /** `ownMatches` as public records. */
  discoverOwn(capability: string, minConfidence: number, limit: number): AgentRecord[] {
    return this.ownMatches(capability, minConfidence, limit).map((row) => this.recordOf(row))
  }

  /** The stored registration envelope of an agent. */
  registration(did: string): RegEnvelope | undefined {
    const row = this.c.store.agents.get(did)
    return row ? (JSON.parse(row.regEnvelope) as RegEnvelope) : undefined
  }

  /** The custodied key of an agent this node registered, if any. */
  custodiedSeed(did: string): Uint8Array | undefined {
    const row = this.c.store.custody.get(did)
    return row ? fromB64(row.seed, 'seed', 32) : undefined
  }
}
