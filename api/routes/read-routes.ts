/** Read-only endpoints: health, statistics, the snapshot, agents, messages, connections, peers (the audit export is in audit-routes). */
import { Router } from 'express'
import { toMsigDid } from '../../node/core/did.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { RouteContext } from '../app.js'
import type {
  ApiAgentDetail,
  ApiAgentHistory,
  ApiAgentList,
  ApiConnectionPage,
  ApiHealth,
  ApiLinkHistory,
  ApiMessagePage,
  ApiPeerList,
  ApiRateHistory,
  ApiRevokedList,
  ApiSnapshot,
  ApiStoredMessage,
  NodeStats,
} from '../types.js'
import { agentsQuery, connectionsQuery, messagesQuery, parseInput, revokedQuery } from '../schemas.js'
import { LIST_PAGE_DEFAULT, LIST_PAGE_MAX } from '../../node/limits.js'
import { afterAgent, afterRevoked, agentCursor, connectionCursor, pageOf, revokedCursor } from '../list-page.js'
import { answerTokenChallenge } from '../token-proof.js'
import { apiVersion } from '../version.js'
import { snapshotPage, snapshotQuery } from '../snapshot-page.js'
import { agentListChunks, revokedListChunks, sendChunks } from '../chunked-response.js'
import { jsonBytes, messagePage } from '../message-page.js'
import type { AgentQuery } from '../../node/store/index.js'

/**
 * `GET /health`, served before the rate limit (app.ts): it is cheap, health
 * checks poll it, and the CLI and MCP server ask it to prove the node holds
 * the token before they send it (decision 0034); counted against the shared
 * loopback bucket, other local clients could keep the operator's own CLI out.
 */
export function healthRoutes(ctx: RouteContext): Router {
  const r = Router()
  r.get('/health', (req, res) => {
    answerTokenChallenge(req, res, ctx.opts.token, (id) => ctx.node.credentialHashById(id))
    const health: ApiHealth = { ...ctx.node.info(), version: apiVersion(), trustLoopback: ctx.opts.trustLoopback }
    // a node that writes nothing more (decision 0093) fails health checks, so a supervisor restarts it; the
    // error shape too, so a client says why
    if (health.status === 'failed') res.status(503).json({ ...health, error: health.failure, code: 'INTERNAL' })
    else res.json(health)
  })
  return r
}

/** Routes that change nothing (open to every client that passes the Host check). */
export function readRoutes(ctx: RouteContext): Router {
  const r = Router()
  const { node } = ctx

  r.get('/stats', (_req, res) => {
    res.json(node.stats() satisfies NodeStats)
  })

  // bounded and paged (issue 9): ?limit (≤ snapshot.maxLimit) and ?cursor (page.agents.next)
  r.get('/snapshot', (req, res) => {
    const limits = node.bounds().snapshot
    res.json(snapshotPage(node, snapshotQuery({ ...req.query }, limits)) satisfies ApiSnapshot)
  })

  // with `limit`: one page read from the store (from `cursor` on) and a count; without: every agent, streamed
  // a page at a time (the seed's "list all agents"; docs/api.md, decision 0046)
  r.get('/agents', async (req, res) => {
    const q = parseInput(agentsQuery, { ...req.query }, 'query')
    const query: AgentQuery = {
      ...(q.capability !== undefined ? { capability: q.capability } : {}),
      ...(q.origin !== undefined ? { origin: q.origin } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
    }
    if (q.limit === undefined) return sendChunks(res, 'json', agentListChunks(node, query))
    // one row past the page tells whether another follows (`next`; api/list-page.ts)
    const read = node.listAgents({ ...query, limit: q.limit + 1, ...afterAgent(q.cursor) })
    const { rows: agents, next } = pageOf(read, q.limit, agentCursor)
    res.json({ agents, total: node.countAgents(query), next } satisfies ApiAgentList)
  })

  r.get('/agents/:did', (req, res) => {
    const did = toMsigDid(String(req.params.did))
    const record = node.agentRecord(did)
    if (record === undefined) throw new MeshsigError('NOT_FOUND', `unknown agent ${did}`, { did })
    res.json({ ...record, duplicity: node.duplicities(did) } satisfies ApiAgentDetail)
  })

  r.get('/revoked', async (req, res) => {
    const q = parseInput(revokedQuery, { ...req.query }, 'query')
    if (q.limit === undefined) return sendChunks(res, 'json', revokedListChunks(node))
    const read = node.revokedAfter(afterRevoked(q.cursor), q.limit + 1)
    const { rows, next } = pageOf(read, q.limit, revokedCursor)
    res.json({ revoked: rows.map((r) => r.view), total: node.revokedCount(), next } satisfies ApiRevokedList)
  })

  // a page, never every row (attack review H3-3): `limit` (default LIST_PAGE_DEFAULT, at most LIST_PAGE_MAX) from
  // `cursor` on; `next` is the cursor of the rest (docs/api.md `GET /connections`)
  r.get('/connections', (req, res) => {
    const q = parseInput(connectionsQuery, { ...req.query }, 'query')
    const limit = Math.min(q.limit ?? LIST_PAGE_DEFAULT, LIST_PAGE_MAX)
    const { rows, next } = pageOf(node.connections(limit + 1, q.cursor), limit, connectionCursor)
    res.json({ connections: rows, total: node.stats().connections, next } satisfies ApiConnectionPage)
  })

  // a page bounded by count and by bytes of JSON (`http.messagePageBytes`, attack review 98): never every stored
  // body at once; `next` is the `before` of the rest (api/message-page.ts)
  r.get('/messages', (req, res) => {
    const q = parseInput(messagesQuery, { ...req.query }, 'query')
    const did = q.did !== undefined ? toMsigDid(q.did) : undefined
    const query = { ...(q.before !== undefined ? { before: q.before } : {}), ...(did ? { did } : {}) }
    const maxBytes = node.bounds().http.messagePageBytes
    const { messages, next } = messagePage(node, query, { limit: q.limit ?? 100, maxBytes, sizeOf: jsonBytes })
    res.json({
      messages,
      total: did ? node.history().messageTotal(did) : node.stats().messages,
      next,
    } satisfies ApiMessagePage)
  })
  historyRoutes(r, node)

  r.get('/peers', (_req, res) => {
    const peers = node.peers()
    res.json({ peers, total: peers.length } satisfies ApiPeerList)
  })

  return r
}

/** History for the dashboard and verifier: a stored message by id, pairs, rates, an agent's key log and trust. */
function historyRoutes(r: Router, node: RouteContext['node']): void {
  r.get('/messages/:id', (req, res) => {
    const id = String(req.params.id)
    if (!/^[0-9a-f]{64}$/.test(id)) throw new MeshsigError('INVALID_INPUT', 'id must be a lowercase hex SHA-256')
    const found = node.history().message(id)
    if (found === undefined) throw new MeshsigError('NOT_FOUND', `no stored message ${id}`)
    const body: ApiStoredMessage = { ...found, delivery: node.delivery(id) ?? null }
    res.json(body)
  })
  // the pairs with the most recent traffic, as many as the dashboard draws (`http.linksPage`), from counts the
  // store keeps (decision 0067)
  r.get('/history/links', (_req, res) => {
    const { pairs, total, messages } = node.history().pairs(node.bounds().http.linksPage)
    const body: ApiLinkHistory = { links: pairs, total, messages }
    res.json(body)
  })
  r.get('/history/rates', (_req, res) => {
    const history = node.history()
    const body: ApiRateHistory = { minutes: history.rates(), trust: history.trustAverages() }
    res.json(body)
  })
  r.get('/history/agents/:did', (req, res) => {
    const did = toMsigDid(String(req.params.did))
    const history = node.history()
    const body: ApiAgentHistory = { did, keyEvents: history.keyLog(did), trust: history.trustOf(did) }
    res.json(body)
  })
}
