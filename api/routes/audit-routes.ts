/**
 * The audit log and trust (SPEC §5, §6): the node's latest signed checkpoint
 * and a new one on demand (operator only; gossiped on `meshsig/v1/audit`),
 * RFC 9162 inclusion and consistency proofs, and the trust scores the audit
 * log's evidence gives per agent, delivering peer and connection.
 */
import { Router, text } from 'express'
import { MeshsigError } from '../../node/core/errors.js'
import { z } from 'zod'
import { toMsigDid } from '../../node/core/did.js'
import type { RouteContext } from '../app.js'
import { parseInput } from '../schemas.js'
import { requireOperator } from '../../node/services/authority.js'
import { auditRefusal } from '../refusals.js'
import { requireToken } from '../security.js'

const size = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number)

/** `GET /audit/proof/:index` query. */
const proofQuery = z.strictObject({ size: size.optional() })

/** `GET /audit/export` query: a past size the node signed a checkpoint for. */
const exportQuery = z.strictObject({ size: size.optional() })

/** `GET /audit/consistency` query. */
const consistencyQuery = z.strictObject({ first: size, second: size.optional() })

/** Audit and trust routes. */
export function auditRoutes(ctx: RouteContext): Router {
  const r = Router()
  const { node } = ctx

  r.get('/audit/export', (req, res) => {
    const q = parseInput(exportQuery, { ...req.query }, 'query')
    res.json(node.auditExport(q.size))
  })

  r.get('/audit/checkpoint', (req, res) => {
    const latest = node.audit.latest()
    if (req.accepts(['application/json', 'text/plain']) === 'text/plain') {
      // the C2SP tlog-checkpoint signed note, with the cosignatures gathered (docs/audit.md)
      if (latest === undefined) throw new MeshsigError('NOT_FOUND', 'the node has signed no checkpoint yet')
      res.type('text/plain; charset=utf-8').send(node.notes.note(latest))
      return
    }
    const note = latest === undefined ? null : node.notes.note(latest)
    res.json({ checkpoint: latest ?? null, size: node.audit.size(), note })
  })

  r.get('/audit/keys', (_req, res) => {
    res.json({ origin: node.did, ...node.notes.vkeys(), binding: node.witness.binding() })
  })

  r.post('/witness/add-checkpoint', text({ type: () => true, limit: '16kb' }), (req, res) => {
    if (typeof req.body !== 'string')
      throw new MeshsigError('INVALID_INPUT', 'the body is the C2SP add-checkpoint text')
    const answer = node.witness.addCheckpoint(req.body)
    res.status(answer.status).type(answer.contentType).send(answer.body)
  })

  r.get('/witness/evidence', (_req, res) => {
    const evidence = node.witness.evidence()
    res.json({ evidence, total: evidence.length })
  })

  r.post('/audit/checkpoint', requireToken(ctx.opts, ctx.resolveCredential), async (req, res) => {
    const signed = await auditRefusal(ctx, req, { action: 'audit.checkpoint', subject: null }, (authority) => {
      requireOperator(authority, 'signing a checkpoint on demand')
      return node.checkpointOnDemand()
    })
    // at most one per limits.onDemandCheckpointMs (issue 9): inside it, 200 with the latest, nothing signed
    const { checkpoint, fresh } = signed
    res.status(fresh ? 201 : 200).json({ checkpoint, gossiped: fresh, ...(fresh ? {} : { reused: true }) })
  })

  r.get('/audit/proof/:index', (req, res) => {
    const index = parseInput(size, String(req.params.index), 'index')
    const q = parseInput(proofQuery, { ...req.query }, 'query')
    res.json(node.audit.inclusion(index, q.size))
  })

  r.get('/audit/consistency', (req, res) => {
    const q = parseInput(consistencyQuery, { ...req.query }, 'query')
    res.json(node.audit.consistency(q.first, q.second))
  })

  r.get('/trust', (_req, res) => {
    res.json(node.trust.report())
  })

  r.get('/trust/:did', (req, res) => {
    const did = toMsigDid(String(req.params.did))
    const connections = node.trust.report().connections.filter((c) => c.a === did || c.b === did)
    res.json({ ...node.trust.agent(did), connections })
  })
  return r
}
