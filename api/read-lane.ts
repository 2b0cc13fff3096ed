/**
 * The read lane of the operator token (docs/api.md, "Rate limit"; decision
 * 0063). Every read (`GET`) is open to anyone and needs no token, but a
 * request that carries the token counts against the token's own rate-limit
 * bucket, the one the operator's actions (a revocation, a rotation) need: the
 * MCP server, whose reads a model makes, spent it (60 `meshsig_agents` calls,
 * and the operator's `POST /agents/revoke` was answered 429; review 92 F4).
 * So the MCP server sends the token only with actions, and its reads carry
 * instead `X-Meshsig-Read-Lane: b64url(HMAC-SHA256(key = the token,
 * "meshsig/v1/read-lane\n"))`. A read with it and no bearer counts against a
 * bucket of its own; it grants nothing else (every read is open anyway), and
 * the token cannot be got back from it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** Request header carrying the read lane of the operator token. */
export const READ_LANE_HEADER = 'x-meshsig-read-lane'

const LANE_DOMAIN = 'meshsig/v1/read-lane\n'
const LANE = /^[A-Za-z0-9_-]{43}$/

/** The read lane of `token` (43 b64url characters). */
export function readLaneOf(token: string): string {
  return createHmac('sha256', token).update(LANE_DOMAIN).digest('base64url')
}

/**
 * True when `req` carries the read lane of `token` (none without a token).
 * The node computes the lane once, from the token it was started with.
 */
export function readLaneMatcher(token: string | undefined): (req: IncomingMessage) => boolean {
  if (token === undefined) return () => false
  const expected = Buffer.from(readLaneOf(token))
  return (req) => {
    const header = req.headers[READ_LANE_HEADER]
    if (typeof header !== 'string' || !LANE.test(header)) return false
    return timingSafeEqual(Buffer.from(header), expected)
  }
}
