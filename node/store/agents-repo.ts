/** Agents and their capabilities, as stored rows. */
import type { Database, Statement } from 'better-sqlite3'
import { prepared } from './prepared.js'
import { RowCache } from './row-cache.js'
import { SavepointLevels } from './savepoint-levels.js'
import type { TrustParams } from '../core/index.js'
import { agentsByTrust, agentsWhere, ownAgentsByTrust, type AgentQuery, type SqlQuery } from './agent-query.js'

/** A stored agent row (registration plus counters). */
export interface AgentRow {
  readonly did: string
  readonly name: string
  readonly capabilities: { type: string; confidence?: number }[]
  readonly controller: string
  readonly peerId: string
  readonly origin: 'local' | 'remote'
  readonly regId: string
  readonly regEnvelope: string
  readonly regTs: number
  readonly createdAt: number
  readonly lastSeenAt: number
  readonly messagesSent: number
  readonly messagesReceived: number
  readonly failures: number
  /** When the DID's renewal window began (ms, node clock; 0: none yet; node/services/renewal-budget.ts). */
  readonly renewalStart: number
  /** Registrations of the DID taken from the mesh in that window. */
  readonly renewals: number
}

/** Fields of a row that `upsert` does not write. */
type Counted = 'messagesSent' | 'messagesReceived' | 'failures' | 'renewalStart' | 'renewals'

interface RawAgent {
  did: string
  name: string
  capabilities: string
  controller: string
  peer_id: string
  origin: 'local' | 'remote'
  reg_id: string
  reg_envelope: string
  reg_ts: number
  created_at: number
  last_seen_at: number
  messages_sent: number
  messages_received: number
  failures: number
  renewal_start: number
  renewals: number
}

function toRow(raw: RawAgent): AgentRow {
  return {
    did: raw.did,
    name: raw.name,
    capabilities: JSON.parse(raw.capabilities) as AgentRow['capabilities'],
    controller: raw.controller,
    peerId: raw.peer_id,
    origin: raw.origin,
    regId: raw.reg_id,
    regEnvelope: raw.reg_envelope,
    regTs: raw.reg_ts,
    createdAt: raw.created_at,
    lastSeenAt: raw.last_seen_at,
    messagesSent: raw.messages_sent,
    messagesReceived: raw.messages_received,
    failures: raw.failures,
    renewalStart: raw.renewal_start,
    renewals: raw.renewals,
  }
}

/** Messages counted for one DID in one open transaction level. */
interface Count {
  sent: number
  received: number
  at: number
}

/**
 * The DIDs of this node's own agents (`origin = 'local'`: its API registered
 * them or it keeps their key, ingest.ts `isLocal`), as SQL. The one
 * definition of "hosted here" that direct delivery (`AgentsRepo.isOwn`,
 * docs/protocol.md §10) and relay retention (`MessagesRepo.pruneForeign`,
 * §7) share: a message delivered here is never pruned, so its stored id
 * keeps it a duplicate for good (decision 0076).
 */
export const OWN_AGENT_DIDS = "SELECT did FROM agents WHERE origin = 'local'"

/** Hosts of agents kept in memory, at most (node/cache-bounds.ts). */
export const AGENT_HOST_CACHE_SIZE = 8192

/** Repository of agents. */
export class AgentsRepo {
  private readonly upsertStmt: Statement
  private readonly getStmt: Statement<[string], RawAgent>
  private readonly delCaps: Statement
  private readonly addCap: Statement
  private readonly countStmt: Statement<[], { n: number }>
  private readonly sent: Statement<[number, string]>
  private readonly received: Statement<[number, string]>
  private readonly hostStmt: Statement<[string], { peer_id: string }>
  private readonly bump: Statement<[number, number, number, string]>
  /**
   * Message counts inside a transaction, one map per open transaction or
   * savepoint (as trust evidence, trust-repo.ts): a group of sends between
   * the same agents updates each row once, just before COMMIT, not twice per
   * send (issue 13). Reads add them; a level rolled back is dropped.
   */
  readonly levels: SavepointLevels<Map<string, Count>>
  /**
   * The host (`peer_id`) of the agents looked up last: every direct message
   * asks whether this node hosts its recipient. Written through by `upsert`
   * (the only statement that sets it) and all forgotten on any rollback
   * (`forgetCached`, called by the store's transaction runner).
   */
  private readonly hosts = new RowCache<string>(AGENT_HOST_CACHE_SIZE)

  constructor(private readonly db: Database) {
    this.upsertStmt = db.prepare(`
      INSERT INTO agents (did, name, capabilities, controller, first_controller, peer_id, origin, reg_id, reg_envelope, reg_ts, created_at, last_seen_at)
      VALUES (@did, @name, @capabilities, @controller, @controller, @peerId, @origin, @regId, @regEnvelope, @regTs, @createdAt, @lastSeenAt)
      ON CONFLICT (did) DO UPDATE SET name = excluded.name, capabilities = excluded.capabilities,
        controller = excluded.controller, peer_id = excluded.peer_id, reg_id = excluded.reg_id,
        reg_envelope = excluded.reg_envelope, reg_ts = excluded.reg_ts, last_seen_at = excluded.last_seen_at,
        origin = CASE WHEN agents.origin = 'local' THEN 'local' ELSE excluded.origin END`)
    this.getStmt = db.prepare('SELECT * FROM agents WHERE did = ?')
    this.hostStmt = db.prepare('SELECT peer_id FROM agents WHERE did = ?')
    this.delCaps = db.prepare('DELETE FROM agent_capabilities WHERE did = ?')
    this.addCap = db.prepare('INSERT OR REPLACE INTO agent_capabilities (did, type, confidence) VALUES (?, ?, ?)')
    this.countStmt = db.prepare('SELECT COUNT(*) AS n FROM agents')
    // one simple statement per end (a single UPDATE … WHERE did IN (?, ?) measured 1.5 x slower than both)
    this.sent = db.prepare(
      'UPDATE agents SET messages_sent = messages_sent + 1, last_seen_at = MAX(last_seen_at, ?) WHERE did = ?',
    )
    this.received = db.prepare(
      'UPDATE agents SET messages_received = messages_received + 1, last_seen_at = MAX(last_seen_at, ?) WHERE did = ?',
    )
    this.bump = db.prepare(
      `UPDATE agents SET messages_sent = messages_sent + ?, messages_received = messages_received + ?,
       last_seen_at = MAX(last_seen_at, ?) WHERE did = ?`,
    )
    this.levels = new SavepointLevels<Map<string, Count>>({
      fresh: () => new Map(),
      fold: (below, top) => top.forEach((c, did) => add(below, did, c)),
      write: (level) => level.forEach((c, did) => this.bump.run(c.sent, c.received, c.at, did)),
    })
  }

  /** Insert or update an agent from its latest registration. */
  upsert(row: Omit<AgentRow, Counted>): void {
    // counted while the agent was unknown, they counted nothing (an UPDATE of no row): they must not count now
    if (this.pending(row.did) !== undefined && this.hostOf(row.did) === undefined) {
      for (const level of this.levels.all) level.delete(row.did)
    }
    this.upsertStmt.run({ ...row, capabilities: JSON.stringify(row.capabilities) })
    if (this.hosts.has(row.did)) this.hosts.set(row.did, row.peerId)
    this.delCaps.run(row.did)
    for (const c of row.capabilities) this.addCap.run(row.did, c.type, c.confidence ?? null)
  }

  /** Record the renewal window of the stored agent `did` (node/services/renewal-budget.ts). */
  setRenewals(did: string, window: { readonly start: number; readonly count: number }): void {
    prepared(this.db, 'UPDATE agents SET renewal_start = ?, renewals = ? WHERE did = ?').run(
      window.start,
      window.count,
      did,
    )
  }

  /** One agent, or undefined. */
  get(did: string): AgentRow | undefined {
    const raw = this.getStmt.get(did)
    return raw ? this.counted(toRow(raw)) : undefined
  }

  /** True when some stored agent names `did` as its controller. */
  controls(did: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM agents WHERE controller = ? LIMIT 1').get(did) !== undefined
  }

  /**
   * True when some stored agent names `did` as its controller and named it
   * in its first registration here too (a host from the start, not one a
   * later registration moved the agent to; docs/protocol.md §7).
   */
  hostsFromFirst(did: string): boolean {
    const sql = 'SELECT 1 FROM agents WHERE controller = ? AND first_controller = ? LIMIT 1'
    return prepared(this.db, sql).get(did, did) !== undefined
  }

  /**
   * The distinct capability types of this node's own active agents with how
   * many of them hold each, the oldest agent's types first (docs/protocol.md
   * §9, "Capability discovery"): one grouped read in SQLite over the own
   * agents, no agent row built.
   */
  ownActiveTypeCounts(): { type: string; holders: number }[] {
    // agents first (CROSS JOIN keeps that order): each own agent's capabilities by its primary key
    const sql = `SELECT c.type AS type, COUNT(*) AS holders, MIN(a.created_at) AS first
      FROM agents a CROSS JOIN agent_capabilities c ON c.did = a.did
      WHERE a.origin = 'local' AND a.did NOT IN (SELECT did FROM key_states WHERE revoked = 1)
      GROUP BY c.type ORDER BY first, c.type`
    return prepared(this.db, sql).all() as { type: string; holders: number }[]
  }

  /**
   * True when `did` is one of this node's own agents (`OWN_AGENT_DIDS`): the
   * only recipients it takes deliveries for (docs/protocol.md §10). A
   * registration from the mesh that merely names this node's PeerId does not
   * make one (decision 0076).
   */
  isOwn(did: string): boolean {
    return prepared(this.db, `SELECT 1 FROM (${OWN_AGENT_DIDS}) WHERE did = ?`).get(did) !== undefined
  }

  /** The PeerId of the node hosting `did` (from its registration), or undefined for an unknown agent. */
  hostOf(did: string): string | undefined {
    return this.hosts.read(did, () => this.hostStmt.get(did)?.peer_id)
  }

  /** Forget every cached host (a rollback may have undone an `upsert`). */
  forgetCached(): void {
    this.hosts.clear()
  }

  /**
   * Agents matching a query, newest registration first: with `limit`, one
   * page read through the index, whatever the registry holds (`offset` rows
   * are stepped over in the index, `after` seeks to its row).
   */
  list(query: AgentQuery = {}): AgentRow[] {
    const where = agentsWhere(query)
    const sql = 'SELECT * FROM agents' + where.sql() + ' ORDER BY created_at DESC, did LIMIT ? OFFSET ?'
    const rows = prepared(this.db, sql).all(...where.params, query.limit ?? -1, query.offset ?? 0) as RawAgent[]
    return rows.map((r) => this.counted(toRow(r)))
  }

  /**
   * The agents matching `query`, best trust first, at most `query.limit` (agent-query.ts `agentsByTrust`),
   * ranked by the committed evidence: discovery reads outside transactions.
   */
  byTrust(query: AgentQuery, trust: TrustParams): AgentRow[] {
    return this.rows(agentsByTrust(query, trust))
  }

  /** This node's own active agents holding `capability`, best trust first, at most `limit` (`ownAgentsByTrust`). */
  ownByTrust(capability: string, minConfidence: number, limit: number, trust: TrustParams): AgentRow[] {
    return this.rows(ownAgentsByTrust(capability, minConfidence, limit, trust))
  }

  private rows(q: SqlQuery): AgentRow[] {
    return (prepared(this.db, q.sql).all(...q.params) as RawAgent[]).map((r) => this.counted(toRow(r)))
  }

  /** Number of agents matching `query` (its `limit`, `offset` and `after` aside): one count in SQLite. */
  countMatching(query: AgentQuery = {}): number {
    const where = agentsWhere({ ...query, after: undefined })
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM agents' + where.sql()).get(...where.params) as { n: number }).n
  }

  /**
   * The DIDs of this node's own agents whose registration names a PeerId
   * other than `peerId`, oldest first: what a start after a key rotation
   * renews (registration-refresh.ts); none on any other start.
   */
  localDidsNotAt(peerId: string): string[] {
    const sql = "SELECT did FROM agents WHERE origin = 'local' AND peer_id != ? ORDER BY created_at, did"
    return (prepared(this.db, sql).all(peerId) as { did: string }[]).map((r) => r.did)
  }

  /** Number of agents known (of one origin, when given). */
  count(origin?: 'local' | 'remote'): number {
    if (origin === undefined) return this.countStmt.get()?.n ?? 0
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM agents WHERE origin = ?').get(origin) as { n: number }).n
  }

  /** Count a stored message: sent by `from`, received by `to` (null for a broadcast), both seen at `at`. */
  countMessage(from: string, to: string | null, at: number): void {
    const top = this.levels.top
    if (top === undefined) {
      this.sent.run(at, from)
      if (to !== null) this.received.run(at, to)
      return
    }
    add(top, from, { sent: 1, received: 0, at })
    if (to !== null) add(top, to, { sent: 0, received: 1, at })
  }

  /** What the open levels counted for `did`, if anything. */
  private pending(did: string): Count | undefined {
    let total: Count | undefined
    for (const level of this.levels.all) {
      const c = level.get(did)
      if (c !== undefined) total = total === undefined ? { ...c } : merge(total, c)
    }
    return total
  }

  /** `row` with what the open levels counted for it. */
  private counted(row: AgentRow): AgentRow {
    const c = this.pending(row.did)
    if (c === undefined) return row
    return {
      ...row,
      messagesSent: row.messagesSent + c.sent,
      messagesReceived: row.messagesReceived + c.received,
      lastSeenAt: Math.max(row.lastSeenAt, c.at),
    }
  }
}

/** Add `c` to what `level` counted for `did`. */
function add(level: Map<string, Count>, did: string, c: Count): void {
  const old = level.get(did)
  if (old === undefined) level.set(did, { ...c })
  else merge(old, c)
}

function merge(into: Count, c: Count): Count {
  into.sent += c.sent
  into.received += c.received
  into.at = Math.max(into.at, c.at)
  return into
}
