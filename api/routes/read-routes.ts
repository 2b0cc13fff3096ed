/** Read-only endpoints: health, statistics, the snapshot, agents, messages, connections, peers (the audit export is in audit-routes). */
import { Router } from 'express'
import { toMsigDid } from '../../node/core/did.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { RouteContext } from '../app.js'
import type { ApiHealth } from '../types.js'
import { agentsQuery, limitQuery, messagesQuery, parseInput } from '../schemas.js'
import { apiVersion } from '../version.js'

/** Routes that change nothing (open to every client that passes the Host check). */
export function readRoutes(ctx: RouteContext): Router {
  const r = Router()
  const { node } = ctx

  r.get('/health', (_req, res) => {
    const health: ApiHealth = { ...node.info(), version: apiVersion(), trustLoopback: ctx.opts.trustLoopback }
    res.json(health)
  })

  r.get('/stats', (_req, res) => {
    res.json(node.stats())
  })

  r.get('/snapshot', (_req, res) => {
    res.json(node.snapshot())
  })

  r.get('/agents', (req, res) => {
    const q = parseInput(agentsQuery, { ...req.query }, 'query')
    let agents = node.agents.list({
      ...(q.capability !== undefined ? { capability: q.capability } : {}),
      ...(q.origin !== undefined ? { origin: q.origin } : {}),
    })
    if (q.status !== undefined) agents = agents.filter((a) => a.status === q.status)
    const total = agents.length
    res.json({ agents: q.limit !== undefined ? agents.slice(0, q.limit) : agents, total })
  })

  r.get('/agents/:did', (req, res) => {
    const did = toMsigDid(String(req.params.did))
    const record = node.agents.record(did)
    if (record === undefined) throw new MeshsigError('NOT_FOUND', `unknown agent ${did}`, { did })
    res.json({ ...record, duplicity: node.duplicities(did) })
  })

  r.get('/revoked', (_req, res) => {
    const revoked = node.revoked()
    res.json({ revoked, total: revoked.length })
  })

  r.get('/connections', (req, res) => {
    const q = parseInput(limitQuery, { ...req.query }, 'query')
    const connections = node.connections(q.limit)
    res.json({ connections, total: node.stats().connections })
  })

  r.get('/messages', (req, res) => {
    const q = parseInput(messagesQuery, { ...req.query }, 'query')
    const did = q.did !== undefined ? toMsigDid(q.did) : undefined
    const messages = node.listMessages({
      limit: q.limit ?? 100,
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(did ? { did } : {}),
    })
    res.json({ messages, total: node.stats().messages })
  })

  r.get('/peers', (_req, res) => {
    const peers = node.peers()
    res.json({ peers, total: peers.length })
  })

  return r
}
