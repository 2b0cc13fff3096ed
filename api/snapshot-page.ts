/**
 * A bounded snapshot of the network state (`GET /snapshot`, the stream's
 * first event; issue 9): at most `limit` agents (from `cursor` on), `limit`
 * revocations and connections, and the newest messages up to `limit` and
 * up to `snapshot.messageBytes` of bodies. `page` says what was left out and
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

/** Messages read from the store per step while filling a page. */
const STEP = 8

/**
 * The newest messages, at most `limit`, whose bodies fit in `maxBytes` (the
 * newest always, so a page is never empty by size), read a few at a time so
 * that a history of large messages is never loaded whole. `truncated` when
 * the byte budget stopped the page before `limit`.
 */
function newestWithin(
  node: SnapshotNode,
  limit: number,
  maxBytes: number,
): { messages: MessageView[]; truncated: boolean } {
  const out: MessageView[] = []
  let bytes = 0
  let before: number | undefined
  while (out.length < limit) {
    const batch = node.listMessages({
      limit: Math.min(STEP, limit - out.length),
      ...(before !== undefined ? { before } : {}),
    })
    for (const m of batch) {
      bytes += Buffer.byteLength(m.message)
      if (out.length > 0 && bytes > maxBytes) return { messages: out, truncated: true }
      out.push(m)
    }
    if (batch.length < STEP) break
    before = batch.at(-1)!.seq
  }
  return { messages: out, truncated: false }
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
  const { messages, truncated } = newestWithin(node, limit, limits.messageBytes)
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
