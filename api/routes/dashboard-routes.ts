/**
 * The dashboard's lane (api/dashboard-pass.ts; docs/api.md, "Dashboard
 * pass"): the operator asks for a one-time pass, the page redeems it for a
 * session secret it sends as a header. The redemption is served before the rate limiter, as
 * `/health` is: the lane is for a page whose anonymous bucket another local
 * user may have spent.
 */
import express, { Router } from 'express'
import type { RouteContext } from '../app.js'
import { PASS_TTL_MS, SESSION_IDLE_MS, type DashboardSessions } from '../dashboard-pass.js'
import { auditRefusal } from '../refusals.js'
import { jsonOnly, requireToken } from '../security.js'
import { requireOperator } from '../../node/services/authority.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { ApiDashboardPass, ApiDashboardSession } from '../types.js'

/** `POST /dashboard/session {pass}`: a session secret for a live pass (before the rate limiter). */
export function dashboardSessionRoutes(sessions: DashboardSessions): Router {
  const r = Router()
  r.post('/dashboard/session', jsonOnly, express.json({ limit: '1kb', strict: true }), (req, res) => {
    const session = sessions.redeem((req.body as { pass?: unknown } | undefined)?.pass)
    if (session === undefined) {
      const why = 'the dashboard pass is unknown, spent or expired: run `meshsig dashboard` for a new link'
      throw new MeshsigError('UNAUTHORIZED', why)
    }
    res.json({ session, idleMs: SESSION_IDLE_MS } satisfies ApiDashboardSession)
  })
  return r
}

/** `POST /dashboard/pass`: a one-time pass, for the operator only. */
export function dashboardPassRoutes(ctx: RouteContext, sessions: DashboardSessions): Router {
  const r = Router()
  r.post('/dashboard/pass', requireToken(ctx.opts, ctx.resolveCredential), async (req, res) => {
    const issued = await auditRefusal(ctx, req, { action: 'dashboard.pass', subject: null }, (authority) => {
      requireOperator(authority, 'issuing a dashboard pass')
      return sessions.issue()
    })
    res.status(201).json({ ...issued, ttlMs: PASS_TTL_MS } satisfies ApiDashboardPass)
  })
  return r
}
