/**
 * The audit log and trust (docs/audit.md, §6): the node's latest signed checkpoint
 * and a new one on demand (operator only; gossiped on `meshsig/v1/audit`),
 * RFC 9162 inclusion and consistency proofs, and the trust scores the audit
 * log's evidence gives per agent, delivering peer and connection.
 */
import { Router, text, type Request, type Response } from 'express'
import { MeshsigError } from '../../node/core/errors.js'
import * as z from 'zod'
import { toMsigDid } from '../../node/core/did.js'
import type { RouteContext } from '../app.js'
import { agentTrustQuery, parseInput, TRUST_PAGE_DEFAULT, trustQuery } from '../schemas.js'
import { pageOf, trustCursor } from '../list-page.js'
import { requireOperator } from '../../node/services/authority.js'
import { auditRefusal } from '../refusals.js'
import { requireToken } from '../security.js'
import { ndjsonExport } from '../../node/audit/export-stream.js'
import { everyAgent, everyConnection, everyRevoked, sendChunks } from '../chunked-response.js'
import { DEFAULT_TRUST_PARAMS } from '../../node/core/index.js'
import { TRUST_FORMULA } from '../../node/services/trust.js'
import type {
  ApiAgentTrust,
  ApiTrustPage,
  ApiCheckpoint,
  ApiCheckpointSigned,
  ApiWitnessEvidence,
  InclusionProofView,
} from '../types.js'

const size = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number)

/** `GET /audit/proof/:index` query. */
const proofQuery = z.strictObject({ size: size.optional() })

/** `GET /audit/export` query: a past size the node signed a checkpoint for, and the format (docs/audit.md). */
const exportQuery = z.strictObject({ size: size.optional(), format: z.enum(['json', 'ndjson']).optional() })

/** The NDJSON media type of the streamed export. */
const NDJSON = 'application/x-ndjson'

/** Stream the NDJSON export of `size` (default: the current checkpoint's). */
async function streamExport(ctx: RouteContext, res: Response, size: number | undefined): Promise<void> {
  const { node } = ctx
  const src = node.auditNdjson(size)
  const info = node.info()
  const chunks = ndjsonExport(src, {
    header: {
      exportedAt: new Date().toISOString(),
      node: { did: info.did, name: info.name, publicKey: src.nodePublicKey, peerId: info.peerId },
      ...node.auditorView(src.checkpoint),
    },
    agents: () => everyAgent(node),
    connections: () => everyConnection(node),
    revoked: () => everyRevoked(node),
    trustFormula: TRUST_FORMULA,
    trustParams: DEFAULT_TRUST_PARAMS,
  })
  // a failure once the header is sent cuts the stream short; a verifier reports the missing end line
  await sendChunks(res, NDJSON, chunks)
}

/** `GET /audit/consistency` query. */
const consistencyQuery = z.strictObject({ first: size, second: size.optional() })

/** Stored message bytes past which a JSON export is large (its envelopes are held twice while it is written). */
const LARGE_JSON_MESSAGE_BYTES = 4 * 1024 * 1024

/**
 * Large JSON exports, node-wide: one is built whole on the event loop (about 1.4 s and 300 MB for 50,000
 * entries), so above `limits.jsonExport.entries` entries or 4 MiB of stored messages at most one per
 * `intervalMs`, and none while another is still being written (a reader that never reads held one for the
 * send deadline: four held 481 MiB, attack review 101 F3; docs/api.md). The NDJSON form streams a page at a
 * time (api/chunked-response.ts) and has no such gate. `admit` answers the seconds to wait (0: go on), and
 * for a large export admitted the `release` to call when its answer ends.
 */
interface JsonGate {
  admit(size: number): { readonly retryAfter: number; readonly release?: () => void }
}

function largeJsonGate(ctx: RouteContext): JsonGate {
  let last = -Infinity
  let writing = false
  return {
    admit(size) {
      const { entries, intervalMs } = ctx.node.bounds().jsonExport
      if (size <= entries && ctx.node.storedMessageBytes() <= LARGE_JSON_MESSAGE_BYTES) return { retryAfter: 0 }
      const wait = writing ? intervalMs : last + intervalMs - Date.now()
      if (wait > 0) return { retryAfter: Math.ceil(wait / 1000) }
      last = Date.now()
      writing = true
      return { retryAfter: 0, release: () => void (writing = false) }
    },
  }
}

async function exportHandler(ctx: RouteContext, gate: JsonGate, req: Request, res: Response): Promise<void> {
  const q = parseInput(exportQuery, { ...req.query }, 'query')
  const asked = q.format ?? (req.accepts(['application/json', NDJSON]) === NDJSON ? 'ndjson' : 'json')
  if (asked === 'ndjson') return streamExport(ctx, res, q.size)
  const { retryAfter, release } = gate.admit(q.size ?? ctx.node.auditSize())
  if (retryAfter > 0) {
    res.setHeader('Retry-After', String(retryAfter))
    res.status(429).json({
      error: `a JSON export of a log this large is built one at a time and at most once per ${ctx.node.bounds().jsonExport.intervalMs / 1000} s: retry in ${retryAfter} s, or stream it with ?format=ndjson (meshsig audit --ndjson --out FILE)`,
      code: 'RATE_LIMITED',
      retryAfter,
    })
    return
  }
  if (release !== undefined) res.once('close', release)
  try {
    const report = ctx.node.auditExport(q.size)
    res.json({ ...report, ...ctx.node.auditorView(report.checkpoint) })
  } catch (err) {
    release?.()
    throw err
  }
}

/** Audit and trust routes. */
export function auditRoutes(ctx: RouteContext): Router {
  const r = Router()
  const { node } = ctx

  const gate = largeJsonGate(ctx)
  r.get('/audit/export', (req, res) => exportHandler(ctx, gate, req, res))

  r.get('/audit/checkpoint', (req, res) => {
    const latest = node.latestCheckpoint()
    if (req.accepts(['application/json', 'text/plain']) === 'text/plain') {
      // the C2SP tlog-checkpoint signed note, with the cosignatures gathered (docs/audit.md)
      if (latest === undefined) throw new MeshsigError('NOT_FOUND', 'the node has signed no checkpoint yet')
      res.type('text/plain; charset=utf-8').send(node.checkpointNote(latest))
      return
    }
    const note = latest === undefined ? null : node.checkpointNote(latest)
    res.json({ checkpoint: latest ?? null, size: node.auditSize(), note } satisfies ApiCheckpoint)
  })

  r.get('/audit/keys', (_req, res) => {
    res.json({ origin: node.info().did, ...node.logVerifierKeys(), binding: node.witnessBinding() })
  })

  r.post('/witness/add-checkpoint', text({ type: () => true, limit: '16kb' }), (req, res) => {
    if (typeof req.body !== 'string')
      throw new MeshsigError('INVALID_INPUT', 'the body is the C2SP add-checkpoint text')
    const answer = node.witnessAddCheckpoint(req.body)
    // exactly the spec's Content-Type (409: `text/x.tlog.size`), without the charset express would add
    res.status(answer.status).setHeader('Content-Type', answer.contentType)
    res.end(answer.body)
  })

  r.get('/witness/evidence', (_req, res) => {
    const evidence = node.witnessEvidence()
    res.json({ evidence, total: evidence.length } satisfies ApiWitnessEvidence)
  })

  r.post('/audit/checkpoint', requireToken(ctx.opts, ctx.resolveCredential), async (req, res) => {
    const signed = await auditRefusal(ctx, req, { action: 'audit.checkpoint', subject: null }, (authority) => {
      requireOperator(authority, 'signing a checkpoint on demand')
      return node.checkpointOnDemand()
    })
    // at most one per limits.onDemandCheckpointMs (issue 9): inside it, 200 with the latest, nothing signed
    const { checkpoint, fresh } = signed
    const body: ApiCheckpointSigned = { checkpoint, gossiped: fresh, ...(fresh ? {} : { reused: true as const }) }
    res.status(fresh ? 201 : 200).json(body)
  })

  r.get('/audit/proof/:index', (req, res) => {
    const index = parseInput(size, String(req.params.index), 'index')
    const q = parseInput(proofQuery, { ...req.query }, 'query')
    res.json(node.inclusionProof(index, q.size) satisfies InclusionProofView)
  })

  r.get('/audit/consistency', (req, res) => {
    const q = parseInput(consistencyQuery, { ...req.query }, 'query')
    res.json(node.consistencyProof(q.first, q.second))
  })

  trustRoutes(r, node)
  return r
}

/** `GET /trust` and `GET /trust/:did`, a page at a time (docs/protocol.md §7; decision 0081). */
function trustRoutes(r: Router, node: RouteContext['node']): void {
  r.get('/trust', (req, res) => {
    res.json(trustPage(node, parseInput(trustQuery, { ...req.query }, 'query')) satisfies ApiTrustPage)
  })

  r.get('/trust/:did', (req, res) => {
    const did = toMsigDid(String(req.params.did))
    const q = parseInput(agentTrustQuery, { ...req.query }, 'query')
    const limit = q.limit ?? TRUST_PAGE_DEFAULT
    // that DID's own rows, never the whole report (review 116; docs/protocol.md §7)
    const { rows: connections, next } = pageOf(node.agentConnections(did, q.cursor ?? '', limit + 1), limit, (c) =>
      c.a === did ? c.b : c.a,
    )
    res.json({ ...node.agentTrust(did), connections, next } satisfies ApiAgentTrust)
  })
}

/**
 * One page of `GET /trust` (decision 0081): of each list at most `limit` rows after the cursor's key, read as
 * `limit + 1` so that `next` says which lists have more.
 */
function trustPage(node: RouteContext['node'], q: ReturnType<typeof trustQuery.parse>): ApiTrustPage {
  const limit = q.limit ?? TRUST_PAGE_DEFAULT
  const report = node.trustPage(q.cursor ?? { agents: '', peers: '', connections: '' }, limit + 1)
  const agents = pageOf(report.agents, limit, (a) => a.did)
  const peers = pageOf(report.peers, limit, (p) => p.peer)
  const connections = pageOf(report.connections, limit, (c) => `${c.a} ${c.b}`)
  return {
    ...report,
    agents: agents.rows,
    peers: peers.rows,
    connections: connections.rows,
    limit,
    next: trustCursor([agents.next, peers.next, connections.next]),
  }
}
