/** Read-only endpoints: /health and the node's state. */
import { Router } from 'express'
import type { RouteContext } from '../app.js'
import { apiVersion } from '../version.js'

/** Routes that change nothing. */
export function readRoutes(ctx: RouteContext): Router {
  const r = Router()
  r.get('/health', (_req, res) => {
    res.json({ ...ctx.node.info(), version: apiVersion() })
  })
  return r
}
