/**
 * Per-client rate limit (docs/protocol.md §8): `rateLimit` requests per
 * window per client — its credential when it presents a valid one, else its
 * address, and on loopback the uid that owns the caller's socket (see
 * `rateLimitKey` below) —
 * answered 429 with `Retry-After` and `{error, code, retryAfter, limit,
 * window}`. The client address is the socket's unless a trusted proxy
 * is configured (Express `trust proxy`), so `X-Forwarded-For` cannot be
 * spoofed to dodge the limit. express-rate-limit's memory store expires its
 * counters every window, so the map never grows without bound.
 */
import type { Request, Response } from 'express'
import type { IncomingMessage } from 'node:http'
import { createHash } from 'node:crypto'
import { ipKeyGenerator, rateLimit, type RateLimitRequestHandler } from 'express-rate-limit'
import { bearerOf, clientAddress, isOperatorToken, type CredentialResolver } from './auth.js'
import type { LoopbackOwners } from './loopback-owners.js'
import { isLoopback, type ResolvedApiOptions } from './options.js'

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
  keyOf: (req: IncomingMessage) => string | Promise<string>,
  onLimited?: () => void,
): RateLimitRequestHandler | undefined {
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

/** A registration: it mints an agent credential, that is, a bucket of its own. */
function mintsCredential(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.url ?? '').split('?')[0] === '/agents/register'
}

/** How loopback callers are told apart: the owners of their sockets, asked only while the shared bucket is spent. */
export interface LoopbackBuckets {
  readonly owners: Pick<LoopbackOwners, 'uidOf'>
  /** True while the shared loopback bucket has no request left in this window. */
  readonly spent: () => Promise<boolean>
}

/** The bucket all anonymous loopback callers share first. */
export const LOOPBACK_BUCKET = 'address:loopback'

/**
 * The rate-limit bucket of a request: its credential when it presents a
 * valid one (so one local client's burst does not throttle another user),
 * else its address. Loopback is a place, not a client (127.0.0.2 is not a
 * fresh one): anonymous loopback callers share one bucket, and once it is
 * spent each goes on in a bucket of the uid that owns its socket, as the
 * kernel's socket table says (`loopback`), so one local user's burst does not
 * lock out another's anonymous requests, registrations included. A caller
 * the table does not name stays in the spent shared bucket. A registration
 * mints a credential, so an agent credential gets it no bucket of its own:
 * registering counts against the operator's bucket or the caller's, and
 * credentials cannot be multiplied faster than that (docs/protocol.md §8).
 */
export function rateLimitKey(
  req: IncomingMessage,
  opts: ResolvedApiOptions,
  resolve: CredentialResolver,
  loopback?: LoopbackBuckets,
): string | Promise<string> {
  const bearer = bearerOf(req)
  const operator = bearer !== undefined && isOperatorToken(opts, bearer)
  const agent = !operator && bearer !== undefined && !mintsCredential(req) && resolve(bearer) !== undefined
  if (operator || agent) return 'bearer:' + createHash('sha256').update(bearer!).digest('base64url').slice(0, 22)
  const address = clientAddress(req, opts) ?? 'unknown'
  if (!isLoopback(address)) return 'address:' + ipKeyGenerator(address)
  // the socket's owner only when the socket is the caller's own (not a trusted proxy forwarding someone)
  if (loopback === undefined || address !== req.socket.remoteAddress) return LOOPBACK_BUCKET
  return ownersBucket(req, loopback)
}

/** The shared bucket while it has room; then the bucket of the socket's owner, when the table names one. */
async function ownersBucket(req: IncomingMessage, loopback: LoopbackBuckets): Promise<string> {
  if (!(await loopback.spent())) return LOOPBACK_BUCKET
  const uid = await loopback.owners.uidOf(req.socket)
  return uid === undefined ? LOOPBACK_BUCKET : `uid:${uid}`
}
