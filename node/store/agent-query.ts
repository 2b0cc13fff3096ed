/** The filters and paging of the agent list (store/agents-repo.ts `list`, `countMatching`). */
import type { TrustParams } from '../core/index.js'
import { SqlWhere } from './sql-where.js'

/** Where a page of agents ends: the last row's `createdAt` and DID (the list's order, newest first). */
export interface AgentCursor {
  readonly createdAt: number
  readonly did: string
}

/** Filter for listing agents; the list is newest registration first (index `agents_newest`, migration 15). */
export interface AgentQuery {
  readonly capability?: string
  readonly minConfidence?: number
  readonly origin?: 'local' | 'remote'
  /** Revoked agents (their key state says so) or the others. */
  readonly status?: 'active' | 'revoked'
  readonly limit?: number
  /** Rows of the list skipped first (`GET /snapshot`'s `cursor`). */
  readonly offset?: number
  /** Only the rows after this one in the list's order: the next page of a list read a page at a time. */
  readonly after?: AgentCursor
}

/** The DIDs whose key state is revoked (partial index `key_states_revoked_order`, migration 19). */
const REVOKED_DIDS = 'SELECT did FROM key_states WHERE revoked = 1'

/** The conditions of `query` on the `agents` table (its `limit` and `offset` are the caller's). */
export function agentsWhere(query: AgentQuery): SqlWhere {
  const { after, status } = query
  return new SqlWhere()
    .add(
      query.capability !== undefined,
      'did IN (SELECT did FROM agent_capabilities WHERE type = ? AND COALESCE(confidence, 1) >= ?)',
      query.capability,
      query.minConfidence ?? 0,
    )
    .add(query.origin !== undefined, 'origin = ?', query.origin)
    .add(status === 'revoked', `did IN (${REVOKED_DIDS})`)
    .add(status === 'active', `did NOT IN (${REVOKED_DIDS})`)
    .add(
      after !== undefined,
      '(created_at < ? OR (created_at = ? AND did > ?))',
      after?.createdAt,
      after?.createdAt,
      after?.did,
    )
}

/** A statement and its parameters, in placeholder order. */
export interface SqlQuery {
  readonly sql: string
  readonly params: unknown[]
}

/**
 * An agent's trust score (core/trust.ts `trustScore`, docs/protocol.md §7) in SQL over its committed evidence,
 * `t` (scope `did`) and `r` (scope `revoked`): the same double-precision operations in the same order, so
 * ordering by it orders agents exactly as their records' `trustScore` does. Placeholders: α, α, β, w.
 */
const TRUST_SCORE = `CASE WHEN COALESCE(r.failures, 0) > 0 THEN 0.0 ELSE
  (? + COALESCE(t.successes, 0.0)) / (? + ? + COALESCE(t.successes, 0.0) + ? * COALESCE(t.failures, 0.0)) END`

/** The evidence `TRUST_SCORE` reads, one primary-key lookup each per agent. */
const EVIDENCE = `LEFT JOIN trust_evidence t ON t.scope = 'did' AND t.key = a.did
  LEFT JOIN trust_evidence r ON r.scope = 'revoked' AND r.key = a.did`

/** Best trust first; ties keep the list's order (newest registration first). */
const BY_TRUST = ' ORDER BY trust_rank DESC, a.created_at DESC, a.did LIMIT ?'

function scoreParams(p: TrustParams): number[] {
  return [p.alpha, p.alpha, p.beta, p.failureWeight]
}

/**
 * The agents matching `query`, best trust first, at most `query.limit` (`POST /discover`): the ranking is
 * SQLite's, over the matching rows' keys and evidence, and only the page is read whole.
 */
export function agentsByTrust(query: AgentQuery, trust: TrustParams): SqlQuery {
  const where = agentsWhere({ ...query, after: undefined })
  const sql = `SELECT a.*, ${TRUST_SCORE} AS trust_rank FROM agents a ${EVIDENCE}${where.sql()}${BY_TRUST}`
  return { sql, params: [...scoreParams(trust), ...where.params, query.limit ?? -1] }
}

/**
 * The node's own active agents holding `capability` with at least `minConfidence`, best trust first, at most
 * `limit` (`/meshsig/discover/1.0.0`, docs/protocol.md §9): read from the index of own agents (`agents_local`,
 * migration 18), each checked by primary key, so the work is that of the own agents whatever else is stored.
 */
export function ownAgentsByTrust(
  capability: string,
  minConfidence: number,
  limit: number,
  trust: TrustParams,
): SqlQuery {
  const sql = `SELECT a.*, ${TRUST_SCORE} AS trust_rank FROM agents a INDEXED BY agents_local ${EVIDENCE}
    WHERE a.origin = 'local'
      AND EXISTS (SELECT 1 FROM agent_capabilities c WHERE c.did = a.did AND c.type = ? AND COALESCE(c.confidence, 1) >= ?)
      AND NOT EXISTS (SELECT 1 FROM key_states k WHERE k.did = a.did AND k.revoked = 1)${BY_TRUST}`
  return { sql, params: [...scoreParams(trust), capability, minConfidence, limit] }
}
