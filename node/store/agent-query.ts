/** The filters and paging of the agent list (store/agents-repo.ts `list`, `countMatching`). */
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

/** The DIDs whose key state is revoked (partial index `key_states_revoked`, migration 15). */
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
