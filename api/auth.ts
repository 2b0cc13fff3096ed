/**
 * Who is calling (docs/protocol.md §8). Loopback is a place, not an
 * identity: a request acts as the operator only with the operator token
 * (or under the explicit `trustLoopback` opt-in), and as an agent only with
 * that agent's credential. Proof carried in the body (a private key, a
 * signed envelope) is judged by the node, not here.
 */
import type { IncomingMessage } from 'node:http'
import type { Request } from 'express'
import { MeshsigError } from '../node/core/errors.js'
import { apiTokenMatches } from '../node/identity/api-token.js'
import { ANONYMOUS, type Authority } from '../node/services/authority.js'
import { isLoopback, type ResolvedApiOptions } from './options.js'

/** Resolves an agent credential to the DID it acts for. */
export type CredentialResolver = (credential: string) => string | undefined

/** The bearer token of a request, if it carries one. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization
  if (h === undefined) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1]
}

/**
 * The client's address: the forwarded one (Express `req.ip`) behind a trusted proxy, else the socket's. A
 * forwarded address is a claim (decision 0090): what stops a client multiplying its buckets, and the
 * audit's `client`, use the socket's.
 */
export function clientAddress(req: IncomingMessage, opts: ResolvedApiOptions): string | undefined {
  if (opts.trustProxy.length > 0) return (req as Partial<Request>).ip ?? req.socket.remoteAddress
  return req.socket.remoteAddress
}

/** Express's compiled `trust proxy` (`app.get('trust proxy fn')`): is the hop at `addr`, `i` hops away, trusted. */
export type ProxyTrust = (addr: string, i: number) => boolean

/**
 * The address Express's `req.ip` gives a request (proxy-addr's walk): from the socket back through
 * `X-Forwarded-For`, the first hop `trust` does not vouch for, else the farthest. For a request that
 * never passed through Express, a WebSocket upgrade (docs/api.md, "WebSocket event stream").
 */
export function forwardedClient(req: IncomingMessage, trust: ProxyTrust): string | undefined {
  const socket = req.socket.remoteAddress
  if (socket === undefined) return undefined
  const header = req.headers['x-forwarded-for']
  const hops = [socket, ...forwardedHops(Array.isArray(header) ? header.join(', ') : (header ?? ''))]
  for (let i = 0; i < hops.length - 1; i++) if (!trust(hops[i]!, i)) return hops[i]
  return hops[hops.length - 1]
}

/**
 * The addresses of an `X-Forwarded-For` value, nearest first, split as the
 * `forwarded` package Express uses splits them (review 128 F2): on commas,
 * with spaces (0x20 only) around an entry dropped and empty entries skipped,
 * any other character kept, so an upgrade lands in the bucket `req.ip` names.
 */
export function forwardedHops(header: string): string[] {
  return header
    .split(',')
    .map((a) => a.replace(/^ +| +$/g, ''))
    .filter((a) => a !== '')
    .reverse()
}

/** True when `presented` is the operator token. */
export function isOperatorToken(opts: ResolvedApiOptions, presented: string): boolean {
  return opts.token !== undefined && apiTokenMatches(opts.token, presented)
}

/**
 * The proven caller of `req`. A bearer that is neither the operator token nor
 * a live agent credential is refused (`UNAUTHORIZED`): a wrong or revoked
 * credential never silently becomes "anonymous".
 */
export function authorityOf(req: IncomingMessage, opts: ResolvedApiOptions, resolve: CredentialResolver): Authority {
  const bearer = bearerOf(req)
  if (bearer !== undefined) {
    if (isOperatorToken(opts, bearer)) return { kind: 'operator', via: 'token' }
    const did = resolve(bearer)
    if (did !== undefined) return { kind: 'agent', did }
    throw new MeshsigError('UNAUTHORIZED', 'the bearer token is neither the operator token nor a live agent credential')
  }
  if (opts.trustLoopback && opts.trustProxy.length === 0 && isLoopback(req.socket.remoteAddress)) {
    return { kind: 'operator', via: 'loopback' }
  }
  return ANONYMOUS
}

/**
 * Off loopback (or behind a trusted proxy) a state change needs some bearer:
 * the operator token or an agent credential. Throws `UNAUTHORIZED` otherwise.
 */
export function requireBearerOffLoopback(
  req: IncomingMessage,
  opts: ResolvedApiOptions,
  resolve: CredentialResolver,
): void {
  if (!opts.requireToken) return
  const bearer = bearerOf(req)
  if (bearer !== undefined && (isOperatorToken(opts, bearer) || resolve(bearer) !== undefined)) return
  throw new MeshsigError(
    'UNAUTHORIZED',
    'this endpoint changes state: send Authorization: Bearer <operator token or agent credential>',
  )
}
