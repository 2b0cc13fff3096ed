/**
 * The node's trust scores (docs/protocol.md §7): the core's Beta reputation
 * (node/core/trust.ts, documented in docs/protocol.md §7) over the evidence
 * the audit log keeps with every entry (node/audit/trust-ledger.ts). Per
 * agent, per delivering peer and per connection (pair of agents), each
 * score equals the one anyone recomputes from the audit export with
 * `trustFromAuditEntries`, `peerTrustFromAuditEntries` and
 * `connectionTrustFromAuditEntries`.
 */
import { DEFAULT_TRUST_PARAMS, toMsigDid, TRUST_FORMULA, trustScore, type TrustEvidence } from '../core/index.js'
import { pairKey } from '../audit/trust-ledger.js'
import type { Store, TrustScope } from '../store/index.js'
import type { AgentTrust, ConnectionTrust, PeerTrust, TrustReport, TrustView } from '../core/views.js'

export type { AgentTrust, ConnectionTrust, PeerTrust, TrustReport, TrustView }

/** The formula as text, for reports (node/core/trust.ts). */
export { TRUST_FORMULA }

function view(evidence: TrustEvidence): TrustView {
  return { score: trustScore(evidence), successes: evidence.successes, failures: evidence.failures }
}

function connectionOf(key: string, evidence: TrustEvidence): ConnectionTrust {
  const [a, b] = key.split(' ') as [string, string]
  return { a, b, ...view(evidence) }
}

/** Where a page of `GET /trust` starts in each list: after that key, `''` from the first, `null` done. */
export interface TrustCursor {
  readonly agents: string | null
  readonly peers: string | null
  readonly connections: string | null
}

/** Reads trust scores from the evidence the audit log keeps. */
export class TrustService {
  constructor(private readonly store: Store) {}

  private of(scope: TrustScope, key: string): TrustView {
    return view(this.store.trust.get(scope, key))
  }

  private agentOf(did: string, evidence: TrustEvidence): AgentTrust {
    const revoked = this.store.trust.get('revoked', did).failures > 0
    return { did, revoked, ...view({ ...evidence, revoked }) }
  }

  /** An agent's trust (a DID nobody has evidence about scores 0.5). */
  agent(did: string): AgentTrust {
    const msig = toMsigDid(did)
    return this.agentOf(msig, this.store.trust.get('did', msig))
  }

  /** A delivering peer's trust. */
  peer(peer: string): PeerTrust {
    return { peer, ...this.of('peer', peer) }
  }

  /** The trust of the connection between two agents. */
  connection(a: string, b: string): ConnectionTrust {
    const [x, y] = [toMsigDid(a), toMsigDid(b)].sort() as [string, string]
    return { a: x, b: y, ...this.of('pair', pairKey(x, y)) }
  }

  /** Every agent with credit, failures or a revocation, by DID. */
  private agentRows(): AgentTrust[] {
    const dids = new Map(this.store.trust.list('did').map((r) => [r.key, r] as const))
    for (const r of this.store.trust.list('revoked'))
      if (!dids.has(r.key)) dids.set(r.key, { ...r, successes: 0, failures: 0 })
    return [...dids.keys()].sort().map((did) => this.agentOf(did, dids.get(did)!))
  }

  /**
   * At most `limit` connections of `did` after the other DID `after` (`''`: from the first), by the other DID,
   * read from that DID's own rows (`GET /trust/:did`; decision 0081).
   */
  connectionsOf(did: string, after: string, limit: number): ConnectionTrust[] {
    return this.store.trust.pairsOf(toMsigDid(did), after, limit).map((r) => connectionOf(r.key, r))
  }

  /**
   * One page of the report (`GET /trust`; decision 0081): of each list, at most `limit` rows after its
   * cursor's key (`''`: from the first; `null`: that list is done and answers none), by key.
   */
  reportPage(after: TrustCursor, limit: number): TrustReport {
    const page = (scope: TrustScope, from: string | null) =>
      from === null ? [] : this.store.trust.page(scope, from, limit)
    return {
      formula: TRUST_FORMULA,
      params: DEFAULT_TRUST_PARAMS,
      agents: after.agents === null ? [] : this.agentPage(after.agents, limit),
      peers: page('peer', after.peers).map((r) => ({ peer: r.key, ...view(r) })),
      connections: page('pair', after.connections).map((r) => connectionOf(r.key, r)),
    }
  }

  /** At most `limit` agents with credit, failures or a revocation, after `after`, by DID: one page of each scope. */
  private agentPage(after: string, limit: number): AgentTrust[] {
    const dids = new Map(this.store.trust.page('did', after, limit).map((r) => [r.key, r] as const))
    for (const r of this.store.trust.page('revoked', after, limit))
      if (!dids.has(r.key)) dids.set(r.key, { ...r, successes: 0, failures: 0 })
    return [...dids.keys()]
      .sort()
      .slice(0, limit)
      .map((did) => this.agentOf(did, dids.get(did)!))
  }

  /** Every agent, peer and connection with evidence. */
  report(): TrustReport {
    const rows = (scope: TrustScope) => this.store.trust.list(scope)
    return {
      formula: TRUST_FORMULA,
      params: DEFAULT_TRUST_PARAMS,
      agents: this.agentRows(),
      peers: rows('peer').map((r) => ({ peer: r.key, ...view(r) })),
      connections: rows('pair').map((r) => connectionOf(r.key, r)),
    }
  }
}
