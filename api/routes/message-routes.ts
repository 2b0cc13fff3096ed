/**
 * Signatures and messages: `POST /verify` (plain signature, the public
 * verifier), `POST /messages/send` (three signing paths of docs/protocol.md §8) and
 * `POST /messages/verify`. The logic lives in signature-handlers.ts, shared
 * with the fast path.
 */
import { Router } from 'express'
import type { RouteContext } from '../app.js'
import { requireToken } from '../security.js'
import { messageVerifyHandler, sendHandler, verifyHandler } from '../signature-handlers.js'

/** Signature and message routes. */
export function messageRoutes(ctx: RouteContext): Router {
  const r = Router()
  r.post('/verify', async (req, res) => {
    res.json(await verifyHandler(ctx, req.body))
  })
  r.post('/messages/send', requireToken(ctx.opts, ctx.resolveCredential), async (req, res) => {
    res.json(await sendHandler(ctx, req.body, req))
  })
  r.post('/messages/verify', async (req, res) => {
    res.json(await messageVerifyHandler(ctx, req.body))
  })
  return r
}
