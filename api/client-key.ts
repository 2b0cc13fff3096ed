/**
 * The client of a request as the node counts it (docs/api.md, "Rate limit"; decision 0090): one key for all of
 * loopback (any local process may connect from any source in 127.0.0.0/8, so 127.0.0.2 is no fresh client),
 * an IPv6 address by its /56, an IPv4 address as it is. The rate limiter's buckets and the `deliveredBy` that
 * trust counts (docs/protocol.md §7) both use it.
 */
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { ipKeyGenerator } from 'express-rate-limit'
import { clientAddress } from './auth.js'
import { isLoopback, type ResolvedApiOptions } from './options.js'

/** The key of `address`: `loopback`, an IPv6 /56, or the IPv4 address. */
export function addressKey(address: string): string {
  return isLoopback(address) ? 'loopback' : ipKeyGenerator(address)
}

/**
 * The key of a connection's peer: `loopback` when it came in on a loopback address, whatever its source (a
 * local process may connect to 127.0.0.1 from any of the host's own addresses: review H7 F5), else the key of
 * its remote address.
 */
export function socketKey(socket: { readonly remoteAddress?: string; readonly localAddress?: string }): string {
  if (isLoopback(socket.localAddress)) return 'loopback'
  return socket.remoteAddress === undefined ? 'unknown' : addressKey(socket.remoteAddress)
}

/**
 * The key a request counts against when it counts by address (docs/api.md, "Rate limit"): the socket's, or
 * behind a trusted proxy the forwarded address's (`socketOnly` for what must not trust that claim).
 */
export function requestKey(req: IncomingMessage, opts: ResolvedApiOptions, socketOnly: boolean): string {
  const address = socketOnly ? undefined : clientAddress(req, opts)
  return address === undefined || address === req.socket.remoteAddress ? socketKey(req.socket) : addressKey(address)
}

/**
 * The client an audit entry records (docs/protocol.md §8, decision 0090): the socket's address by its key as
 * `client`, and, when a trusted proxy named another address, that one apart as `forwardedFor` (only an IP
 * address: a header's other text is not kept). A forwarded address is a claim any loopback user can make, so
 * it never stands in for the socket: not in `api.refused`, nor in the `deliveredBy` of a send, rotation or
 * revocation, which trust counts.
 */
export function auditClient(req: IncomingMessage, opts: ResolvedApiOptions): { client: string; forwardedFor?: string } {
  const socket = req.socket.remoteAddress
  const client = socketKey(req.socket)
  const forwarded = opts.trustProxy.length > 0 ? clientAddress(req, opts) : undefined
  const claimed = forwarded !== undefined && forwarded !== socket && isIP(forwarded) !== 0
  return claimed ? { client, forwardedFor: forwarded } : { client }
}
