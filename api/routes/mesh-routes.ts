/** The mesh: handshakes between agents, dialling peers, discovery across the network. */
import { Router } from 'express'
import type { RouteContext } from '../app.js'
import { connectBody, discoverNetworkBody, handshakeBody, parseInput } from '../schemas.js'
import { requireToken } from '../security.js'

/** Mesh routes (all need the token when the API is bound off loopback). */
export function meshRoutes(ctx: RouteContext): Router {
  const r = Router()
  const token = requireToken(ctx.opts)

  r.post('/handshake', token, async (req, res) => {
    const b = parseInput(handshakeBody, req.body)
    const connection = await ctx.node.handshake(b)
    res.json({ established: true, verified: true, connection })
  })

  r.post('/peers/connect', token, async (req, res) => {
    const b = parseInput(connectBody, req.body)
    const peerIds = await ctx.node.connectPeer((b.address ?? b.url ?? b.multiaddr)!)
    res.json({ connected: true, peerIds })
  })

  r.post('/discover/network', token, async (req, res) => {
    const b = parseInput(discoverNetworkBody, req.body)
    res.json(await ctx.node.discoverNetwork(b.capability, b.minConfidence ?? 0, b.limit ?? 50))
  })
  return r
}
