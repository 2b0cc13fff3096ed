/**
 * The request-target the signing proxy signs and forwards (docs/proxy.md
 * "What the gateway receives"). RFC 9421's `@path` and `@query` leave out a
 * target's scheme and authority (absolute-form) and any fragment
 * (`splitTarget`), so the gateway must never receive a part of the target
 * that no signature covers: the proxy forwards the origin form rebuilt from
 * what it signs, and refuses a fragment and an absolute-form naming another
 * authority than the gateway's (RFC 9112 §3.2.2: that authority, not Host,
 * would name the target).
 */
import { MeshsigError, splitTarget } from '../core/index.js'

const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//

/** The authority an absolute-form target names (`host[:port]` as WHATWG URL writes it), or undefined when it names none usable. */
function absoluteAuthority(target: string): string | undefined {
  try {
    const url = new URL(target)
    if (url.protocol !== 'http:' || url.username !== '' || url.password !== '') return undefined
    return url.host
  } catch {
    return undefined
  }
}

/**
 * The origin-form target to sign and forward for the target a caller sent:
 * the path and the query exactly as `@path` and `@query` cover them (no `?`
 * when the query is empty). Throws MALFORMED for a fragment and
 * INVALID_INPUT for an absolute-form whose authority is not `authority`
 * (the gateway's).
 */
export function forwardedTarget(target: string, authority: string): string {
  if (target.includes('#')) {
    throw new MeshsigError('MALFORMED', 'the request target holds a fragment (#), which is never sent in a request')
  }
  if (ABSOLUTE_FORM.test(target) && absoluteAuthority(target) !== authority) {
    throw new MeshsigError(
      'INVALID_INPUT',
      `an absolute request target must name the gateway (http://${authority}); this proxy forwards only there`,
    )
  }
  const { path, query } = splitTarget(target)
  return query === '?' ? path : path + query
}
