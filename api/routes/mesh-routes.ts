/** The mesh: handshakes between agents, dialling peers, discovery across the network. */
import { Router } from 'express'
import type { RouteContext } from '../app.js'
import { connectBody, discoverNetworkBody, handshakeBody, parseInput } from '../schemas.js'
import { requireOperator } from '../../node/services/authority.js'
import { auditRefusal } from '../refusals.js'
import { requireToken } from '../security.js'
import type { ApiConnected, ApiHandshake, ApiNetworkDiscovery } from '../types.js'

/** Mesh routes: handshakes act as an agent; dialling and network queries are operator actions (docs/protocol.md §8). */
export function meshRoutes(ctx: RouteContext): Router {
  const r = Router()
  const token = requireToken(ctx.opts, ctx.resolveCredential)

  r.post('/handshake', token, async (req, res) => {
    const b = parseInput(handshakeBody, req.body)
    const connection = await auditRefusal(ctx, req, { action: 'handshake', subject: b.fromDid }, (authority) =>
      ctx.node.handshake({ ...b, authority }),
    )
    res.json({ established: true, verified: true, connection } satisfies ApiHandshake)
  })

  r.post('/peers/connect', token, async (req, res) => {
    const b = parseInput(connectBody, req.body)
    const peerIds = await auditRefusal(ctx, req, { action: 'peers.connect', subject: null }, (authority) => {
      requireOperator(authority, 'connecting a peer')
      return ctx.node.connectPeer((b.address ?? b.url ?? b.multiaddr)!)
    })
    res.json({ connected: true, peerIds } satisfies ApiConnected)
  })

  r.post('/discover/network', token, async (req, res) => {
    const b = parseInput(discoverNetworkBody, req.body)
    const found = await auditRefusal(ctx, req, { action: 'discover.network', subject: null }, (authority) => {
      requireOperator(authority, 'querying the network')
      return ctx.node.discoverNetwork(b.capability, b.minConfidence ?? 0, b.limit ?? 50)
    })
    // cards only for agents hosted here: a remote agent's card is its own node's to sign (docs/interop.md §2)
    const cards = b.format === 'a2a' ? ctx.node.agentCards(found.local.map((a) => a.did)) : undefined
    res.json({ ...found, ...(cards ? { cards } : {}) } satisfies ApiNetworkDiscovery)
  })
  return r
}
