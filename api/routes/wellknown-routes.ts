/**
 * Documents for other ecosystems (docs/interop.md): the Web Bot Auth key
 * directory (`GET /.well-known/http-message-signatures-directory`, signed,
 * §1) and A2A agent cards (`GET /.well-known/agent-card.json` for the node,
 * `GET /agents/:did/agent-card.json` per hosted agent, §2). Public reads:
 * everything in them is public keys and signed descriptions.
 */
import { Router } from 'express'
import type { RouteContext } from '../app.js'
import { MeshsigError, toMsigDid } from '../../node/core/index.js'
// the two modules that hold these, not node/proxy/index.js: an idle node without --proxy loads no proxy listener code (issue 13)
import { WBA_DIRECTORY_MEDIA_TYPE, WBA_DIRECTORY_PATH } from '../../node/proxy/web-bot-auth.js'
import { WBA_DIRECTORY_MAX_AGE_S } from '../../node/proxy/web-bot-auth-interop.js'

/** The well-known routes; the directory answers 404 while no proxy signs in Web Bot Auth mode. */
export function wellknownRoutes(ctx: RouteContext): Router {
  const r = Router()

  r.get(WBA_DIRECTORY_PATH, (req, res) => {
    const authority = String(req.headers.host ?? '').toLowerCase()
    const directory = ctx.node.keyDirectory(authority, Date.now())
    if (directory === undefined) {
      throw new MeshsigError('NOT_FOUND', 'no proxy of this node signs in Web Bot Auth mode (docs/interop.md)')
    }
    res.status(200)
    res.setHeader('content-type', WBA_DIRECTORY_MEDIA_TYPE)
    res.setHeader('cache-control', `max-age=${WBA_DIRECTORY_MAX_AGE_S}`)
    for (const [name, value] of Object.entries(directory.headers)) res.setHeader(name, String(value))
    res.end(directory.body)
  })

  r.get('/.well-known/agent-card.json', (_req, res) => {
    res.json(ctx.node.nodeCard())
  })

  r.get('/agents/:did/agent-card.json', (req, res) => {
    res.json(ctx.node.agentCard(toMsigDid(String(req.params.did))))
  })
  return r
}
