/**
 * Read models of the node for every face: statistics, the network snapshot,
 * message and connection listings, the revocation list and the audit export.
 * Pure reads of the store; the shapes are the seed's (camelCase, ISO times).
 */
import type { KeyEvent, KeyState } from '../core/index.js'
import type { VerifiableLog } from '../audit/audit-service.js'
import type { ConnectionCursor, ConnectionRow, MessageQuery, RevokedCursor, Store } from '../store/index.js'
import type { AgentService } from './agent-service.js'
import { messageVerifications, UNRECORDED, type MessageVerification } from '../audit/message-verification.js'
import type { AgentRecord } from './records.js'
import type { ConnectionView, MessageView, NodeStats, PlacedRevocation, RevokedView } from '../core/views.js'
import { messageView } from '../core/message-view.js'
import { refusalsIn } from '../core/audit-refusals.js'
import { exportSummary, type ExportSummary } from '../audit/export-summary.js'
import { TrustService, TRUST_FORMULA, type TrustReport, type TrustView } from './trust.js'
import { evidenceTotals, pairKey } from '../audit/trust-ledger.js'
import { DEFAULT_TRUST_PARAMS, isoTime, trustScore } from '../core/index.js'

type Evidence = { successes: number; failures: number }

function view(e: Evidence): TrustView {
  return { score: trustScore(e), successes: e.successes, failures: e.failures }
}

/** The trust report of a log prefix, from its evidence totals (what `GET /trust` shows at that size). */
function trustReportOf(evidence: ReturnType<typeof evidenceTotals>): TrustReport {
  return {
    formula: TRUST_FORMULA,
    params: DEFAULT_TRUST_PARAMS,
    agents: [...evidence.did].map(([did, e]) => ({ did, ...view(e) })),
    peers: [...evidence.peer].map(([peer, e]) => ({ peer, ...view(e) })),
    connections: [...evidence.pair].map(([key, e]) => {
      const [a, b] = key.split(' ') as [string, string]
      return { a, b, ...view(e) }
    }),
  }
}

export type { MessageVerification } from '../audit/message-verification.js'
export type { ConnectionView, MessageView, NodeStats, PlacedRevocation, RevokedView }
export { messageView }

/** A message in the audit export: with how it was verified, reproduced from the audit log. */
export interface ExportedMessage extends MessageView {
  readonly verification: MessageVerification
}

/**
 * The audit export (`GET /audit/export`): the verifiable log (entries, leaf
 * hashes, checkpoints, node key) plus the compliance views, nothing cut short.
 */
export interface AuditReport extends VerifiableLog {
  readonly version: 1
  readonly exportedAt: string
  readonly node: { readonly did: string; readonly name: string; readonly publicKey: string; readonly peerId: string }
  readonly summary: ExportSummary
  readonly agents: AgentRecord[]
  readonly connections: ConnectionView[]
  /** Every stored message with its envelope (re-verifiable offline) and its verification. */
  readonly messages: ExportedMessage[]
  readonly keyEvents: KeyEvent[]
  readonly revoked: RevokedView[]
  /** Every trust score (agents, delivering peers, connections), reproducible from `entries`. */
  readonly trust: TrustReport
}

/** What the report service needs from the node. */
export interface ReportComponents {
  readonly store: Store
  readonly agents: AgentService
  readonly clock: () => number
  readonly peerCount: () => number
  readonly uptime: () => number
  readonly node: () => AuditReport['node']
  /** The verifiable part of the export at one tree size (default: the current checkpoint's). */
  readonly verifiable: (size?: number) => VerifiableLog
}

/** Turn a stored connection into its API view. */
export function connectionView(row: ConnectionRow): ConnectionView {
  return {
    id: row.id,
    fromDid: row.aDid,
    toDid: row.bDid,
    establishedAt: isoTime(row.establishedAt),
    verified: true,
    transcript: row.transcript,
  }
}

/** Builds the read models. */
export class ReportService {
  constructor(private readonly c: ReportComponents) {}

  /** Counts for `GET /stats`. */
  stats(): NodeStats {
    const { store } = this.c
    const agents = store.agents.count()
    const revokedAgents = store.keyEvents.revokedCount(true)
    const local = store.agents.count('local')
    return {
      agents,
      active: agents - revokedAgents,
      revoked: revokedAgents,
      localAgents: local,
      remoteAgents: agents - local,
      connections: store.auditEntries.connectionCount(),
      messages: store.messages.total(),
      peers: this.c.peerCount(),
      auditEntries: store.auditEntries.count(),
      uptime: this.c.uptime(),
    }
  }

  /** Stored messages, newest first. */
  messages(query: MessageQuery = {}): MessageView[] {
    return this.c.store.messages.list(query).map(messageView)
  }

  /**
   * Verified connections, newest first (the newest `limit`, read as one
   * page; the page after `after` when given), each with its trust.
   */
  connections(limit?: number, after?: ConnectionCursor): ConnectionView[] {
    const rows = this.c.store.auditEntries.connections(limit, after)
    const trust = new TrustService(this.c.store)
    return rows.map((row) => {
      const { score, successes, failures } = trust.connection(row.aDid, row.bDid)
      return { ...connectionView(row), trust: { score, successes, failures } }
    })
  }

  /**
   * Every revoked DID this node knows (or the newest `limit`, read as one
   * page), the revocation it learned last first (docs/api.md `GET /revoked`).
   */
  revoked(limit?: number): RevokedView[] {
    return this.c.store.keyEvents.revoked(limit).flatMap((r) => this.view(r.state))
  }

  /** The next `limit` of the revocation list after `after`, with their places (`GET /revoked` a page at a time). */
  revokedAfter(after: RevokedCursor | undefined, limit: number): PlacedRevocation[] {
    return this.c.store.keyEvents.revokedAfter(after, limit).flatMap((r) => {
      return this.view(r.state).map((view) => ({ view, place: r.place }))
    })
  }

  private view(s: KeyState): RevokedView[] {
    if (s.revoked === null) return []
    const name = this.c.store.agents.get(s.did)?.name ?? null
    const { reason, ts, by } = s.revoked
    return [{ did: s.did, name, reason, revokedAt: isoTime(ts), by, keySeq: s.seq }]
  }

  /** How many DIDs this node knows revoked (what `revoked()` lists). */
  revokedCount(): number {
    return this.c.store.keyEvents.revokedCount()
  }

  /**
   * The whole audit export at one tree size (issue 11: consistent by
   * construction): the entries [0, size), the checkpoint of exactly that
   * size, the messages whose acceptance those entries record, and trust
   * scores recomputed over those entries. Default size: the current
   * checkpoint's; `size` exports a past state the node signed.
   */
  auditExport(size?: number): AuditReport {
    const { store } = this.c
    const log = this.c.verifiable(size)
    const evidence = evidenceTotals(log.entries)
    const scoreOf = (did: string): number => trustScore(evidence.did.get(did) ?? { successes: 0, failures: 0 })
    const agents = this.c.agents.list().map((a) => ({ ...a, trustScore: scoreOf(a.did) }))
    const verifications = messageVerifications(log.entries)
    const messages = [...store.messages.iterate()]
      .filter((row) => verifications.has(row.id))
      .map((row) => ({ ...messageView(row), verification: verifications.get(row.id) ?? UNRECORDED }))
    // a refusal summary stands for the refusals it counts (node/core/audit-refusals.ts, decision 0053)
    const failed = log.entries.reduce((n, e) => n + refusalsIn(e), 0)
    const keyEvents = store.keyEvents.allDids().flatMap((did) => store.keyEvents.log(did))
    const revoked = this.revoked()
    const connections = this.connections().map((c) => {
      const [a, b] = [c.fromDid, c.toDid].sort() as [string, string]
      return { ...c, trust: view(evidence.pair.get(pairKey(a, b)) ?? { successes: 0, failures: 0 }) }
    })
    return {
      version: 1,
      exportedAt: new Date(this.c.clock()).toISOString(),
      node: this.c.node(),
      summary: exportSummary(agents, {
        messages: messages.length,
        rejected: failed,
        connections: connections.length,
        keyEvents: keyEvents.length,
        entries: log.entries.length,
      }),
      agents,
      connections,
      messages,
      keyEvents,
      revoked,
      trust: trustReportOf(evidence),
      ...log,
    }
  }
}

/** Which page of the network state to read (`GET /snapshot`'s `limit` and `cursor`). */
export interface SnapshotPageQuery {
  /** Agents and revocations in the page. */
  readonly limit: number
  /** Agents of the list (newest first) before the page. */
  readonly offset: number
}

/**
 * One page of the network state (`GET /snapshot`, and the first WebSocket
 * event; its messages and connections are read by api/snapshot-page.ts).
 */
export interface NodeSnapshot<Info = unknown, Peer = unknown> {
  readonly node: Info
  readonly stats: NodeStats
  /** The page of agents, newest registration first. */
  readonly agents: AgentRecord[]
  readonly peers: Peer[]
  /** The newest revocations, at most the page's limit. */
  readonly revoked: RevokedView[]
  /** How many agents and revoked DIDs there are in all. */
  readonly totals: { readonly agents: number; readonly revoked: number }
}
