/**
 * A bounded snapshot of the network state (`GET /snapshot`, the stream's
 * first event; issue 9): at most `limit` agents (from `cursor` on), `limit`
 * revocations and connections, and the newest messages up to `limit` and
 * up to `snapshot.messageBytes` of their JSON as written. `page` says what was left out and
 * the cursor of the next page of agents; `/agents`, `/messages?before=` and
 * `/revoked` page through the rest. Each list is one page read from the store
 * (node/node-reads.ts `snapshot`), never the whole registry.
 */
import * as z from 'zod'
import type { SnapshotLimits } from '../node/limits.js'
import { DEFAULT_LIMITS } from '../node/limits.js'
import type { MessageQuery } from '../node/store/index.js'
import type { ConnectionView, MessageView, NodeSnapshot, SnapshotPageQuery } from '../node/services/report-service.js'
import type { ApiPeer, ApiSnapshot, NodeInfo } from './types.js'
import { parseInput } from './schemas.js'
import { jsonBytes, messagePage } from './message-page.js'

/** What the snapshot needs from the node. */
export interface SnapshotNode {
  snapshot(page: SnapshotPageQuery): NodeSnapshot<NodeInfo, ApiPeer>
  listMessages(query?: MessageQuery): MessageView[]
  connections(limit?: number): ConnectionView[]
  readonly limits?: { readonly snapshot: SnapshotLimits }
}

/** One page request. */
export interface SnapshotQuery {
  /** Items per list (≤ `maxLimit`; default `defaultLimit`). */
  readonly limit?: number
  /** Agents already seen (the `page.agents.next` of the previous page). */
  readonly cursor?: number
}

const digits = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a non-negative integer')
  .transform(Number)

/** Parse `?limit&cursor` (strict: other fields are refused as INVALID_INPUT). */
export function snapshotQuery(query: unknown, limits: SnapshotLimits): SnapshotQuery {
  const schema = z.strictObject({
    limit: digits.pipe(z.number().int().min(1).max(limits.maxLimit)).optional(),
    cursor: digits.optional(),
  })
  const q = parseInput(schema, query, 'query')
  return {
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
  }
}

/**
 * One bounded page of the node's snapshot: every list is read from the store
 * as one page (the agents from `cursor` on, the newest revocations,
 * connections and messages) with its total counted there, so a page costs
 * the same whatever the registry holds (decision 0046).
 */
export function snapshotPage(node: SnapshotNode, query: SnapshotQuery = {}): ApiSnapshot {
  const limits = node.limits?.snapshot ?? DEFAULT_LIMITS.snapshot
  const limit = Math.min(query.limit ?? limits.defaultLimit, limits.maxLimit)
  const cursor = query.cursor ?? 0
  const { totals, ...page } = node.snapshot({ limit, offset: cursor })
  const end = cursor + page.agents.length
  // the newest messages whose JSON, as written (each body twice, escaped), fits in `messageBytes`, read a few at a
  // time (api/message-page.ts): sized by their bodies, 1 MiB of control characters was 11.5 MiB (attack review 101).
  // Strict: a newest message bigger than the bound alone is left out too (truncated, none returned; H3-1, 0091)
  const bounds = { limit, maxBytes: limits.messageBytes, sizeOf: jsonBytes, strict: true }
  const { messages, next } = messagePage(node, {}, bounds)
  const truncated = next !== null && messages.length < limit
  return {
    ...page,
    connections: node.connections(limit),
    messages,
    page: {
      limit,
      agents: { total: totals.agents, next: end < totals.agents ? String(end) : null },
      revoked: { total: totals.revoked, truncated: totals.revoked > limit },
      messages: { returned: messages.length, truncated },
    },
  }
}
