/**
 * Per-client rate limit (docs/protocol.md §8): `rateLimit` requests per
 * window per client — its credential when it presents a valid one, else its
 * address (all of loopback counts as one; see `rateLimitKey` below) —
 * answered 429 with `Retry-After` and `{error, code, retryAfter, limit,
 * window}`. The client address is the socket's unless a trusted proxy
 * is configured (Express `trust proxy`), so `X-Forwarded-For` cannot be
 * spoofed to dodge the limit. With a trusted proxy on loopback any local
 * user can claim any forwarded address for a read; a registration still
 * counts by its socket (decision 0090). express-rate-limit's memory store
 * expires its counters every window, so the map never grows without bound.
 */
import type { Request, RequestHandler, Response } from 'express'
import type { IncomingMessage } from 'node:http'
import { createHash } from 'node:crypto'
import { rateLimit } from 'express-rate-limit'
import { bearerOf, isOperatorToken, type CredentialResolver } from './auth.js'
import { requestKey } from './client-key.js'
import type { ResolvedApiOptions } from './options.js'

/** The 429 body. */
export interface RateLimitBody {
  readonly error: string
  readonly code: 'RATE_LIMITED'
  /** Seconds until the window resets (same as the `Retry-After` header). */
  readonly retryAfter: number
  /** Requests allowed per window. */
  readonly limit: number
  /** Window length in seconds. */
  readonly window: number
}

function secondsUntil(reset: Date | undefined, windowMs: number): number {
  const ms = reset ? reset.getTime() - Date.now() : windowMs
  return Math.max(1, Math.ceil(ms / 1000))
}

/** The rate-limit middleware, or undefined when the limit is off (0). */
export function rateLimiter(
  opts: ResolvedApiOptions,
  keyOf: (req: IncomingMessage) => string,
  onLimited?: () => void,
): RequestHandler | undefined {
  if (opts.rateLimit <= 0) return undefined
  return rateLimit({
    windowMs: opts.rateWindowMs,
    limit: opts.rateLimit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req: Request) => keyOf(req),
    validate: { xForwardedForHeader: false, trustProxy: false, ip: false },
    // raw Node methods only: the fast path (fast-path.ts) runs this limiter outside Express
    handler: (req: Request, res: Response) => {
      onLimited?.()
      const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit
      const retryAfter = secondsUntil(info?.resetTime, opts.rateWindowMs)
      const body: RateLimitBody = {
        error: `too many requests: at most ${opts.rateLimit} per ${opts.rateWindowMs / 1000} s; retry in ${retryAfter} s`,
        code: 'RATE_LIMITED',
        retryAfter,
        limit: opts.rateLimit,
        window: opts.rateWindowMs / 1000,
      }
      res.statusCode = 429
      res.setHeader('Retry-After', String(retryAfter))
      res.setHeader('Content-Type', 'application/json; charset=utf-8')
      res.end(JSON.stringify(body))
    },
  })
}

/**
 * A registration: it mints an agent credential, that is, a bucket of its
 * own. Told by the path as the router matches it (case-insensitive, a
 * trailing slash allowed): `/AGENTS/REGISTER/` reaches the same handler, and
 * an exact compare let a credential holder register from its own bucket, each
 * new credential a new bucket (an attack review).
 */
function mintsCredential(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0]!.toLowerCase().replace(/\/+$/, '')
  return req.method === 'POST' && path === '/agents/register'
}

/**
 * The rate-limit bucket of a request: its credential when it presents a
 * valid one (so one local client's burst does not throttle another user),
 * else its address, with all of loopback one address (127.0.0.2 is not a
 * fresh client). A registration mints a credential, so an agent credential
 * gets it no bucket of its own: registering counts against the operator's
 * bucket or the address's (the socket's, never a forwarded one: behind a
 * proxy all its registrations share the proxy's bucket), and credentials
 * cannot be multiplied faster than that (docs/protocol.md §8). A request
 * without a bearer that carries a live dashboard session (`dashboardSession`, api/dashboard-pass.ts) counts
 * against that session: the operator's page keeps a lane of its own. So
 * does a read (`GET`) without a bearer that carries the operator token's
 * read lane (`readLane`, api/read-lane.ts): the MCP server's reads, which a
 * model makes, do not spend the bucket of the operator's actions (decision 0063).
 */
export function rateLimitKey(
  req: IncomingMessage,
  opts: ResolvedApiOptions,
  resolve: CredentialResolver,
  dashboardSession: (req: IncomingMessage) => string | undefined = () => undefined,
  readLane: (req: IncomingMessage) => boolean = () => false,
): string {
  const bearer = bearerOf(req)
  const operator = bearer !== undefined && isOperatorToken(opts, bearer)
  const agent = !operator && bearer !== undefined && !mintsCredential(req) && resolve(bearer) !== undefined
  if (operator || agent) return 'bearer:' + createHash('sha256').update(bearer!).digest('base64url').slice(0, 22)
  const session = bearer === undefined ? dashboardSession(req) : undefined
  if (session !== undefined && !mintsCredential(req)) return 'dashboard:' + session.slice(0, 22)
  if (bearer === undefined && (req.method === 'GET' || req.method === 'HEAD') && readLane(req)) return 'lane:read'
  // a forwarded address is a claim any loopback user can make: a registration counts by the socket (decision 0090)
  return 'address:' + requestKey(req, opts, mintsCredential(req))
}
